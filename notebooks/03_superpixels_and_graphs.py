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
# # 03 · Superpixels and graphs
#
# The second half of the report (Section 2.2 and Section 3) turns each EM slice into a **graph**: a watershed
# over-segments the slice into *superpixels* (the nodes), neighbouring superpixels share an *edge*, and a
# classifier later decides which edges are true cell boundaries. This notebook builds that graph:
#
# 1. **boundary maps**: the report's Frangi vesselness filter and two alternatives (the largest Hessian
#    eigenvalue, and a pixel classifier as an ilastik user would train one);
# 2. **superpixels**: watershed *without* a filter (the report's Figure 7: thousands of tiny regions) and on the
#    Frangi map thresholded at 0.3 (Figure 8: far fewer, larger regions), plus a seeded-watershed variant;
# 3. the **region adjacency graph** drawn on a slice, and the graph sizes;
# 4. the **best segmentation reachable** from the superpixels (each superpixel assigned to the ground-truth cell it
#    overlaps most): no edge classifier can do better, so this is the upper bound of the whole approach.
#
# All the work is in `helpers/segmentation/` (`boundaries`, `superpixels`, `graph`; bioimage-cpp, python-elf,
# scikit-image).

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.segmentation import (
    boundaries,
    evaluation,
    graph,
    metrics,
    pipeline,
    pixel_classifier,
    prose,
    superpixels,
)
from helpers.viz import figures
from helpers.viz import segmentation as segmentation_plots

check_parameters()
config = select(profile)
work = config.segmentation
display(figures.settings_table(work))

# %% [markdown]
# ## The data
#
# We use the ISBI 2012 training volume with the report's split: slices 0-23 train, 24-29 test (the `ci` profile
# uses 128 x 128 crops of a few slices). The dense ground truth (one id per cell, membranes split between the
# cells) comes from the binary membrane labels (notebook 00). One test slice is the example of this chapter.

# %%
(train_raw, train_labels, train_gt), (test_raw, test_labels, test_gt) = (
    pipeline.load_split(work)
)
raw, labels, gt = test_raw[0], test_labels[0], test_gt[0]
print(f"train {train_raw.shape}, test {test_raw.shape}")
print(f"slice {work.test_slices[0]} has {len(np.unique(gt))} cells")

# %% [markdown]
# ## Boundary maps
#
# Membranes in the ISBI slices are **dark** ridges, so the Frangi filter must look for dark ridges
# (`black_ridges=True`); scales 1-3 pixels match membranes 2-6 pixels wide. All maps are scaled to [0, 1]
# (Frangi and Hessian by their 99.5th percentile). The pixel classifier is a random forest on 22 filter responses
# trained on the training slices' membrane labels (it never saw this test slice).

# %%
pixel_forest = pixel_classifier.train_pixel_classifier(
    train_raw, train_labels
)
maps = {
    "Frangi (report)": boundaries.frangi_boundary(raw),
    "Hessian, largest eigenvalue": boundaries.hessian_boundary(raw),
    "pixel classifier P(membrane)": pixel_classifier.membrane_probability(
        pixel_forest, raw
    ),
}

# %% [markdown]
# A good map is high on the membranes and low inside the cells:

# %%
strength = {
    name: {
        "on membranes": m[labels == 0].mean(),
        "in cells": m[labels == 255].mean(),
    }
    for name, m in maps.items()
}
display(pd.DataFrame(strength).T.round(2))

# %%
fig = segmentation_plots.show_boundary_maps(raw, maps, labels)
figures.publish(fig, config.figure_path("03_boundary_maps.jpg"))

# %% [markdown]
# ## Watershed without and with Frangi (the report's Figures 7 and 8)
#
# Without a filter (Figure 7) the watershed floods the raw intensity itself: every local minimum of the (slightly
# smoothed) inverted image seeds a region, and the noisy EM texture makes thousands. With the filter (Figure 8) the
# report's code uses a *distance-transform watershed*: threshold the Frangi map (0.3), take the distance to the
# nearest boundary pixel, put seeds at its smoothed maxima (cell interiors) and flood.

# %%
ws = dict(threshold=0.3, sigma_seeds=3.0, min_size=25)
without = superpixels.seeded_watershed(boundaries.raw_boundary(raw))
with_frangi = superpixels.distance_watershed(maps["Frangi (report)"], **ws)

# %%
fig = segmentation_plots.show_watershed_figures(
    raw, maps["Frangi (report)"], without, with_frangi
)
figures.publish(
    fig, config.figure_path("03_watershed_without_with_frangi.jpg")
)

