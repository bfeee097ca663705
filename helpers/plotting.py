"""Figures shared by the notebooks: labelled, with units and legends, saved under ``figures/``.

Shared module: each notebook stage adds its own functions here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .paths import figure_path


def save(fig: plt.Figure, name: str, dpi: int = 110) -> Path:
    """Save a figure as ``figures/<name>`` (PNG, or PDF when the name ends in .pdf) and return the path."""
    path = figure_path(name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def random_label_colors(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """RGB image with one random colour per label id (0 stays black)."""
    rng = np.random.default_rng(seed)
    palette = rng.uniform(0.15, 1.0, size=(int(labels.max()) + 1, 3))
    palette[0] = 0
    return palette[labels]


def show_isbi_sample(raw: np.ndarray, labels: np.ndarray, gt: np.ndarray, index: int) -> plt.Figure:
    """Raw slice, binary membrane labels and dense instance ground truth side by side."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.3))
    axes[0].imshow(raw, cmap="gray")
    axes[0].set_title(f"ISBI 2012 training slice {index} (raw)")
    axes[1].imshow(labels, cmap="gray")
    axes[1].set_title("membrane labels (0 membrane, 255 cell)")
    axes[2].imshow(random_label_colors(gt))
    axes[2].set_title(f"dense ground truth ({len(np.unique(gt))} cells)")
    for ax in axes:
        ax.set_xlabel("x (pixels, 4 nm each)")
        ax.set_ylabel("y (pixels)")
    fig.tight_layout()
    return fig


def show_hed_check(image: np.ndarray, gradient: np.ndarray, trained: np.ndarray, shuffled: np.ndarray,
                   auc_trained: float, auc_shuffled: float, em_slice: np.ndarray, em_edges: np.ndarray) -> plt.Figure:
    """The weight-layout check: photo, its gradient, HED with the real and with shuffled weights, HED on EM."""
    fig, axes = plt.subplots(1, 6, figsize=(22, 4.2))
    panels = [
        (image, None, "photo (input)"),
        (gradient, "magma", "Sobel gradient magnitude"),
        (trained, "gray_r", f"HED, bundled weights\nAUC vs strong gradients = {auc_trained:.2f}"),
        (shuffled, "gray_r", f"HED, shuffled weights (control)\nAUC = {auc_shuffled:.2f}"),
        (em_slice, "gray", "ISBI slice (raw)"),
        (em_edges, "gray_r", "HED edge map on EM\n(candidate boundary map)"),
    ]
    for ax, (picture, cmap, title) in zip(axes, panels):
        shown = ax.imshow(picture, cmap=cmap)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        if cmap is not None and cmap != "gray":
            fig.colorbar(shown, ax=ax, fraction=0.046, label="edge probability" if "HED" in title else "gradient (a.u.)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- style transfer (notebooks 01, 02)


def show_style_triptychs(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str, str]]) -> plt.Figure:
    """Content | style | stylised, one row per example (the report's Figures 4-6).

    ``rows``: (content RGB, style RGB, stylised RGB, content title, style title); images in [0, 1].
    """
    fig, axes = plt.subplots(len(rows), 3, figsize=(12, 3.6 * len(rows)), squeeze=False)
    for ax_row, (content, style, result, content_title, style_title) in zip(axes, rows):
        for ax, picture, title in zip(ax_row, (content, style, result), (content_title, style_title, "stylised")):
            ax.imshow(np.clip(picture, 0, 1), cmap="gray" if picture.ndim == 2 else None)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        ax_row[0].set_ylabel(f"{content.shape[0]} x {content.shape[1]} px")
    fig.tight_layout()
    return fig


