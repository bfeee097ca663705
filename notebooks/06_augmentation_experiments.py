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
# # 06 · Does style transfer help? The report's four scenarios, with statistics
#
# The report stylised the 24 training slices with 24 paintings and trained its edge classifier on four training sets
# (Section 3.2, Figure 16): **(1)** the full augmented set (originals plus every style: 600 images), **(2)** the
# original set, **(3)** the originals plus one specific style, **(4)** the selected styles `[3, 10, 19, 21]` of its
# code. Its verdict, "no clear improvement", rests on one train/test split (slices 0-23 / 24-29) and one number per
# scenario.
#
# Here we redo the four scenarios and ask the question properly:
#
# * **repeated splits** (k-fold over the stylised slices, with as many seeds as the profile affords, plus the report's
#   own split), with a 95% interval per scenario and a **paired test** against the original set on the same test
#   slices;
# * **both segmentation pipelines** of notebooks 03-05: the report's Frangi pipeline and the pixel-classifier one,
#   whose boundary map is learnt from raw appearance and may react differently to stylised training images;
# * a **plain-augmentation baseline** (flips, 90-degree rotations, noise) that any fancier augmentation must beat;
# * the report's motivation, **recognising the friend in another shirt** (Section 1), as a test: every scenario is
#   also scored on test slices under appearance shifts (lower contrast, gamma, noise, blur) and stylised with a
#   **painting never used in training**;
# * the report's suspicion that stylisation **moves membranes** (Section 4), measured per style and related to the
#   effect of adding that style.
#
# Stylised slices always keep the original slice's ground truth, as in the report.

# %% tags=["parameters"]
profile = None  # 'full' (GPU), 'reduced' (CPU) or 'ci'; None: $NSEM_PROFILE or automatic
pipelines = ["frangi", "pixel-rf"]
one_style = 3  # scenario 3's "specific style" (fixed before looking at results: the first selected style)
style_sweep = True  # also run "original + style N" for every style, to relate effects to membrane displacement

# %%
import json
import os
import time

from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.data import SELECTED_STYLES
from helpers.experiments import displacement, graphs, report, runner, scenarios, splits, stats
from helpers.experiments import units as experiment_units
from helpers.paths import RESULTS, atomic_write_text
from helpers.viz import experiments as experiment_plots
from helpers.viz import figures

check_parameters()
config = select(profile)
work = config.experiments
print(config.profile, "| device:", config.device, "| slices:", config.style.slices, "| crop:", config.style.crop or 512)
print("styles of scenario 1:", work.styles, "| held out:", work.heldout_styles, "| steps:", work.steps)

# %% [markdown]
# ## The data: original, stylised and augmented slices
#
# The experiments work on the slices (and crop) that the profile stylised in notebook 02; anything missing is
# stylised now (resumable; the full profile refuses to do this on a CPU and says what to run on a GPU). In the
# `reduced` profile this is every third slice, cropped to 128 x 128 pixels, with 5 paintings at 75 steps: a small
# version of the experiment that a CPU finishes, not the report's full workload.

# %%
scenarios.ensure_stylized(config, tuple(sorted(set(work.styles) | set(work.heldout_styles) | {one_style})))
store = scenarios.SliceStore.from_cache(config.cache, config.style.slices, config.style.crop)
all_splits = splits.experiment_splits(config.style.slices, work.n_folds, work.seeds)
units = experiment_units.chapter_units(work, pipelines, all_splits, one_style, style_sweep)
print(
    f"{len(all_splits)} splits ({', '.join(split.name for split in all_splits[:3])}, ...), "
    f"{len(units)} units to train and score"
)

