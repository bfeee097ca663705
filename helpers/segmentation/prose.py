"""The words of chapters 03-05: each chapter's closing "Reading" paragraph, built from the numbers it computed.

Every function returns Markdown text; no sentence is built from a timing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from .evaluation import goals, mean_per_method
from .features import feature_names
from .learning import feature_importances
from .metrics import mean_scores
from .pipeline import Run

FEATURE_FAMILIES = {
    "raw": "the raw intensity along the edge",
    "gradient": "its gradient",
    "boundary": "the boundary map along the edge",
    "node": "the two superpixels' statistics",
    "other": "geometry",
}


def superpixels_reading(profile: str, counts: Mapping[str, Sequence[int]], bounds: pd.DataFrame) -> str:
    """Chapter 03's reading (Markdown): graph sizes of the over-segmentations and their best reachable scores.

    Args:
        profile: the run's profile name.
        counts: superpixels per slice with keys ``raw (Fig. 7)``, ``Frangi (Fig. 8)``, ``pixel classifier (test)``.
        bounds: mean ``rand_error`` and ``vi`` of the best reachable segmentations, indexed ``raw (Fig. 7)``,
            ``Frangi (Fig. 8)``, ``pixel classifier``.
    """
    mean_counts = {name: float(np.mean(values)) for name, values in counts.items()}
    raw_n, frangi_n = mean_counts["raw (Fig. 7)"], mean_counts["Frangi (Fig. 8)"]
    raw, frangi, pixel = (bounds.loc[key] for key in ("raw (Fig. 7)", "Frangi (Fig. 8)", "pixel classifier"))
    frangi_worse = frangi["rand_error"] > raw["rand_error"]
    pixel_better = pixel["rand_error"] < frangi["rand_error"]
    return (
        f"**Reading** (this run, profile `{profile}`). The raw watershed gives {raw_n / frangi_n:.1f} times as "
        f"many superpixels as the Frangi one ({raw_n:.0f} against {frangi_n:.0f} per slice on average; the "
        "report's reason for the filter). Their best reachable segmentations on the test slices reach an adapted "
        f"Rand error of {raw['rand_error']:.3f} (raw) and {frangi['rand_error']:.3f} (Frangi), a VI of "
        f"{raw['vi']:.2f} and {frangi['vi']:.2f} bits: a bound that no edge classifier of notebooks "
        "04-05 can pass. The Frangi graph's bound is "
        + ("worse than the raw one's (larger superpixels straddle more cells)" if frangi_worse else "as good or better")
        + " for a much smaller graph. The pixel classifier's map gives "
        f"{mean_counts['pixel classifier (test)']:.0f} superpixels per test slice and a "
        f"{'better' if pixel_better else 'worse'} bound than Frangi's: {pixel['rand_error']:.3f} / "
        f"{pixel['vi']:.2f} bits."
    )


def family_shares(forest: RandomForestClassifier) -> dict[str, float]:
    """``{family: summed importance}`` of an edge forest per :data:`FEATURE_FAMILIES` (by the feature name's prefix)."""
    shares = dict.fromkeys(FEATURE_FAMILIES, 0.0)
    for name, value in feature_importances(forest, feature_names()):
        prefix = name.split("_")[0]
        shares[prefix if prefix in FEATURE_FAMILIES else "other"] += value
    return shares


def edge_classifier_reading(
    profile: str,
    forest: RandomForestClassifier,
    pixel_forest: RandomForestClassifier,
    accuracy: Sequence[float],
    majority: float,
) -> str:
    """Chapter 04's reading (Markdown): where the two forests' importance comes from, their accuracy on unseen slices.

    Args:
        profile: the run's profile name.
        forest: the Frangi pipeline's edge forest.
        pixel_forest: the pixel-classifier pipeline's edge forest.
        accuracy: the Frangi forest's accuracy on the confident edges of each test slice.
        majority: the accuracy of always guessing the training edges' majority class.
    """
    frangi_shares, pixel_shares = family_shares(forest), family_shares(pixel_forest)
    top = feature_importances(forest, feature_names())[0][0]
    return (
        f"**Reading** (this run, profile `{profile}`). Summed by family, the Frangi pipeline's forest draws "
        + ", ".join(
            f"{frangi_shares[key]:.0%} of its importance from {words}" for key, words in FEATURE_FAMILIES.items()
        )
        + f" (top single feature: `{top}`). The pixel-classifier pipeline's forest draws "
        f"{pixel_shares['boundary']:.0%} from its boundary map and {pixel_shares['raw']:.0%} from the raw intensity. "
        "Importances by impurity favour continuous, correlated features, so read them as a ranking of feature "
        "*families*, not of single columns. On the confident edges of the unseen test slices the Frangi forest is "
        f"right {np.mean(accuracy):.1%} of the time, against {majority:.1%} for always guessing the majority class; "
        "notebook 05 turns these probabilities into segmentations."
    )


def multicut_reading(profile: str, runs: Mapping[str, Run], solver_rows: Mapping[str, list[dict]]) -> str:
    """Chapter 05's reading (Markdown): pipelines against baselines and their bound, solvers against the ILP.

    Args:
        profile: the run's profile name.
        runs: :func:`.pipeline.run` results with ``frangi``, ``pixel-rf`` and ``no filter``.
        solver_rows: :func:`.evaluation.compare_solvers` rows of ``frangi`` and ``pixel-rf``.
    """
    means = {name: mean_per_method(rows) for name, rows in solver_rows.items()}
    kl, pixel_kl, best_frangi = means["frangi"]["kl"], means["pixel-rf"]["kl"], means["frangi"]["best reachable"]
    ilp = means["frangi"].get("ilp")
    no_filter, with_frangi = (mean_scores(runs[name].scores) for name in ("no filter", "frangi"))
    node_ratio = np.mean([g.n_nodes for g in runs["no filter"].test_graphs]) / np.mean(
        [g.n_nodes for g in runs["frangi"].test_graphs]
    )
    all_beat = all(row[f"beats {b}"] for row in goals(runs, solver_rows).values() for b in ("no merges", "all merged"))
    solvers = [s for s in means["frangi"] if "solver_s" in means["frangi"][s] and s != "ilp"]
    solver_text = ""
    if ilp is not None:
        gap = max(means[name][s]["gap_to_ilp"] for name in means for s in solvers)
        solver_text = (
            f"The heuristics land within {gap:.2%} of the exact ILP's optimum; "
            + (
                "the lowest energy is not the best segmentation"
                if ilp["rand_error"] > kl["rand_error"]
                else "the optimum segments no worse"
            )
            + f" (Rand error {ilp['rand_error']:.3f} for the ILP, {kl['rand_error']:.3f} for KL): quality is "
            "limited by the edge probabilities, not by the solver. "
        )
    return (
        f"**Reading** (this run, profile `{profile}`). "
        + ("Both learned pipelines beat both" if all_beat else "Not every learned pipeline beats both")
        + f" trivial baselines. The report's Frangi pipeline reaches an adapted Rand error of {kl['rand_error']:.3f} "
        f"where its own upper bound (the best reachable segmentation) is {best_frangi['rand_error']:.3f}; its VI merge "
        f"({kl['vi_merge']:.2f} bits) is {kl['vi_merge'] / kl['vi_split']:.1f} times its VI split "
        f"({kl['vi_split']:.2f}), so its errors are mostly false "
        f"{'merges' if kl['vi_merge'] > kl['vi_split'] else 'splits'}. With the pixel classifier's boundary map the "
        f"VI merge is {pixel_kl['vi_merge']:.2f} bits and the Rand error {pixel_kl['rand_error']:.3f}. "
        + solver_text
        + f"Without the filter (Figure 12) the graph has {node_ratio:.1f} times as many nodes, for a Rand error of "
        f"{no_filter['rand_error']:.3f} against the Frangi pipeline's {with_frangi['rand_error']:.3f} "
        "(`pipeline_kl` of each pipeline in the results file)."
    )
