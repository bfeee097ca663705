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
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from helpers.config import check_parameters, select
from helpers.segmentation import (
    boundaries,
    features,
    graph,
    learning,
    pipeline,
    prose,
    superpixels,
)
from helpers.viz import figures
from helpers.viz import segmentation as segmentation_plots

check_parameters()
config = select(profile)
work = config.segmentation
(train_raw, train_labels, train_gt), (test_raw, test_labels, test_gt) = (
    pipeline.load_split(work)
)
settings = pipeline.PipelineSettings(
    boundary="frangi", rf_trees=work.rf_trees, seed=0
)
display(figures.settings_table(settings))

# %% [markdown]
# ## One slice: superpixels, edge features, edge labels, a forest
#
# The first training slice, step by step: the Frangi map, its superpixels (notebook 03) and their graph.

# %%
raw, gt = train_raw[0], train_gt[0]
boundary = boundaries.frangi_boundary(raw)
sp = superpixels.oversegment(
    boundary, settings.watershed, **settings.watershed_params()
)
rag = graph.region_adjacency_graph(sp)

# %% [markdown]
# One row of features per edge, one column per feature (their names tell the family: `raw_`, `gradient_`,
# `boundary_`, `node_` and geometry):

# %%
x = features.edge_features(rag, sp, raw, boundary)
display(
    pd.DataFrame(x[:5], columns=features.feature_names())
    .iloc[:, :6]
    .round(3)
)
print(f"{x.shape[0]} edges x {x.shape[1]} features")

# %% [markdown]
# The ground truth labels an edge 1 (cut) or 0 (merge) by its cut fraction; only the confident edges (below
# `label_low` or above `label_high`) are used for training.

# %%
y = graph.edge_labels(rag, sp, gt, settings.label_low, settings.label_high)
cut = y.labels[y.confident].mean()
print(
    f"{y.confident.sum()} confident edges of {len(y.labels)}; {cut:.0%} cut"
)

# %%
one_forest = learning.train_edge_classifier(
    x, y.labels, y.confident, trees=settings.rf_trees, seed=0, oob=True
)
oob = one_forest.oob_score_
print(f"{settings.rf_trees} trees; out-of-bag accuracy {oob:.3f}")

# %% [markdown]
# ## Features and labels of all training slices
#
# `pipeline.graph_data` does the steps above for a slice; the forest is trained on the edges of all of them.

# %%
train_graphs = [
    pipeline.graph_data(r, g, settings=settings)
    for r, g in tqdm(list(zip(train_raw, train_gt)))
]
fractions = np.concatenate([g.cut_fraction for g in train_graphs])
confident = np.concatenate([g.confident for g in train_graphs])
labels = np.concatenate([g.labels for g in train_graphs])
print(
    f"{len(train_graphs)} graphs, {len(fractions)} edges; "
    f"confident: {confident.mean():.1%} ({confident.sum()})\n"
    f"of those, true boundaries: {labels[confident].mean():.1%}"
)

# %%
fig = segmentation_plots.show_edge_label_histogram(
    fractions, settings.label_low, settings.label_high
)
figures.publish(fig, config.figure_path("04_edge_labels.png"))

# %% [markdown]
# ## Training the random forest
#
# The out-of-bag score is the accuracy of each tree on the training edges it did not see: an honest estimate
# without a separate validation set. Each tree sees a bootstrap sample of 30% of the edges (several times faster than
# the full sample for 200 trees, with no loss we could measure on slices 24-29 when this was chosen).

# %%
forest = pipeline.train_edge_rf(
    train_graphs, trees=settings.rf_trees, seed=settings.seed, oob=True
)
majority = max(labels[confident].mean(), 1 - labels[confident].mean())
print(f"out-of-bag accuracy {forest.oob_score_:.3f}")
print(f"always guessing the majority class: {majority:.3f}")

# %%
importances = learning.feature_importances(forest, features.feature_names())
fig = segmentation_plots.show_feature_importances(
    importances, top=15, title="Frangi pipeline: top 15 edge features"
)
figures.publish(fig, config.figure_path("04_feature_importances.png"))

# %% [markdown]
# ## Predicted edge probabilities on a test slice
#
# Each boundary between two superpixels is painted with its predicted probability of being a true boundary (left)
# and with its ground-truth label (right; edges at 0.5 are the unsure ones, which are not used for training).

# %%
test_graphs = [
    pipeline.graph_data(r, g, settings=settings)
    for r, g in zip(test_raw, test_gt)
]
shown = test_graphs[0]
probabilities = learning.edge_probabilities(forest, shown.features)
fig = segmentation_plots.show_edge_probabilities(
    test_raw[0],
    shown.superpixels,
    shown.uv_ids,
    probabilities,
    shown.labels,
    shown.confident,
)
figures.publish(fig, config.figure_path("04_edge_probabilities.jpg"))

# %%
accuracy = []
for g in test_graphs:
    predicted = learning.edge_probabilities(forest, g.features) > 0.5
    accuracy.append(np.mean(predicted[g.confident] == g.labels[g.confident]))
print("accuracy on the confident edges of each test slice:")
print(np.round(accuracy, 3))

# %% [markdown]
# ## The same classifier on the pixel-classifier boundary map
#
# Beyond the report: the boundary map is the membrane probability of a pixel classifier. On the training slices
# that map must come from classifiers that did not see the slice (**out of fold**); otherwise the map is too good on
# the training slices and the edge forest learns to trust it more than it deserves on new slices.

# %%
pixel_settings = pipeline.PipelineSettings(
    boundary="pixel-rf", rf_trees=work.rf_trees, seed=0
)
train_maps, test_maps, _ = boundaries.pixel_rf_boundaries(
    train_raw, train_labels, test_raw, pixel_settings
)
pixel_graphs = [
    pipeline.graph_data(r, g, m, pixel_settings)
    for r, g, m in zip(train_raw, train_gt, train_maps)
]
pixel_forest = pipeline.train_edge_rf(
    pixel_graphs, trees=pixel_settings.rf_trees, seed=0, oob=True
)
n_edges = sum(g.n_edges for g in pixel_graphs)
oob = pixel_forest.oob_score_
print(f"{n_edges} training edges; out-of-bag accuracy {oob:.3f}")

# %%
fig = segmentation_plots.show_feature_importances(
    learning.feature_importances(pixel_forest, features.feature_names()),
    top=15,
    title="Pixel-classifier pipeline: top 15 edge features",
)
figures.publish(
    fig, config.figure_path("04_feature_importances_pixel_rf.png")
)

# %% tags=["remove-input"]
reading = prose.edge_classifier_reading(
    config.profile, forest, pixel_forest, accuracy, majority
)
display(Markdown(reading))
