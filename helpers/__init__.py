"""neural-style-em helpers: what the chapters teach and draw, one package per stage.

Data flows one way (an arrow: "is imported by")::

    data -> vgg -> style                                   (chapters 01-02)
    data -> segmentation                                    (chapters 03-05, 07)
            boundaries -> superpixels -> graph -> learning -> multicut -> metrics
    style + segmentation -> experiments                     (chapter 06)
    experiments + segmentation + style -> unet              (chapter 08)
    data + style + segmentation -> viz                      (figures and panels of every chapter)

``config`` (``select(profile)``: the work's sizes, device and output folders, a value passed along) is imported by
segmentation, experiments and unet; ``parallel`` (independent tasks on Dask) by style, segmentation, experiments
and unet; ``paths``, ``checks`` and ``cli`` (files, argument checks, the command lines' one-line errors) by all.
The machinery no chapter needs (run stamps, the README's findings, output checks) lives in ``tools/``.
"""

__version__ = "0.1.0"
