"""The augmentation experiments of chapter 06: does style transfer help the segmentation?

The report's scenarios (Section 3.2, Figure 16) are rebuilt on repeated splits, scored under appearance shifts
and unseen styles, and compared with paired statistics. One module per concern:

- :mod:`~helpers.experiments.splits`: k-fold train/test splits of the stylised slices (plus the report's split);
- :mod:`~helpers.experiments.shifts`: plain augmentation and the appearance shifts of the test slices;
- :mod:`~helpers.experiments.scenarios`: the slice store, each scenario's training set, the test conditions;
- :mod:`~helpers.experiments.engines`: where each style engine's stylised slices come from, stylising what is missing;
- :mod:`~helpers.experiments.unit_cache`: what a unit is, its cached rows (checked, stale ones detected) and the
  provenance of a run's rows;
- :mod:`~helpers.experiments.unit_graphs`: how each pipeline builds a unit's graphs; the Frangi graphs shared by a run;
- :mod:`~helpers.experiments.arms`: chapter 06's arms (engine, slices, paintings, pipelines, scenarios), run;
- :mod:`~helpers.experiments.runner`: one unit (pipeline, steps, scenario, split) trained and scored, all
  units resumable and in parallel (Dask tasks, :mod:`helpers.parallel`), results as one tidy table;
- :mod:`~helpers.experiments.stats`: intervals, paired tests and the summaries against a reference scenario;
- :mod:`~helpers.experiments.displacement`: how far stylisation moves the membranes, and what that costs;
- :mod:`~helpers.experiments.prose`: verdicts, printable lines and the chapter's conclusion.
"""
