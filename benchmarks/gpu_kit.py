"""The remote-GPU kit: the report's experiment on a GPU machine, in calls of at most 10 minutes that resume.

One entry point, four commands (``python benchmarks/gpu_kit.py COMMAND --help``):

* ``prepare`` (here, once): exports the VGG weights the style losses use and downloads the wheels the device
  image lacks into ``.gpu/style/`` and ``.gpu/chapters/`` (git-ignored), each small enough to travel with the
  repository (64 MiB in all), and prints the sizes;
* ``run`` (there, again and again): does the next steps of ``benchmark, stylize, archive, chapter01, chapter02,
  chapter06, results`` within ``--budget`` seconds, then moves at most 8 files (at most 16 MiB each, 60 MiB
  together) of what is ready into ``--out``; it keeps its state in ``--work`` (``cache/gpukit``), never redoes a
  finished step, and an interrupted step resumes its own work (the stylisation and chapter 06's units are
  cached); it ends by printing what to run next;
* ``unpack`` (here, after each call): puts what came back in place: the benchmark JSON and the chapters' results,
  figures and executed notebooks into the repository, the stylised slices into the cache as lossy copies
  (:mod:`benchmarks.style_archive`);
* ``size``: what travels (tracked + untracked-not-ignored files + the carried paths), as the device tool counts it.

``--profile ci`` rehearses all of it on a CPU in minutes (``tests/test_gpu_kit.py``). Nothing here imports the
project's packages before the carried wheels are installed (``helpers.data`` needs zarr, which the device lacks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python3 benchmarks/gpu_kit.py): the repository is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.gpu_device import (  # noqa: E402
    BUNDLES,
    MIB,
    PACK_LIMIT,
    ROOT,
    STEPS,
    WEIGHT_FILES,
    Kit,
    next_step,
)
from helpers import cli  # noqa: E402  (the standard library only: safe before the wheels are installed)

TRAVEL_LIMIT = 64 * MIB  # working tree + carried paths, per call
HOME = Path("cache") / "gpukit-home"  # here: the logs and statuses that came back (git-ignored)
# The wheels (Python 3.12, manylinux x86_64) of what the device image lacks, with their sizes in bytes; the
# bundle that needs them first carries them. Left out on purpose (imported only if present): debugpy, jedi,
# widgetsnbextension, jupyterlab_widgets (ipykernel, IPython and ipywidgets run without them).
WHEELS = {
    "style": {  # helpers.data imports zarr at its top
        "zarr==3.1.6": 295_655, "numcodecs==0.16.6": 9_346_139, "donfig==0.8.1.post1": 21_592,
        "google-crc32c==1.9.0": 36_347,
    },
    "chapters": {
        "bioimage-cpp==0.10.0": 2_304_456, "python-elf==0.9.2": 187_664, "highspy==1.16.0": 3_238_642,
        "papermill==2.7.0": 88_858, "nbformat==5.11.1": 79_849, "nbclient==0.11.0": 25_288,
        "entrypoints==0.4.2": 5_350, "tenacity==9.2.1": 32_310, "fastjsonschema==2.22.3": 28_442,
        "jsonschema==4.26.0": 90_630, "jsonschema-specifications==2025.9.1": 18_437, "referencing==0.37.0": 26_766,
        "rpds-py==2026.9.1": 371_261, "jupyter_core==5.9.1": 29_032, "platformdirs==4.14.8": 94_267,
        "jupyter_client==8.10.0": 110_184, "pyzmq==27.3.0": 855_178, "tornado==6.6.1": 534_470,
        "traitlets==5.16.1": 86_211, "ipykernel==7.4.0": 123_184, "comm==0.2.3": 7_294, "ipython==9.18.1": 649_819,
        "ipython_pygments_lexers==1.1.1": 8_074, "matplotlib-inline==0.2.2": 9_534,
        "pexpect==4.9.0": 63_772, "ptyprocess==0.7.0": 13_993, "prompt_toolkit==3.0.53": 392_288,
        "wcwidth==0.9.4": 785_946, "stack-data==0.6.3": 24_521, "asttokens==3.0.2": 28_702,
        "executing==2.3.0": 29_393, "pure_eval==0.2.4": 11_893, "nest-asyncio2==1.7.4": 8_543,
        "ipywidgets==8.1.9": 140_101,
    },
}  # fmt: skip
PIP_DOWNLOAD = (
    "{python} -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "
    "--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 "
    "--platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d {folder} {wheels}"
)


def default_source() -> str:
    """The VGG the style engine uses by default (that bundle travels first), read without importing the engine."""
    from helpers.style.settings import DEFAULT_SETTINGS  # here only: the machine that prepares has every package

    return DEFAULT_SETTINGS.source


def folder_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (or of the file ``path``)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def travelling_bytes(carry: list[str] = (), root: Path = ROOT) -> int:
    """What a device call sends: tracked and untracked-not-ignored files of the repository, plus ``carry``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, check=True,
        capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    files = {Path(root) / name for name in listed if name}
    tree = sum(p.lstat().st_size for p in files if p.is_symlink() or p.is_file())
    return tree + sum(folder_bytes(Path(root) / c) for c in carry if (Path(root) / c).exists())


# ---------------------------------------------------------------- here: prepare, size, unpack


