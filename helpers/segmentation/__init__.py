"""The segmentation of the report's second half.

An EM slice becomes a boundary map, superpixels, a graph with edge features, edge probabilities from a random
forest, a multicut and scores.

One module per stage: :mod:`.checks` (input contracts), :mod:`.boundaries` (boundary maps, with the pixel
classifier of :mod:`.pixel_classifier`), :mod:`.superpixels` (watersheds), :mod:`.graph` (region adjacency
graph, edge labels), :mod:`.features` (edge features), :mod:`.learning` (edge random forest),
:mod:`.multicut` (costs and solvers), :mod:`.metrics` (scores); :mod:`.pipeline` runs them all, and
:mod:`.evaluation` compares solvers and baselines and records a run. Import the modules themselves, e.g.
``from helpers.segmentation import pipeline``.
"""
