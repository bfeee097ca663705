"""A trained segmentation pipeline as ONE file: the edge forest, its settings, and a digest.

A zip of ``model.json`` (``{"format", "version", "settings", "training", "forest_sha256"}``, readable without
loading the forest) and ``forest.pkl`` (the pickled scikit-learn forest). :func:`load_model` checks format, version
and digest before unpickling, so a foreign, outdated or damaged file is refused in one line. The digest guards
against damage, not malice: load only models you trust (unpickling runs code).
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier

from ..paths import atomic_write_bytes, canonical_json
from .settings import PipelineSettings

FORMAT = "neural-style-em segmentation model"
VERSION = 2  # 2: the settings lost weighting_exponent (an option without a user)
HEADER, FOREST = "model.json", "forest.pkl"
RETRAIN = "train it again with `python -m helpers.segmentation train ... --out MODEL`"


class ModelFileError(ValueError):
    """A model file that is not one, is damaged, or was written by another version; the message names it and the fix."""

    def __init__(self, path: Path, problem: str) -> None:
        """Name the file ``path``, the ``problem`` and the fix."""
        self.path = Path(path)
        super().__init__(f"{self.path} is not a usable segmentation model: {problem}; {RETRAIN}")


@dataclass(frozen=True)
class SegmentationModel:
    """A trained pipeline: the edge forest and the settings every slice is segmented with."""

    forest: RandomForestClassifier
    settings: PipelineSettings
    training: dict = field(default_factory=dict)  # what it was trained on (files, slices, label kind)
    digest: str = ""  # SHA-256 of the file's header (which holds the forest's digest), set by save/load


def _header(model: SegmentationModel, forest_sha256: str) -> dict:
    """The header of a model file."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": model.settings.as_dict(),
        "training": model.training,
        "forest_sha256": forest_sha256,
    }


def save_model(path: Path | str, model: SegmentationModel) -> str:
    """Write a model as one file, atomically.

    Args:
        path: the file to write (its folder is created).
        model: the trained model (its ``digest`` is ignored).

    Returns:
        The file's digest (SHA-256 hex of its header), as :func:`load_model` reports it.

    Raises:
        ValueError: when ``training`` is not JSON-ready.
    """
    forest = pickle.dumps(model.forest, protocol=pickle.HIGHEST_PROTOCOL)
    header = canonical_json(_header(model, hashlib.sha256(forest).hexdigest()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(HEADER, header)
        archive.writestr(FOREST, forest)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return hashlib.sha256(header.encode()).hexdigest()


def read_header(path: Path | str) -> dict:
    """A model file's header, format and version checked, without loading the forest.

    Args:
        path: the model file.

    Raises:
        FileNotFoundError: the file does not exist.
        ModelFileError: for a file that is no model of this format and version.
    """
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[dict, str, zipfile.ZipFile]:
    """Header, header digest and open archive of a model file, header checked."""
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist: pass the file `train --out` wrote")
    if path.is_dir():
        raise ModelFileError(path, "it is a folder, not a file")
    try:
        archive = zipfile.ZipFile(path)
        text = archive.read(HEADER)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise ModelFileError(path, f"it is not a model archive ({error})") from None
    try:
        header = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(path, f"its {HEADER} is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(path, f"its header does not name the format {FORMAT!r}")
    if header.get("version") != VERSION:
        raise ModelFileError(
            path, f"it has format version {header.get('version')!r}, this code reads version {VERSION}"
        )
    return header, hashlib.sha256(text).hexdigest(), archive


def load_model(path: Path | str) -> SegmentationModel:
    """Read a model file of :func:`save_model`, checking format, version and digest first; ``digest`` is the file's.

    Args:
        path: the model file.

    Raises:
        FileNotFoundError: the file does not exist.
        ModelFileError: another kind of file or version, a forest not matching its digest, or invalid settings.
    """
    path = Path(path)
    header, digest, archive = _read(path)
    with archive:
        try:
            forest_bytes = archive.read(FOREST)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError) as error:
            raise ModelFileError(path, f"its forest cannot be read ({error})") from None
    if hashlib.sha256(forest_bytes).hexdigest() != header.get("forest_sha256"):
        raise ModelFileError(path, "its forest does not match the digest in its header (the file was changed)")
    try:
        settings = PipelineSettings(**header["settings"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(path, f"its settings are not valid ({error})") from None
    forest = pickle.loads(forest_bytes)  # noqa: S301 - the digest above was checked
    if not isinstance(forest, RandomForestClassifier):
        raise ModelFileError(path, f"it holds a {type(forest).__name__}, not an edge forest")
    return SegmentationModel(forest, settings, dict(header.get("training") or {}), digest)