def prepare(wheels: bool) -> dict:
    """Export the weights (and download the wheels) into ``.gpu/style`` and ``.gpu/chapters``; report sizes."""
    from helpers import vgg
    from tools import run_stamp as chapters

    first = default_source()
    if first not in WEIGHT_FILES:
        raise SystemExit(f"the default VGG source {first!r} has no offline export: choose hed or vgg19")
    order = {"style": [first], "chapters": [s for s in WEIGHT_FILES if s != first]}
    commit = chapters.code_commit()
    for bundle, sources in order.items():
        folder = BUNDLES / bundle
        (folder / "weights").mkdir(parents=True, exist_ok=True)
        for source in sources:
            target = folder / "weights" / WEIGHT_FILES[source][0]
            if source == "hed":
                vgg.export_weights(target, "conv5_1", "float16")
            else:
                vgg.export_vgg19_weights(target, "conv5_1")
        (folder / "kit.json").write_text(json.dumps({"commit": commit, "bundle": bundle}))
        if wheels:
            command = PIP_DOWNLOAD.format(
                python=sys.executable, folder=folder / "wheels", wheels=" ".join(WHEELS[bundle])
            ).split()
            subprocess.run(command, check=True)
    return size_report()


def size_report() -> dict:
    """Travelling bytes per call kind: the tree alone and the tree with each bundle."""
    report = {"tree": travelling_bytes()}
    for bundle in ("style", "chapters"):
        carried = BUNDLES / bundle
        wheels = folder_bytes(carried / "wheels") if (carried / "wheels").exists() else sum(WHEELS[bundle].values())
        weights = folder_bytes(carried / "weights") if (carried / "weights").exists() else None
        report[bundle] = {"weights": weights, "wheels": wheels}
        if weights is not None:
            report[bundle]["with_tree"] = report["tree"] + weights + wheels
            report[bundle]["fits"] = report[bundle]["with_tree"] <= TRAVEL_LIMIT
    return report


def unpack(folder: Path, into: Path, cache: Path | None) -> dict:
    """Put what a ``run`` call brought back in place (idempotent)."""
    from benchmarks.style_archive import unpack_stylized
    from helpers import config

    folder, into = Path(folder), Path(into)
    done = {"files": [], "stylized": {"imported": 0, "kept": 0}}
    status = json.loads((folder / "kit-status.json").read_text()) if (folder / "kit-status.json").exists() else {}
    profile = status.get("profile", "full")
    run = config.select(profile)
    results = into / Path(run.results).relative_to(ROOT)
    for path in sorted(folder.iterdir()):
        if path.name.startswith("stylized-") and path.suffix == ".tar":
            summary = unpack_stylized([path], Path(cache) if cache else run.cache)
            done["stylized"] = {k: done["stylized"][k] + summary[k] for k in summary}
        elif path.name.startswith("results-") and path.suffix == ".tar":
            with tarfile.open(path) as tar:
                tar.extractall(into, filter="data")
                done["files"] += tar.getnames()
        elif path.suffix in (".json", ".log"):  # the benchmark and stylisation records; logs and status aside
            target = results if path.suffix == ".json" and path.name != "kit-status.json" else into / HOME
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
            done["files"].append(str((target / path.name).relative_to(into)))
    return done


def main(argv: list[str] | None = None) -> dict:
    parser = cli.ArgumentParser(prog="benchmarks/gpu_kit.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="here: export the weights (and download the wheels) into .gpu/")
    p.add_argument("--wheels", action="store_true", help="also download the wheels (needs the package index)")
    commands.add_parser("size", help="what travels to the device, per call kind")
    p = commands.add_parser("run", help="there: the next steps, then at most 8 files into --out")
    p.add_argument("--profile", default="full", choices=("full", "ci"))
    p.add_argument("--out", type=Path, default=Path(os.environ["OUT"]) if "OUT" in os.environ else None)
    p.add_argument("--work", type=Path, default=ROOT / "cache" / "gpukit")
    p.add_argument(
        "--budget", type=cli.real("budget", 1.0), default=555.0, help="seconds this call may use (default 555)"
    )
    p.add_argument(
        "--min-step", type=cli.real("min step", 0.0), default=60.0, help="start a compute step only with this much left"
    )
    p.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=STEPS,
        action=cli.Unique,
        help="steps to mark done (brought home already)",
    )
    p.add_argument(
        "--max-steps", type=cli.whole("max steps", 1), default=None, help="start at most this many steps in this call"
    )
    p.add_argument("--retry", nargs="*", default=[], choices=STEPS, action=cli.Unique, help="failed steps to try again")
    p.add_argument(
        "--pack-bytes",
        type=cli.whole("pack bytes", 1, PACK_LIMIT),
        default=PACK_LIMIT,
        help="largest stylised pack (default 16 MiB)",
    )
    p.add_argument("--bundles", type=Path, default=BUNDLES, help="the carried bundles (default .gpu)")
    p.add_argument(
        "--quality",
        type=cli.whole("JPEG quality", 1, 100),
        default=95,
        help="JPEG quality of the stylised packs (default 95)",
    )
    p = commands.add_parser("unpack", help="here: put what a call brought back in place")
    p.add_argument("folder", type=Path)
    p.add_argument("--into", type=Path, default=ROOT)
    p.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        result = prepare(args.wheels)
    elif args.command == "size":
        result = size_report()
    elif args.command == "unpack":
        if not args.folder.is_dir():
            parser.error(f"argument folder: {args.folder} is not a folder: pass the folder a call brought back")
        result = unpack(args.folder, args.into, args.cache)
    else:
        if args.out is None:
            parser.error("run needs --out (the device tool sets $OUT)")
        cli.check_output_folder(args.out, "--out")
        cli.check_output_folder(args.work, "--work")
        kit = Kit(args.work, args.profile, args.budget, args.min_step, args.pack_bytes, args.bundles, args.quality)
        result = kit.run(args.out, args.skip, args.max_steps, args.retry)
        print(json.dumps({k: result[k] for k in ("calls", "new_machine", "sent_now", "waiting", "pending")}))
        print(next_step(result, args.profile))
        return result
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    cli.run(main, "benchmarks/gpu_kit.py")
