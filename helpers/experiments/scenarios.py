"""The images of the experiments: the slice store, each scenario's training set and the test conditions.

Scenarios follow the report (Section 3.2, Figure 16): (1) full augmented set, (2) original set, (3) originals plus
one style, (4) the selected styles [3, 10, 19, 21]; we add (5) plain augmentation (flips, rot90, noise), the
baseline any augmentation must beat, and (6) plain augmentation with blur, gamma and contrast changes, the matched
baseline for what a painting teaches about appearance. Stylised slices keep the *original* slice's ground truth, as
in the report. A store holds one engine's stylised slices (:data:`helpers.config.ENGINES`); every tag names its
engine, so the engines' images, units and caches never mix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .. import checks
from ..config import ENGINES, FEEDFORWARD_STEPS
from ..data import ISBI_SHAPE, SELECTED_STYLES, dense_ground_truth, load_training
from ..style import cache as style_cache
from .engines import ensure_stylized as ensure_stylized  # chapters 06 and 08 call it from here
from .engines import feedforward_paintings, feedforward_textures
from .shifts import SHIFTS, appearance_augmentations, appearance_shift, plain_augmentations, transform_like

SWEEP_PREFIX = "one_style:"  # "one_style:NN": the originals plus style NN (the style sweep)
UNSEEN_PREFIX = "unseen_style"  # test condition "unseen_styleNN": a test slice stylised with held-out style NN
TEXTURE_CONDITION = UNSEEN_PREFIX + "_texture"  # "unseen_style_textureNN": stylised with held-out texture NN
STYLISED_PREFIXES = ("style", "texture")  # the tags of stylised images start so

StylizedLoader = Callable[[int, int, tuple[int, ...], int | None], np.ndarray]
TextureLoader = Callable[[int, tuple[int, ...], int | None], np.ndarray]


@dataclass(frozen=True)
class Image:
    """One training or test image.

    Attributes:
        tag: unique name (``orig/s07``, ``style03/gatys075/s07``, ``texture02/feedforward/s07``, ``noise/s07``...).
        slice: the ISBI slice it comes from.
        raw: grey uint8 pixels.
        gt: dense ground truth.
        membranes: binary membrane labels (0 membrane, 255 cell).
    """

    tag: str
    slice: int
    raw: np.ndarray
    gt: np.ndarray
    membranes: np.ndarray


class SliceStore:
    """Original, stylised and augmented versions of the ISBI training slices, cropped alike, loaded once."""

    def __init__(
        self,
        slices: range | tuple[int, ...],
        crop: int | None,
        load_stylized: StylizedLoader | None = None,
        engine: str = "gatys",
        load_texture: TextureLoader | None = None,
    ) -> None:
        """Load the original slices and their labels.

        Args:
            slices: the ISBI training slices.
            crop: side of the top-left crop (None: the whole slice).
            load_stylized: ``(steps, style, slices, crop) -> uint8 stack`` (None: no stylised slices).
            engine: one of :data:`helpers.config.ENGINES`; names the tags (feed-forward steps are
                :data:`helpers.config.FEEDFORWARD_STEPS`).
            load_texture: ``(texture, slices, crop) -> uint8 stack`` of texture-stylised slices (None: none).

        Raises:
            ValueError: for an empty, repeated or out-of-range slice list, a crop outside 16..512 px, an unknown engine.
        """
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r} is unknown: choose one of {ENGINES}")
        self.engine = engine
        self.slices = checks.integers(slices, "slices", 0, ISBI_SHAPE[0] - 1)
        crop = style_cache.checked_crop(crop)
        side = crop or ISBI_SHAPE[-1]
        raw, labels = load_training(self.slices)
        self.raw = {index: image[:side, :side] for index, image in zip(self.slices, raw)}
        self.membranes = {index: label[:side, :side] for index, label in zip(self.slices, labels)}
        self.gt = {index: dense_ground_truth(self.membranes[index]) for index in self.slices}
        self.crop = crop
        self._load_stylized = load_stylized
        self._load_texture = load_texture
        self._stylized: dict[tuple[int, int], dict[int, np.ndarray]] = {}

    @classmethod
    def from_cache(cls, cache: Path, slices: tuple[int, ...], crop: int | None) -> SliceStore:
        """A Gatys store whose stylised slices come from ``<cache>/stylized`` (``cache`` is ``config.cache``)."""
        return cls(slices, crop, partial(style_cache.load_stylized, cache))

    @classmethod
    def from_feedforward(cls, cache: Path, slices: tuple[int, ...], crop: int | None) -> SliceStore:
        """A feed-forward store: whole slices stylised (cached) and cropped; textures stylised in memory."""
        return cls(slices, crop, partial(feedforward_paintings, cache), "feedforward", feedforward_textures)

    def _engine_tag(self, steps: int) -> str:
        """The engine part of a stylised image's tag (``gatys075``, ``feedforward``), with its steps checked."""
        if self.engine == "gatys":
            return f"gatys{checks.integer(steps, 'steps', 1):03d}"
        if steps != FEEDFORWARD_STEPS:
            raise ValueError(
                f"a feed-forward store's slices have steps {FEEDFORWARD_STEPS} (no optimisation): got {steps}"
            )
        return self.engine

    def _checked_stack(self, stack: np.ndarray, what: str) -> dict[int, np.ndarray]:
        """A loader's stack as ``{slice: image}``, checked against the store's slices and crop."""
        stack = np.asarray(stack)
        side = self.crop or ISBI_SHAPE[-1]
        if stack.shape != (len(self.slices), side, side):
            raise ValueError(
                f"the stylised-slice loader gave shape {stack.shape} for {what}, "
                f"expected {(len(self.slices), side, side)} (one {side} px crop per slice of the store)"
            )
        return dict(zip(self.slices, stack))

    def original(self, index: int) -> Image:
        """The original slice ``index``."""
        return Image(f"orig/s{index:02d}", index, self.raw[index], self.gt[index], self.membranes[index])

    def stylized(self, index: int, style: int, steps: int) -> Image:
        """Slice ``index`` stylised with ``style`` for ``steps`` steps, with the original's labels.

        Raises:
            ValueError: without a stylised-slice loader, for a loader stack of the wrong shape, or steps unfit for the
                engine.
        """
        engine_tag = self._engine_tag(steps)
        if (style, steps) not in self._stylized:
            if self._load_stylized is None:
                raise ValueError("this SliceStore has no stylised-slice loader")
            stack = self._load_stylized(steps, style, self.slices, self.crop)
            self._stylized[(style, steps)] = self._checked_stack(stack, f"style {style} at {steps} steps")
        pixels = self._stylized[(style, steps)][index]
        tag = f"style{style:02d}/{engine_tag}/s{index:02d}"
        return Image(tag, index, pixels, self.gt[index], self.membranes[index])

    def texture(self, index: int, texture: int) -> Image:
        """Slice ``index`` stylised with texture image ``texture`` (a held-out style), with the original's labels.

        Raises:
            ValueError: without a texture loader (feed-forward stores only), or for a loader stack of the wrong shape.
        """
        key = (-1 - texture, FEEDFORWARD_STEPS)  # textures share the memo with paintings, at negative keys
        if key not in self._stylized:
            if self._load_texture is None:
                raise ValueError(
                    f"this {self.engine} SliceStore cannot stylise texture {texture}: build it with "
                    "SliceStore.from_feedforward (held-out textures need the feed-forward engine)"
                )
            self._stylized[key] = self._checked_stack(
                self._load_texture(texture, self.slices, self.crop), f"texture {texture}"
            )
        tag = f"texture{texture:02d}/{self.engine}/s{index:02d}"
        return Image(tag, index, self._stylized[key][index], self.gt[index], self.membranes[index])

    def plain(self, index: int, seed: int = 0) -> list[Image]:
        """The plain augmentations of slice ``index`` (noise seeded by ``seed + index``)."""
        copies = plain_augmentations(self.raw[index], self.gt[index], seed=seed + index)
        return [
            Image(f"{name}/s{index:02d}", index, raw, gt, transform_like(self.membranes[index], name))
            for raw, gt, name in copies
        ]

    def appearance(self, index: int, seed: int = 0) -> list[Image]:
        """Plain augmentations of slice ``index``, then blurred, gamma- and contrast-changed copies.

        Seeded by ``seed + index``; the ranges leave out the test shifts' values
        (:func:`~helpers.experiments.shifts.appearance_augmentations`).
        """
        copies = appearance_augmentations(self.raw[index], seed=seed + index)
        changed = [
            Image(f"{name}/s{index:02d}", index, raw, self.gt[index], self.membranes[index]) for raw, _, name in copies
        ]
        return self.plain(index, seed) + changed

    def shifted(self, index: int, kind: str) -> Image:
        """Slice ``index`` under the appearance shift ``kind`` (noise seeded by the slice)."""
        pixels = appearance_shift(self.raw[index], kind, seed=index)
        return Image(f"{kind}/s{index:02d}", index, pixels, self.gt[index], self.membranes[index])