# %% [markdown]
# ## The region adjacency graph
#
# bioimage-cpp builds the graph from the superpixel image (ids must be consecutive from 0, which
# `helpers.segmentation.superpixels` guarantees: elf's size filter leaves gaps). Each dot is a superpixel, each line
# an edge between touching superpixels; the line colour is the ground-truth *cut fraction* of the edge (the chance
# that two pixels on either side lie in different cells: 1 = a true boundary, 0 = two pieces of one cell).

# %%
rag = graph.region_adjacency_graph(with_frangi)
frangi_graph = graph.as_graph(rag)
fraction = graph.cut_fraction(rag, with_frangi, gt)
sure, inner = np.mean(fraction > 0.8), np.mean(fraction < 0.2)
unsure = np.mean((fraction >= 0.2) & (fraction <= 0.8))
print(f"{frangi_graph.n_nodes} nodes, {frangi_graph.n_edges} edges")
print(
    f"{sure:.0%} true boundaries (> 0.8), {inner:.0%} inner edges (< 0.2), "
    f"{unsure:.0%} unsure"
)

# %%
fig = segmentation_plots.show_rag(
    raw,
    with_frangi,
    frangi_graph.uv_ids,
    fraction,
    title="RAG",
    value_label="ground-truth cut fraction",
)
figures.publish(fig, config.figure_path("03_rag.jpg"))

# %% [markdown]
# ## Superpixel counts over all slices
#
# The report moved from the raw watershed to Frangi because the raw graph was "really big ... with thousands of
# edges". Here are the counts for every slice of the profile and each over-segmentation; each is one function of a
# slice.

# %%
seeded = superpixels.seeded_watershed
distance = superpixels.distance_watershed
frangi = boundaries.frangi_boundary
probability = pixel_classifier.membrane_probability
oversegmentations = {
    "raw (Fig. 7)": lambda im: seeded(boundaries.raw_boundary(im)),
    "Frangi (Fig. 8)": lambda im: distance(frangi(im), **ws),
    "Frangi, seeded ws": lambda im: seeded(frangi(im), min_distance=4),
    "Hessian": lambda im: distance(boundaries.hessian_boundary(im), **ws),
    "pixel classifier": lambda im: distance(
        probability(pixel_forest, im), **ws
    ),
}

# %% [markdown]
# The pixel classifier saw the training slices, so it is counted on the test slices only.

# %%
all_raw = np.concatenate([train_raw, test_raw])
count = superpixels.superpixel_count
on_all = [name for name in oversegmentations if name != "pixel classifier"]
counts = {
    name: [count(oversegmentations[name](image)) for image in all_raw]
    for name in on_all
}
counts["pixel classifier (test)"] = [
    count(oversegmentations["pixel classifier"](image)) for image in test_raw
]
summary = ["mean", "min", "max"]
table = {k: pd.Series(v).describe()[summary] for k, v in counts.items()}
display(pd.DataFrame(table).T.round(0))

# %%
fig = segmentation_plots.show_superpixel_counts(counts)
figures.publish(fig, config.figure_path("03_superpixel_counts.png"))

# %% [markdown]
# ## The best segmentation reachable from the superpixels
#
# Merging superpixels can never split one, so a superpixel that straddles two cells is an error no classifier can
# repair. Giving every superpixel the ground-truth cell it overlaps most yields the best segmentation the graph
# allows: the **upper bound** of the approach (adapted Rand error and Variation of Information, lower is better).
# On the example slice:

# %%
best = {"Frangi superpixels": evaluation.best_reachable(with_frangi, gt)}
best["raw superpixels"] = evaluation.best_reachable(without, gt)
scores = {name: metrics.evaluate(seg, gt) for name, seg in best.items()}

# %%
fig = segmentation_plots.show_segmentations(
    raw,
    {"ground truth": gt, **best},
    scores,
    title="Best reachable (superpixels merged by the ground truth)",
)
figures.publish(fig, config.figure_path("03_upper_bound.jpg"))

# %% [markdown]
# And the mean over all test slices, for three over-segmentations:

# %%
rows = []
for name in ("raw (Fig. 7)", "Frangi (Fig. 8)", "pixel classifier"):
    for image, truth in zip(test_raw, test_gt):
        sp = oversegmentations[name](image)
        merged = evaluation.best_reachable(sp, truth)
        scored = metrics.evaluate(merged, truth)
        rows.append({"superpixels": name, "n": count(sp), **scored})
upper = pd.DataFrame(rows)
measures = ["n", "rand_error", "vi", "vi_split", "vi_merge"]
bounds = upper.groupby("superpixels", sort=False)[measures].mean()
display(bounds.round(3))

# %% tags=["remove-input"]
display(Markdown(prose.superpixels_reading(config.profile, counts, bounds)))
