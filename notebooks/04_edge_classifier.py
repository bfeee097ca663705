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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["run-stamp", "remove-input"]
# Run stamp: `make all` writes this run's profile, device, date, commit and run time as this cell's output.

# %% [markdown]
# # 04 · The edge classifier
#
# The report learns, for every edge of the superpixel graph, the probability that it is a true cell boundary
# (Section 2.2: "a probability of how probable each edge to be 'true' is calculated and learned"), with a random
# forest trained on slices 0-23. This notebook builds that classifier:
#
# * **features** of each edge: statistics of the raw image, of its gradient and of the boundary map along the edge;
#   statistics of the two superpixels (size, mean and spread of intensity and boundary map) combined as min, max
#   and difference; geometry (edge length, centroid distance);
# * **labels** from the dense ground truth: keep only *confident* edges, as the report's code did (cut fraction
#   below 0.2 = merge, above 0.8 = cut);
# * a **random forest** (200 trees in the full profile, as in the report; fixed seed; all cores), its
#   **out-of-bag** score and **feature importances**;
# * the predicted probability of every edge drawn on a test slice.
#
# Work: `helpers/segmentation/` (`graph`, `features`, `learning`), glued by `helpers/segmentation/pipeline.py`.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced' or 'ci'; None: $NSEM_PROFILE or automatic

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.segmentation import (
    boundaries,
    features,
    learning,
    pipeline,
)
from helpers.viz import figures
from helpers.viz import segmentation as segmentation_plots

check_parameters()
config = select(profile)
work = config.segmentation
print(config.profile, "|", work)

# %%
(train_raw, train_labels, train_gt), (test_raw, test_labels, test_gt) = pipeline.load_split(work)
settings = pipeline.PipelineSettings(boundary="frangi", rf_trees=work.rf_trees, seed=0)
print(settings)

# %% [markdown]
# ## Features and labels of the training slices

# %%
from tqdm.auto import tqdm

t0 = time.perf_counter()
train_graphs = [
    pipeline.graph_data(r, g, settings=settings) for r, g in tqdm(list(zip(train_raw, train_gt)), desc="train graphs")
]
print(
    f"{len(train_graphs)} graphs in {time.perf_counter() - t0:.1f} s: "
    f"{sum(g.n_edges for g in train_graphs)} edges, {len(features.feature_names())} features each"
)
fractions = np.concatenate([g.cut_fraction for g in train_graphs])
confident = np.concatenate([g.confident for g in train_graphs])
labels = np.concatenate([g.labels for g in train_graphs])
print(
    f"confident edges: {confident.mean():.1%} ({confident.sum()}); "
    f"of those, true boundaries: {labels[confident].mean():.1%}"
)

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.hist(fractions, bins=50, color="tab:gray")
for x, text in ((0.2, "merge below 0.2"), (0.8, "cut above 0.8")):
    ax.axvline(x, color="tab:red", ls="--")
    ax.text(x, ax.get_ylim()[1] * 0.9, " " + text, color="tab:red")
ax.set_yscale("log")
ax.set_xlabel("ground-truth cut fraction of an edge")
ax.set_ylabel("edges (log scale)")
ax.set_title("Edge labels of the training slices: only confident edges are used")
figures.publish(fig, config.figure_path("04_edge_labels.png"))

# %% [markdown]
# ## Training the random forest
#
# The out-of-bag score is the accuracy of each tree on the training edges it did not see: an honest estimate
# without a separate validation set. Each tree sees a bootstrap sample of 30% of the edges (several times faster than
# the full sample for 200 trees, with no loss we could measure on slices 24-29 when this was chosen).

# %%
t0 = time.perf_counter()
forest = pipeline.train_edge_rf(train_graphs, trees=settings.rf_trees, seed=settings.seed, oob=True)
print(
    f"{settings.rf_trees} trees in {time.perf_counter() - t0:.1f} s; out-of-bag accuracy {forest.oob_score_:.3f} "
    f"(always guessing the majority class: {max(labels[confident].mean(), 1 - labels[confident].mean()):.3f})"
)

# %%
importances = learning.feature_importances(forest, features.feature_names())
fig = segmentation_plots.show_feature_importances(importances, top=15, title="Frangi pipeline: top 15 edge features")
figures.publish(fig, config.figure_path("04_feature_importances.png"))

