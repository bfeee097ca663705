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
# # 01 · Artistic style transfer on Heidelberg photos
#
# The report (section 2.1) follows Gatys et al.: a new image $\mathbf{x}$ is made to have the *content* of a
# photo $\mathbf{p}$ and the *style* of a painting $\mathbf{a}$ by minimising a loss over the pixels of
# $\mathbf{x}$. Feature maps of a pretrained VGG16 describe the images: $F^l, P^l, S^l \in \mathbb{R}^{N_l \times M_l}$
# are the maps of layer $l$ for $\mathbf{x}, \mathbf{p}, \mathbf{a}$, with $N_l$ filters and $M_l$ = height × width.
#
# **Content** (eq. 1) is the mean squared difference of the feature maps, summed over the content layers:
# $$\mathcal{L}_{content}(\mathbf{p},\mathbf{x}) =
#   \sum_{l \in L_{content}} \frac{1}{N_l M_l} \sum_{i,j} (F^l_{ij} - P^l_{ij})^2$$
#
# **Style** lives in the correlations between filters, the Gram matrices (eq. 2, 3)
# $$A^l_{ij} = \sum_{k=1}^{M_l} S^l_{ik} S^l_{jk}, \qquad G^l_{ij} = \sum_{k=1}^{M_l} F^l_{ik} F^l_{jk},$$
# compared over the style layers (eq. 4):
# $$\mathcal{L}_{style}(\mathbf{a},\mathbf{x}) =
#   \sum_{l \in L_{style}} \frac{1}{N_l^2 M_l^2} \sum_{i,j} (G^l_{ij} - A^l_{ij})^2$$
#
# and the two are weighed against each other (eq. 5):
# $$\mathcal{L}(\mathbf{p},\mathbf{a},\mathbf{x}) =
#   \alpha\, \mathcal{L}_{content}(\mathbf{p},\mathbf{x}) + \beta\, \mathcal{L}_{style}(\mathbf{a},\mathbf{x})$$
#
# `helpers.style.losses` implements these equations literally (`content_loss`, `gram_matrix`, `style_loss`,
# `total_loss`; the tests check them against hand-computed values). Our choices, all documented in `helpers.style`:
#
# * The VGG16 inside the HED edge detector (fine-tuned for edges), read offline by `helpers.vgg`. Appendix A1
#   compares it with the original ImageNet VGG19 that Gatys et al. used and records why HED stays the default
#   (`results/network_comparison.json`). Content layer `conv4_2`, style layers `conv1_1 … conv5_1`, equal weights
#   as in eq. 4.
# * Minimisation with L-BFGS as in the PyTorch tutorial the report's code follows, starting from the photo. A
#   **step** is one function evaluation (forward + backward pass).
# * The painting is scaled to cover the photo and centre-cropped, so $M_l$ is the same for $G^l$ and $A^l$.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
from IPython.display import display
from tqdm.auto import tqdm

from helpers import data
from helpers.config import check_parameters, select
from helpers.style import engine
from helpers.style.images import style_image
from helpers.viz import figures, widgets
from helpers.viz import style as style_figures

check_parameters()
config = select(profile)
display(figures.settings_table(config.style))

# %% [markdown]
# ## The report's three examples (Figures 4–6)
#
# Bridge gate × *The Scream*, market square × *Udnie*, Mathematikon × mosaic ducks, at the profile's size and
# number of steps, with $\alpha = 1$ and the default $\beta$ (`engine.StyleSettings`: one settings object for both
# engines).

# %%
work = config.style
settings = engine.StyleSettings(device=config.device)
steps, side = work.photo_steps, work.photo_size
alpha, beta = settings.alpha, settings.beta
print(f"alpha = {alpha}, beta = {beta}, {steps} steps, {side} px")
contents = {
    photo: data.load_photo(photo, work.photo_size)
    for photo, _ in data.REPORT_EXAMPLES
}
examples = {
    (photo, number): engine.stylize(
        contents[photo], number, steps, settings, progress=True
    )
    for photo, number in data.REPORT_EXAMPLES
}
for (photo, number), result in examples.items():
    content, style = result.final["content"], result.final["style"]
    print(
        f"{photo} x {number:02d}: {result.seconds:.1f} s, "
        f"content loss {content:.4g}, style loss {style:.4g}"
    )