# %% [markdown]
# ## Running every scenario on every split
#
# One *unit* = one pipeline, one step count, one scenario, one split: build the training set, train the edge
# random forest (and, for the pixel-classifier pipeline, the pixel classifier, on the same training images), then
# segment every test slice clean, under each appearance shift, and stylised with each held-out painting. Each unit's
# rows are saved as soon as it finishes, so an interrupted run resumes where it stopped. Frangi graphs do not depend
# on training and are built once per image.
#
# Nothing is computed twice for the same content. An image's Frangi graph (watershed superpixels, region adjacency
# graph, edge features, edge labels) is built once and kept on disk under a digest of its pixels and the graph
# settings, for every scenario, split and step count, shared by the worker processes and by the next run; a file
# that was half written or holds another image's graph is never used. Units that train on the same images (the
# original set and plain augmentation at both step counts) run as one task: one forest, and every distinct test
# image segmented once, with exactly the rows separate runs give. The membrane-displacement table below reads the
# stylised slices' Frangi maps from the same graphs. Each forest uses one thread and one worker process runs per
# core: many independent units keep every core busy without threads contending.

# %%
started = time.perf_counter()  # %%
started = time.perf_counter()
units_folder = (
    config.cache / "experiments" / f"{config.profile}-crop{config.style.crop or 512}-trees{work.forest_trees}"
)
settings = runner.UnitSettings(
    styles=work.styles,
    heldout=work.heldout_styles,
    one_style=one_style,
    trees=work.forest_trees,
    max_samples=work.forest_max_samples,
    max_train_images=work.max_train_images,
)
run = runner.run_all(store, units, units_folder, settings, workers=work.workers or os.cpu_count())
seconds = time.perf_counter() - started
rows = run.rows
runner.write_rows(rows, config.result_path("scenarios.csv"), config.profile)
summary = stats.summarize(rows)
robust = stats.robustness(summary)
print(
    f"{len(rows)} rows (scenario x split x slice x condition) in {seconds:.0f} s ({run.computed} units computed, "
    f"{run.loaded} loaded from the cache) -> {config.result_path('scenarios.csv')}"
)
summary.head()

# %% [markdown]
# ## What the full profile costs, and why it is sized so
#
# The `full` profile (whole 512 px slices, 22 training paintings, both step counts) must finish its CPU part, given
# the stylised slices from a GPU, within an hour on 2 cores (proportionally less on more). Its size was chosen for
# that, and each choice is measured, not assumed:
#
# * **One seed of 5 folds, plus the report's split.** Each seed tests every slice exactly once; a second seed tests
#   the same 30 slices again, under another split of the same slices and another forest seed. That narrows the
#   intervals without adding an independent slice (the pairs of the paired tests would repeat), so it would buy
#   precision the data do not have. Its only new information, the forest seed's own noise, is measured directly in
#   the forest check below (two seeds of each forest).
# * **Smaller forests than chapters 03-05.** The forest is most of a unit's cost. The forest check trains chapter 06's
#   forest and that of chapters 03-05 on the same original slices with two seeds each: the gap between them is to
#   be read against the gap between two seeds of the same forest. Every scenario gets the same forest, so the
#   comparisons between scenarios, the question of this chapter, are fair whatever the forest.
# * **The pixel classifier and the style sweep at 150 steps only.** The pixel-classifier pipeline retrains its
#   boundary map in every unit (out of fold on its training images, then on every test image), the costliest kind of
#   unit; the sweep has one unit per painting and split. The Frangi pipeline's scenarios still compare both step
#   counts.
# * **Caches keyed by content**, described above, so that no image's graph and no forest is computed twice.
#
# `benchmarks/chapter06_cost.py` builds the full profile's units exactly as this chapter does, times a sample of
# tasks of every kind at full size (one thread each, graphs read back from the disk cache as a worker does), the
# graph builds and the bookkeeping, and projects the whole run; the lines below are read from its
# `results/chapter06_cost.json` (on a CPU the full profile's stylised slices stand in as the originals plus noise,
# same size; the cost depends on the numbers of images, superpixels and edges, not on their content).

# %%
print("\n".join(report.cost_lines(RESULTS / "chapter06_cost.json")))

# %% [markdown]
# ## Figure 16, with error bars
#
# Mean adapted Rand error and variation of information on the clean test slices, over all splits and test slices,
# with 95% t-intervals (the report showed one number per scenario).

# %%
for steps in work.steps:
    shown = [
        pipeline for pipeline in pipelines if ((summary["pipeline"] == pipeline) & (summary["steps"] == steps)).any()
    ]
    fig = experiment_plots.scenario_bars(summary, shown, steps)
    figures.save(fig, config.figure_path(f"06_figure16_steps{steps}.pdf"))  # the one figure a paper would reuse
    figures.publish(fig, config.figure_path(f"06_figure16_steps{steps}.png"))

