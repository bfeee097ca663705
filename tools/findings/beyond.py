"""The findings of the chapters beyond the report: another EM dataset (07) and a learned boundary detector (08)."""

from __future__ import annotations

from helpers.unet.prose import claim, family_rows, goal_scores, score_text

from .sections import _slices


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


def _claims(document: dict, family: dict) -> str:
    """What a confirmatory family of chapter 08 supports, in words (:func:`helpers.unet.prose.claim`)."""
    rows, supported = family_rows(document, family["name"])
    if not supported:
        return f'"{family["name"]}" supports none of its {len(rows)} comparisons'
    details = "; ".join(claim(row) for row in supported)
    return f'"{family["name"]}" supports {len(supported)} of its {len(rows)} comparisons ({details})'


def unet(document: dict) -> str:
    """Chapter 08 for the README: the goal per target beside the placement reference, and the confirmatory families.

    Args:
        document: ``results/unet.json``.

    Returns:
        One Markdown bullet; every number from ``document`` (the goal and the claims worded by
        :mod:`helpers.unet.prose`, as in the chapter's conclusion).
    """
    placement = document["placement_reference"]
    scores = [
        f"{score_text(reached)} with {target} as target ({reached['n_slices']} slices x {reached['n_seeds']} seeds; "
        f"{reading}; all-pixel VI {score_text(vi, 2)} bits)"
        for target, reached, vi, reading in goal_scores(document)
    ]
    families = [family for family in document["families"] if family["label"] == "confirmatory"]
    return (
        f"* **A learned boundary detector (chapter 08, profile `{document['profile']}`).** A small U-Net trained on "
        f"the originals reaches a foreground V_rand of " + "; and ".join(scores) + " on clean test slices, through "
        f"the same multicut pipeline (mean [95 % interval] over slices). A {placement['shift']} px shift of the dense "
        f"ground truth against itself already costs {placement['vi']:.2f} bits of all-pixel VI: most of the VI is "
        f"where a boundary is drawn inside a thick membrane, not which cells are merged or split. The style arms "
        f"train on {document['target_choice']['chosen']} (a rule fixed before the run), drawing their patches from "
        "the same regions as the originals arm. Confirmatory families (Holm within each, the test slice as unit): "
        + "; ".join(_claims(document, family) for family in families)
        + ". Exploratory comparisons are in the chapter, not claimed (`results/unet.json`)."
    )


def unet_bound(document: dict, placement: dict | None = None) -> str:
    """How low the U-Net pipeline's VI can go, as one Markdown bullet: the superpixels' bound over U-Net variants.

    Args:
        document: ``results/unet_bound.json`` (``benchmarks/unet_bound.py``).
        placement: chapter 08's 1 px placement reference (``results/unet.json``), set beside the bound.

    Returns:
        One Markdown bullet; every number from ``document`` and ``placement``.
    """
    variants = {name: record["mean"]["reachable_vi"] for name, record in document["variants"].items()}
    grid = [row["reachable_vi"] for row in document["watershed_grid"]]
    lowest = min(variants, key=variants.get)
    reference = (
        f" A {placement['shift']} px shift of the dense ground truth against itself costs {placement['vi']:.2f} "
        "bits: most of the bound is where boundaries lie inside thick membranes."
        if placement
        else ""
    )
    return (
        f"* **How low the U-Net pipeline's VI can go (`benchmarks/unet_bound.py`, profile `{document['profile']}`).** "
        f"On training {_slices(document['measured_slices'])}, held out from the U-Net, the best segmentation its "
        "superpixels allow has a VI of "
        f"{min(variants.values()):.2f}-{max(variants.values()):.2f} bits over {len(variants)} readings of U-Nets "
        f"that each change one thing of the profile's ({'; '.join(variants)}; lowest: {lowest}, "
        f"{variants[lowest]:.2f}) and {min(grid):.2f}-{max(grid):.2f} bits over {len(grid)} distance-watershed "
        f"settings of the profile's map; the membrane labels as the map allow "
        f"{document['membrane_labels_as_map']['reachable_vi']:.2f} bits.{reference} (`results/unet_bound.json`)"
    )
