"""The augmentation experiments (notebook 06): scenarios, splits, appearance shifts, statistics.

Scenarios follow the report (Section 3.2, Figure 16): (1) the full augmented set, (2) the original set,
(3) the original set plus one specific style, (4) the selected styles [3, 10, 19, 21] of the report's code;
we add (5) plain augmentation (flips, 90-degree rotations, noise) as a baseline that any augmentation must beat.
Stylised slices always keep the *original* slice's ground truth, as in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats

from . import superpixels as S
from .profile import SELECTED_STYLES

SCENARIOS = {
    "full": "1. full augmented set (originals + every style)",
    "original": "2. original set",
    "one_style": "3. originals + one specific style",
    "selected": "4. selected styles [3, 10, 19, 21] (+ originals)",
    "plain_aug": "5. plain augmentation (flips, rot90, noise)",
}
SHIFTS = ("clean", "low_contrast", "gamma_0.5", "gamma_2", "noise", "blur")


# --------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class Split:
    """One train/test split of the 30 training slices."""

    name: str
    seed: int
    fold: int
    train: tuple[int, ...]
    test: tuple[int, ...]


def make_splits(slices: tuple[int, ...], n_folds: int, seeds: tuple[int, ...],
                report_split: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> list[Split]:
    """K-fold splits of ``slices`` for each seed (a seeded permutation), plus the report's split if given."""
    if n_folds < 2 or n_folds > len(slices):
        raise ValueError(f"n_folds must be between 2 and the number of slices ({len(slices)}), got {n_folds}")
    splits = []
    if report_split is not None:
        splits.append(Split("report", 0, 0, tuple(report_split[0]), tuple(report_split[1])))
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(np.asarray(slices))
        for fold, test in enumerate(np.array_split(order, n_folds)):
            test_set = set(test.tolist())
            train = tuple(int(s) for s in slices if s not in test_set)
            splits.append(Split(f"seed{seed}-fold{fold}", seed, fold, train, tuple(sorted(int(s) for s in test))))
    return splits


# --------------------------------------------------------------------------- plain augmentation and shifts


def plain_augmentations(raw: np.ndarray, gt: np.ndarray, seed: int = 0, noise_sigma: float = 12.0) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Four classic augmented copies of a slice with its (transformed) ground truth: flip, flip, rot90, noise."""
    rng = np.random.default_rng(seed)
    noisy = np.clip(raw.astype(np.float32) + rng.normal(0, noise_sigma, raw.shape), 0, 255).astype(np.uint8)
    return [
        (np.ascontiguousarray(raw[:, ::-1]), np.ascontiguousarray(gt[:, ::-1]), "flip_lr"),
        (np.ascontiguousarray(raw[::-1]), np.ascontiguousarray(gt[::-1]), "flip_ud"),
        (np.ascontiguousarray(np.rot90(raw)), np.ascontiguousarray(np.rot90(gt)), "rot90"),
        (noisy, gt, "noise"),
    ]


def appearance_shift(raw: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A test slice under an appearance change that keeps every membrane in place (uint8 in, uint8 out).

    ``low_contrast``: intensities squeezed to 40% around the mean; ``gamma_0.5``/``gamma_2``: gamma curves;
    ``noise``: Gaussian noise, sigma 25 grey levels; ``blur``: Gaussian blur, sigma 2 px; ``clean``: unchanged.
    """
    image = raw.astype(np.float32)
    if kind == "clean":
        out = image
    elif kind == "low_contrast":
        out = image.mean() + 0.4 * (image - image.mean())
    elif kind.startswith("gamma_"):
        out = 255.0 * (image / 255.0) ** float(kind.split("_")[1])
    elif kind == "noise":
        out = image + np.random.default_rng(seed).normal(0, 25.0, image.shape)
    elif kind == "blur":
        out = ndimage.gaussian_filter(image, 2.0)
    else:
        raise KeyError(f"unknown appearance shift {kind!r}: choose one of {SHIFTS} or a held-out style")
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- does stylisation move membranes?


def _skeleton(membranes: np.ndarray, fraction: float) -> np.ndarray:
    from skimage.morphology import skeletonize

    return skeletonize(membranes >= np.quantile(membranes, 1.0 - fraction))


