"""Interactive panels (ipywidgets) for the notebooks.

Shared module: each notebook stage adds its own functions here. Panels never block a headless run: they are
built and displayed, their buttons and sliders act only on a user's change, and each returns a ``run`` callable
that the notebook calls once so a headless execution still shows a result. ``run`` returns its figure for the
notebook to show as a normal cell output; only a click or slider change draws into the panel's ``Output``
widget. (Headless executors such as papermill/nbclient route output captured by an ``Output`` widget through
comm messages; that path is the one we saw stall a headless run, so a headless run never takes it.)
"""

from __future__ import annotations

from typing import Callable


def style_transfer_panel(size: int, device: str = "cpu", steps: int = 30) -> tuple[object, Callable[[], tuple]]:
    """Sliders for alpha, beta (log scale) and steps, dropdowns for photo and painting, a Run button.

    Each run stylises the chosen photo at ``size`` pixels (longest side) with :func:`helpers.style.stylize`
    and shows content, style and result. Returns ``(panel, run)``; ``run()`` does what a click does and returns
    the :class:`helpers.style.StyleResult` and its triptych figure.
    """
    import ipywidgets as w

    from . import data, plotting, style

    paintings = data.style_names()
    photo = w.Dropdown(options=data.photo_names(), value=data.REPORT_EXAMPLES[0][0], description="photo")
    painting = w.Dropdown(options=[(f"{n:02d} {name}", n) for n, name in paintings.items()], value=data.REPORT_EXAMPLES[0][1], description="style")
    alpha = w.FloatLogSlider(value=style.DEFAULT_ALPHA, base=10, min=-3, max=3, step=0.5, description="alpha")
    beta = w.FloatLogSlider(value=style.DEFAULT_BETA, base=10, min=-9, max=-1, step=0.5, description="beta")
    n_steps = w.IntSlider(value=steps, min=1, max=max(200, steps), step=1, description="steps")
    button = w.Button(description=f"Run ({size} px, {device})", button_style="primary")
    status = w.HTML()
    output = w.Output()

    def run():
        """Stylise with the current settings; returns ``(result, figure)``."""
        content = data.load_photo(photo.value, size)
        result = style.stylize(content, painting.value, steps=n_steps.value, alpha=alpha.value, beta=beta.value, device=device)
        status.value = (f"{n_steps.value} steps in {result.seconds:.1f} s; final content loss {result.final['content']:.3g}, "
                        f"style loss {result.final['style']:.3g}")
        fig = plotting.show_style_triptychs([(content, data.load_style(painting.value, size), result.image, photo.value,
                                              f"{painting.value:02d} {paintings[painting.value]}")])
        return result, fig

    def on_click(_button) -> None:
        _result, fig = run()
        _show_in(output, fig)

    button.on_click(on_click)
    panel = w.VBox([w.HBox([photo, painting]), w.HBox([alpha, beta]), w.HBox([n_steps, button]), status, output])
    return panel, run


def beta_panel(raw, graph, forest, gt, config, solver: str = "kl") -> tuple[object, Callable[[float], tuple]]:
    """Slider for the boundary bias beta that re-solves the multicut of one slice live (notebook 05).

    ``graph`` is a prepared :class:`helpers.pipeline.GraphData`, ``forest`` the trained edge classifier, ``gt``
    the dense ground truth. Returns ``(panel, run)``; ``run(beta)`` solves and returns the scores and the
    figure, so a headless run still shows one result.
    """
    from dataclasses import replace

    import ipywidgets as w
    import numpy as np

    from . import pipeline, plotting

    slider = w.FloatSlider(value=config.beta, min=0.05, max=0.95, step=0.05, description="beta", continuous_update=False)
    status = w.HTML()
    output = w.Output()

    def run(beta: float) -> tuple[dict, object]:
        """Re-solve the slice with this ``beta``; returns ``(scores, figure)``."""
        seg = pipeline.segment_graph(graph, forest, replace(config, beta=float(beta), solver=solver))
        scores = pipeline.evaluate(seg, gt)
        status.value = (f"beta = {beta:.2f}: {len(np.unique(seg))} segments, adapted Rand error "
                        f"{scores['rand_error']:.3f}, VI {scores['vi']:.3f} (split {scores['vi_split']:.2f}, "
                        f"merge {scores['vi_merge']:.2f})")
        fig = plotting.show_segmentations(raw, {f"{solver} multicut, beta = {beta:.2f}": seg}, {f"{solver} multicut, beta = {beta:.2f}": scores})
        return scores, fig

    slider.observe(lambda change: _show_in(output, run(change["new"])[1]), names="value")
    return w.VBox([slider, status, output]), run


def _show_in(output, fig) -> None:
    """Replace what an ``Output`` widget shows with ``fig`` (interactive use only), then close the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    output.clear_output(wait=True)
    with output:
        display(fig)
    plt.close(fig)
