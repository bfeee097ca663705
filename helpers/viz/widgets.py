"""Interactive panels (ipywidgets) for the chapters: the style-transfer panel (01) and the beta slider (05).

Panels never block a headless run: buttons and sliders act only on a user's change, and each panel comes with a
``run`` callable that the chapter calls once, so a saved chapter shows a real result. The beta slider's figure is a
cell output with a display id, replaced in place (no ``Output`` widget: its comm-message path stalled headless
runs). The style-transfer panel runs in a background thread (the page stays live), its button turning into **Stop**
(a run is never queued behind another), with a progress bar and the image being optimised shown every few steps.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import replace

import ipywidgets
import numpy as np
import torch
from IPython.display import DisplayHandle
from PIL import Image
from sklearn.ensemble import RandomForestClassifier

from .. import data
from ..segmentation import metrics, pipeline
from ..style import engine
from ..style.images import style_image, to_uint8
from . import figures
from . import segmentation as segmentation_figures

PREVIEW_EVERY = 3  # steps between preview images (and the first step, and the last)
StepCallback = Callable[[int, np.ndarray | None, dict[str, float]], None]


def stylize_live(
    content: np.ndarray,
    painting: int,
    steps: int,
    settings: engine.StyleSettings,
    on_step: StepCallback,
    stop: threading.Event,
    preview_every: int = PREVIEW_EVERY,
) -> engine.StyleResult:
    """:func:`helpers.style.engine.stylize` that reports every step and can be stopped between steps.

    Args:
        content: (H, W, 3) RGB photo in [0, 1].
        painting: the painting's report number.
        steps: function evaluations.
        settings: one alpha and one beta.
        on_step: called after evaluation ``k`` with ``(k, image or None, losses)``; the image (RGB in [0, 1]) comes at
            step 1, every ``preview_every`` steps and at the last step.
        stop: when set, the run ends at the next step and returns the image reached.
        preview_every: steps between images handed to ``on_step``.

    Returns:
        The :class:`~helpers.style.engine.StyleResult` (``steps`` = evaluations done).
    """

    def report(k: int, x: torch.Tensor, losses: dict[str, float]) -> bool:
        show = k == 1 or k % preview_every == 0 or k == steps
        on_step(k, x[0].permute(1, 2, 0).float().cpu().numpy() if show else None, losses)
        return stop.is_set()

    return engine.stylize(content, painting, steps, settings, on_step=report)


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    """An (H, W, 3) float RGB image in [0, 1] as JPEG bytes of ``quality`` (for ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="jpeg", quality=quality)
    return buffer.getvalue()


