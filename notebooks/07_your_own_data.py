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
# # 07 · Segment your own data
#
# Chapters 03-05 segment ISBI 2012 only. This chapter runs the same pipeline on a second EM dataset, the way you
# would run it on yours: load a raw stack and its labels from common files, turn the labels into the project's
# membrane labels and dense ground truth, split the stack into training and test slices by blocks of z, train
# and test. It then asks what happens when a forest trained on one dataset segments another.
#
# The second dataset is a subset of the **FlyEM FIB-SEM *Drosophila* medulla** cube of NeuroProof's examples
# (FlyEM / HHMI Janelia Research Campus, github.com/janelia-flyem/neuroproof_examples, CC BY; 16 of its 250 slices,
# see `data/flyem-medulla/PROVENANCE.md`): 10 nm isotropic voxels instead of ISBI's 4 x 4 x 50 nm, another
# microscope, another grey-value range, and labels given as supervoxel ids with a supervoxel-to-body table instead
# of a membrane mask.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)
# intensity normalisations compared (helpers.data.NORMALIZATIONS)
intensities = ["none", "percentile"]

# %%
import json
import shutil
import subprocess
import sys
import textwrap
import warnings

import pandas as pd
import tifffile
import zarr
from IPython.display import Markdown, display

from helpers import data
from helpers.config import check_parameters, select
from helpers.paths import atomic_write_text
from helpers.segmentation import cross_dataset
from helpers.segmentation.features import feature_names
from helpers.segmentation.learning import feature_importances
from helpers.segmentation.metrics import evaluate
from helpers.segmentation.settings import PipelineSettings
from helpers.viz import figures, owndata
from helpers.viz import segmentation as segmentation_plots

check_parameters()
config = select(profile)
work = config.own_data
print("profile:", config.profile)
figures.settings_table(work)

# %% [markdown]
# ## Your data in
#
# `data.load_em_stack(raw, labels, ...)` reads each of the two from a TIFF, a PNG, a folder of PNG or TIFF slices,
# HDF5, zarr or `.npy` (gzip-compressed too, 8 or 16 bit, 2D or 3D, only the slices asked for). Labels may be
#
# * a **membrane mask**: boolean, 0/1, 0/255, of either polarity; say which value marks membranes
#   (`membrane=255`, `membrane=True`, `membrane="bright"`), or let it take the rarer value with a warning;
# * **instance ids**, optionally through a supervoxel-to-body table (`table=`: rows, a dict, or a dataset name).
#
# Both become the same two things: membrane labels (0 membrane, 255 cell) and a dense ground truth (every pixel
# one cell, ids from 1 per slice). For the FlyEM subset, `data.load_flyem()` makes this call on the vendored
# files: a folder of PNGs, and a gzip-compressed HDF5 file whose `stack` holds supervoxel ids and whose
# `transforms` maps them to bodies (neurons); membranes are the body boundaries.

# %%
flyem = data.load_flyem(work.slices, work.crop)
positions = list(work.slices or range(len(data.FLYEM_Z)))
z_numbers = [data.FLYEM_Z[p] for p in positions]
shape, dtype = flyem.raw.shape, str(flyem.raw.dtype)
facts = flyem.notes | {"shape": shape, "raw dtype": dtype}
display(pd.Series(facts, name="FlyEM"))

# %% [markdown]
# For your own files the call is the same, e.g. `data.load_em_stack("raw.tif", "labels.h5", labels_dataset="seg",
# kind="instances")`, or `data.load_em_stack("slices/", "masks/", membrane="bright")` for white membranes on a
# folder of PNG masks. `load_flyem` calls it as
# `data.load_em_stack(folder, "groundtruth-subset.h5.gz", kind="instances", labels_dataset="stack",
# table="transforms")`, after checking the files' checksums.
#
# A mask whose membrane value is not stated is read by its membrane fraction: here the FlyEM membranes, inverted
# to white and passed as a plain mask. The warning says which value was taken and how to state it.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    white = data.load_em_stack(flyem.raw, 255 - flyem.membranes)
messages = " ".join(str(warning.message) for warning in caught)
print(textwrap.fill(f"warning: {messages}", 76))
print(
    "same membrane labels:", bool((white.membranes == flyem.membranes).all())
)

