"""The segmentation of the report's second half, one module per stage.

EM slice -> :mod:`.boundaries` (with :mod:`.pixel_classifier`) -> :mod:`.superpixels` -> :mod:`.graph` ->
:mod:`.features` -> :mod:`.learning` (edge forest) -> :mod:`.multicut` -> :mod:`.metrics`. :mod:`.pipeline` runs
them all, :mod:`.evaluation` compares solvers and baselines. Import the modules, e.g. ``from helpers.segmentation
import pipeline``.
"""
