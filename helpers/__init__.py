"""neural-style-em helpers: the work behind the chapters, one package per stage.

Data flows one way::

    data -> vgg -> style                         (chapters 01-02)
    data -> segmentation                          (chapters 03-05)
            boundaries -> superpixels -> graph -> learning -> multicut -> metrics
    style + segmentation -> experiments           (chapter 06)

with ``config`` (how big the work is and where it goes) and ``viz`` (figures and panels) on the side.
"""

__version__ = "0.1.0"
