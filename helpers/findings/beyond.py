"""The findings of the chapters beyond the report: another EM dataset (07) and a learned boundary detector (08)."""

from __future__ import annotations

GROUPS = {"clean": "clean test slices", "shifts": "appearance shifts", "unseen styles": "unseen paintings",
          "flyem": "FlyEM slices"}  # fmt: skip


def _call(row: dict) -> str:
    """``lower`` / ``higher`` / ``no clear change``, from a paired 95% interval of an error."""
    if row["diff_high"] < 0:
        return "lower"
    if row["diff_low"] > 0:
        return "higher"
    return "no clear change"


def own_data(flyem: dict) -> str:
    """Chapter 07 as one Markdown bullet: the FlyEM medulla segmented after training there and on ISBI.

    Args:
        flyem: ``results/flyem.json``.
    """
    means = {(row["train"], row["intensity"], row["method"]): row for row in flyem["mean"]}

    def score(train: str, intensity: str, method: str = "multicut") -> str:
        row = means[(train, intensity, method)]
        return f"{row['rand_error']:.3f} / {row['vi']:.2f}"

    isbi = means[("ISBI 2012", "none", "multicut")]
    n_slices = isbi["n_slices"]
    segments = f"{isbi['n_segments']:g} segment{'' if isbi['n_segments'] == 1 else 's'} per slice"
    return (
        f"* **Another EM dataset needs intensity normalisation.** On {n_slices} FlyEM medulla test slices (chapter 07, "
        f"profile `{flyem['profile']['profile']}`; adapted Rand error / VI in bits), the Frangi pipeline trained on "
        f"FlyEM itself reaches {score('FlyEM', 'none')}. Trained on ISBI it reaches {score('ISBI 2012', 'none')} "
        f"({segments}; all merged: {score('-', 'none', 'all merged')}), and "
        f"{score('ISBI 2012', 'percentile')} once both datasets' intensities are normalised (1st-99.8th percentile). "
        f"No merges: {score('-', 'none', 'no merges')}; best reachable from the superpixels: "
        f"{score('-', 'none', 'best reachable')} (`results/flyem.json`)."
    )


def unet(document: dict) -> str:
    """Chapter 08: style augmentation for a U-Net boundary detector, paired against its reference arm.

    Args:
        document: ``results/unet.json``.

    Returns:
        One Markdown bullet.
    """
    comparisons = {(row["arm"], row["group"]): row for row in document["comparisons"] if row["metric"] == "rand_error"}
    base = next(
        r for r in document["means"] if (r["arm"], r["group"], r["metric"]) == ("original/none", "clean", "rand_error")
    )

    def effect(arm: str, group: str) -> str:
        row = comparisons[(arm, group)]
        interval = f"{row['mean_diff']:+.3f} [{row['diff_low']:+.3f}, {row['diff_high']:+.3f}]"
        return f"{_call(row)} on {GROUPS[group]} ({interval})"

    def effects(arm: str) -> str:
        return "; ".join(effect(arm, group) for group in GROUPS if (arm, group) in comparisons)

    return (
        f"* **A learned boundary detector (chapter 08, profile `{document['profile']}`).** A small U-Net trained on "
        f"the originals reaches an adapted Rand error of {base['mean']:.3f} on clean test slices through the same "
        "multicut pipeline. Adding stylised slices changes its error, paired against the originals: "
        + effects("style/none")
        + ". With per-slice intensity normalisation on both sides, adding styles gives: "
        + effects("style/percentile")
        + ". Normalisation alone, against no normalisation: "
        + effects("original/percentile")
        + " (`results/unet.json`)."
    )
