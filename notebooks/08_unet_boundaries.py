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
# # 08 · Does style augmentation help a learned boundary detector? A U-Net, clean and shifted
#
# Chapter 06 found that stylised training slices do not change the clean error of the two forest pipelines, and
# help the Frangi pipeline a little under appearance shifts. Where the literature finds an effect of style
# randomisation, the features are *learned* (Geirhos et al. 2019; Jackson et al. 2019; Yamashita et al. 2021). So
# here the boundary map is learned too: a small **U-Net** (`helpers.unet`, written in the project, no downloaded
# weights) trained on membrane labels. Its map feeds the same watershed, region graph, edge forest and multicut as
# every other map of the series, so the comparison is like for like, and the raw map is scored as pixels as well.
#
# **Arms.** Four training sets: the originals; the originals plus their stylised copies from the stylisation cache
# (chapter 02); plain augmentation of every patch (flips, 90-degree rotations, elastic deformation, intensity
# changes); style plus plain. Each with and without a per-slice **intensity normalisation** (the robust
# percentile stretch of `helpers.data.normalize_intensity`) applied to every training and test image: a change of
# dataset is largely a change of intensity statistics, so style augmentation must add something beyond what
# normalisation gives. Every arm trains the same number of steps with the same seeds. The same control runs for
# chapter 06's two forest pipelines (Frangi and pixel forest): originals or originals plus styles, with and without
# the normalisation, on the same test images.
#
# **Tests.** Clean test slices, the appearance shifts of chapter 06, test slices stylised with paintings never
# trained on (where the cache holds them) and a real change of dataset: FlyEM medulla slices (FIB-SEM, 10 nm
# pixels, fly), never trained on. Comparisons are paired on the same (seed, condition, slice).

# %% tags=["parameters"]
profile = None  # 'full' (GPU), 'reduced' (CPU) or 'ci'; None: $NSEM_PROFILE or automatic
intensities = ["none", "percentile"]  # per-slice normalisations of helpers.data.normalize_intensity
flyem_test = True  # also test on the FlyEM medulla slices (trained on ISBI only)

# %%
import json
import time

import pandas as pd
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from helpers.config import check_parameters, select
from helpers.data import load_flyem
from helpers.experiments.scenarios import ensure_stylized
from helpers.findings.beyond import unet_conclusion
from helpers.segmentation.pipeline import PipelineSettings
from helpers.unet import experiment, forests
from helpers.unet.analysis import arm_means, comparison_line, comparisons, write_results
from helpers.viz import unet as unet_figures
from helpers.viz.figures import publish

check_parameters()
config = select(profile)
work = config.unet
segmentation = config.segmentation
steps = config.experiments.steps[0]
settings = PipelineSettings(
    boundary="pixel-rf", rf_trees=segmentation.rf_trees, rf_max_samples=segmentation.rf_max_samples
)  # "pixel-rf": a learned map is passed in, never computed from the settings
started = time.perf_counter()
print(f"profile {config.profile} on {config.device}; U-Net work: {work}")

# %% [markdown]
# ## The images
#
# The stylised training slices come from the stylisation cache (chapter 02; stylised here if missing in the small
# profiles). The FlyEM slices come from `helpers.data.load_flyem`, at the crop of the ISBI slices.

# %%
ensure_stylized(config, (*config.experiments.styles, *config.experiments.heldout_styles))
flyem = load_flyem(crop=segmentation.crop) if flyem_test else None
material = experiment.load_material(
    config.cache, segmentation.train_slices, segmentation.test_slices, segmentation.crop, config.style.slices,
    config.style.crop, steps, config.experiments.styles, config.experiments.heldout_styles, flyem,
)  # fmt: skip
conditions = pd.Series([image.condition for image in material.tests]).value_counts(sort=False)
print(f"{len(material.originals)} original and {len(material.stylised)} stylised training images")
conditions.rename("test images").to_frame()

# %% [markdown]
# ## Training every arm
#
# Each U-Net trains on the training slices but the last few (`config.unet.edge_slices`), and the edge forest
# learns from its maps of those held-out slices: on its own training slices a U-Net's map is cleaner than on any
# new slice, and a forest trained there would trust the map more than it deserves (chapter 06's edge forest
# learns from out-of-fold pixel-forest maps for the same reason). Arms train `config.unet.workers` at a time, one
# process and one core each; every training is deterministic, so the numbers do not depend on that. Checkpoints
# are written atomically under the cache, so an interrupted run resumes where it stopped and ends with the same
# weights.