# %%
index = len(flyem) // 2
fig = owndata.show_stack_sample(
    flyem.raw[index],
    flyem.membranes[index],
    flyem.gt[index],
    f"FlyEM medulla, z = {z_numbers[index]}",
)
fig = owndata.pixel_axes(fig, 10)
figures.publish(fig, config.figure_path("07_flyem_sample.jpg"))

# %% [markdown]
# ## Training and test slices by z-blocks
#
# Neighbouring slices of a stack show nearly the same cells, so a random split of slices would test on near
# copies of the training slices. `data.z_block_split` cuts the stack into contiguous blocks of z, tests on the last
# block and trains on the others, leaving out `gap` slices next to the test block.

# %%
train_index, test_index = data.z_block_split(
    len(flyem), work.n_blocks, gap=work.gap
)
flyem_train, flyem_test = flyem.take(train_index), flyem.take(test_index)
split = {
    "train_z": [z_numbers[i] for i in train_index],
    "test_z": [z_numbers[i] for i in test_index],
}
train_z, test_z = split["train_z"], split["test_z"]
print(f"train z {train_z[0]}-{train_z[-1]}, test z {test_z[0]}-{test_z[-1]}")

# %% [markdown]
# ## Two microscopes, two grey-value ranges
#
# ISBI slices span the whole 8-bit range with near-black membranes; the FlyEM slices are greyer. A forest trained
# on ISBI reads raw intensities as absolute numbers, so the same membrane looks different to it on FlyEM. The
# `percentile` normalisation (`PipelineSettings(intensity="percentile")`, `helpers.data.normalize`) maps each
# slice's 1st percentile to 0 and its 99.8th to 1 before anything is computed from its pixels.

# %%
isbi = data.isbi_stack(work.isbi_slices, work.isbi_crop)
samples = {"ISBI 2012": isbi.raw[0], "FlyEM": flyem.raw[index]}
normalised = {
    name: data.normalize_intensity(pixels, "percentile")
    for name, pixels in samples.items()
}
fig = owndata.show_intensities(samples, normalised, "percentile")
figures.publish(fig, config.figure_path("07_intensities.png"))

# %% [markdown]
# ## Train there, test there; train on ISBI, test there
#
# Every training set (the FlyEM training blocks, the ISBI training slices) trains one edge forest per intensity
# normalisation; each segments the FlyEM test block (Frangi boundary map, Kernighan-Lin multicut, the report's
# settings). The trivial baselines come from the same test superpixels: every superpixel its own cell (no
# merges), everything one cell (all merged), and the best segmentation the superpixels allow.

# %%
settings = PipelineSettings(
    rf_trees=config.segmentation.rf_trees,
    rf_max_samples=config.segmentation.rf_max_samples,
    seed=0,
)
sources = {"ISBI 2012": isbi, "FlyEM": flyem_train}
runs = cross_dataset.cross_dataset(
    sources, flyem_test, settings, intensities
)
means = cross_dataset.summary(runs.rows)
display(means.drop(columns="n_slices").round(3))

# %%
fig = owndata.show_transfer_scores(means)
figures.publish(fig, config.figure_path("07_transfer_scores.png"))

# %% [markdown]
# What the ISBI forest learned to look at: its most important edge features, without and with normalisation.

# %%
importances = {
    (name, intensity): feature_importances(forest, feature_names())[:5]
    for (name, intensity), forest in runs.forests.items()
}
top = {}
for (n, i), pairs in importances.items():
    top[f"{n}, {i}"] = [f"{f} ({v:.2f})" for f, v in pairs]
display(pd.DataFrame(top))