def show_loss_curves(histories: dict[str, dict[str, np.ndarray]], alpha: float, beta: float) -> plt.Figure:
    """Content, weighted style and total loss (eq. 1, 4, 5) per function evaluation, log scale, one line per run."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = (("content", alpha, r"$\alpha\,L_{content}$ (eq. 1)"), ("style", beta, r"$\beta\,L_{style}$ (eq. 4)"),
              ("total", 1.0, r"$L = \alpha L_{content} + \beta L_{style}$ (eq. 5)"))
    for ax, (key, weight, title) in zip(axes, panels):
        for label, history in histories.items():
            values = weight * np.asarray(history[key], dtype=float)
            values[values <= 0] = np.nan  # the content loss is exactly 0 at the start (x = p): not on a log axis
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set_yscale("log")
        # the first L-BFGS step is tiny (1/|grad|_1), so the content loss starts near 1e-12: scale the axis to
        # the values from the third evaluation on
        later = [weight * v for h in histories.values() for v in np.asarray(h[key], float)[2:] if v > 0]
        if later:
            ax.set_ylim(bottom=0.5 * min(later))
        ax.set_xlabel("function evaluation (step)")
        ax.set_ylabel("loss (weighted, log scale)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_benchmark_losses(result: dict) -> plt.Figure:
    """Total loss per step of each benchmark pair: the sequential loop, the batched engine(s) and the sequential
    loop on 1e-6-perturbed input (its noise floor), one panel per (content, style) pair, from the benchmark JSON."""
    runs = result["loss_histories"]
    n = len(runs["sequential"])
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    styles = {"sequential": ("k", "-"), "sequential_noisy_input": ("0.55", "--")}
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        for name, histories in runs.items():
            color, line = styles.get(name, (None, "-"))
            label = {"sequential": "sequential (tutorial loop)",
                     "sequential_noisy_input": "sequential, input + 1e-6 noise"}.get(name, name.replace("_", " "))
            ax.plot(np.arange(1, len(histories[i]) + 1), histories[i], color=color, linestyle=line, lw=1.2, label=label)
        ax.set_yscale("log")
        ax.set_title(f"pair {i}: slice {i % 30}, style {result['styles'][i]:02d}", fontsize=9)
        ax.set_xlabel("function evaluation (step)")
        ax.set_ylabel("total loss (eq. 5)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Style benchmark, {result['size']} px, {result['steps']} steps, on {result['device_name']}: same pairs, three runs", fontsize=10)
    fig.tight_layout()
    return fig


def show_image_grid(images: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str], title: str,
                    cell: float = 2.6) -> plt.Figure:
    """A grid of images (RGB in [0, 1] or grey), labelled by row and column."""
    n_rows, n_cols = len(images), len(images[0])
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows + 0.6), squeeze=False)
    for r, row in enumerate(images):
        for c, picture in enumerate(row):
            ax = axes[r, c]
            ax.imshow(picture, cmap="gray" if np.ndim(picture) == 2 else None, vmin=0, vmax=255 if np.asarray(picture).dtype == np.uint8 else 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(col_labels[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_washout_scores(rows: list[dict]) -> plt.Figure:
    """Per style and step count: membrane contrast and grey-level contrast of the stylised slices vs the original."""
    keys = sorted({(row["style"], row["steps"]) for row in rows})
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.7 * len(keys) + 4), 4.2))
    for ax, measure, label in ((axes[0], "membrane_contrast", "membrane contrast (stylised / original)"),
                               (axes[1], "contrast", "grey-level std (stylised / original)")):
        values = [[row[measure] for row in rows if (row["style"], row["steps"]) == key] for key in keys]
        ax.boxplot(values, showfliers=True)
        ax.set_xticks(range(1, len(keys) + 1), [f"{s:02d}\n{st}" for s, st in keys], fontsize=8)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="original")
        ax.set_xlabel("style number / steps")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("How much of the membranes survives stylisation (one box per style and step count, over slices)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- 06: augmentation experiments


SCENARIO_LABELS = {"full": "1. full augmented", "original": "2. original", "one_style": "3. original + one style",
                   "selected": "4. selected styles", "plain_aug": "5. plain augmentation"}


def scenario_bars(records: list[dict], pipelines: list[str], steps: int, condition: str = "clean") -> plt.Figure:
    """The report's Figure 16 with error bars: Rand error and VI per scenario (mean and 95% interval)."""
    scenarios = [s for s in SCENARIO_LABELS if any(r["scenario"] == s for r in records)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / max(len(pipelines), 1)
    for ax, metric, title in zip(axes, ("rand_error", "vi"), ("adapted Rand error", "variation of information (bits)")):
        for k, pipeline in enumerate(pipelines):
            rows = {r["scenario"]: r for r in records
                    if r["pipeline"] == pipeline and r["steps"] == steps and r["condition"] == condition}
            means = np.array([rows[s][f"{metric}_mean"] if s in rows else np.nan for s in scenarios])
            low = np.array([rows[s][f"{metric}_low"] if s in rows else np.nan for s in scenarios])
            high = np.array([rows[s][f"{metric}_high"] if s in rows else np.nan for s in scenarios])
            x = np.arange(len(scenarios)) + (k - (len(pipelines) - 1) / 2) * width
            ax.bar(x, means, width, label=f"{pipeline} pipeline", alpha=0.85,
                   yerr=np.nan_to_num(np.vstack([means - low, high - means])), capsize=3)
        ax.set_xticks(np.arange(len(scenarios)))
        ax.set_xticklabels([SCENARIO_LABELS[s] for s in scenarios], rotation=20, ha="right")
        ax.set_ylabel(title + " (lower is better)")
        ax.set_title(f"{title}, test slices ({condition}), {steps} style steps")
        ax.legend()
    fig.suptitle("Augmentation scenarios (report Figure 16), mean and 95% interval over splits and slices")
    fig.tight_layout()
    return fig


def robustness_heatmap(records: list[dict], pipeline: str, steps: int, metric: str = "rand_error") -> plt.Figure:
    """Mean error of each scenario (rows) under each test condition (columns) for one pipeline."""
    scenarios = [s for s in SCENARIO_LABELS if any(r["scenario"] == s for r in records)]
    conditions = sorted({r["condition"] for r in records}, key=lambda c: (c != "clean", c.startswith("unseen"), c))
    grid = np.full((len(scenarios), len(conditions)), np.nan)
    for r in records:
        if r["pipeline"] == pipeline and r["steps"] == steps and r["scenario"] in scenarios:
            grid[scenarios.index(r["scenario"]), conditions.index(r["condition"])] = r[f"{metric}_mean"]
    fig, ax = plt.subplots(figsize=(1.3 * len(conditions) + 3, 0.6 * len(scenarios) + 2))
    shown = ax.imshow(grid, cmap="viridis_r", aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            dark = grid[i, j] > np.nanmean(grid)
            ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", color="w" if dark else "k", fontsize=8)
    ax.set_xticks(range(len(conditions)))
    ax.set_xticklabels(conditions, rotation=30, ha="right")
    ax.set_yticks(range(len(scenarios)))
    ax.set_yticklabels([SCENARIO_LABELS[s] for s in scenarios])
    ax.set_xlabel("test condition (appearance shift or unseen style)")
    fig.colorbar(shown, ax=ax, label=f"mean {metric.replace('_', ' ')}")
    ax.set_title(f"Robustness, {pipeline} pipeline, {steps} style steps")
    fig.tight_layout()
    return fig


def displacement_vs_effect(points: list[dict], metric: str = "rand_error") -> plt.Figure:
    """Per style: membrane displacement caused by stylisation (x) against the change of the test error when that
    style is added to the originals (y, negative = helps), one marker per pipeline and step count."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for key in sorted({(p["pipeline"], p["steps"]) for p in points}):
        sel = [p for p in points if (p["pipeline"], p["steps"]) == key]
        ax.scatter([p["displacement_px"] for p in sel], [p[f"delta_{metric}"] for p in sel],
                   label=f"{key[0]}, {key[1]} steps")
        for p in sel:
            ax.annotate(str(p["style"]), (p["displacement_px"], p[f"delta_{metric}"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("membrane displacement original -> stylised (pixels, chamfer)")
    ax.set_ylabel(f"change of {metric.replace('_', ' ')} vs original set")
    ax.set_title("Does a style that moves membranes hurt?")
    ax.legend()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- segmentation (notebooks 03-05)

_PIXELS = "pixels (4 nm each)"


def _axes_labels(ax, title: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"x ({_PIXELS})")
    ax.set_ylabel("y (pixels)")


def superpixel_overlay(raw: np.ndarray, superpixels: np.ndarray, color=(1.0, 0.25, 0.1)) -> np.ndarray:
    """RGB image of ``raw`` with the superpixel (or segment) borders drawn in ``color``."""
    from skimage.segmentation import mark_boundaries

    grey = raw.astype(np.float32) / (255.0 if raw.dtype == np.uint8 else max(float(raw.max()), 1e-6))
    return mark_boundaries(np.dstack([grey] * 3), superpixels, color=color, mode="inner")


def edge_image(superpixels: np.ndarray, uv_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Float image: each boundary pixel carries the value of the graph edge it belongs to, NaN elsewhere."""
    n = int(superpixels.max()) + 1
    keys = uv_ids[:, 0].astype(np.int64) * n + uv_ids[:, 1]
    order = np.argsort(keys)
    out = np.full(superpixels.shape, np.nan, dtype=np.float32)
    for a, b, where in ((superpixels[:, :-1], superpixels[:, 1:], (slice(None), slice(0, -1))),
                        (superpixels[:-1, :], superpixels[1:, :], (slice(0, -1), slice(None)))):
        differ = a != b
        u, v = np.minimum(a, b)[differ].astype(np.int64), np.maximum(a, b)[differ].astype(np.int64)
        index = order[np.searchsorted(keys, u * n + v, sorter=order)]
        view = out[where]
        view[differ] = values[index]
    return out


def show_boundary_maps(raw: np.ndarray, maps: dict[str, np.ndarray], labels: np.ndarray | None = None) -> plt.Figure:
    """Raw slice (and membrane labels) next to each boundary map, with colour bars."""
    panels = [("raw", raw, "gray")] + ([("membrane labels (0 = membrane)", labels, "gray")] if labels is not None else [])
    panels += [(name, image, "magma") for name, image in maps.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    for ax, (title, image, cmap) in zip(np.atleast_1d(axes), panels):
        shown = ax.imshow(image, cmap=cmap, vmin=0 if cmap == "magma" else None, vmax=1 if cmap == "magma" else None)
        _axes_labels(ax, title)
        if cmap == "magma":
            fig.colorbar(shown, ax=ax, fraction=0.046, label="boundary strength (0-1)")
    fig.tight_layout()
    return fig


def show_watershed_figures(raw: np.ndarray, boundary: np.ndarray, without: np.ndarray, with_filter: np.ndarray,
                           filter_name: str = "Frangi") -> plt.Figure:
    """The report's Figures 7 and 8: watershed superpixels without and with the boundary filter."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8))
    axes[0].imshow(superpixel_overlay(raw, without))
    _axes_labels(axes[0], f"Fig. 7: watershed on the raw image\n{len(np.unique(without))} superpixels")
    shown = axes[1].imshow(boundary, cmap="magma", vmin=0, vmax=1)
    fig.colorbar(shown, ax=axes[1], fraction=0.046, label=f"{filter_name} response (0-1)")
    _axes_labels(axes[1], f"Fig. 8b: {filter_name} filter")
    axes[2].imshow(superpixel_overlay(raw, with_filter))
    _axes_labels(axes[2], f"Fig. 8c: watershed on the {filter_name} map\n{len(np.unique(with_filter))} superpixels")
    fig.tight_layout()
    return fig


def show_rag(raw: np.ndarray, superpixels: np.ndarray, uv_ids: np.ndarray, values: np.ndarray | None = None,
             title: str = "region adjacency graph", value_label: str = "", cmap: str = "coolwarm", ax=None):
    """The graph drawn on the slice: a dot per superpixel (at its centroid), a line per edge, coloured by
    ``values`` when given. Returns the figure."""
    from matplotlib.collections import LineCollection

    from .features import node_centroids

    fig, ax = (plt.subplots(figsize=(7, 7)) if ax is None else (ax.figure, ax))
    ax.imshow(superpixel_overlay(raw, superpixels, color=(0.9, 0.9, 0.2)))
    centroids = node_centroids(superpixels)[:, ::-1]  # (x, y)
    segments = np.stack([centroids[uv_ids[:, 0]], centroids[uv_ids[:, 1]]], axis=1)
    lines = LineCollection(segments, cmap=cmap if values is not None else None, linewidths=1.2,
                           colors=None if values is not None else "tab:cyan")
    if values is not None:
        lines.set_array(np.asarray(values, dtype=float))
        lines.set_clim(0, 1)
    ax.add_collection(lines)
    ax.plot(centroids[:, 0], centroids[:, 1], ".", color="tab:blue", markersize=3, label="node (superpixel)")
    if values is not None:
        fig.colorbar(lines, ax=ax, fraction=0.046, label=value_label)
    ax.set_xlim(0, raw.shape[1])
    ax.set_ylim(raw.shape[0], 0)
    ax.legend(loc="lower right", fontsize=8)
    _axes_labels(ax, f"{title}: {len(centroids)} nodes, {len(uv_ids)} edges")
    return fig


def show_superpixel_counts(counts: dict[str, list[int]]) -> plt.Figure:
    """Superpixels per slice for each over-segmentation (box plot, log axis)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot(list(counts.values()), tick_labels=list(counts.keys()))
    ax.set_yscale("log")
    ax.set_ylabel("superpixels per slice (log scale)")
    ax.set_title("Graph size of each over-segmentation")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def show_feature_importances(pairs: list[tuple[str, float]], top: int = 15, title: str = "") -> plt.Figure:
    """Horizontal bars of the ``top`` most important features (mean decrease in impurity)."""
    names, values = zip(*pairs[:top])
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    ax.barh(range(len(names))[::-1], values, color="tab:blue")
    ax.set_yticks(range(len(names))[::-1], names, fontsize=8)
    ax.set_xlabel("mean decrease in impurity (sums to 1 over all features)")
    ax.set_title(title or f"Edge classifier: top {len(names)} features")
    fig.tight_layout()
    return fig


def show_edge_probabilities(raw: np.ndarray, superpixels: np.ndarray, uv_ids: np.ndarray, probabilities: np.ndarray,
                            labels: np.ndarray | None = None, confident: np.ndarray | None = None) -> plt.Figure:
    """Each edge's predicted boundary probability painted along its pixels, next to its ground-truth label."""
    n = 2 if labels is not None else 1
    fig, axes = plt.subplots(1, n, figsize=(7 * n, 6.4), squeeze=False)
    panels = [(probabilities, "predicted P(boundary)")]
    if labels is not None:
        truth = labels.astype(np.float32)
        if confident is not None:
            truth = np.where(confident, truth, 0.5)
        panels.append((truth, "ground truth (1 cut, 0 merge, 0.5 not confident)"))
    for ax, (values, title) in zip(axes[0], panels):
        ax.imshow(raw, cmap="gray")
        shown = ax.imshow(edge_image(superpixels, uv_ids, values), cmap="coolwarm", vmin=0, vmax=1, interpolation="nearest")
        fig.colorbar(shown, ax=ax, fraction=0.046, label="edge value")
        _axes_labels(ax, title)
    fig.tight_layout()
    return fig


def show_segmentations(raw: np.ndarray, segmentations: dict[str, np.ndarray], scores: dict[str, dict] | None = None,
                       title: str = "") -> plt.Figure:
    """Segment borders over the raw slice, one panel per method, scores in the titles (Figures 12-13)."""
    fig, axes = plt.subplots(1, len(segmentations), figsize=(5 * len(segmentations), 5.4), squeeze=False)
    for ax, (name, seg) in zip(axes[0], segmentations.items()):
        ax.imshow(superpixel_overlay(raw, seg, color=(1.0, 0.85, 0.0)))
        text = name
        if scores and name in scores:
            s = scores[name]
            text += f"\nRand error {s['rand_error']:.3f}, VI {s['vi']:.2f}"
        _axes_labels(ax, text)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_stage_timings(timings: dict[str, dict[str, float]], budget: float | None = None) -> plt.Figure:
    """Stacked horizontal bars: seconds per pipeline stage, one bar per pipeline."""
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.8 * len(timings)))
    stages = list(dict.fromkeys(stage for t in timings.values() for stage in t))
    colors = plt.cm.tab10(np.arange(len(stages)) % 10)
    for row, (name, t) in enumerate(timings.items()):
        left = 0.0
        for stage, color in zip(stages, colors):
            width = t.get(stage, 0.0)
            ax.barh(row, width, left=left, color=color, label=stage if row == 0 else None)
            left += width
        ax.text(left, row, f" {left:.1f} s", va="center")
    if budget:
        ax.axvline(budget, color="k", ls="--", lw=1, label=f"goal ({budget:.0f} s)")
    ax.set_yticks(range(len(timings)), list(timings))
    ax.set_xlabel("wall time (s)")
    ax.set_title("Whole CPU pipeline, stage by stage")
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    fig.tight_layout()
    return fig


def show_beta_sweep(betas: np.ndarray, rows: dict[str, list[dict]]) -> plt.Figure:
    """Rand error and VI against the boundary bias beta, one line per pipeline."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, scores in rows.items():
        for ax, key in zip(axes, ("rand_error", "vi")):
            ax.plot(betas, [s[key] for s in scores], "o-", label=name)
    for ax, key in zip(axes, ("adapted Rand error", "VI (bits)")):
        ax.set_xlabel("boundary bias beta")
        ax.set_ylabel(key)
        ax.set_title(f"{key} vs beta (mean over test slices)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig
