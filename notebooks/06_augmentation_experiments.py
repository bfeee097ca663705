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
# # 06 · Does style transfer help? The report's four scenarios, with statistics
#
# The report stylised the 24 training slices with 24 paintings and trained its edge classifier on four training sets
# (Section 3.2, Figure 16): **(1)** the full augmented set (originals plus every style: 600 images), **(2)** the
# original set, **(3)** the originals plus one specific style, **(4)** the selected styles `[3, 10, 19, 21]` of its
# code. Its verdict, "no clear improvement", rests on one train/test split (slices 0-23 / 24-29) and one number per
# scenario.
#
# Here we redo the four scenarios at the report's scale and ask the question so that a reviewer can accept the
# answer:
#
# * **the report's scale on a CPU.** Gatys' optimisation costs seconds per step and image, so a CPU affords it only
#   on small crops. The feed-forward network of chapter 02 stylises a whole slice in one pass, so the main arm of this
#   chapter uses **all 30 whole slices and all 24 paintings**; a second pair of arms runs **both engines on the same
#   crops and paintings**, to see whether the engine changes the answer;
# * **every slice tested once** across 5 folds (plus the report's own split), both segmentation pipelines of
#   notebooks 03-05;
# * **the test slice is the unit.** A slice tested in several splits is averaged first: repeated splits and seeds
#   measure run-to-run spread, they are not new data. Two training sets are compared on the same slices (paired);
# * **families of comparisons declared before the run** (`helpers/experiments/questions.py`), each corrected for
#   multiple testing (Holm), labelled confirmatory or exploratory; the conclusion claims only what a confirmatory
#   family supports;
# * a **plain-augmentation baseline** (flips, 90-degree rotations, noise), and the same plus a blur, a gamma and a
#   contrast change: the matched baseline for "a blurring painting teaches the forest blur";
# * the report's motivation, **recognising the friend in another shirt** (Section 1), as a test: every scenario is
#   also scored on test slices under appearance shifts (lower contrast, gamma, noise, blur), and stylised with
#   styles it never trained on, each condition on its own and averaged;
# * the report's suspicion that stylisation **moves membranes** (Section 4), measured per style and related to the
#   effect of adding that style.
#
# Stylised slices always keep the original slice's ground truth, as in the report.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)
pipelines = ["frangi", "pixel-rf"]
# scenario 3's "specific style": the first selected style (fixed in advance)
one_style = 3
# also run "original + style N" for every style N, to relate the effects to
# membrane displacement
style_sweep = True

# %%
import json
import os
import textwrap
import time

import pandas as pd
from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.experiments import (
    arms,
    displacement,
    prose,
    questions,
    runner,
    stats,
    unit_graphs,
)
from helpers.paths import atomic_write_text
from helpers.viz import experiments as experiment_plots
from helpers.viz import figures

check_parameters()
config = select(profile)
work = config.experiments
plans = arms.plan_arms(config, one_style, style_sweep, pipelines)
main = plans[0]
overview = []
for plan in plans:
    arm = plan.arm
    held_out = len(arm.heldout_styles) + len(arm.heldout_textures)
    overview.append({
        "arm": arm.name, "engine": arm.engine,
        "images": f"{arm.crop or 512} px", "slices": len(arm.slices),
        "paintings": len(arm.styles), "held out": held_out,
        "splits": len(plan.splits), "units": len(plan.units),
    })  # fmt: skip
pd.DataFrame(overview)

# %% [markdown]
# ## The data: original, stylised and augmented slices
#
# Each arm reads the slices its engine stylised: the feed-forward engine's whole slices (cached by chapter 02's
# engine under `cache/feedforward/`), Gatys' crops (chapter 02's cache). Anything missing is stylised now
# (resumable; Gatys at the full profile's size refuses to run on a CPU and says what to run on a GPU).

# %%
arms.ensure_stylized(config, plans, one_style)