# %%
names = data.style_names()
triptychs = []
for (photo, number), result in examples.items():
    # the painting as used: covering the photo, centre-cropped
    painting = style_image(number, contents[photo].shape[:2])
    labels = f"content: {photo}", f"style: {number:02d} {names[number]}"
    triptychs.append((contents[photo], painting, result.image, *labels))
fig = style_figures.show_style_triptychs(triptychs)
figures.publish(fig, config.figure_path("01_report_examples.jpg"))

# %% [markdown]
# ## Loss curves
#
# Starting from the photo, the content loss is zero and the style loss is large; L-BFGS trades a little
# content for a large drop in style loss within the first tens of steps, then slowly refines.

# %%
histories = {f"{p} x {n:02d}": r.history for (p, n), r in examples.items()}
fig = style_figures.show_loss_curves(histories, alpha, beta)
figures.publish(fig, config.figure_path("01_loss_curves.png"))

# %% [markdown]
# ## The effect of $\alpha/\beta$ and of the number of steps
#
# Only the ratio $\alpha/\beta$ matters for the minimiser (scaling both scales the loss). One run of the batched
# engine (`engine.stylize_batch`, each image optimised independently) per ratio gives the images after several
# step counts as snapshots of the same run. Smaller size here (`config.style.widget_size`) to keep it quick.

# %%
betas = [1e-7, 1e-6, 1e-5, 1e-4]
step_counts = sorted({max(1, steps // 4), max(1, steps // 2), steps})
photo, number = data.REPORT_EXAMPLES[0]
small = data.load_photo(photo, work.widget_size)
with tqdm(
    total=max(step_counts), desc="alpha/beta grid", unit="step"
) as bar:
    grid = engine.stylize_batch(
        [small] * len(betas),
        [number] * len(betas),
        max(step_counts),
        engine.StyleSettings(beta=tuple(betas), device=config.device),
        snapshots=step_counts,
        on_step=lambda _step: bar.update(1),
    )
print("style loss after", ", ".join(map(str, step_counts)), "steps:")
for b, r in zip(betas, grid):
    losses = [f"{r.snapshot_losses[s]['style']:.3g}" for s in step_counts]
    print(f"alpha/beta = {1 / b:.0e}:", ", ".join(losses))

# %%
pair = f"{photo} x {number:02d} {names[number]}"
fig = style_figures.show_image_grid(
    [[r.snapshots[s] for r in grid] for s in step_counts],
    row_labels=[f"{s} steps" for s in step_counts],
    col_labels=[f"alpha/beta = {1 / b:.0e}" for b in betas],
    title=f"{pair}: alpha/beta (columns) and steps (rows)",
)
figures.publish(fig, config.figure_path("01_alpha_beta_steps_grid.jpg"))

# %% [markdown]
# ## Try it yourself
#
# Pick a photo and a painting, move the sliders ($\alpha$ and $\beta$ on a log scale) and press **Run**. The
# image is small (`config.style.widget_size` pixels) so that a CPU answers in seconds. The panel shows the photo,
# the painting as the engine uses it (scaled to cover the photo, centre-cropped) and the image being optimised,
# updated every few steps, with a progress bar; while it runs the button is **Stop**, and a new run first clears the
# last one's result. Below, the panel is run once with its start settings before it is shown, so it holds a real
# result: in the static book the panel cannot run, and what it shows is that run.

# %%
panel, run = widgets.style_transfer_panel(
    size=work.widget_size, device=config.device, steps=min(30, steps)
)
result = run()
display(panel)
print(
    f"Snapshot of a real run ({result.steps} steps, "
    f"{result.seconds:.1f} s); `make lab` runs the panel."
)
