"""Chapter 01's comparison of the two offline networks: the HED VGG16 and the original ImageNet VGG19 (quantised).

* :func:`balanced_beta`: the style weight giving a network the reference network's balance of eq. 5. Features differ
  in scale between networks, and eq. 1 grows with its square but eq. 4 with its fourth power, so one beta cannot
  mean the same for both; with alpha kept, ``beta_B = beta_A * k_content / k_style``, ``k`` the geometric-mean
  loss ratios over the pairs at the start of a run (the painting's content loss, the photo's style loss).
* :func:`compare_networks`: the same pairs stylised by each of :func:`compared_settings` for the same steps;
  :func:`balance_at_end`, :func:`describe_networks` and :func:`choose_default` read its record. The default is
  chosen from non-timing quantities only (style loss reached, :func:`conv_cost`): a machine's load never changes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..paths import write_json
from ..vgg import VGG16_BLOCKS, VGG19_BLOCKS, VGGFeatures
from .engine import StyleResult, StyleSettings, stylize
from .images import as_batch, check_image, style_image
from .objective import batch_targets, evaluate, get_model

SLOWDOWN_LIMIT = 1.5  # the default network may cost at most this many times the other's multiply-adds per step
VGG_WIDTHS = (64, 128, 256, 512, 512)  # output channels of the conv layers of each VGG block
BALANCE_TOLERANCE = 2.0  # content departures within this factor of each other: the same balance at the end
HED = "hed"  # the compared settings' labels (:func:`compared_settings`)
VGG19_SAME = "vgg19 (same beta)"
VGG19_BALANCED = "vgg19 (balanced beta)"

Pair = tuple[str, int]  # (photo name, painting report number)


def _geometric_mean(values: Sequence[float]) -> float:
    return float(np.exp(np.mean(np.log(np.asarray(values, dtype=float)))))


def start_losses(model: VGGFeatures, content: np.ndarray, style: int, settings: StyleSettings) -> tuple[float, float]:
    """``(L_content(p, a), L_style(a, p))``: the painting's content loss against the photo, the photo's style loss."""
    execution = replace(settings, precision="fp32", compile="off").execution("sequential")
    device = execution.device
    photo = as_batch([check_image(content, "content image")], device)
    targets = batch_targets(model, photo, [style], settings.content_layers, settings.style_layers)
    painting = as_batch([style_image(style, tuple(photo.shape[-2:]))], device)
    with torch.no_grad():
        content_loss = evaluate(model, painting, targets, 1.0, 1.0, settings.style_weights, execution)[0]
        style_loss = evaluate(model, photo, targets, 1.0, 1.0, settings.style_weights, execution)[1]
    return float(content_loss[0]), float(style_loss[0])


def balanced_beta(
    reference: StyleSettings, source: str, contents: Mapping[str, np.ndarray], pairs: Sequence[Pair]
) -> dict:
    """The beta that gives ``source`` the balance of eq. 5 that ``reference`` has (alpha kept).

    Args:
        reference: the reference network's settings (its ``source``, alpha, beta and layers).
        source: the other network (:data:`helpers.vgg.SOURCES`).
        contents: photos by name, RGB in [0, 1].
        pairs: (photo, painting) pairs to measure on.

    Returns:
        JSON-ready ``{"reference", "source", "alpha", "reference_beta", "beta", "content_scale", "style_scale",
        "pairs"}``; the scales are the geometric-mean loss ratios source/reference.

    Raises:
        ValueError: for no pairs, or a reference with one alpha/beta per pair.
    """
    if not pairs:
        raise ValueError("balanced_beta needs at least one (photo, painting) pair")
    if isinstance(reference.alpha, tuple) or isinstance(reference.beta, tuple):
        raise ValueError("balanced_beta needs a reference with one alpha and one beta")
    losses = {}
    for name in (reference.source, source):
        model = get_model(name, reference.pooling, reference.device)
        losses[name] = [start_losses(model, contents[photo], number, reference) for photo, number in pairs]
    content_scale = _geometric_mean([b[0] / a[0] for a, b in zip(losses[reference.source], losses[source])])
    style_scale = _geometric_mean([b[1] / a[1] for a, b in zip(losses[reference.source], losses[source])])
    return {
        "reference": reference.source,
        "source": source,
        "alpha": reference.alpha,
        "reference_beta": reference.beta,
        "beta": reference.beta * content_scale / style_scale,
        "content_scale": content_scale,
        "style_scale": style_scale,
        "pairs": [list(pair) for pair in pairs],
    }


def compared_settings(hed: StyleSettings, balanced: float) -> dict[str, StyleSettings]:
    """``{HED: hed, VGG19_SAME: VGG19 at hed's alpha and beta, VGG19_BALANCED: VGG19 at beta = balanced}``."""
    vgg19 = replace(hed, source="vgg19")
    return {HED: hed, VGG19_SAME: vgg19, VGG19_BALANCED: replace(vgg19, beta=balanced)}


@dataclass
class NetworkComparison:
    """Both networks' runs on the same pairs.

    ``record`` holds the numbers of :func:`compare_networks`, ``results`` ``{network: {pair: StyleResult}}``.
    """

    record: dict
    results: dict[str, dict[Pair, StyleResult]] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)

    def relative_style(self, network: str) -> dict[Pair, np.ndarray]:
        """``{pair: (steps,) style loss per step over its start value}`` for one compared network."""
        return {pair: r.history["style"] / r.history["style"][0] for pair, r in self.results[network].items()}