# %% [markdown]
# ## Running every scenario on every split
#
# One *unit* = one pipeline, one scenario, one split of one arm: build the training set, train the edge random
# forest (and, for the pixel-classifier pipeline, the pixel classifier, on the same training images), then segment
# every test slice clean, under each appearance shift, and stylised with each held-out style. Each unit's rows are
# saved as soon as it finishes, so an interrupted run resumes where it stopped.
#
# Nothing is computed twice for the same content. An image's Frangi graph (watershed superpixels, region adjacency
# graph, edge features, edge labels) is built once and kept on disk under a digest of its pixels and the graph
# settings, for every scenario and split, and by the next run; a file that was half written or holds another image's
# graph is never used. Units that train on the same images run as one task: one forest, and every distinct test
# image segmented once. The graphs, then the tasks, run on Dask workers (one process of one thread per core here, or
# the cluster named by `NSEM_SCHEDULER`); the rows do not depend on where they ran.

# %%
started = time.perf_counter()
runs = arms.run_arms(plans, workers=work.workers or os.cpu_count())
seconds = time.perf_counter() - started
rows = arms.arm_rows(runs)
runner.write_rows(rows, config.result_path("scenarios.csv"), config.profile)
computed = sum(run.computed for run in runs.values())
loaded = sum(run.loaded for run in runs.values())
print(f"{len(rows)} rows (arm x scenario x split x slice x condition)")
print(f"{computed} units computed, {loaded} read back from the cache")

# %% [markdown]
# ## The questions, declared before the run
#
# Every comparison pairs a training set with the original set on the same test slices. The comparisons fall into
# families, fixed in `helpers/experiments/questions.py` before any result was seen; within a family the p-values are
# corrected with Holm's method. Only the two confirmatory families, on the main arm, may support a claim; the others
# are exploratory: they suggest, and are reported, but claim nothing.

# %%
pd.DataFrame(
    [
        {"family": f.name, "label": f.label, "question": f.question}
        for f in questions.FAMILIES
    ]
)

# %%
table = questions.comparisons(rows, main.arm.name)
main_rows = rows[rows[arms.ARM_COLUMN] == main.arm.name]
trivial = stats.trivial_conditions(main_rows)
summary = stats.summarize(main_rows)
n_slices = main_rows["slice"].nunique()
clean = main_rows[main_rows["condition"] == "clean"]
n_runs = int(clean.groupby(["pipeline", "scenario", "slice"]).size().max())
print(f"main arm: {n_slices} independent test slices,")
print(f"each tested in up to {n_runs} training runs")
note = (
    "trivial conditions (one segment per slice for almost all "
    "training sets): "
)
print(textwrap.fill(note + (", ".join(trivial) or "none"), 76))
duplicates = questions.duplicates_note(rows)
print(
    textwrap.fill(duplicates or "no scenario is the same run as another", 76)
)

# %% [markdown]
# ## Figure 16, with error bars
#
# Mean adapted Rand error and variation of information of the main arm on the clean test slices, with 95 %
# t-intervals over test slices (the report showed one number per scenario). The bars overlap because slices differ
# a lot in difficulty; the fair comparison is paired, below.

# %%
engine = f"{main.arm.engine} engine, {main.arm.crop or 512} px"
fig = experiment_plots.scenario_bars(summary, pipelines, engine)
name = f"06_figure16_{main.arm.name}"
figures.save(fig, config.figure_path(f"{name}.pdf"))  # for a paper to reuse
figures.publish(fig, config.figure_path(f"{name}.png"))

# %% [markdown]
# ## Confirmatory: the scenarios on clean test slices
#
# The change of each error against the original set (negative: lower error with augmentation), its 95 % interval
# over test slices and the paired t-test's p-value after Holm's correction within the family (the uncorrected
# p-values are in `results/scenarios_summary.json`).

# %%
prose.family_table(table, questions.SCENARIOS_CLEAN.name)

# %% [markdown]
# The report's own split alone (train on slices 0-23, test on 24-29), which is all the report saw, is among the main
# arm's splits; its six test slices alone, as exploratory numbers:

