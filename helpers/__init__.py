"""neural-style-em helpers: what the chapters teach and draw, one package per stage.

Data flows one way (an arrow: "is imported by")::

    data -> vgg -> style                                   (chapters 01-02)
    data -> segmentation                                    (chapters 03-05, 07; vgg too, for the HED map)
            boundaries -> superpixels -> graph -> learning -> multicut -> metrics
    style + segmentation -> experiments                     (chapter 06)
    experiments + segmentation + style -> unet              (chapter 08)
    data + style + segmentation -> viz                      (figures and panels of every chapter)

``config`` (``select(profile)``), ``parallel`` (tasks on Dask), ``paths``, ``checks`` and ``cli`` serve them all;
machinery no chapter needs (run stamps, findings, output checks) lives in ``tools/``.
"""

__version__ = "0.1.0"
