"""The panels as instruments, driven by their handlers, no browser: chapter 01's style transfer (tiny runs) and
chapter 05's beta slider (a small real ISBI crop)."""

import io
import re
import threading
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from helpers import data
from helpers.segmentation import pipeline
from helpers.style import engine
from helpers.viz import widgets

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


def test_headless_run_is_the_engine_and_shows_the_painting_as_used(panel):
    result, fig = panel.run()
    photo = data.load_photo(panel.photo.value, SIZE)
    reference = engine.stylize(photo, panel.painting.value, 12, engine.StyleSettings())
    np.testing.assert_array_equal(result.image, reference.image)  # same pieces, same order: same image
    assert result.final == pytest.approx(reference.final)
    # the painting is shown centre-cropped to the photo's shape, as the engine uses it
    assert _decoded_shape(panel.painting_image.value) == photo.shape[:2] == _decoded_shape(panel.photo_image.value)
    assert len(fig.axes) == 3 and fig.axes[1].images[0].get_array().shape[:2] == photo.shape[:2]
    assert panel.progress.value == panel.progress.max == 12 and panel.output.outputs == ()  # never drawn headless


def test_a_click_previews_images_and_fills_the_progress_bar(panel):
    shown = []
    panel.preview.observe(lambda change: shown.append(change["new"]), names="value")
    panel.click()
    assert panel.wait(60)
    # images at steps 1 (the start: the photo itself, already shown, so no change), 3, 6, 9 and 12 (new ones)
    assert panel.previews == 5 and len(shown) == 4
    assert {_decoded_shape(image) for image in shown} == {_decoded_shape(panel.photo_image.value)}
    assert panel.progress.value == panel.progress.max == 12
    assert panel.status.value.startswith("12 steps in") and "stopped" not in panel.status.value
    assert panel.output.outputs[0]["data"]["image/png"]  # the final figure, set from the thread
    assert panel.button.description.startswith("Run") and not panel.button.disabled


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
    assert panel.status.value.startswith("3 steps in") and "(stopped)" in panel.status.value
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


def test_moving_the_beta_slider_shows_the_new_segmentation(beta_slice, monkeypatch):
    raw, run, gt = beta_slice
    shown = []
    monkeypatch.setattr(widgets, "display", shown.append)  # what the slider's handler puts into its Output
    panel, _run = widgets.beta_panel(raw, run.test_graphs[0], run.forest, gt, run.settings)
    slider, status = panel.children[:2]
    counts = {}
    for beta in (0.2, 0.8):  # what a user's drags do: the handler re-solves, reports and shows a figure
        slider.value = beta
        expected = pipeline.segment_graph(run.test_graphs[0], run.forest, replace(run.settings, beta=beta))
        counts[beta] = len(np.unique(expected))
        assert re.match(rf"beta = {beta:.2f}: {counts[beta]} segments,", status.value)
    assert counts[0.2] < counts[0.8]  # cheaper cuts: more segments
    assert len(shown) == 2
    assert all(f"beta = {b:.2f}" in fig.axes[0].get_title() for fig, b in zip(shown, (0.2, 0.8)))
    low, high = (fig.axes[0].images[0].get_array() for fig in shown)
    assert low.shape[:2] == raw.shape and not np.array_equal(low, high)  # the overlay drawn anew
