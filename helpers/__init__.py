"""neural-style-em helpers: the heavy code behind the notebooks, one module per stage.

Data flows one way::

    data -> vgg -> style
    data -> superpixels -> features -> learning -> multicut -> metrics

with ``profile`` (how big the work is), ``paths``, ``plotting`` and ``widgets`` on the side.
"""

__version__ = "0.1.0"