def _run_record(result: StyleResult, painting_content: float) -> dict:
    start = float(result.history["style"][0])
    return {
        "style_start": start,
        "style_final": result.final["style"],
        "style_relative": result.final["style"] / start,
        "content_final": result.final["content"],
        "content_departure": result.final["content"] / painting_content,
    }


def _check_reused(result: StyleResult, settings: StyleSettings, steps: int, network: str, pair: Pair) -> None:
    """A reused result must come from the same network, weights and steps."""
    record = result.settings
    same = (record["vgg"], record["alpha"], record["beta"], record["steps"]) == (
        settings.source,
        settings.alpha,
        settings.beta,
        steps,
    )
    if not same:
        raise ValueError(
            f"reused result for {network} {pair} ran {record['vgg']}, alpha {record['alpha']}, beta {record['beta']}, "
            f"{record['steps']} steps, not {settings.source}, {settings.alpha}, {settings.beta}, {steps}: "
            "pass results of the compared settings or none"
        )


def compare_networks(
    contents: Mapping[str, np.ndarray],
    pairs: Sequence[Pair],
    steps: int,
    settings: Mapping[str, StyleSettings],
    reuse: Mapping[str, Mapping[Pair, StyleResult]] | None = None,
    *,
    progress: bool = True,
    timing_steps: int = 5,
    timing_rounds: int = 3,
) -> NetworkComparison:
    """Stylise the same pairs with each compared setting (network, alpha, beta), for the same steps.

    Args:
        contents: photos by name, RGB in [0, 1] (all at one size).
        pairs: (photo, painting) pairs.
        steps: function evaluations per image.
        settings: ``{label: its settings}``, e.g. :func:`compared_settings`.
        reuse: results already computed with those settings, ``{label: {pair: result}}`` (checked).
        progress: show a progress bar per run.
        timing_steps: steps of each timed run (:func:`seconds_per_step`, on the first pair).
        timing_rounds: timed runs per network.

    Returns:
        The :class:`NetworkComparison`; its ``record`` is ``{"steps", "pairs", "networks", "timing"}``, with
        ``networks[label]`` holding ``source``, ``alpha``, ``beta``, per-pair ``runs`` (style loss at start and reached,
        their ratio, content loss, content departure = content loss over the painting's own), the geometric means
        ``style_relative_geomean`` and ``content_departure_geomean``, ``shape`` and ``step_median_s`` (from
        :func:`seconds_per_step`: a reused run's own time may include loading, so it is not kept).

    Raises:
        ValueError: for no pairs, or a reused result of other settings.
    """
    if not pairs:
        raise ValueError("compare_networks needs at least one (photo, painting) pair")
    reuse = reuse or {}
    results: dict[str, dict[Pair, StyleResult]] = {}
    record: dict = {"steps": int(steps), "pairs": [list(pair) for pair in pairs], "networks": {}}
    for label, network_settings in settings.items():
        results[label] = {}
        for pair in pairs:
            known = reuse.get(label, {}).get(pair)
            if known is not None:
                _check_reused(known, network_settings, steps, label, pair)
            results[label][pair] = known or stylize(
                contents[pair[0]], pair[1], steps, network_settings, progress=progress
            )
        model = get_model(network_settings.source, network_settings.pooling, network_settings.device)
        painting_content = [start_losses(model, contents[p], n, network_settings)[0] for p, n in pairs]
        runs = [_run_record(results[label][pair], c) for pair, c in zip(pairs, painting_content)]
        record["networks"][label] = {
            "source": network_settings.source,
            "alpha": network_settings.alpha,
            "beta": network_settings.beta,
            "runs": runs,
            "style_relative_geomean": _geometric_mean([run["style_relative"] for run in runs]),
            "content_departure_geomean": _geometric_mean([run["content_departure"] for run in runs]),
            "shape": list(next(iter(results[label].values())).image.shape[:2]),
        }
    timing = seconds_per_step(contents[pairs[0][0]], pairs[0][1], settings, timing_steps, timing_rounds)
    for label, seconds in timing.items():
        record["networks"][label]["step_median_s"] = seconds
    record["timing"] = {"pair": list(pairs[0]), "steps": timing_steps, "rounds": timing_rounds}
    return NetworkComparison(record, results, list(pairs))


