"""The augmentation experiments of chapter 06: does style transfer help the segmentation?

The report's scenarios (Section 3.2, Figure 16) are rebuilt on repeated splits, scored under appearance shifts
and unseen styles, and compared with paired statistics. Modules: ``splits`` (k-fold splits and the report's),
``shifts`` (plain augmentation, appearance shifts), ``scenarios`` (slice store, training sets, test conditions),
``engines`` (each style engine's stylised slices), ``unit_cache`` (units, their checked cached rows, provenance),
``unit_graphs`` (each pipeline's graphs; shared Frangi graphs), ``arms`` (chapter 06's arms), ``runner`` (units
trained and scored, resumable, in parallel via Dask), ``stats`` (intervals, paired tests, summaries),
``displacement`` (how far stylisation moves membranes, and its cost), ``prose`` (verdicts and the conclusion).
"""
