"""Neural style transfer (Gatys et al., the report's section 2.1) and the stylised ISBI cache.

One concern per module:

* :mod:`.losses`: eqs. 1-5 and the default weights; :mod:`.images`: input checks, resizing, grey <-> RGB;
* :mod:`.objective`: the VGG model, targets and eq. 5 for a batch; :mod:`.settings`: :class:`.settings.StyleSettings`;
* :mod:`.lbfgs`, :mod:`.optimizers`: per-image batched L-BFGS, the tutorial's L-BFGS and the start image;
* :mod:`.batching`, :mod:`.engine`: ``stylize`` (one image, the PyTorch tutorial's loop) and ``stylize_batch``;
* :mod:`.comparison`, :mod:`.quantisation`: chapter 01's HED VGG16 vs. VGG19 comparison, quantisation's effect;
* :mod:`.pngs`, :mod:`.cache`: checked digest-named PNG entries, the ISBI volume stylised into ``<cache>/stylized/``;
* :mod:`.feedforward`: Ghiasi et al.'s feed-forward network (ONNX), cached under ``<cache>/feedforward/``;
* :mod:`.washout`: how much of the membranes survives; ``python -m helpers.style``: the command line.
"""