def seconds_per_step(
    content: np.ndarray, painting: int, settings: Mapping[str, StyleSettings], steps: int = 5, rounds: int = 3
) -> dict[str, float]:
    """``{label: median seconds per step}``, warm, the networks taking turns so that both see the same load.

    Args:
        content: the photo, RGB in [0, 1].
        painting: the painting's report number.
        settings: ``{network label: its settings}``.
        steps: function evaluations per timed run.
        rounds: timed runs per network.
    """
    for network_settings in settings.values():
        stylize(content, painting, 1, network_settings)  # loads the model, warms the kernels
    times: dict[str, list[float]] = {label: [] for label in settings}
    for _ in range(rounds):
        for label, network_settings in settings.items():
            times[label].append(stylize(content, painting, steps, network_settings).seconds / steps)
    return {label: float(np.median(values)) for label, values in times.items()}


def conv_cost(source: str, last_layer: str = "conv5_1") -> float:
    """Multiply-adds per input pixel of a VGG's conv layers up to ``last_layer`` (3 x 3 kernels; pools quarter pixels).

    A property of the architecture, the same on every machine: what :func:`choose_default` compares instead of time.

    Args:
        source: the network (a name ending in ``vgg19`` for VGG19, else VGG16).
        last_layer: the deepest conv layer the losses read.

    Raises:
        ValueError: for a layer name that is not a conv layer of the network.
    """
    blocks = VGG19_BLOCKS if source.endswith("vgg19") else VGG16_BLOCKS
    total, channels = 0.0, 3
    for block, (n_conv, width) in enumerate(zip(blocks, VGG_WIDTHS), start=1):
        for conv in range(1, n_conv + 1):
            total += 9 * channels * width / 4 ** (block - 1)
            channels = width
            if f"conv{block}_{conv}" == last_layer:
                return total
    raise ValueError(f"last_layer {last_layer!r} is not a conv layer of {source}: pass e.g. 'conv5_1'")


def _source(label: str, network: Mapping) -> str:
    """A compared setting's network: recorded, else from its label (``hed``, ``vgg19 (...)``)."""
    return str(network.get("source") or label.split(" ")[0])