@dataclass(frozen=True)
class TrainingChoice:
    """What a scenario may draw on when it adds copies of a training slice.

    Attributes:
        steps: stylisation steps of the stylised slices.
        styles: the styles of scenario ``full``.
        single: the added style of ``one_style`` or ``one_style:NN`` (None for other scenarios).
        seed: seed of the plain augmentation's noise.
    """

    steps: int
    styles: tuple[int, ...]
    single: int | None
    seed: int


def _stylized(store: SliceStore, index: int, choice: TrainingChoice, styles: tuple[int, ...]) -> list[Image]:
    """Slice ``index`` stylised with each of ``styles``."""
    return [store.stylized(index, style, choice.steps) for style in styles]


@dataclass(frozen=True)
class Scenario:
    """One training scenario: how it is called in the text, and what it adds to each original slice."""

    label: str
    copies: Callable[[SliceStore, int, TrainingChoice], list[Image]]
    stylised: bool  # it adds stylised slices (as opposed to none, or plain augmentation)


SCENARIOS = {
    "full": Scenario(
        "1. full augmented set (originals + every style)",
        lambda store, index, choice: _stylized(store, index, choice, choice.styles),
        stylised=True,
    ),
    "original": Scenario("2. original set", lambda store, index, choice: [], stylised=False),
    "one_style": Scenario(
        "3. originals + one specific style",
        lambda store, index, choice: _stylized(store, index, choice, (choice.single,)),
        stylised=True,
    ),
    "selected": Scenario(
        "4. selected styles [3, 10, 19, 21] (+ originals)",
        lambda store, index, choice: _stylized(
            store, index, choice, tuple(style for style in SELECTED_STYLES if style in choice.styles)
        ),
        stylised=True,
    ),
    "plain_aug": Scenario(
        "5. plain augmentation (flips, rot90, noise)",
        lambda store, index, choice: store.plain(index, choice.seed),
        stylised=False,
    ),
    "appearance_aug": Scenario(
        "6. plain augmentation with blur, gamma and contrast changes",
        lambda store, index, choice: store.appearance(index, choice.seed),
        stylised=False,
    ),
}
STYLE_SCENARIOS = tuple(name for name, scenario in SCENARIOS.items() if scenario.stylised)