def membrane_displacement(original: np.ndarray, stylized: np.ndarray, fraction: float = 0.15) -> dict[str, float]:
    """How far stylisation moves the membranes of a slice.

    Both images' Frangi maps (:func:`helpers.superpixels.frangi_boundary`, the boundary map the Frangi pipeline
    segments) are thresholded at the same area fraction (the ISBI membranes cover ~20% of a
    slice) and skeletonised; ``displacement_px`` is the symmetric mean distance between the two skeletons
    (chamfer distance, pixels), ``map_correlation`` the Pearson correlation of the two Frangi maps.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"original {original.shape} and stylised {stylized.shape} slices differ in shape")
    map_a, map_b = S.frangi_boundary(original), S.frangi_boundary(stylized)
    skel_a, skel_b = _skeleton(map_a, fraction), _skeleton(map_b, fraction)
    dist_a = ndimage.distance_transform_edt(~skel_a)
    dist_b = ndimage.distance_transform_edt(~skel_b)
    chamfer = 0.5 * (dist_a[skel_b].mean() + dist_b[skel_a].mean())
    return {"displacement_px": float(chamfer), "map_correlation": float(np.corrcoef(map_a.ravel(), map_b.ravel())[0, 1])}


# --------------------------------------------------------------------------- statistics


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its two-sided t-interval: (mean, low, high)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.sem(values) * stats.t.ppf(0.5 + confidence / 2, len(values) - 1))
    return mean, mean - half, mean + half


def paired_comparison(values, reference) -> dict[str, float]:
    """Paired comparison of a scenario with the reference (same splits and slices, same order).

    Returns the mean difference (negative = lower error than the reference) with its 95% t-interval, the
    Wilcoxon signed-rank p-value, and the fraction of pairs where the scenario is better.
    """
    values, reference = np.asarray(values, float), np.asarray(reference, float)
    if values.shape != reference.shape:
        raise ValueError(f"paired values need the same shape, got {values.shape} and {reference.shape}")
    diff = values - reference
    mean, low, high = mean_interval(diff)
    if np.allclose(diff, 0):
        p_value = 1.0
    else:
        p_value = float(stats.wilcoxon(values, reference, zero_method="zsplit").pvalue)
    return {"mean_diff": mean, "diff_low": low, "diff_high": high, "p_wilcoxon": p_value,
            "frac_better": float(np.mean(diff < 0)), "n_pairs": int(len(diff))}


# --------------------------------------------------------------------------- the scenario runner


@dataclass(frozen=True)
class Image:
    """One training or test image: grey uint8 pixels, dense ground truth, binary membrane labels, and a tag
    that names it uniquely (``orig/s07``, ``style03/075/s07``, ``flip_lr/s07``, ``noise/s07``...)."""

    tag: str
    slice: int
    raw: np.ndarray
    gt: np.ndarray
    membranes: np.ndarray


class SliceStore:
    """Original, stylised and augmented versions of the ISBI training slices, cropped alike, loaded once."""

    def __init__(self, slices, crop: int | None, load_stylized=None):
        from .data import dense_ground_truth, load_training

        self.slices = tuple(int(s) for s in slices)
        side = crop or 512
        raw, labels = load_training(self.slices)
        self.raw = {s: r[:side, :side] for s, r in zip(self.slices, raw)}
        self.membranes = {s: m[:side, :side] for s, m in zip(self.slices, labels)}
        self.gt = {s: dense_ground_truth(self.membranes[s]) for s in self.slices}
        self.crop = crop
        self._load_stylized = load_stylized
        self._stylized: dict[tuple[int, int], dict[int, np.ndarray]] = {}

    def original(self, s: int) -> Image:
        return Image(f"orig/s{s:02d}", s, self.raw[s], self.gt[s], self.membranes[s])

    def stylized(self, s: int, style: int, steps: int) -> Image:
        if (style, steps) not in self._stylized:
            if self._load_stylized is None:
                raise ValueError("this SliceStore has no stylised-slice loader")
            stack = self._load_stylized(steps, style, self.slices, self.crop)
            self._stylized[(style, steps)] = dict(zip(self.slices, stack))
        return Image(f"style{style:02d}/{steps:03d}/s{s:02d}", s, self._stylized[(style, steps)][s], self.gt[s], self.membranes[s])

    def plain(self, s: int, seed: int = 0) -> list[Image]:
        out = []
        for raw, gt, name in plain_augmentations(self.raw[s], self.gt[s], seed=seed + s):
            membranes = _same_transform(self.membranes[s], name)
            out.append(Image(f"{name}/s{s:02d}", s, raw, gt, membranes))
        return out

    def shifted(self, s: int, kind: str) -> Image:
        return Image(f"{kind}/s{s:02d}", s, appearance_shift(self.raw[s], kind, seed=s), self.gt[s], self.membranes[s])


def _same_transform(array: np.ndarray, name: str) -> np.ndarray:
    return {"flip_lr": lambda a: a[:, ::-1], "flip_ud": lambda a: a[::-1], "rot90": np.rot90,
            "noise": lambda a: a}[name](array).copy()


def training_set(store: SliceStore, scenario: str, train: tuple[int, ...], steps: int, styles: tuple[int, ...],
                 one_style: int, seed: int = 0) -> list[Image]:
    """The training images of a scenario, grouped by slice (originals always included).

    ``full``: every style in ``styles``; ``original``: none; ``one_style``/``one_style:NN``: one style;
    ``selected``: the report's [3, 10, 19, 21] (those of them in ``styles``, for the small profiles); ``plain_aug``: four classic augmentations per slice.
    """
    if scenario == "original":
        extra = ()
    elif scenario == "full":
        extra = tuple(styles)
    elif scenario == "selected":
        extra = tuple(st for st in SELECTED_STYLES if st in styles)
    elif scenario == "one_style":
        extra = (one_style,)
    elif scenario.startswith("one_style:"):
        extra = (int(scenario.split(":")[1]),)
    elif scenario == "plain_aug":
        return [im for s in train for im in [store.original(s), *store.plain(s, seed)]]
    else:
        raise KeyError(f"unknown scenario {scenario!r}: choose one of {list(SCENARIOS)} or 'one_style:NN'")
    return [im for s in train for im in [store.original(s)] + [store.stylized(s, st, steps) for st in extra]]


def test_conditions(store: SliceStore, test: tuple[int, ...], heldout: tuple[int, ...], steps: int) -> list[tuple[str, Image]]:
    """Each test slice clean, under every appearance shift, and stylised with each held-out style."""
    out = [(kind, store.shifted(s, kind) if kind != "clean" else store.original(s)) for s in test for kind in SHIFTS]
    out += [(f"unseen_style{st:02d}", store.stylized(s, st, steps)) for s in test for st in heldout]
    return out


class GraphCache:
    """Cache of Frangi-pipeline graphs: their boundary map needs no training, so each image's graph is built once
    and reused by every scenario and split. With a ``folder`` the graphs are also pickled there (atomically,
    named by the image's tag and a digest of its pixels), so parallel workers share them."""

    def __init__(self, folder=None):
        from pathlib import Path

        self.graphs: dict[str, object] = {}
        self.folder = Path(folder) if folder is not None else None

    def _file(self, image: Image, with_labels: bool):
        import hashlib

        digest = hashlib.sha256(np.ascontiguousarray(image.raw).tobytes()).hexdigest()[:12]
        return self.folder / f"{image.tag.replace('/', '_')}__{int(with_labels)}__{digest}.pkl"

    def get(self, image: Image, config, with_labels: bool):
        import pickle

        from . import pipeline as PL
        from .paths import atomic_write_bytes

        key = f"{image.tag}|{with_labels}"
        if key in self.graphs:
            return self.graphs[key]
        path = self._file(image, with_labels) if self.folder is not None else None
        if path is not None and path.exists():
            graph = pickle.loads(path.read_bytes())
        else:
            graph = PL.graph_data(image.raw, image.gt if with_labels else None, None, config)
            if path is not None:
                atomic_write_bytes(path, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
        self.graphs[key] = graph
        return graph


def cap_images(images: list[Image], limit: int | None, seed: int) -> list[Image]:
    """At most ``limit`` training images: every original, then a seeded random choice of the others (bounds the
    cost of the pixel-classifier pipeline, which must recompute every training image's boundary map per unit)."""
    if limit is None or len(images) <= limit:
        return images
    originals = [i for i, im in enumerate(images) if im.tag.startswith("orig/")]
    others = [i for i, im in enumerate(images) if not im.tag.startswith("orig/")]
    n_extra = max(limit - len(originals), 0)
    chosen = set(originals) | set(np.random.default_rng(seed).choice(others, n_extra, replace=False).tolist())
    return [im for i, im in enumerate(images) if i in chosen]


def run_unit(store: SliceStore, pipeline: str, scenario: str, steps: int, split: Split, styles: tuple[int, ...],
             heldout: tuple[int, ...], one_style: int, trees: int, max_samples: int | None,
             graph_cache: GraphCache | None = None, max_train_images: int | None = None, n_jobs: int = -1) -> list[dict]:
    """Train one scenario on one split with one pipeline, then score every test condition: one row per
    (test slice, condition) with rand_error, vi, vi_split, vi_merge and the size of the training set.
    ``max_train_images`` caps the pixel-classifier pipeline's training images (:func:`cap_images`)."""
    from . import learning as L
    from . import pipeline as PL

    config = PL.Pipeline(boundary=pipeline, rf_trees=trees, seed=split.seed, rf_max_samples=max_samples)
    train_images = training_set(store, scenario, split.train, steps, styles, one_style, seed=split.seed)
    if pipeline != "frangi":
        train_images = cap_images(train_images, max_train_images, split.seed)
    conditions = test_conditions(store, split.test, heldout, steps)
    if pipeline == "frangi":
        cache = graph_cache or GraphCache()
        train_graphs = [cache.get(im, config, True) for im in train_images]
        test_graphs = [cache.get(im, config, False) for _, im in conditions]
    else:
        n_folds = min(config.pixel_folds, len(train_images))
        oof = L.out_of_fold_membrane_probability([im.raw for im in train_images], [im.membranes for im in train_images],
                                                 n_folds=n_folds, seed=split.seed, trees=config.pixel_trees, n_jobs=n_jobs)
        classifier = L.train_pixel_classifier([im.raw for im in train_images], [im.membranes for im in train_images],
                                              seed=split.seed, trees=config.pixel_trees, n_jobs=n_jobs)
        train_graphs = [PL.graph_data(im.raw, im.gt, m, config) for im, m in zip(train_images, oof)]
        test_graphs = [PL.graph_data(im.raw, None, L.membrane_probability(classifier, im.raw), config) for _, im in conditions]
    forest = PL.train_edge_rf(train_graphs, trees=trees, seed=split.seed, max_samples=max_samples,
                              tree_fraction=config.rf_tree_fraction, n_jobs=n_jobs)
    rows = []
    for (condition, image), graph in zip(conditions, test_graphs):
        scores = PL.evaluate(PL.segment_graph(graph, forest, config), image.gt)
        rows.append({"pipeline": pipeline, "scenario": scenario, "steps": steps, "split": split.name, "seed": split.seed,
                     "fold": split.fold, "slice": image.slice, "condition": condition, "n_train_images": len(train_images),
                     **{k: float(v) for k, v in scores.items()}})
    return rows


def _fingerprint(store: SliceStore, unit: dict, common: dict) -> str:
    """Digest of everything a unit reads (its images' pixels, split and settings): a cached result is reused
    only for identical inputs, e.g. not after the stylised slices were recomputed."""
    import hashlib

    split = unit["split"]
    digest = hashlib.sha256(repr((split, sorted(common.items()))).encode())
    images = training_set(store, unit["scenario"], split.train, unit["steps"], common["styles"], common["one_style"], split.seed)
    images += [im for _, im in test_conditions(store, split.test, common["heldout"], unit["steps"])]
    for image in images:
        digest.update(image.tag.encode())
        digest.update(np.ascontiguousarray(image.raw).tobytes())
    return digest.hexdigest()[:12]


def _unit_path(cache_dir, store: SliceStore, unit: dict, common: dict):
    split = unit["split"]
    name = f"{unit['pipeline']}__{unit['scenario'].replace(':', '-')}__steps{unit['steps']:03d}__{split.name}"
    return cache_dir / f"{name}__{_fingerprint(store, unit, common)}.json"


def _run_and_save(store: SliceStore, unit: dict, path, graph_cache: GraphCache, n_jobs: int, common: dict) -> None:
    import json

    from .paths import atomic_write_text

    rows = run_unit(store, unit["pipeline"], unit["scenario"], unit["steps"], unit["split"], graph_cache=graph_cache,
                    n_jobs=n_jobs, **common)
    atomic_write_text(path, json.dumps(rows))


def run_all(store: SliceStore, units: list[dict], cache_dir, progress: bool = True, stats: dict | None = None,
            workers: int = 1, **common) -> list[dict]:
    """Run every unit (dicts of pipeline/scenario/steps/split), each result saved atomically as JSON in
    ``cache_dir`` under a name that includes a digest of its inputs; units already there are loaded, not
    recomputed, so an interrupted run resumes. ``workers`` > 1 runs units in parallel processes (joblib; each
    forest then uses one thread, and Frangi graphs are shared through ``cache_dir/graphs``). Rows come back in
    the order of ``units`` whatever the number of workers. ``stats`` receives the counts of computed and
    loaded units."""
    import json
    from pathlib import Path

    from tqdm.auto import tqdm

    cache_dir = Path(cache_dir)
    paths = [_unit_path(cache_dir, store, unit, common) for unit in units]
    pending = [(unit, path) for unit, path in zip(units, paths) if not path.exists()]
    counts = stats if stats is not None else {}
    counts.update(computed=len(pending), loaded=len(units) - len(pending))
    bar = tqdm(total=len(pending), desc="scenario x split units", disable=not progress)
    if workers > 1 and len(pending) > 1:
        from joblib import Parallel, delayed

        shared = GraphCache(cache_dir / "graphs")
        jobs = (delayed(_run_and_save)(store, unit, path, shared, 1, common) for unit, path in pending)
        for _ in Parallel(n_jobs=workers, return_as="generator_unordered")(jobs):
            bar.update()
    else:
        graph_cache = GraphCache()
        for unit, path in pending:
            _run_and_save(store, unit, path, graph_cache, -1, common)
            bar.update()
    bar.close()
    return [row for path in paths for row in json.loads(path.read_text())]


# --------------------------------------------------------------------------- summaries


METRICS = ("rand_error", "vi")


def _key(row: dict) -> tuple:
    return (row["split"], row["slice"], row["condition"])


def summarize(rows: list[dict], reference: str = "original") -> list[dict]:
    """One record per (pipeline, steps, scenario, condition): mean and 95% interval of each metric over
    all (split, slice) pairs, and the paired comparison with the ``reference`` scenario on the same pairs."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["pipeline"], row["steps"], row["scenario"], row["condition"]), []).append(row)
    records = []
    for (pipeline, steps, scenario, condition), group in sorted(groups.items()):
        record = {"pipeline": pipeline, "steps": steps, "scenario": scenario, "condition": condition, "n": len(group)}
        ref = {_key(r): r for r in groups.get((pipeline, steps, reference, condition), [])}
        paired = [(r, ref[_key(r)]) for r in group if _key(r) in ref]
        for metric in METRICS:
            mean, low, high = mean_interval([r[metric] for r in group])
            record.update({f"{metric}_mean": mean, f"{metric}_low": low, f"{metric}_high": high})
            if scenario != reference and len(paired) >= 2:
                comparison = paired_comparison([a[metric] for a, _ in paired], [b[metric] for _, b in paired])
                record.update({f"{metric}_vs_{reference}_{k}": v for k, v in comparison.items()})
        records.append(record)
    return records


def robustness(records: list[dict], metric: str = "rand_error") -> list[dict]:
    """Per (pipeline, steps, scenario): the clean error and the mean increase of the error under the appearance
    shifts and under unseen styles (lower increase = more robust)."""
    table: dict[tuple, dict] = {}
    for r in records:
        table.setdefault((r["pipeline"], r["steps"], r["scenario"]), {})[r["condition"]] = r[f"{metric}_mean"]
    out = []
    for (pipeline, steps, scenario), by_condition in sorted(table.items()):
        clean = by_condition.get("clean", float("nan"))
        shifts = [v for c, v in by_condition.items() if c in SHIFTS and c != "clean"]
        unseen = [v for c, v in by_condition.items() if c.startswith("unseen_style")]
        out.append({"pipeline": pipeline, "steps": steps, "scenario": scenario, "metric": metric, "clean": clean,
                    "shift_increase": float(np.mean(shifts) - clean) if shifts else float("nan"),
                    "unseen_style_increase": float(np.mean(unseen) - clean) if unseen else float("nan")})
    return out


def robustness_paired(rows: list[dict], metric: str = "rand_error", reference: str = "original") -> list[dict]:
    """Paired test of robustness: per (split, test slice), the error increase from the clean slice to the mean
    over the appearance shifts (and, separately, the unseen styles), compared with the ``reference`` scenario's
    increase on the same pairs. Negative ``mean_diff`` = the scenario's error rises less = more robust."""
    increases: dict[tuple, dict] = {}
    for kind, keep in (("shifts", lambda c: c in SHIFTS and c != "clean"), ("unseen", lambda c: c.startswith("unseen_style"))):
        table: dict[tuple, dict] = {}
        for r in rows:
            if r["condition"] == "clean" or keep(r["condition"]):
                entry = table.setdefault((r["pipeline"], r["steps"], r["scenario"], r["split"], r["slice"]), {"shifted": []})
                if r["condition"] == "clean":
                    entry["clean"] = r[metric]
                else:
                    entry["shifted"].append(r[metric])
        for (pipeline, steps, scenario, split, s), entry in table.items():
            if "clean" in entry and entry["shifted"]:
                increases.setdefault((kind, pipeline, steps, scenario), {})[(split, s)] = np.mean(entry["shifted"]) - entry["clean"]
    out = []
    for (kind, pipeline, steps, scenario), values in sorted(increases.items()):
        ref = increases.get((kind, pipeline, steps, reference), {})
        pairs = [k for k in values if k in ref]
        if scenario == reference or len(pairs) < 2:
            continue
        comparison = paired_comparison([values[k] for k in pairs], [ref[k] for k in pairs])
        out.append({"test": kind, "pipeline": pipeline, "steps": steps, "scenario": scenario, "metric": metric,
                    "increase_mean": float(np.mean([values[k] for k in pairs])),
                    "reference_increase_mean": float(np.mean([ref[k] for k in pairs])), **comparison})
    return out


def write_csv(rows: list[dict], path, extra: dict | None = None) -> None:
    """Write rows (dicts with the same keys) as CSV, atomically; ``extra`` columns are added to each row."""
    import csv
    import io

    from .paths import atomic_write_text

    rows = [{**(extra or {}), **row} for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


# --------------------------------------------------------------------------- notebook glue


def experiment_splits(slices: tuple[int, ...], n_folds: int, seeds: tuple[int, ...]) -> list[Split]:
    """K-fold splits over the stylised slices, plus the report's split (train < 24, test >= 24) restricted to
    them when both sides are non-empty."""
    train = tuple(s for s in slices if s < 24)
    test = tuple(s for s in slices if s >= 24)
    return make_splits(tuple(slices), n_folds, seeds, (train, test) if train and test else None)


def experiment_units(pipelines, steps, scenarios, splits) -> list[dict]:
    """Every (pipeline, steps, scenario, split) to run, in a stable order."""
    return [{"pipeline": p, "steps": st, "scenario": sc, "split": sp}
            for p in pipelines for st in steps for sc in scenarios for sp in splits]


def ensure_stylized(profile, styles: tuple[int, ...]) -> None:
    """Make sure the stylised slices the experiments need are cached: stylise what is missing (resumable) on a
    GPU or in the small profiles; refuse the full profile on a CPU with the command to run instead."""
    from . import style

    missing = []
    for steps in profile.exp_steps:
        for st in styles:
            try:
                style.load_stylized(steps, st, profile.stylize_slices, profile.stylize_crop)
            except FileNotFoundError:
                missing.append((st, steps))
    if not missing:
        return
    if profile.name == "full" and profile.device != "cuda":
        raise RuntimeError(f"{len(missing)} (style, steps) stacks of the full profile are not cached and stylising them "
                           "needs a GPU: run notebooks/02_stylize_isbi.ipynb (or `python -m helpers.style --profile full`) "
                           "on a GPU machine and copy cache/stylized here")
    style.stylize_isbi(profile.stylize_slices, sorted({st for st, _ in missing}), profile.exp_steps,
                       crop=profile.stylize_crop, batch_size=profile.stylize_batch, device=profile.device)


def displacement_table(store: SliceStore, styles: tuple[int, ...], steps: tuple[int, ...]) -> list[dict]:
    """Membrane displacement and Frangi-map correlation of every stylised slice against its original."""
    rows = []
    for st in styles:
        for n in steps:
            for s in store.slices:
                measure = membrane_displacement(store.raw[s], store.stylized(s, st, n).raw)
                rows.append({"style": st, "steps": n, "slice": s, **measure})
    return rows


def style_effects(records: list[dict], displacement: list[dict], one_style: int, metric: str = "rand_error") -> list[dict]:
    """Per style (from the ``one_style:NN`` sweep): mean membrane displacement and the paired change of the clean
    test error when that style is added to the originals."""
    moved: dict[tuple, list] = {}
    for row in displacement:
        moved.setdefault((row["style"], row["steps"]), []).append(row["displacement_px"])
    out = []
    for r in records:
        if r["condition"] != "clean" or not (r["scenario"].startswith("one_style:") or r["scenario"] == "one_style"):
            continue
        style_id = one_style if r["scenario"] == "one_style" else int(r["scenario"].split(":")[1])
        key = f"{metric}_vs_original_mean_diff"
        if key in r and (style_id, r["steps"]) in moved:
            out.append({"pipeline": r["pipeline"], "steps": r["steps"], "style": style_id,
                        "displacement_px": float(np.mean(moved[(style_id, r["steps"])])),
                        f"delta_{metric}": r[key], "p_wilcoxon": r.get(f"{metric}_vs_original_p_wilcoxon")})
    return out


def verdict(record: dict, metric: str = "rand_error") -> str:
    """'better', 'worse' or 'no clear difference' than the original set, from the paired 95% interval."""
    low, high = record.get(f"{metric}_vs_original_diff_low"), record.get(f"{metric}_vs_original_diff_high")
    if low is None or not np.isfinite(low):
        return "not tested (too few pairs)"
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    return "no clear difference"


def conclusion(records: list[dict], robust: list[dict], profile_name: str, n_splits: int, metric: str = "rand_error",
               note: str = "") -> str:
    """The notebook's conclusion in Markdown, every number and word taken from the results (``robust``: the
    records of :func:`robustness_paired`)."""
    main = [r for r in records if r["condition"] == "clean" and r["scenario"] in SCENARIOS and r["scenario"] != "original"]
    lines = [f"**Profile `{profile_name}`, {n_splits} train/test splits.** Paired against the original training set "
             f"on the same test slices (clean), {metric.replace('_', ' ')}:", ""]
    for r in main:
        diff = r.get(f"{metric}_vs_original_mean_diff", float("nan"))
        lines.append(f"- {r['pipeline']} pipeline, {r['steps']} steps, *{SCENARIOS[r['scenario']]}*: "
                     f"{r[f'{metric}_mean']:.3f} (change {diff:+.3f}, 95% interval "
                     f"[{r.get(f'{metric}_vs_original_diff_low', float('nan')):+.3f}, "
                     f"{r.get(f'{metric}_vs_original_diff_high', float('nan')):+.3f}], "
                     f"Wilcoxon p = {r.get(f'{metric}_vs_original_p_wilcoxon', float('nan')):.3f}): **{verdict(r, metric)}**")
    styled = [r for r in main if r["scenario"] in ("full", "one_style", "selected")]
    helped = [r for r in styled if verdict(r, metric) == "better"]
    hurt = [r for r in styled if verdict(r, metric) == "worse"]
    lines += ["", f"Style augmentation was clearly better than the original set in {len(helped)} of {len(styled)} "
              f"(pipeline, steps, scenario) comparisons and clearly worse in {len(hurt)}."]
    for kind, words in (("shifts", "appearance shifts (contrast, gamma, noise, blur)"), ("unseen", "unseen styles")):
        tests = [r for r in robust if r["test"] == kind and r["scenario"] in ("full", "one_style", "selected")]
        if not tests:
            continue
        calls = [("more robust" if r["diff_high"] < 0 else "less robust" if r["diff_low"] > 0 else "no clear difference")
                 for r in tests]
        lines.append(f"Under {words}, style scenarios were clearly more robust than the original set (smaller paired "
                     f"error increase, 95% interval below 0) in {calls.count('more robust')} of {len(tests)} comparisons, "
                     f"clearly less robust in {calls.count('less robust')}; " + "; ".join(
                         f"{r['pipeline']}/{r['steps']}/{r['scenario']}: {r['increase_mean']:+.3f} vs {r['reference_increase_mean']:+.3f}"
                         for r in tests) + ".")
    plain = [r for r in records if r["condition"] == "clean" and r["scenario"] == "plain_aug"]
    for r in plain:
        lines.append(f"Plain augmentation against the original set ({r['pipeline']}, {r['steps']} steps): "
                     f"**{verdict(r, metric)}** ({r.get(f'{metric}_vs_original_mean_diff', float('nan')):+.3f}).")
    if note:
        lines += ["", note]
    return "\n".join(lines)


def _fmt(record: dict, key: str) -> float:
    return record.get(key, float("nan"))


def paired_lines(records: list[dict], condition: str = "clean") -> list[str]:
    """One printable line per main scenario: its Rand error and the paired change against the original set."""
    lines = []
    for r in records:
        if r["condition"] == condition and r["scenario"] in SCENARIOS and r["scenario"] != "original":
            lines.append(
                f"{r['pipeline']:8s} {r['steps']:3d} steps  {r['scenario']:10s} rand error {r['rand_error_mean']:.3f}  "
                f"change {_fmt(r, 'rand_error_vs_original_mean_diff'):+.3f} [{_fmt(r, 'rand_error_vs_original_diff_low'):+.3f}, "
                f"{_fmt(r, 'rand_error_vs_original_diff_high'):+.3f}]  p={_fmt(r, 'rand_error_vs_original_p_wilcoxon'):.3f}  |  "
                f"VI {r['vi_mean']:.3f}, change {_fmt(r, 'vi_vs_original_mean_diff'):+.3f}  -> {verdict(r)}")
    return lines


def robustness_lines(robust: list[dict]) -> list[str]:
    """One printable line per main scenario: clean error and its increase under shifts and unseen styles."""
    return [f"{r['pipeline']:8s} {r['steps']:3d} steps  {r['scenario']:10s} clean {r['clean']:.3f}  "
            f"{r['shift_increase']:+.3f} under shifts  {r['unseen_style_increase']:+.3f} on unseen styles"
            for r in robust if r["scenario"] in SCENARIOS]


def displacement_lines(displacement: list[dict]) -> list[str]:
    """Mean membrane displacement and Frangi-map correlation per (style, steps)."""
    groups: dict[tuple, list[dict]] = {}
    for row in displacement:
        groups.setdefault((row["style"], row["steps"]), []).append(row)
    return [f"style {st:2d} ({steps} steps): displacement {np.mean([g['displacement_px'] for g in group]):.2f} px, "
            f"membrane-map correlation {np.mean([g['map_correlation'] for g in group]):.2f}"
            for (st, steps), group in sorted(groups.items())]


def robustness_paired_lines(paired: list[dict]) -> list[str]:
    """One printable line per paired robustness comparison (see :func:`robustness_paired`)."""
    return [f"{r['test']:7s} {r['pipeline']:8s} {r['steps']:3d} steps  {r['scenario']:10s} error increase "
            f"{r['increase_mean']:+.3f} vs original {r['reference_increase_mean']:+.3f}: difference {r['mean_diff']:+.3f} "
            f"[{r['diff_low']:+.3f}, {r['diff_high']:+.3f}], p={r['p_wilcoxon']:.3f}, n={r['n_pairs']}"
            for r in paired if r["scenario"] in SCENARIOS]
