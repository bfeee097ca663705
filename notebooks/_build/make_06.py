"""Write notebook 06 (without outputs): `.venv/bin/python notebooks/_build/make_06.py`."""

from nbtools import code, md, write

cells = [
    md("""
# 06 · Does style transfer help? The report's four scenarios, with statistics

The report stylised the 24 training slices with 24 paintings and trained its edge classifier on four training sets
(Section 3.2, Figure 16): **(1)** the full augmented set (originals plus every style: 600 images), **(2)** the
original set, **(3)** the originals plus one specific style, **(4)** the selected styles `[3, 10, 19, 21]` of its
code. Its verdict, "no clear improvement", rests on one train/test split (slices 0-23 / 24-29) and one number per
scenario.

Here we redo the four scenarios and ask the question properly:

* **repeated splits** (k-fold over the stylised slices, several seeds, plus the report's own split), with a 95%
  interval per scenario and a **paired test** against the original set on the same test slices;
* **both segmentation pipelines** of notebooks 03-05: the report's Frangi pipeline and the pixel-classifier one,
  whose boundary map is learnt from raw appearance and may react differently to stylised training images;
* a **plain-augmentation baseline** (flips, 90-degree rotations, noise) that any fancier augmentation must beat;
* the report's motivation, **recognising the friend in another shirt** (Section 1), as a test: every scenario is
  also scored on test slices under appearance shifts (lower contrast, gamma, noise, blur) and stylised with a
  **painting never used in training**;
* the report's suspicion that stylisation **moves membranes** (Section 4), measured per style and related to the
  effect of adding that style.

Stylised slices always keep the original slice's ground truth, as in the report.
"""),
    code("""profile = None  # 'full' (GPU), 'reduced' (CPU) or 'ci'; None: $NSEM_PROFILE or automatic
pipelines = ["frangi", "pixel-rf"]
one_style = 3  # scenario 3's "specific style" (fixed before looking at results: the first selected style)
style_sweep = True  # also run "original + style N" for every style, to relate effects to membrane displacement""",
         ["parameters"]),
    code("""import json, os, time
from IPython.display import Markdown, display
from helpers import experiments as E, plotting, style
from helpers.paths import CACHE, atomic_write_text, result_path
from helpers.profile import select

P = select(profile)
print(P.name, "| device:", P.device, "| slices:", P.stylize_slices, "| crop:", P.stylize_crop or 512)
print("styles of scenario 1:", P.exp_styles, "| held out:", P.heldout_styles, "| steps:", P.exp_steps)"""),
    md("""
## The data: original, stylised and augmented slices

The experiments work on the slices (and crop) that the profile stylised in notebook 02; anything missing is
stylised now (resumable; the full profile refuses to do this on a CPU and says what to run on a GPU). In the
`reduced` profile this is every third slice, cropped to 128 x 128 pixels, with 6 paintings at 75 steps: a small
version of the experiment that a CPU finishes, not the report's full workload.
"""),
    code("""E.ensure_stylized(P, tuple(sorted(set(P.exp_styles) | set(P.heldout_styles) | {one_style})))
store = E.SliceStore(P.stylize_slices, P.stylize_crop, style.load_stylized)
splits = E.experiment_splits(P.stylize_slices, P.n_folds, P.seeds)
units = E.experiment_units(pipelines, P.exp_steps, list(E.SCENARIOS), splits)
if style_sweep:  # Frangi pipeline, first seed's splits: bounds the cost of the full profile
    sweep = [f"one_style:{s}" for s in P.exp_styles if s != one_style]
    units += E.experiment_units(["frangi"], P.exp_steps, sweep, [s for s in splits if s.seed == P.seeds[0]])
print(f"{len(splits)} splits ({', '.join(s.name for s in splits[:3])}, ...), {len(units)} units to train and score")"""),
    md("""
## Running every scenario on every split

One *unit* = one pipeline, one step count, one scenario, one split: build the training set, train the edge
random forest (and, for the pixel-classifier pipeline, the pixel classifier, on the same training images), then
segment every test slice clean, under each appearance shift, and stylised with each held-out painting. Each unit's
rows are saved as soon as it finishes, so an interrupted run resumes where it stopped. Frangi graphs do not depend
on training and are built once per image.

**Cost.** Measured here (2 cores): the `reduced` profile computes its 178 units in about 7 minutes (431 s). The `full`
profile (whole slices, 22 paintings x 2 step counts, 16 splits; the style sweep only for the Frangi pipeline on the
first seed's splits) is bounded by design: at most 100,000 training edges per forest, at most 48 training images
(all originals plus a random choice of stylised ones) per pixel-classifier unit, and one process per core. From the
per-image and per-forest costs measured on this CPU we estimate about an hour on a 16-core machine; that estimate
has not been checked on such a machine.
"""),
    code("""started = time.perf_counter()
cache_dir = CACHE / "experiments" / f"{P.name}-crop{P.stylize_crop or 512}-trees{P.rf_trees}"
stats = {}
rows = E.run_all(store, units, cache_dir, stats=stats, workers=P.exp_workers or os.cpu_count(),
                 styles=P.exp_styles, heldout=P.heldout_styles, one_style=one_style, trees=P.rf_trees,
                 max_samples=P.rf_max_samples, max_train_images=P.exp_max_train_images)
seconds = time.perf_counter() - started
E.write_csv(rows, result_path("scenarios.csv"), extra={"profile": P.name})
records = E.summarize(rows)
robust = E.robustness(records)
print(f"{len(rows)} rows (scenario x split x slice x condition) in {seconds:.0f} s ({stats['computed']} units computed, "
      f"{stats['loaded']} loaded from the cache) -> results/scenarios.csv")"""),
    md("""
## Figure 16, with error bars

Mean adapted Rand error and variation of information on the clean test slices, over all splits and test slices,
with 95% t-intervals (the report showed one number per scenario).
"""),
    code("""for steps in P.exp_steps:
    fig = plotting.scenario_bars(records, pipelines, steps)
    plotting.save(fig, f"06_figure16_steps{steps}.png")
    plotting.save(fig, f"06_figure16_steps{steps}.pdf")"""),
    md("""
## Paired against the original set

The bars overlap because slices differ a lot in difficulty. The fair comparison is paired: the same test slice of
the same split, segmented after training on the original set and after training on an augmented set. Negative
changes mean lower error with augmentation.
"""),
    code("""print("\\n".join(E.paired_lines(records)))"""),
    md("""
The report's own split alone (train on slices below 24, test on those from 24 on), which is all the report saw:
"""),
    code("""report_rows = [r for r in rows if r["split"] == "report"]
print("\\n".join(E.paired_lines(E.summarize(report_rows))) if report_rows
      else "this profile has no slice >= 24, so the report's split is not among its splits")"""),
    md("""
## The friend in another shirt: robustness to appearance shifts

If stylised training images teach the classifier to ignore appearance, its error should rise less when the test
slices change appearance. Each cell is the mean Rand error of a scenario (row) under a test condition (column).
"""),
    code("""for pipeline in pipelines:
    for steps in P.exp_steps:
        fig = plotting.robustness_heatmap(records, pipeline, steps)
        plotting.save(fig, f"06_robustness_{pipeline}_steps{steps}.png")
print("\\n".join(E.robustness_lines(robust)))"""),
    md("""
Paired over the same (split, test slice): the error increase from the clean slice to the shifted (or unseen-style)
slice with each training set, against the increase with the original set. A negative difference whose interval
stays below zero would mean that the augmentation made the segmentation more robust.
"""),
    code("""robust_pairs = E.robustness_paired(rows)
print("\\n".join(E.robustness_paired_lines(robust_pairs)))"""),
    md("""
## Does stylisation move the membranes?

The report suspected (Section 4) that stylisation shifts membranes, so that the original ground truth no longer
fits. We measure it per stylised slice: the Frangi membrane maps of original and stylised slice are thresholded
at the same area, skeletonised, and compared by their mean (chamfer) distance in pixels, next to the correlation of
the two maps. Then each style's displacement is set against the change of the test error when that style alone is
added to the originals (the style sweep).
"""),
    code("""displacement = E.displacement_table(store, tuple(sorted(set(P.exp_styles) | {one_style})), P.exp_steps)
print("\\n".join(E.displacement_lines(displacement)))
effects = E.style_effects(records, displacement, one_style)
fig = plotting.displacement_vs_effect(effects)
plotting.save(fig, "06_displacement_vs_effect.png");"""),
    md("## What we found"),
    code("""same = set(P.exp_styles) == set(E.SELECTED_STYLES) & set(P.exp_styles)
text = E.conclusion(records, robust_pairs, P.name, len(splits), note=(
    f"In the `{P.name}` profile scenario 1 uses the same styles as scenario 4, so each of their results counts twice above."
    if same else ""))
summary = {"profile": P.as_dict(), "pipelines": pipelines, "one_style": one_style, "splits": [s.name for s in splits],
           "n_rows": len(rows), "seconds": round(seconds, 1), "units": stats, "records": records, "robustness": robust, "robustness_paired": robust_pairs,
           "style_effects": effects, "conclusion": text,
           "note": "reduced/ci profiles: small crops and few styles on a CPU; not the report's full workload"}
atomic_write_text(result_path("scenarios_summary.json"), json.dumps(summary, indent=1, default=float))
display(Markdown(text))"""),
]

write("06_augmentation_experiments.ipynb", cells)
