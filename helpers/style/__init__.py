"""Neural style transfer (Gatys et al., the report's section 2.1) and the stylised ISBI cache.

One module per concern, each importable on its own:

* :mod:`~helpers.style.losses`: eq. 1-5 (Gram matrices, content, style and total loss) and the default weights;
* :mod:`~helpers.style.images`: the input check, resizing, fitting the style to the content, grey <-> RGB;
* :mod:`~helpers.style.objective`: the VGG model, the targets and eq. 5 for a batch;
* :mod:`~helpers.style.lbfgs`: L-BFGS run independently for every image of a batch;
* :mod:`~helpers.style.optimizers`: the optimisers of both engines, chosen by name;
* :mod:`~helpers.style.settings`: :class:`~helpers.style.settings.StyleSettings`, every setting checked;
* :mod:`~helpers.style.batching`: the batched engine's parts (pairs per run, one run optimised);
* :mod:`~helpers.style.engine`: ``stylize`` (one image, the PyTorch tutorial's loop) and ``stylize_batch``
  (many at once);
* :mod:`~helpers.style.comparison`: chapter 01's comparison of the two offline networks;
* :mod:`~helpers.style.quantisation`: what 256-level quantisation of the conv kernels changes;
* :mod:`~helpers.style.pngs`: the cached PNGs, carrying their own records, checked whenever read;
* :mod:`~helpers.style.manifest`: the index of the stylised-slice cache (rebuilt from the PNGs when damaged)
  and what is still to do;
* :mod:`~helpers.style.cache`: stylising the ISBI volume into ``<cache>/stylized/`` and reading it back;
* :mod:`~helpers.style.archive`: stylised slices packed as JPEG archives and imported back as lossy copies;
* :mod:`~helpers.style.feedforward`: the feed-forward arbitrary-style network (Ghiasi et al. 2017, ONNX), one
  pass per slice, and its cache under ``<cache>/feedforward/``;
* :mod:`~helpers.style.washout`: how much of the membranes survives stylisation;
* ``python -m helpers.style``: the stylisation from the command line (:mod:`~helpers.style.__main__`).
"""