# %% [markdown]
# ## Paired against the original set
#
# The bars overlap because slices differ a lot in difficulty. The fair comparison is paired: the same test slice of
# the same split, segmented after training on the original set and after training on an augmented set. Negative
# changes mean lower error with augmentation.

# %%
print("\n".join(report.paired_lines(summary)))

# %% [markdown]
# The report's own split alone (train on slices below 24, test on those from 24 on), which is all the report saw:

# %%
report_rows = rows[rows["split"] == "report"]
print(
    "\n".join(report.paired_lines(stats.summarize(report_rows)))
    if len(report_rows)
    else "this profile has no slice >= 24, so the report's split is not among its splits"
)

# %% [markdown]
# ## The friend in another shirt: robustness to appearance shifts
#
# If stylised training images teach the classifier to ignore appearance, its error should rise less when the test
# slices change appearance. Each cell is the mean Rand error of a scenario (row) under a test condition (column).

# %%
for pipeline, steps in summary[["pipeline", "steps"]].drop_duplicates().itertuples(index=False):
    fig = experiment_plots.robustness_heatmap(summary, pipeline, steps)
    figures.publish(fig, config.figure_path(f"06_robustness_{pipeline}_steps{steps}.png"))
print("\n".join(report.scenario_lines(robust, report.ROBUSTNESS_LINE)))

# %% [markdown]
# Paired over the same (split, test slice): the error increase from the clean slice to the shifted (or unseen-style)
# slice with each training set, against the increase with the original set. A negative difference whose interval
# stays below zero would mean that the augmentation made the segmentation more robust.

# %%
robust_pairs = stats.robustness_paired(rows)
print("\n".join(report.scenario_lines(robust_pairs, report.PAIRED_ROBUSTNESS_LINE)))

# %% [markdown]
# ## Does stylisation move the membranes?
#
# The report suspected (Section 4) that stylisation shifts membranes, so that the original ground truth no longer
# fits. We measure it per stylised slice: the Frangi membrane maps of original and stylised slice are thresholded
# at the same area, skeletonised, and compared by their mean (chamfer) distance in pixels, next to the correlation of
# the two maps. Then each style's displacement is set against the change of the test error when that style alone is
# added to the originals (the style sweep).

# %%
moved = displacement.displacement_table(
    store,
    tuple(sorted(set(work.styles) | {one_style})),
    work.steps,
    graphs.FrangiMaps(units_folder, settings),
    workers=work.workers or os.cpu_count(),
)
print("\n".join(report.displacement_lines(moved)))
effects = displacement.style_effects(summary, moved, one_style)
fig = experiment_plots.displacement_vs_effect(effects)
figures.publish(fig, config.figure_path("06_displacement_vs_effect.png"))
# %% [markdown]
# ## What we found

# %%
same = set(work.styles) == set(SELECTED_STYLES) & set(work.styles)
text = report.conclusion(
    summary,
    robust_pairs,
    config.profile,
    len(all_splits),
    note=(
        f"In the `{config.profile}` profile scenario 1 uses the same styles as scenario 4, so each of their results "
        "counts twice above."
        if same
        else ""
    ),
)
document = {
    "profile": config.as_dict(),
    "pipelines": pipelines,
    "one_style": one_style,
    "splits": [split.name for split in all_splits],
    "n_rows": len(rows),
    "seconds": round(seconds, 1),
    "units": {"computed": run.computed, "loaded": run.loaded},
    "provenance": run.provenance,
    "reference": report.reference_of(summary),
    "summary": report.json_records(summary),
    "robustness": report.json_records(robust),
    "robustness_paired": report.json_records(robust_pairs),
    "style_effects": report.json_records(effects),
    "displacement": report.json_records(moved),
    "conclusion": text,
    "note": "reduced/ci profiles: small crops and few styles on a CPU; not the report's full workload",
}
atomic_write_text(config.result_path("scenarios_summary.json"), json.dumps(document, indent=1))
display(Markdown(text))