# %%
arms = [(training, intensity) for training in experiment.TRAINING_SETS for intensity in intensities]
shown = ("gamma_2", segmentation.test_slices[0])  # the shifted slice of the map figure
trainings = experiment.run_arms(material, arms, work, settings, checkpoints=config.cache / "unet", keep=[shown])
results = dict(tqdm(trainings, total=len(arms) * len(work.seeds), desc="arms trained and scored", unit="arm"))
rows = pd.DataFrame([row for result in results.values() for row in result.rows])
seconds = {
    f"{experiment.arm_name(training, intensity)} seed {seed}": round(result.trained.seconds, 1)
    for (training, intensity, seed), result in sorted(results.items())
}
training_seconds = sum(result.trained.seconds for result in results.values())
print(
    f"{len(results)} trainings, {training_seconds:.0f} s of training steps in all, "
    f"{time.perf_counter() - started:.0f} s since the start ({work.workers} at a time)"
)

# %% [markdown]
# ## The control for the two forest pipelines
#
# The same question for chapter 06's boundary detectors, on the same images: the Frangi pipeline and the pixel
# forest, trained on the originals or on the originals plus their stylised copies, each with and without the
# per-slice normalisation (`helpers.unet.forests`; the pixel forest and the edge forest learn from every training
# image, as in chapter 06). Forests cost little beside a U-Net, but the pixel forest is retrained for every arm, so
# they run with the first seed only; their rows pair with the U-Net's on that seed.

# %%
forest_seeds = work.seeds[:1]
forest_rows = forests.run_forest_arms(material, intensities, forest_seeds, settings)
rows = pd.concat([rows, pd.DataFrame(forest_rows)], ignore_index=True)
print(f"{len(forest_rows)} forest rows, {time.perf_counter() - started:.0f} s since the start")

# %%
first = work.seeds[0]
losses = {experiment.arm_name(t, i): results[(t, i, first)].trained.losses for t, i in arms}
publish(unet_figures.training_losses(losses), config.figure_path("08_unet_losses.png"))

# %% [markdown]
# ## Scores per arm and test group
#
# Mean and 95 % interval over seeds and slices; lower is better for the Rand error and VI, higher for V_rand, AUC
# and F1.

# %%
means = arm_means(rows)
publish(unet_figures.arm_bars(means), config.figure_path("08_unet_arms.png"))
means.pivot_table(index=["group", "arm"], columns="metric", values="mean").round(3)

# %% [markdown]
# ## The report's Figure 16, extended with the U-Net
#
# The report's augmentation scenarios on clean test slices, one bar per boundary detector: the two forest
# pipelines from chapter 06's results (its 128 px crops over its splits) beside the U-Net arms without
# normalisation from this chapter (whole test slices over the seeds). The U-Net's "style" arm is the report's
# full augmented set (originals plus every training painting).

# %%
forest_summary_path = config.result_path("scenarios_summary.json")
if forest_summary_path.exists():
    forest_summary = pd.DataFrame(json.loads(forest_summary_path.read_text())["summary"])
    figure16 = unet_figures.figure16_extended(forest_summary, means, steps)
    publish(figure16, config.figure_path("08_figure16_extended.png"))
else:
    print(f"{forest_summary_path} is missing: run chapter 06 in the {config.profile} profile first")

# %% [markdown]
# ## Maps with and without style augmentation on a shifted slice

# %%
condition, index = shown
raw = next(image.raw for image in material.tests if (image.condition, image.index) == shown)
maps = {
    experiment.arm_name(t, i): results[(t, i, first)].maps[shown]
    for t, i in arms
    if t in ("original", "style") and (t, i, first) in results
}
publish(unet_figures.boundary_maps(raw, maps, f"slice {index}, {condition}"), config.figure_path("08_unet_maps.jpg"))

# %% [markdown]
# ## Paired comparisons
#
# Each line: arm minus reference arm on the same (seed, condition, slice), mean with its 95 % interval.

# %%
compared = comparisons(rows)
header = {
    "profile": config.profile, "config": config.as_dict(), "unet_work": work.as_dict(),
    "settings": settings.as_dict(), "intensities": intensities, "forest_seeds": list(forest_seeds),
    "provenance": experiment.provenance(material), "seconds_per_training": seconds,
    "training_seconds": round(training_seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
}  # fmt: skip
record = write_results(config.result_path("unet.json"), header, rows)
main = compared[compared["metric"].isin(["rand_error", "vi"])]
display(Markdown("\n".join(f"* {comparison_line(row)}" for _, row in main.iterrows())))

# %% [markdown]
# ## Conclusion
#
# Generated from `results/unet.json` of this run (`helpers.findings.beyond.unet_conclusion`, which also writes the
# README's finding): where stylised training slices help each boundary detector and where not, alone and on top of
# the per-slice normalisation, paired on the same (seed, condition, slice), with 95 % intervals.

# %%
display(Markdown(unet_conclusion(record)))
