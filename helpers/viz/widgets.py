"""Interactive panels (ipywidgets) for the chapters: the style-transfer panel (01) and the beta slider (05).

Panels never block a headless run: they are built and displayed, their buttons and sliders act only on a user's
change, and each returns a ``run`` callable that the chapter calls once so that a headless execution still shows a
result. ``run`` returns its figure for the chapter to show as a normal cell output; only a click or slider change
draws into the panel's ``Output`` widget. (Headless executors such as papermill/nbclient route output captured by
an ``Output`` widget through comm messages; that path is the one we saw stall a headless run, so a headless run
never takes it.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from sklearn.ensemble import RandomForestClassifier

from .. import data
from ..segmentation import metrics, pipeline
from ..style import engine, losses
from . import segmentation as segmentation_figures
from . import style as style_figures


def style_transfer_panel(
    size: int, device: str = "cpu", steps: int = 30
) -> tuple[ipywidgets.VBox, Callable[[], tuple[engine.StyleResult, plt.Figure]]]:
    """Sliders for alpha, beta (log scale) and steps, dropdowns for photo and painting, a Run button.

    Each run stylises the chosen photo with :func:`helpers.style.engine.stylize` and shows content, style and
    result.

    Args:
        size: longest side of the photo in pixels (small, so that a CPU answers in seconds).
        device: torch device of the optimisation.
        steps: the steps slider's start value.

    Returns:
        ``(panel, run)``; ``run()`` does what a click does and returns the result and its triptych figure.
    """
    paintings = data.style_names()
    photo = ipywidgets.Dropdown(options=data.photo_names(), value=data.REPORT_EXAMPLES[0][0], description="photo")
    painting = ipywidgets.Dropdown(
        options=[(f"{number:02d} {name}", number) for number, name in paintings.items()],
        value=data.REPORT_EXAMPLES[0][1],
        description="style",
    )
    alpha = ipywidgets.FloatLogSlider(value=losses.DEFAULT_ALPHA, base=10, min=-3, max=3, step=0.5, description="alpha")
    beta = ipywidgets.FloatLogSlider(value=losses.DEFAULT_BETA, base=10, min=-9, max=-1, step=0.5, description="beta")
    n_steps = ipywidgets.IntSlider(value=steps, min=1, max=max(200, steps), step=1, description="steps")
    button = ipywidgets.Button(description=f"Run ({size} px, {device})", button_style="primary")
    status = ipywidgets.HTML()
    output = ipywidgets.Output()

    def run() -> tuple[engine.StyleResult, plt.Figure]:
        content = data.load_photo(photo.value, size)
        settings = engine.StyleSettings(alpha=alpha.value, beta=beta.value, device=device)
        result = engine.stylize(content, painting.value, n_steps.value, settings)
        status.value = (
            f"{n_steps.value} steps in {result.seconds:.1f} s; final content loss {result.final['content']:.3g}, "
            f"style loss {result.final['style']:.3g}"
        )
        style_image = data.load_style(painting.value, size)
        label = f"{painting.value:02d} {paintings[painting.value]}"
        fig = style_figures.show_style_triptychs([(content, style_image, result.image, photo.value, label)])
        return result, fig

    button.on_click(lambda _button: _show_in(output, run()[1]))
    panel = ipywidgets.VBox(
        [
            ipywidgets.HBox([photo, painting]),
            ipywidgets.HBox([alpha, beta]),
            ipywidgets.HBox([n_steps, button]),
            status,
            output,
        ]
    )
    return panel, run


def beta_panel(
    raw: np.ndarray,
    graph: pipeline.GraphData,
    forest: RandomForestClassifier,
    gt: np.ndarray,
    settings: pipeline.PipelineSettings,
    solver: str = "kl",
) -> tuple[ipywidgets.VBox, Callable[[float], tuple[dict, plt.Figure]]]:
    """A slider for the boundary bias beta that re-solves the multicut of one slice live.

    Args:
        raw: the slice, for the overlay.
        graph: its prepared graph (:func:`helpers.segmentation.pipeline.graph_data`).
        forest: the trained edge forest.
        gt: the slice's dense ground truth.
        settings: the pipeline settings; beta and solver are replaced per run.
        solver: a name of :data:`helpers.segmentation.multicut.SOLVERS`.

    Returns:
        ``(panel, run)``; ``run(beta)`` solves and returns the scores and the overlay figure.
    """
    slider = ipywidgets.FloatSlider(
        value=settings.beta, min=0.05, max=0.95, step=0.05, description="beta", continuous_update=False
    )
    status = ipywidgets.HTML()
    output = ipywidgets.Output()

    def run(beta: float) -> tuple[dict, plt.Figure]:
        seg = pipeline.segment_graph(graph, forest, replace(settings, beta=float(beta), solver=solver))
        scores = metrics.evaluate(seg, gt)
        status.value = (
            f"beta = {beta:.2f}: {len(np.unique(seg))} segments, adapted Rand error "
            f"{scores['rand_error']:.3f}, VI {scores['vi']:.3f} (split {scores['vi_split']:.2f}, "
            f"merge {scores['vi_merge']:.2f})"
        )
        title = f"{solver} multicut, beta = {beta:.2f}"
        fig = segmentation_figures.show_segmentations(raw, {title: seg}, {title: scores})
        return scores, fig

    slider.observe(lambda change: _show_in(output, run(change["new"])[1]), names="value")
    return ipywidgets.VBox([slider, status, output]), run


def _show_in(output: ipywidgets.Output, fig: plt.Figure) -> None:
    """Replace what an ``Output`` widget shows with ``fig`` (interactive use only), then close the figure."""
    output.clear_output(wait=True)
    with output:
        display(fig)
    plt.close(fig)