# %%
report_rows = main_rows[main_rows["split"] == "report"]
if len(report_rows):
    report_table = questions.comparisons(report_rows, main.arm.name)
    family = questions.SCENARIOS_CLEAN.name
    shown = prose.family_table(report_table, family)
    display(shown.drop(columns="verdict"))
else:
    print("this profile runs no report split")

# %% [markdown]
# ## Confirmatory: the friend in another shirt
#
# If stylised training images teach the classifier to ignore appearance, its error should rise less when the test
# slices change appearance. Per test slice: the error increase from the clean slice to the shifted slices (averaged
# over the shifts that are not trivial) and to the slices stylised with unseen styles, with each training set,
# paired against the increase with the original set. A negative difference means the augmentation made the
# segmentation more robust.

# %%
prose.family_table(table, questions.ROBUSTNESS.name)

# %% [markdown]
# Each condition on its own (exploratory): an average over conditions can hide parts that go opposite ways.

# %%
for pipeline in pipelines:
    fig = experiment_plots.robustness_heatmap(
        summary, pipeline, f"{main.arm.engine} engine", trivial
    )
    name = f"06_robustness_{pipeline}_{main.arm.name}.png"
    figures.publish(fig, config.figure_path(name))
prose.family_table(table, questions.PER_CONDITION.name)

# %% [markdown]
# ## Exploratory: does the engine change the answer?
#
# The smaller arms run Gatys and the feed-forward network on the same crops, slices and paintings.

# %%
prose.family_table(table, questions.OTHER_ARMS.name)

# %% [markdown]
# ## Does stylisation move the membranes?
#
# The report suspected (Section 4) that stylisation shifts membranes, so that the original ground truth no longer
# fits. We measure it per stylised slice of the main arm: the Frangi membrane maps of original and stylised slice
# are thresholded at the same area, skeletonised, and compared by their mean (chamfer) distance in pixels, next to
# the correlation of the two maps. Then each style's displacement is set against the change of the test error when
# that style alone is added to the originals (the single-style sweep, exploratory).

# %%
styles = tuple(sorted(set(main.arm.styles) | {one_style}))
maps = unit_graphs.FrangiMaps(main.folder, main.settings)
workers = work.workers or os.cpu_count()
moved = displacement.displacement_table(
    main.store, styles, main.arm.steps, maps, workers=workers
)
print("\n".join(prose.displacement_lines(moved)))
effects = displacement.style_effects(summary, moved, one_style)
fig = experiment_plots.displacement_vs_effect(effects)
figures.publish(fig, config.figure_path("06_displacement_vs_effect.png"))
prose.family_table(table, questions.SWEEP.name)

# %% [markdown]
# ## What we found

# %%
text = prose.conclusion(
    table, config.profile, n_slices, n_runs, questions.duplicates_note(rows)
)
document = {
    "profile": config.as_dict(),
    "unit": stats.UNIT,
    "method": stats.METHOD,
    "main_arm": main.arm.name,
    "arms": {plan.arm.name: arms.arm_record(plan, rows) for plan in plans},
    "families": [
        {"name": f.name, "label": f.label, "question": f.question}
        for f in questions.FAMILIES
    ],
    "one_style": one_style,
    "trivial_conditions": trivial,
    "duplicates": stats.duplicate_scenarios(rows),
    "n_rows": len(rows),
    "provenance": rows.attrs["provenance"],
    "comparisons": prose.json_records(table),
    "summary": prose.json_records(summary),
    "style_effects": prose.json_records(effects),
    "displacement": prose.json_records(moved),
    "conclusion": text,
    "timings": {
        "units_s": round(seconds, 1),
        "units": {
            name: {"computed": run.computed, "loaded": run.loaded}
            for name, run in runs.items()
        },
    },
}
atomic_write_text(
    config.result_path("scenarios_summary.json"),
    json.dumps(document, indent=1),
)
display(Markdown(text))
