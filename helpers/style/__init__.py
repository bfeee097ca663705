"""Neural style transfer (Gatys et al., the report's section 2.1) and the stylised ISBI cache.

One module per concern, each importable on its own:

* :mod:`~helpers.style.losses`: eq. 1-5 (Gram matrices, content, style and total loss) and the default weights;
* :mod:`~helpers.style.images`: the input check, resizing, fitting the style to the content, grey <-> RGB;
* :mod:`~helpers.style.objective`: the VGG model, the targets and eq. 5 for a batch;
* :mod:`~helpers.style.lbfgs`: L-BFGS run independently for every image of a batch;
* :mod:`~helpers.style.optimizers`: the L-BFGS optimiser of both engines and the start image;
* :mod:`~helpers.style.settings`: :class:`~helpers.style.settings.StyleSettings`, every setting checked;
* :mod:`~helpers.style.batching`: the batched engine's parts (pairs per run, one run optimised);
* :mod:`~helpers.style.engine`: ``stylize`` (one image, the PyTorch tutorial's loop) and ``stylize_batch``
  (many at once);
* :mod:`~helpers.style.comparison`: chapter 01's comparison of the two offline networks;
* :mod:`~helpers.style.quantisation`: what 256-level quantisation of the conv kernels changes;
* :mod:`~helpers.style.pngs`: cache entries of both style caches: digest-named PNGs carrying their records,
  written atomically, checked whenever read;
* :mod:`~helpers.style.cache`: stylising the ISBI volume into ``<cache>/stylized/`` and reading it back;
* :mod:`~helpers.style.feedforward`: the feed-forward arbitrary-style network (Ghiasi et al. 2017, ONNX), one
  pass per slice, and its cache under ``<cache>/feedforward/``;
* :mod:`~helpers.style.washout`: how much of the membranes survives stylisation;
* ``python -m helpers.style``: the stylisation from the command line (:mod:`~helpers.style.__main__`).
"""