# %%
first = 0
compared = [
    ("FlyEM", intensities[0]),
    ("ISBI 2012", intensities[0]),
    ("ISBI 2012", intensities[-1]),
]
shown = {"ground truth": flyem_test.gt[first]}
shown |= {
    f"train {n}, {i}": runs.segmentations[n, i, "multicut"][first]
    for n, i in compared
}
scores = {
    f"train {row['train']}, {row['intensity']}": row
    for row in runs.rows
    if row["slice"] == first and row["method"] == "multicut"
}
fig = segmentation_plots.show_segmentations(
    flyem_test.raw[first],
    shown,
    scores,
    title=f"FlyEM test slice z = {split['test_z'][first]}",
)
fig = owndata.pixel_axes(fig, 10)
figures.publish(fig, config.figure_path("07_segmentations.jpg"))

# %% [markdown]
# ## The same from the command line
#
# For a stack of your own, two commands do what this chapter did. `train` learns the pipeline (Frangi boundary map,
# watershed, region adjacency graph, edge forest; this chapter's settings) from labelled slices in any of the formats
# above and saves it as one file; `segment` reads a stack of any length one slice at a time, segments each slice
# (on Dask workers with `--workers N`, or on a cluster named by `NSEM_SCHEDULER`) and writes a zarr label volume,
# which it resumes where it stopped when interrupted:
#
# ```bash
# python -m helpers.segmentation train --raw train-raw.tif \
#     --labels train-labels.tif --kind instances --out flyem.nsem
# python -m helpers.segmentation segment flyem.nsem test-raw.tif \
#     --out test-labels.zarr --workers 2
# ```
#
# Here the FlyEM training blocks and test block go to files in the cache folder, the two commands run on them, and the
# label volume they write is scored against the test block's ground truth: it must give the scores of the FlyEM
# forest above, for the same normalisation.

# %%
own = config.cache / "own-data"
# a fresh folder: both commands do all their work
shutil.rmtree(own, ignore_errors=True)
own.mkdir(parents=True)
files = {
    "train-raw.tif": flyem_train.raw,
    "train-labels.tif": flyem_train.gt,
    "test-raw.tif": flyem_test.raw,
}
for name, pixels in files.items():
    tifffile.imwrite(own / name, pixels, photometric="minisblack")
written = ", ".join(files)
print(textwrap.fill(f"wrote {written} to the cache's own-data folder", 76))

# %%
command = [sys.executable, "-m", "helpers.segmentation"]
forest_size = ["--trees", str(settings.rf_trees)]
if settings.rf_max_samples:
    forest_size += ["--max-samples", str(settings.rf_max_samples)]
trained = subprocess.run(
    [*command, "train", "--raw", "train-raw.tif",
     "--labels", "train-labels.tif", "--kind", "instances",
     "--intensity", intensities[0], *forest_size,
     "--seed", str(settings.seed), "--out", "flyem.nsem"],
    cwd=own, check=True, capture_output=True, text=True,
)  # fmt: skip
print(textwrap.fill(trained.stdout.strip().splitlines()[-1], 76))

# %%
segmented = subprocess.run(
    [*command, "segment", "flyem.nsem", "test-raw.tif",
     "--out", "test-labels.zarr", "--overwrite", "--quiet"],
    cwd=own, check=True, capture_output=True, text=True,
)  # fmt: skip
print(textwrap.fill(segmented.stdout.strip().splitlines()[-1], 76))

# %%
labels = zarr.open_group(str(own / "test-labels.zarr"), mode="r")["labels"][
    :
]
from_command = pd.DataFrame(
    [evaluate(seg, flyem_test.gt[i]) for i, seg in enumerate(labels)]
)
key = ("FlyEM", intensities[0], "multicut")
chapter_rows = [
    row
    for row in runs.rows
    if (row["train"], row["intensity"], row["method"]) == key
]
from_chapter = pd.DataFrame(chapter_rows)[list(from_command.columns)]
assert from_command.equals(from_chapter), (
    "the commands' scores differ from the chapter's FlyEM forest"
)
display(from_command.assign(z=split["test_z"]).set_index("z").round(3))

