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
# # 05 · Multicut inference
#
# The report's last step (Section 2.2, equation 6): from the edge probabilities of notebook 04, find the
# partition of the graph with minimum total cost, the **minimum cost multicut**. Edge costs are
# `log((1 - p) / p) + log((1 - beta) / beta)` (positive = "keep together"), with the boundary bias `beta`.
#
# Here we
#
# * compute the costs of equation 6 on **one graph** and call each solver on it;
# * run the whole pipeline (train on slices 0-23, infer on 24-29) **without Frangi** (Figure 12: watershed and
#   features on the raw image), **with Frangi**
#   (Figure 13, the report's pipeline) and with the **pixel classifier**'s boundary map, timing every stage;
# * compare the **solvers** of bioimage-cpp (greedy additive GAEC, Kernighan-Lin, fusion moves) with an **exact ILP**
#   (HiGHS, cycle inequalities added lazily: the role CPLEX/Gurobi played for the report's code), and the trivial
#   baselines, in one table of energy, gap to the optimum, time, adapted Rand error and VI;
# * look at `beta` with a sweep and a slider;
# * write `results/segmentation_baseline.json`.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)
# any of these; Kernighan-Lin (the pipeline's solver) always runs
solvers = ["gaec", "kl", "fusion", "ilp"]
time_goal = 60.0  # seconds for the whole CPU pipeline on 30 slices

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.segmentation import (
    evaluation,
    learning,
    metrics,
    multicut,
    pipeline,
    prose,
)
from helpers.viz import figures, widgets
from helpers.viz import segmentation as segmentation_plots

check_parameters()
config = select(profile)
work = config.segmentation
display(figures.settings_table(work))

# %% [markdown]
# ## The data and the three pipelines
#
# The report's split (the `ci` profile uses crops of a few slices). The three pipelines differ only in the
# boundary map and the watershed; all other settings are shared.

# %%
(train_raw, train_labels, train_gt), (test_raw, test_labels, test_gt) = (
    pipeline.load_split(work)
)
common = {"rf_trees": work.rf_trees, "rf_max_samples": work.rf_max_samples}
settings = {
    name: pipeline.PipelineSettings(
        boundary=b, watershed=ws, seed=0, **common
    )
    for name, b, ws in (
        ("frangi", "frangi", "distance"),
        ("pixel-rf", "pixel-rf", "distance"),
        ("no filter", "raw", "seeded"),
    )
}
table = figures.settings_table
display(pd.DataFrame({n: table(s)["value"] for n, s in settings.items()}))

# %% [markdown]
# ## Equation 6 on one graph
#
# First the method itself, on the first test slice with the Frangi pipeline. An edge forest trained on the
# training slices' graphs (as in notebook 04) gives each edge of the test slice's graph its probability `p` of
# being a true boundary.

# %%
frangi = settings["frangi"]
train_graphs = [
    pipeline.graph_data(r, g, settings=frangi)
    for r, g in zip(train_raw, train_gt)
]
trees, samples = frangi.rf_trees, frangi.rf_max_samples
forest = pipeline.train_edge_rf(
    train_graphs, trees=trees, seed=0, max_samples=samples
)
graph = pipeline.graph_data(test_raw[0], settings=frangi)
p = learning.edge_probabilities(forest, graph.features)

# %% [markdown]
# The cost of an edge is `log((1 - p) / p) + log((1 - beta) / beta)`: positive (keep the two superpixels together)
# where `p < 1 - beta`. The probabilities are first squeezed linearly into `[0.001, 0.999]` so that no cost is
# infinite; the library's function (`multicut.costs_from_probabilities`, python-elf's) gives the same numbers.

# %%
beta = frangi.beta
q = 0.001 + 0.998 * p
costs = np.log((1 - q) / q) + np.log((1 - beta) / beta)
print(f"{graph.n_nodes} nodes, {graph.n_edges} edges")
print(f"{np.mean(costs < 0):.0%} of the costs favour a cut")
library = multicut.costs_from_probabilities(p, beta)
print("the same as the library's costs:", np.allclose(costs, library))

# %% [markdown]
# Each solver returns one label per superpixel; the **energy** is the sum of the costs of the cut edges (lower is
# better), and painting each superpixel with its label gives the segmentation.

# %%
compared = solvers if "kl" in solvers else [*solvers, "kl"]
one_graph = {}
for name in compared:
    node_labels = multicut.solve_multicut(
        graph.n_nodes, graph.uv_ids, costs, name, seed=0
    )
    segmentation = multicut.node_labels_to_segmentation(
        graph.superpixels, node_labels
    )
    one_graph[name] = {
        "energy": multicut.multicut_energy(graph.uv_ids, costs, node_labels),
        "n_segments": len(np.unique(segmentation)),
        **metrics.evaluate(segmentation, test_gt[0]),
    }
display(evaluation.solver_table(one_graph))