class StyleTransferPanel(ipywidgets.VBox):
    """Photo and painting pickers, alpha/beta/steps sliders, Run/Stop, a progress bar and live images.

    The images: the photo, the painting as the engine uses it (scaled to cover the photo, centre-cropped), and the image
    being optimised, which ends as the run's result.
    """

    def __init__(
        self, size: int, device: str = "cpu", steps: int = 30, settings: engine.StyleSettings | None = None
    ) -> None:
        """Build the panel (nothing runs until a click or :meth:`run`).

        Args:
            size: longest side of the photo in pixels (small, so that a CPU answers in seconds).
            device: torch device of the optimisation.
            steps: the steps slider's start value.
            settings: network, layers and the sliders' start alpha and beta (None: the engine's defaults).
        """
        base = settings or engine.DEFAULT_SETTINGS
        self.settings = replace(base, device=device)
        self.size = size
        self.names = data.style_names()
        self.photo = ipywidgets.Dropdown(
            options=data.photo_names(), value=data.REPORT_EXAMPLES[0][0], description="photo"
        )
        self.painting = ipywidgets.Dropdown(
            options=[(f"{number:02d} {name}", number) for number, name in self.names.items()],
            value=data.REPORT_EXAMPLES[0][1],
            description="style",
        )
        self.alpha = ipywidgets.FloatLogSlider(
            value=float(base.alpha), base=10, min=-3, max=3, step=0.5, description="alpha"
        )
        self.beta = ipywidgets.FloatLogSlider(
            value=float(base.beta), base=10, min=-9, max=-1, step=0.5, description="beta"
        )
        self.steps = ipywidgets.IntSlider(value=steps, min=1, max=max(200, steps), step=1, description="steps")
        self.idle_label = f"Run ({size} px, {device}, {self.settings.source})"
        self.button = ipywidgets.Button(description=self.idle_label, button_style="primary", icon="play")
        self.progress = ipywidgets.IntProgress(value=0, min=0, max=steps, description="0 steps")
        self.status = ipywidgets.HTML()
        layout = ipywidgets.Layout(width=f"{2 * size}px")
        self.photo_image = ipywidgets.Image(format="jpeg", layout=layout)
        self.painting_image = ipywidgets.Image(format="jpeg", layout=layout)
        self.preview = ipywidgets.Image(format="jpeg", layout=layout)
        self.previews = 0  # images shown while running (the last run)
        self.result: engine.StyleResult | None = None  # the last finished run's result
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.button.on_click(self.click)
        self.photo.observe(self._show_inputs, names="value")
        self.painting.observe(self._show_inputs, names="value")
        super().__init__(
            [
                ipywidgets.HBox([self.photo, self.painting]),
                ipywidgets.HBox([self.alpha, self.beta]),
                ipywidgets.HBox([self.steps, self.button, self.progress]),
                self.status,
                ipywidgets.HBox([self.photo_image, self.painting_image, self.preview]),
            ]
        )
        self._show_inputs()

    @property
    def running(self) -> bool:
        """Whether a run started by a click is under way."""
        return self._thread is not None and self._thread.is_alive()

    def _inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """The photo at the panel's size and the painting as the engine uses it (fitted to the photo)."""
        content = data.load_photo(self.photo.value, self.size)
        return content, style_image(self.painting.value, content.shape[:2])

    def _show_inputs(self, _change: object = None) -> None:
        content, painting = self._inputs()
        self.photo_image.value = jpeg_bytes(content)
        self.painting_image.value = jpeg_bytes(painting)
        self.preview.value = jpeg_bytes(content)

    def _start(self) -> None:
        """Clear the last run's status, progress and result before a new run."""
        self.status.value = "running ..."
        self.progress.max, self.progress.value, self.progress.description = self.steps.value, 0, "0 steps"
        self.previews, self.result = 0, None

    def _stylize(self, live: bool) -> engine.StyleResult:
        """One run with the current choices, its result shown in the panel; ``live``: also every few steps."""
        content, _painting = self._inputs()
        settings = replace(self.settings, alpha=self.alpha.value, beta=self.beta.value)
        steps = self.steps.value
        self.preview.value = jpeg_bytes(content)  # the run starts from the photo: the last result is gone

        def on_step(k: int, image: np.ndarray | None, losses: dict[str, float]) -> None:
            self.progress.value, self.progress.description = k, f"{k} steps"
            if live and image is not None:
                self.preview.value = jpeg_bytes(image)
                self.previews += 1

        result = stylize_live(content, self.painting.value, steps, settings, on_step, self._stop)
        stopped = " (stopped)" if result.steps < steps else ""
        self.preview.value = jpeg_bytes(result.image)
        self.status.value = (
            f"{self.photo.value} x {self.painting.value:02d} {self.names[self.painting.value]}: "
            f"{result.steps} steps in {result.seconds:.1f} s{stopped}; final content loss "
            f"{result.final['content']:.3g}, style loss {result.final['style']:.3g}"
        )
        self.result = result
        return result

    def run(self) -> engine.StyleResult:
        """What a click does, synchronously (for headless runs); returns the result, which the panel ends showing.

        Raises:
            RuntimeError: while a run started by a click is under way.
        """
        with self._lock:
            if self.running:
                raise RuntimeError("a run started by the panel's button is under way: stop it or wait for it")
            self._stop.clear()
            self._start()
        return self._stylize(live=False)

    def click(self, _button: object = None) -> None:
        """The button (``_button``, passed by ipywidgets): start a run in a thread, or stop the current one."""
        with self._lock:
            if self.running:
                self._stop.set()
                self.button.description, self.button.disabled = "Stopping", True
                return
            self._stop.clear()
            self._start()
            self.button.description, self.button.button_style, self.button.icon = "Stop", "danger", "stop"
            self._thread = threading.Thread(target=self._background, name="style-transfer-panel", daemon=True)
            self._thread.start()

    def _background(self) -> None:
        try:
            self._stylize(live=True)
        except Exception as error:  # shown in the panel: a thread's exception would otherwise vanish
            self.status.value = f"<b>run failed</b>: {type(error).__name__}: {error}"
        finally:
            self.button.description, self.button.button_style, self.button.icon = self.idle_label, "primary", "play"
            self.button.disabled = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait at most ``timeout`` seconds (None: no limit) for a clicked run to end; True if none is under way."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running