# %% [markdown]
# ## Results file
#
# Per-slice and mean scores of every run and baseline, the split, the settings and the data's provenance, in
# `flyem.json` of the profile's results folder.

# %%
results = {
    "profile": config.as_dict(),
    "dataset": {
        "name": flyem.name,
        "source": "FlyEM / HHMI Janelia Research Campus, "
        "neuroproof_examples training_sample2, CC BY",
        "files": "data/flyem-medulla (see PROVENANCE.md)",
        "z": z_numbers,
        "crop": work.crop,
        **split,
    },
    "isbi_train_slices": list(work.isbi_slices),
    "settings": settings.as_dict(),
    "intensities": list(intensities),
    "metrics": "rand_error: adapted Rand error (scikit-image); "
    "vi = vi_split + vi_merge in bits (elf); "
    "baselines (train '-') from the test superpixels of each normalisation",
    "per_slice": [
        row | {"z": split["test_z"][row["slice"]]} for row in runs.rows
    ],
    "mean": means.to_dict(orient="records"),
    "top_features": {
        f"{n}, {i}": dict(pairs) for (n, i), pairs in importances.items()
    },
}
atomic_write_text(
    config.result_path("flyem.json"),
    json.dumps(results, indent=1, default=float),
)

# %% tags=["remove-input"]
table = means.set_index(["train", "intensity", "method"])
base, other = intensities[0], intensities[-1]
own, plain, normal = (
    table.loc["FlyEM", base, "multicut"],
    table.loc["ISBI 2012", base, "multicut"],
    table.loc["ISBI 2012", other, "multicut"],
)
own_normal = table.loc["FlyEM", other, "multicut"]
per_slice = pd.DataFrame(runs.rows)
spread = (
    per_slice[
        (per_slice["train"] == "FlyEM") & (per_slice["method"] == "multicut")
    ]
    .groupby("intensity")["rand_error"]
    .std(ddof=0)
)
merged, apart, best = (
    table.loc["-", base, method]
    for method in ("all merged", "no merges", "best reachable")
)
display(
    Markdown(
        f"**Reading** (this run, profile `{config.profile}`, FlyEM test slices: {len(flyem_test)}, intensity "
        f"`{base}` unless said). Trained on FlyEM's own training blocks, the pipeline reaches an adapted Rand error of "
        f"{own['rand_error']:.3f} (VI {own['vi']:.2f} bits) against {merged['rand_error']:.3f} for all merged and "
        f"{apart['rand_error']:.3f} for no merges; the superpixels allow {best['rand_error']:.3f}. The forest trained "
        f"on ISBI 2012 leaves {plain['n_segments']:.1f} segments per slice (Rand error {plain['rand_error']:.3f}, VI "
        f"merge {plain['vi_merge']:.2f} bits): "
        + (
            "it merges each slice into one segment, as the all-merged baseline does"
            if plain["n_segments"] <= 1.5
            else f"{plain['n_segments'] / own['n_segments']:.2f} times as many as the FlyEM forest's"
        )
        + f". With `{other}` normalisation the same ISBI forest reaches {normal['rand_error']:.3f} (VI "
        f"{normal['vi']:.2f}, {normal['n_segments']:.1f} segments per slice), "
        + (
            "better than both trivial baselines"
            if normal["rand_error"]
            < min(merged["rand_error"], apart["rand_error"])
            else "not better than every trivial baseline"
        )
        + (
            f", but worse than training on the data itself ({own['rand_error']:.3f}): normalising intensities removes "
            "the grey-value mismatch, not the differences in resolution and texture."
            if normal["rand_error"] > own["rand_error"]
            else f", no worse than training on the data itself ({own['rand_error']:.3f})."
        )
        + f" Within FlyEM, `{other}` normalisation gives a Rand error of {own_normal['rand_error']:.3f} against "
        f"{own['rand_error']:.3f} with `{base}` (standard deviation over the test slices {spread[other]:.3f} and "
        f"{spread[base]:.3f})."
    )
)