# %% [markdown]
# ## Predicted edge probabilities on a test slice
#
# Each boundary between two superpixels is painted with its predicted probability of being a true boundary (left)
# and with its ground-truth label (right; grey-white edges are the unsure ones, which are not used for training).

# %%
test_graphs = [pipeline.graph_data(r, g, settings=settings) for r, g in zip(test_raw, test_gt)]
shown = test_graphs[0]
probabilities = learning.edge_probabilities(forest, shown.features)
fig = segmentation_plots.show_edge_probabilities(
    test_raw[0], shown.superpixels, shown.uv_ids, probabilities, shown.labels, shown.confident
)
figures.publish(fig, config.figure_path("04_edge_probabilities.jpg"))
accuracy = [
    np.mean((learning.edge_probabilities(forest, g.features)[g.confident] > 0.5) == g.labels[g.confident])
    for g in test_graphs
]
print("accuracy on the confident edges of each test slice:", np.round(accuracy, 3))

# %% [markdown]
# ## The same classifier on the pixel-classifier boundary map
#
# Beyond the report: the boundary map is the membrane probability of a pixel classifier. On the training slices
# that map must come from classifiers that did not see the slice (**out of fold**); otherwise the map is too good on
# the training slices and the edge forest learns to trust it more than it deserves on new slices.

# %%
pixel_settings = pipeline.PipelineSettings(boundary="pixel-rf", rf_trees=work.rf_trees, seed=0)
t0 = time.perf_counter()
train_maps, test_maps, _ = boundaries.pixel_rf_boundaries(train_raw, train_labels, test_raw, pixel_settings)
pixel_graphs = [pipeline.graph_data(r, g, m, pixel_settings) for r, g, m in zip(train_raw, train_gt, train_maps)]
pixel_forest = pipeline.train_edge_rf(pixel_graphs, trees=pixel_settings.rf_trees, seed=0, oob=True)
print(
    f"pixel-classifier pipeline: maps, graphs and forest in {time.perf_counter() - t0:.1f} s; "
    f"{sum(g.n_edges for g in pixel_graphs)} training edges; out-of-bag accuracy {pixel_forest.oob_score_:.3f}"
)
fig = segmentation_plots.show_feature_importances(
    learning.feature_importances(pixel_forest, features.feature_names()),
    top=15,
    title="Pixel-classifier pipeline: top 15 edge features",
)
figures.publish(fig, config.figure_path("04_feature_importances_pixel_rf.png"))

# %% tags=["remove-input"]
FAMILIES = {
    "raw": "the raw intensity along the edge",
    "gradient": "its gradient",
    "boundary": "the boundary map along the edge",
    "node": "the two superpixels' statistics",
    "other": "geometry",
}


def family_shares(forest) -> dict[str, float]:
    """Importance summed per feature family (by name prefix)."""
    shares = dict.fromkeys(FAMILIES, 0.0)
    for name, value in learning.feature_importances(forest, features.feature_names()):
        prefix = name.split("_")[0]
        shares[prefix if prefix in FAMILIES else "other"] += value
    return shares


frangi_shares, pixel_shares = family_shares(forest), family_shares(pixel_forest)
majority = max(labels[confident].mean(), 1 - labels[confident].mean())
display(
    Markdown(
        f"**Reading** (this run, profile `{config.profile}`). Summed by family, the Frangi pipeline's forest "
        "draws "
        + ", ".join(f"{frangi_shares[key]:.0%} of its importance from {words}" for key, words in FAMILIES.items())
        + f" (top single feature: `{importances[0][0]}`). The pixel-classifier pipeline's forest draws "
        f"{pixel_shares['boundary']:.0%} from its boundary map and {pixel_shares['raw']:.0%} from the raw intensity. "
        "Importances by impurity favour continuous, correlated features, so read them as a ranking of feature "
        "*families*, not of single columns. On the confident edges of the unseen test slices the Frangi forest is "
        f"right {np.mean(accuracy):.1%} of the time, against {majority:.1%} for always guessing the majority class; "
        "notebook 05 turns these probabilities into segmentations."
    )
)