# %% [markdown]
# ## The whole pipeline, stage by stage
#
# `pipeline.run` does all of this from the slices, for each pipeline: dense ground truth, boundary maps (for the
# pixel classifier: out-of-fold maps on the training slices), superpixels and features, edge labels, forest
# training, inference (Kernighan-Lin multicut) and scoring. Timings are wall-clock seconds on this machine.

# %%
runs = {
    name: pipeline.run(train_raw, train_labels, test_raw, test_labels, s)
    for name, s in settings.items()
}
timings = pd.DataFrame({name: r.timings for name, r in runs.items()})
total = timings.sum().to_frame("total").T
display(pd.concat([timings, total]).map("{:.3g}".format))

# %%
shown = {k: runs[k].timings for k in ("frangi", "pixel-rf")}
fig = segmentation_plots.show_stage_timings(shown, budget=time_goal)
figures.publish(fig, config.figure_path("05_stage_timings.png"))

# %% [markdown]
# ## Solvers and baselines
#
# For every test slice: each solver's energy (lower is better), its relative gap to the ILP optimum, its time, and
# the scores of its segmentation, next to the trivial baselines (`no merges`: every superpixel its own cell;
# `all merged`: everything one cell) and the best segmentation the superpixels allow (`best`, notebook 03). Rand
# error is the adapted Rand error; VI is in bits; V_rand and V_info are the ISBI 2012 challenge's
# foreground-restricted scores (1 is perfect). The tables give the mean over the test slices.

# %%
solver_rows = {
    name: evaluation.compare_solvers(
        runs[name], list(test_gt), list(test_labels), compared
    )
    for name in ("frangi", "pixel-rf")
}

# %% [markdown]
# The Frangi pipeline:

# %%
frangi_means = evaluation.mean_per_method(solver_rows["frangi"])
short = {"best reachable": "best"}
display(evaluation.solver_table(frangi_means).rename(columns=short))

# %% [markdown]
# The pixel-classifier pipeline:

# %%
pixel_means = evaluation.mean_per_method(solver_rows["pixel-rf"])
display(evaluation.solver_table(pixel_means).rename(columns=short))

# %% [markdown]
# ## Inference without and with Frangi (the report's Figures 12 and 13)

# %%
names = {
    "no filter": "Fig. 12: no filter",
    "frangi": "Fig. 13: Frangi (report)",
    "pixel-rf": "pixel classifier",
}
segmentations = {
    "ground truth": test_gt[0],
    **{names[k]: runs[k].segmentations[0] for k in names},
}
scores = {names[k]: runs[k].scores[0] for k in names}
fig = segmentation_plots.show_segmentations(
    test_raw[0],
    segmentations,
    scores,
    title=f"Test slice {work.test_slices[0]} (Kernighan-Lin, beta = 0.5)",
)
figures.publish(fig, config.figure_path("05_inference_overlays.jpg"))

# %% [markdown]
# ## The boundary bias beta
#
# A larger `beta` makes every cut cheaper: more, smaller segments (VI split up, VI merge down). The sweep re-solves
# all test slices with Kernighan-Lin.

# %%
betas = np.round(np.arange(0.2, 0.81, 0.1), 2)
sweep = {}
for name in ("frangi", "pixel-rf"):
    run, sweep[name] = runs[name], []
    for b in betas:
        chosen = pipeline.PipelineSettings(beta=b)
        per_slice = [
            metrics.evaluate(
                pipeline.segment_graph(g, run.forest, chosen), gt
            )
            for g, gt in zip(run.test_graphs, test_gt)
        ]
        sweep[name].append(metrics.mean_scores(per_slice))
fig = segmentation_plots.show_beta_sweep(betas, sweep)
figures.publish(fig, config.figure_path("05_beta_sweep.png"))

# %% [markdown]
# The slider re-solves the first test slice (Frangi pipeline) and redraws the figure under it. It needs a running
# kernel (`make lab`): **in the static book the slider does nothing and the figure is a snapshot at beta = 0.5**.

# %%
run = runs["frangi"]
panel, solve = widgets.beta_panel(
    test_raw[0], run.test_graphs[0], run.forest, test_gt[0], run.settings
)
display(panel)
start = solve(run.settings.beta)

# %% [markdown]
# ## Results file
#
# Per-slice and mean scores of every solver and baseline for both pipelines, stage timings and graph sizes, in
# `segmentation_baseline.json` of the profile's results folder (`results/`; the `ci` profile writes to
# `results/ci/`, so a quick test run never overwrites the real numbers). The profile is recorded in the file.

# %%
results_file = evaluation.write_results(config, runs, solver_rows)

# %% [markdown]
# ## Did we reach the goals?
#
# Kernighan-Lin's mean scores, whether they beat both trivial baselines, whether the heuristic solvers come close to
# the exact optimum (only when the ILP ran), and the goal for the scores. The goals refer to the full profile; the
# `ci` profile's crops are only a test.

# %%
display(evaluation.goals_table(runs, solver_rows))

# %% tags=["remove-input"]
display(Markdown(prose.multicut_reading(config.profile, runs, solver_rows)))
