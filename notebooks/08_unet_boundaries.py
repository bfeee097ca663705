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
# # 08 · Does style augmentation help a learned boundary detector? A U-Net, clean and shifted
#
# Chapter 06 found that stylised training slices do not change the clean error of the two forest pipelines, and
# help the Frangi pipeline a little under appearance shifts. Where the literature finds an effect of style
# randomisation, the features are *learned* (Geirhos et al. 2019; Jackson et al. 2019; Yamashita et al. 2021). So
# here the boundary map is learned too: a small **U-Net** (`helpers.unet`, written in the project, no downloaded
# weights). Its map feeds the same watershed, region graph, edge forest and multicut as every other map of the
# series, so the comparison is like for like, and the raw map is scored as pixels as well.
#
# **Arms differ only in appearance.** Every arm draws its training patches from the same pixel regions: windows
# of the original training slices, each slice equally likely, at a uniform position. A style arm replaces a patch,
# with probability `config.unet.style_probability`, by the *same window* of the same slice stylised with a
# training painting (drawn uniformly; whole slices stylised by the feed-forward engine of
# `helpers.style.feedforward`). Plain augmentation (flips, rotations, elastic deformation, intensity changes) is
# a second kind of arm. Each arm runs with and without a per-slice **intensity normalisation** (the robust
# percentile stretch of `helpers.data.normalize_intensity`) of every training and test image.
#
# **Two targets.** The U-Net learns either the thick ISBI membrane mask or the thin boundaries of the dense ground
# truth, which splits each membrane at its midline. The originals arm runs with both; the style arms then run on
# the target that a rule declared in code before the run picks (`helpers.unet.analysis.TARGET_RULE`).
#
# **Tests and statistics.** Clean test slices, the appearance shifts of chapter 06, test slices stylised with
# held-out paintings and a real change of dataset (FlyEM medulla, never trained on). Every segmentation is scored
# with the all-pixel adapted Rand error and VI and with the ISBI challenge's foreground-restricted V_rand and
# V_info. The unit of analysis is the test slice: seeds are averaged within a slice, arms are paired on slices,
# and p-values are Holm-corrected within families of comparisons declared before the run. Only a confirmatory
# family can support a claim. **Goal** (fixed in `helpers.unet.analysis.GOAL`, stated with the results below): a
# minimum foreground V_rand on the clean test slices, with the all-pixel VI reported beside what a 1 px shift of the
# ground truth against itself costs.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)
# also test on the FlyEM medulla slices (trained on ISBI only)
flyem_test = True

# %%
import json
import textwrap
import time

import pandas as pd
import torch
from IPython.display import Markdown, display

from helpers.config import check_parameters, select
from helpers.data import load_flyem, to_unit_float
from helpers.segmentation.metrics import placement_reference
from helpers.segmentation.pipeline import PipelineSettings
from helpers.unet import (
    UNet,
    analysis,
    deterministic_torch,
    experiment,
    membrane_probability,
    prose,
    sample_batch,
    step_generator,
)
from helpers.unet import material as materials
from helpers.unet.data import TARGETS, draw_windows, training_targets
from helpers.viz import unet as unet_figures
from helpers.viz.figures import publish, settings_table

# %%
check_parameters()
config = select(profile)
work, segmentation = config.unet, config.segmentation
# "pixel-rf": a learned map is passed in, never computed from the settings
settings = PipelineSettings(
    boundary="pixel-rf",
    rf_trees=segmentation.rf_trees,
    rf_max_samples=segmentation.rf_max_samples,
)
checkpoints = config.cache / "unet"
started = time.perf_counter()
display(settings_table(work))

# %% [markdown]
# ## The images
#
# The stylised copies are whole ISBI slices stylised by the feed-forward engine (cached under the cache folder,
# stylised here where missing), cropped like the originals: every training painting of the profile on every
# slice the U-Net trains on, and the held-out paintings on the test slices. The FlyEM slices come from
# `helpers.data.load_flyem`, at the crop of the ISBI slices.

# %%
flyem = load_flyem(crop=segmentation.crop) if flyem_test else None
material = materials.from_config(config, flyem)
unet_images, copies, edge_images = experiment.split_training(
    material, work.edge_slices
)
paintings = materials.training_paintings(
    work.paintings, config.experiments.heldout_styles
)
n_unet, n_edge = len(unet_images), len(edge_images)
text = (
    f"U-Net training slices: {n_unet}, each stylised with the paintings "
    f"{list(paintings)}; slices for the edge forest: {n_edge}"
)
print(textwrap.fill(text, 76))

# %%
conditions = pd.Series([image.condition for image in material.tests])
conditions.value_counts(sort=False).rename("test images").to_frame()