def training_set(
    store: SliceStore,
    scenario: str,
    train: tuple[int, ...],
    steps: int,
    styles: tuple[int, ...],
    one_style: int,
    seed: int = 0,
) -> list[Image]:
    """The training images of a scenario, grouped by slice (originals always included).

    Args:
        store: where the images come from.
        scenario: ``full`` (every style in ``styles``), ``original``, ``one_style``, ``one_style:NN`` (style NN),
            ``selected`` ([3, 10, 19, 21] within ``styles``), ``plain_aug`` or ``appearance_aug``.
        train: the training slices.
        steps: stylisation steps of the stylised slices.
        styles: the styles of scenario ``full``.
        one_style: the style of scenario ``one_style``.
        seed: seed of the plain augmentation's noise.

    Returns:
        Per training slice its original, then its stylised or augmented copies.

    Raises:
        KeyError: for an unknown scenario.
    """
    single = sweep_style(scenario, one_style)
    name = "one_style" if single is not None else scenario
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {scenario!r}: choose one of {list(SCENARIOS)} or '{SWEEP_PREFIX}NN'")
    choice = TrainingChoice(steps, tuple(styles), single, seed)
    copies = SCENARIOS[name].copies
    return [image for index in train for image in [store.original(index), *copies(store, index, choice)]]


def sweep_style(scenario: str, one_style: int) -> int | None:
    """The single added style of ``one_style`` (``one_style``) or ``one_style:NN`` (NN); None for other scenarios."""
    if scenario == "one_style":
        return one_style
    if scenario.startswith(SWEEP_PREFIX):
        return int(scenario.removeprefix(SWEEP_PREFIX))
    return None


def test_conditions(
    store: SliceStore, test: tuple[int, ...], heldout: tuple[int, ...], steps: int, textures: tuple[int, ...] = ()
) -> list[tuple[str, Image]]:
    """Each test slice clean, under every appearance shift, and stylised with each held-out style and texture.

    Args:
        store: where the images come from.
        test: the test slices.
        heldout: paintings never trained on.
        steps: stylisation steps of the held-out paintings' slices.
        textures: texture images never trained on (feed-forward stores only).

    Returns:
        ``(condition, image)`` pairs: :data:`SHIFTS` per slice, then ``unseen_styleNN``, then
        ``unseen_style_textureNN``.
    """
    conditions = [
        (kind, store.original(index) if kind == "clean" else store.shifted(index, kind))
        for index in test
        for kind in SHIFTS
    ]
    conditions += [
        (f"{UNSEEN_PREFIX}{style:02d}", store.stylized(index, style, steps)) for index in test for style in heldout
    ]
    conditions += [
        (f"{TEXTURE_CONDITION}{texture:02d}", store.texture(index, texture)) for index in test for texture in textures
    ]
    return conditions


def cap_images(images: list[Image], limit: int | None, seed: int) -> list[Image]:
    """At most ``limit`` training images (None: all): every original, then a choice of the others seeded by ``seed``.

    Bounds the pixel-classifier pipeline, which recomputes every training image's boundary map per unit. Keeps order.
    """
    if limit is None or len(images) <= limit:
        return images
    originals = [position for position, image in enumerate(images) if image.tag.startswith("orig/")]
    others = [position for position, image in enumerate(images) if not image.tag.startswith("orig/")]
    n_extra = max(limit - len(originals), 0)
    chosen = set(originals) | set(np.random.default_rng(seed).choice(others, n_extra, replace=False).tolist())
    return [image for position, image in enumerate(images) if position in chosen]
