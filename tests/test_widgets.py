"""The panels as instruments, driven by their handlers, no browser: chapter 01's style transfer (tiny runs) and
chapter 05's beta slider (a small real ISBI crop)."""

import base64
import io
import re
import threading
from dataclasses import replace

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

from helpers import data
from helpers.segmentation import pipeline
from helpers.style import engine
from helpers.viz import figures, widgets

SIZE = 32
CROP = 128  # side of the ISBI crops the beta panel is tested on


def _decoded_shape(jpeg: bytes) -> tuple[int, int]:
    return np.asarray(Image.open(io.BytesIO(jpeg))).shape[:2]


@pytest.fixture
def panel():
    panel, _run = widgets.style_transfer_panel(size=SIZE, steps=12)
    yield panel
    panel.click() if panel.running else None  # never leave a thread behind a failed test
    panel.wait(30)


def _pause_at(panel, step):
    """Make the run wait at ``step`` until the returned event is set (so a test can click while it runs)."""
    reached, release = threading.Event(), threading.Event()

    def on_progress(change):
        if change["new"] == step:
            reached.set()
            release.wait(30)

    panel.progress.observe(on_progress, names="value")
    return reached, release


def test_headless_run_is_the_engine_and_leaves_its_result_in_the_panel(panel):
    assert panel.preview.value == panel.photo_image.value  # before any run: the photo, not a result
    result = panel.run()
    photo = data.load_photo(panel.photo.value, SIZE)
    reference = engine.stylize(photo, panel.painting.value, 12, engine.StyleSettings())
    np.testing.assert_array_equal(result.image, reference.image)  # same pieces, same order: same image
    assert result.final == pytest.approx(reference.final)
    # the painting is shown centre-cropped to the photo's shape, as the engine uses it
    assert _decoded_shape(panel.painting_image.value) == photo.shape[:2] == _decoded_shape(panel.photo_image.value)
    # a saved chapter shows the panel as the run left it: the stylised image and its status
    assert panel.preview.value == widgets.jpeg_bytes(result.image) != panel.photo_image.value
    assert panel.result is result and panel.status.value.endswith(f"style loss {result.final['style']:.3g}")
    assert panel.progress.value == panel.progress.max == 12


def test_a_click_previews_images_and_fills_the_progress_bar(panel):
    shown = []
    panel.preview.observe(lambda change: shown.append(change["new"]), names="value")
    panel.click()
    assert panel.wait(60)
    # images at steps 1 (the start: the photo itself, already shown, so no change), 3, 6, 9 and 12 (new ones),
    # then the result the last step led to
    assert panel.previews == 5 and len(shown) == 5 and shown[-1] == widgets.jpeg_bytes(panel.result.image)
    assert {_decoded_shape(image) for image in shown} == {_decoded_shape(panel.photo_image.value)}
    assert panel.progress.value == panel.progress.max == 12
    assert re.search(r": 12 steps in [\d.]+ s;", panel.status.value) and "stopped" not in panel.status.value
    assert panel.preview.value == widgets.jpeg_bytes(panel.result.image)  # the result, shown once, in the panel
    assert panel.button.description.startswith("Run") and not panel.button.disabled


def test_a_new_run_clears_the_last_result_before_it_starts(panel):
    panel.run()
    finished = panel.preview.value
    reached, release = _pause_at(panel, 2)
    panel.click()
    assert reached.wait(60)
    # while the second run is under way, neither the old status nor the old result is shown
    assert panel.status.value == "running ..." and panel.result is None
    assert panel.preview.value != finished
    release.set()
    assert panel.wait(60)
    assert panel.preview.value == widgets.jpeg_bytes(panel.result.image) and "steps in" in panel.status.value


def test_the_button_is_stop_while_running_and_a_second_click_stops_instead_of_queueing(panel):
    reached, release = _pause_at(panel, 3)
    panel.click()
    assert reached.wait(60)
    run_thread = panel._thread
    assert panel.running and panel.button.description == "Stop" and panel.button.button_style == "danger"
    panel.click()  # the second click, during the run
    assert panel._thread is run_thread and panel.button.description == "Stopping" and panel.button.disabled
    release.set()
    assert panel.wait(60)
    # stopped at its next step, and no second run started behind it
    assert panel.progress.value == 3 and panel._thread is run_thread and not panel.running
    assert ": 3 steps in" in panel.status.value and "(stopped)" in panel.status.value
    assert panel.button.description.startswith("Run") and not panel.button.disabled


def test_headless_run_is_refused_while_a_click_runs(panel):
    reached, release = _pause_at(panel, 2)
    panel.click()
    assert reached.wait(60)
    with pytest.raises(RuntimeError, match="under way"):
        panel.run()
    panel.click()
    release.set()
    assert panel.wait(60)


def test_stylize_live_stops_between_steps():
    photo = data.load_photo(data.REPORT_EXAMPLES[0][0], SIZE)
    stop = threading.Event()
    seen = []

    def on_step(k, image, losses):
        seen.append((k, image is not None, losses["total"]))
        if k == 6:
            stop.set()

    result = widgets.stylize_live(photo, 20, 50, engine.StyleSettings(), on_step, stop, preview_every=3)
    assert result.steps == 6 and [k for k, *_ in seen] == list(range(1, 7))
    assert [k for k, image, _ in seen if image] == [1, 3, 6]
    assert len(result.history["style"]) == 6 and np.isfinite(result.final["style"])


@pytest.fixture(scope="module")
def beta_slice():
    """Crop of test slice 24, the Frangi pipeline's run on it (trained on crops of slices 0 and 1), its truth."""
    raws, labels = data.load_training([0, 1, 24])
    raws, labels = raws[:, :CROP, :CROP], labels[:, :CROP, :CROP]
    settings = pipeline.PipelineSettings(boundary="frangi", rf_trees=10, seed=0)
    run = pipeline.run(raws[:2], labels[:2], raws[2:], labels[2:], settings, progress=False)
    return raws[2], run, data.dense_ground_truth(labels[2])


def test_moving_the_beta_slider_redraws_its_one_figure_in_place(beta_slice):
    raw, run, gt = beta_slice
    InteractiveShell.instance()  # a kernel's display machinery, as in a live chapter
    panel, solve = widgets.beta_panel(raw, run.test_graphs[0], run.forest, gt, run.settings)
    slider, status = panel.children
    counts = {}
    with capture_output() as shown:
        solve(run.settings.beta)  # what the chapter calls: the figure appears once
        for beta in (0.2, 0.8):  # what a user's drags do: the handler re-solves, reports and redraws
            slider.value = beta
            expected = pipeline.segment_graph(run.test_graphs[0], run.forest, replace(run.settings, beta=beta))
            counts[beta] = len(np.unique(expected))
            assert re.match(rf"beta = {beta:.2f}: {counts[beta]} segments,", status.value)
    assert counts[0.2] < counts[0.8]  # cheaper cuts: more segments
    outputs = shown.outputs
    assert [output.update for output in outputs] == [False, True, True]  # one figure, replaced twice
    ids = {output.transient["display_id"] for output in outputs}
    assert len(ids) == 1
    images = [Image.open(io.BytesIO(base64.b64decode(output.data["image/png"]))) for output in outputs]
    assert images[0].width <= figures.COLUMN_WIDTH_PX
    assert len({image.tobytes() for image in images}) == 3  # the overlay drawn anew each time