def style_transfer_panel(
    size: int, device: str = "cpu", steps: int = 30, settings: engine.StyleSettings | None = None
) -> tuple[StyleTransferPanel, Callable[[], engine.StyleResult]]:
    """The style-transfer panel (:class:`StyleTransferPanel`) and its headless ``run``.

    Args:
        size: longest side of the photo in pixels (small, so that a CPU answers in seconds).
        device: torch device of the optimisation.
        steps: the steps slider's start value.
        settings: network, layers and the sliders' start alpha and beta (None: the engine's defaults).

    Returns:
        ``(panel, run)``; ``run()`` does what a click does, synchronously, and returns the result.
    """
    panel = StyleTransferPanel(size, device, steps, settings)
    return panel, panel.run


def beta_panel(
    raw: np.ndarray,
    graph: pipeline.GraphData,
    forest: RandomForestClassifier,
    gt: np.ndarray,
    settings: pipeline.PipelineSettings,
    solver: str = "kl",
) -> tuple[ipywidgets.VBox, Callable[[float], dict]]:
    """A slider for the boundary bias beta that re-solves the multicut of one slice and redraws its one figure.

    The first ``run`` displays the figure, each later one (and each slider change) replaces it in place; a saved chapter
    keeps the figure of its last ``run``.

    Args:
        raw: the slice, for the overlay.
        graph: its prepared graph (:func:`helpers.segmentation.pipeline.graph_data`).
        forest: the trained edge forest.
        gt: the slice's dense ground truth.
        settings: the pipeline settings; beta and solver are replaced per run.
        solver: a name of :data:`helpers.segmentation.multicut.SOLVERS`.

    Returns:
        ``(panel, run)``: the slider with a status line, and ``run(beta)``, which solves, reports, shows or updates the
        figure and returns the scores.
    """
    slider = ipywidgets.FloatSlider(
        value=settings.beta, min=0.05, max=0.95, step=0.05, description="beta", continuous_update=False
    )
    status = ipywidgets.HTML()
    shown = DisplayHandle()
    drawn = False  # whether the figure is on display yet

    def run(beta: float) -> dict:
        nonlocal drawn
        seg = pipeline.segment_graph(graph, forest, replace(settings, beta=float(beta), solver=solver))
        scores = metrics.evaluate(seg, gt)
        status.value = (
            f"beta = {beta:.2f}: {len(np.unique(seg))} segments, adapted Rand error "
            f"{scores['rand_error']:.3f}, VI {scores['vi']:.3f} (split {scores['vi_split']:.2f}, "
            f"merge {scores['vi_merge']:.2f})"
        )
        title = f"{solver} multicut, beta = {beta:.2f}"
        image = figures.inline_image(segmentation_figures.show_segmentations(raw, {title: seg}, {title: scores}))
        if drawn:
            shown.update(image)
        else:
            shown.display(image)
            drawn = True
        return scores

    slider.observe(lambda change: run(change["new"]), names="value")
    return ipywidgets.VBox([slider, status]), run