# %% [markdown]
# ## Two targets
#
# The membrane mask marks every membrane pixel; the thin boundaries (`helpers.unet.boundary_target`) mark every
# pixel of the dense ground truth with a 4-neighbour in another cell: 1-2 px on the line where the dense ground
# truth splits each membrane between its two cells.

# %%
example = unet_images[0]
(membrane_mask,), (thin,) = (
    training_targets([example.raw], [example.membranes], t)[1]
    for t in TARGETS
)
figure = unet_figures.targets(
    example.raw, membrane_mask, thin, f"training slice {example.index}"
)
publish(figure, config.figure_path("08_unet_targets.jpg"))

# %% [markdown]
# ## Same-region sampling
#
# One training batch: the draws of a step's generator give every arm the same windows; the style arm takes some
# of them from a stylised copy of the same slice, the originals arm never does.

# %%
images, masks = training_targets(
    [image.raw for image in unet_images],
    [image.membranes for image in unet_images],
)
stylised = [
    [to_unit_float(image.raw) for image in painting] for painting in copies
]
share = work.style_probability
shapes = [image.shape for image in images]
draws = draw_windows(
    shapes, work.patch, 8, step_generator(0, 0), len(stylised), share
)

# %%
plain_batch, _ = sample_batch(
    images, masks, work.patch, 8, step_generator(0, 0)
)
style_batch, _ = sample_batch(
    images,
    masks,
    work.patch,
    8,
    step_generator(0, 0),
    False,
    stylised,
    share,
)
drawn = [paintings[draw.style] if draw.style >= 0 else -1 for draw in draws]
figure = unet_figures.same_region_batch(
    plain_batch[:, 0], style_batch[:, 0], drawn
)
publish(figure, config.figure_path("08_unet_same_region.jpg"))

# %% [markdown]
# ## The method on one example
#
# A U-Net (`helpers.unet.UNet`, the profile's width and depth), its Adam optimiser and the binary cross-entropy
# of its logits against the membrane target.

# %%
torch.manual_seed(work.seeds[0])
model = UNet(work.width, work.depth)
optimizer = torch.optim.Adam(model.parameters(), lr=work.learning_rate)
loss_function = torch.nn.BCEWithLogitsLoss()
n_weights = sum(w.numel() for w in model.parameters())
print(f"U-Net, width {work.width}, depth {work.depth}: {n_weights} weights")

# %% [markdown]
# A few training steps, each on one batch of windows of the originals (`sample_batch`, the draws of
# `step_generator(seed, step)`). `helpers.unet.train_unet` runs this same loop for every arm below,
# `config.unet.iterations` steps long, with stylised patches for the style arms, deterministic and checkpointed.

# %%
losses = []
with deterministic_torch(work.threads):
    for step in range(30):
        rng = step_generator(work.seeds[0], step)
        pixels, target = sample_batch(
            images, masks, work.patch, work.batch, rng
        )
        logits = model(torch.from_numpy(pixels))
        loss = loss_function(logits, torch.from_numpy(target))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"loss at step 1: {losses[0]:.3f}")
print(f"loss at step {len(losses)}: {losses[-1]:.3f}")

# %% [markdown]
# The map of a clean test slice (`membrane_probability`, tile by tile): after so few steps it is a rough first
# guess; the arms' U-Nets below train the full schedule.

# %%
clean = next(image for image in material.tests if image.condition == "clean")
probability = membrane_probability(
    model, clean.raw, work.tile, threads=work.threads
)
maps = {f"membrane probability after {len(losses)} steps": probability}
title = f"clean test slice {clean.index}"
figure = unet_figures.boundary_maps(clean.raw, maps, title)
publish(figure, config.figure_path("08_unet_example.jpg"))

# %% [markdown]
# ## Step 1: the originals arm with both targets
#
# Each U-Net trains on the training slices but the last few (`config.unet.edge_slices`), and the edge forest
# learns from its maps of those held-out slices (a U-Net's map of its own training slices is cleaner than of any
# new slice). Arms train `config.unet.workers` at a time, one process and one core each; every training is
# deterministic, so the numbers do not depend on that. Checkpoints are written atomically under the cache, carry a
# digest of their content checked on load, and an interrupted run resumes where it stopped.

# %%
first_arms = [("original", "none", target) for target in TARGETS]
results = experiment.run_arms(
    material, first_arms, work.seeds, work, settings, checkpoints
)

# %%
rows = pd.DataFrame(
    [row for result in results.values() for row in result.rows]
)
choice = analysis.choose_target(rows)
chosen = choice["chosen"]
print(f"target of the style arms: {chosen}")
print("(the rule: `helpers.unet.analysis.TARGET_RULE`)")
name = "mean foreground V_rand, clean test slices"
pd.Series(choice["v_rand"], name=name).round(3).to_frame()