def choose_default(record: dict, candidate: str = VGG19_BALANCED, incumbent: str = HED) -> dict:
    """The series' default network, by a rule fixed before the numbers were seen, from non-timing quantities only.

    In :func:`compare_networks`' ``record``, the ``candidate`` replaces the ``incumbent`` if, at balanced weights, its
    geometric-mean relative style loss reached is no worse and a step costs at most :data:`SLOWDOWN_LIMIT` times the
    incumbent's multiply-adds (:func:`conv_cost`).

    Returns:
        JSON-ready ``{"network", "reason", "style_relative", "cost_ratio", "timings"}``; ``timings``
        (``{"seconds_per_step": {label: s}, "slowdown": ratio}``, for information only) where the record has them.
    """
    nets = record["networks"]
    style = {net: nets[net]["style_relative_geomean"] for net in (candidate, incumbent)}
    cost = conv_cost(_source(candidate, nets[candidate])) / conv_cost(_source(incumbent, nets[incumbent]))
    style_ok, cost_ok = style[candidate] <= style[incumbent], cost <= SLOWDOWN_LIMIT
    reason = (
        f"{candidate} reaches {style[candidate]:.3g} x its start style loss against {style[incumbent]:.3g} for "
        f"{incumbent} ({'no worse' if style_ok else 'worse'}), at {cost:.2f} x the conv multiply-adds per step "
        f"({'within' if cost_ok else 'beyond'} the limit of {SLOWDOWN_LIMIT:g})"
    )
    choice = {
        "network": candidate if style_ok and cost_ok else incumbent,
        "reason": reason,
        "style_relative": style,
        "cost_ratio": cost,
    }
    seconds = {net: nets[net].get("step_median_s") for net in (candidate, incumbent)}
    if all(isinstance(value, int | float) for value in seconds.values()):
        choice["timings"] = {"seconds_per_step": seconds, "slowdown": seconds[candidate] / seconds[incumbent]}
    return choice


def balance_at_end(record: dict, setting: str = VGG19_BALANCED, reference: str = HED) -> dict:
    """Whether ``setting`` ends as far from the photo's content as ``reference`` (the balance of eq. 5 kept at the end).

    The geometric-mean content departures in :func:`compare_networks`' ``record`` count as the same while within
    :data:`BALANCE_TOLERANCE` of each other.

    Returns:
        JSON-ready ``{"setting", "reference", "departure", "reference_departure", "ratio", "tolerance", "kept"}``;
        ``ratio`` is the setting's departure over the reference's.
    """
    departure = {label: record["networks"][label]["content_departure_geomean"] for label in (setting, reference)}
    ratio = departure[setting] / departure[reference]
    return {
        "setting": setting,
        "reference": reference,
        "departure": departure[setting],
        "reference_departure": departure[reference],
        "ratio": ratio,
        "tolerance": BALANCE_TOLERANCE,
        "kept": 1 / BALANCE_TOLERANCE <= ratio <= BALANCE_TOLERANCE,
    }


def describe_networks(record: dict, end: dict) -> str:
    """The comparison in Markdown: a bullet per setting of ``record``, then whether the balanced beta held (``end``)."""
    lines = [
        f"* **{label}** (alpha {numbers['alpha']:g}, beta {numbers['beta']:.3g}): style loss reached "
        f"{numbers['style_relative_geomean']:.3g} x its start, content departure "
        f"{numbers['content_departure_geomean']:.3g}, {numbers['step_median_s']:.3f} s per step (warm)"
        for label, numbers in record["networks"].items()
    ]
    verdict = "kept" if end["kept"] else "did not keep"
    lines.append(
        f"\nThe balanced beta **{verdict}** the balance at the end: {end['setting']} ends with a content departure "
        f"of {end['departure']:.3g} against {end['reference_departure']:.3g} for {end['reference']}, "
        f"{end['ratio']:.3g} times as far from the photo's content (kept within a factor of {end['tolerance']:g})."
    )
    return "\n".join(lines)


def write_comparison(record: dict, path: Path) -> None:
    """Write the comparison's JSON-ready ``record`` to ``path`` (atomically)."""
    write_json(path, record, sort_keys=False)  # the networks in the order they were compared