# %% [markdown]
# ## Step 2: the other arms on the chosen target
#
# The confirmatory arms (originals with normalisation, styles with and without) with every seed; plain
# augmentation and styles on top of it, exploratory, with fewer seeds.

# %%
confirmatory = [
    ("original", "percentile", chosen),
    ("style", "none", chosen),
    ("style", "percentile", chosen),
]
exploratory = [("plain", "none", chosen), ("style+plain", "none", chosen)]
shown = ("gamma_2", segmentation.test_slices[0])  # the map figure's slice
runs = [(confirmatory, work.seeds), (exploratory, work.exploratory_seeds)]
for arms, seeds in runs:
    results |= experiment.run_arms(
        material, arms, seeds, work, settings, checkpoints, keep=[shown]
    )
rows = pd.DataFrame(
    [row for result in results.values() for row in result.rows]
)

# %%
first = work.seeds[0]
curves = {
    f"{t}/{i} ({target})": result.trained.losses
    for (t, i, target, seed), result in sorted(results.items())
    if seed == first
}
figure = unet_figures.training_losses(curves)
publish(figure, config.figure_path("08_unet_losses.png"))

# %% [markdown]
# ## The 1 px placement reference
#
# The all-pixel scores punish a boundary drawn a pixel off: the dense ground truth against itself shifted by 1 px
# (`helpers.segmentation.metrics.placement_reference`, rows and columns averaged), per clean test slice.

# %%
cleans = [image for image in material.tests if image.condition == "clean"]
references = pd.DataFrame(
    [
        {"slice": image.index, **placement_reference(image.gt, shift=1)}
        for image in cleans
    ]
)
references.set_index("slice").round(3)

# %% [markdown]
# ## Scores per arm and test group
#
# Mean and 95 % interval over test slices (each slice's score the mean over its seeds); higher is better for
# V_rand, V_info, AUC and F1, lower for the Rand error and VI. Shift conditions on which every arm returns a
# trivial segmentation are flagged and left out.

# %%
trivial = analysis.trivial_conditions(rows)
left_out = ", ".join(trivial) or "none"
note = f"trivial shift conditions (left out of every average): {left_out}"
print(textwrap.fill(note, 76))
means = analysis.arm_means(rows, trivial)
publish(unet_figures.arm_bars(means), config.figure_path("08_unet_arms.png"))

# %% [markdown]
# The means of four of the scores (every score is in `results/unet.json`):

# %%
prose.means_table(means)

# %% [markdown]
# ## The report's Figure 16, extended with the U-Net
#
# The report's augmentation scenarios on clean test slices, one bar per boundary detector: the two forest
# pipelines from chapter 06's results (its main arm, over its splits) beside the U-Net arms without
# normalisation on the chosen target from this chapter.

# %%
forest_path = config.earlier_result("scenarios_summary.json")
if forest_path:
    forest = json.loads(forest_path.read_text())
    unet_means = means[means["target"] == chosen]
    figure16 = unet_figures.figure16_extended(
        pd.DataFrame(forest["summary"]), unet_means, forest["main_arm"]
    )
    publish(figure16, config.figure_path("08_figure16_extended.png"))
else:
    print(
        "scenarios_summary.json is missing: "
        f"run chapter 06 in the {config.profile} profile first"
    )

# %% [markdown]
# ## Maps with and without styles on a shifted slice

# %%
condition, index = shown
raw = next(
    image.raw
    for image in material.tests
    if (image.condition, image.index) == shown
)
maps = {
    f"{t}/{i}": results[(t, i, chosen, first)].maps[shown]
    for t, i, _ in confirmatory
}
figure = unet_figures.boundary_maps(raw, maps, f"slice {index}, {condition}")
publish(figure, config.figure_path("08_unet_maps.jpg"))

# %% [markdown]
# ## Families of comparisons
#
# Declared in `helpers.unet.analysis` before the run: the confirmatory family "styles vs originals" (styles
# without and with normalisation, on each test group, foreground V_rand), the confirmatory family "target"
# (boundaries vs membranes, originals arm, clean slices, foreground V_rand), and everything else exploratory.
# Holm's correction runs within each family. The record of the run (rows, means, comparisons, the goal, the
# provenance of the stylised images) is written to `results/unet.json` in one call.

# %%
record = analysis.write_record(
    config, settings, material, results, choice, references, started
)

# %% [markdown]
# One table: foreground V_rand and VI of every comparison (the difference is arm minus reference, with its 95 %
# interval over test slices; a comparison on fewer than two slices is not tested).

# %%
display(Markdown(prose.comparison_table(record["comparisons"])))

# %% [markdown]
# ## Conclusion
#
# Generated from `results/unet.json` of this run (`helpers.unet.prose.conclusion`): the goal beside the 1 px
# placement reference, the target choice, and what each confirmatory family supports after Holm's correction.

# %%
display(Markdown(prose.conclusion(record)))
