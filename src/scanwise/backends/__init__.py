"""Framework backends at the edge of scanwise (see ``DESIGN.md``, layer 1).

Each backend recognises its framework's objects once, at the public entry, converts
them in, calls the NumPy implementation (or registers framework-native kernels) and
converts the result back.  No framework is imported here: a backend module is loaded
only once one of its objects has been seen (its module is in ``sys.modules``).

* :mod:`scanwise.backends.torch` -- ``torch.Tensor`` arguments (the ``accepts_tensors``
  entry decorator and the tensor versions of the public ops);
* :mod:`scanwise.backends.torch_ops` -- the ``torch.library`` custom ops
  (``torch.ops.scanwise.*``) with their fake kernels and autograd formulas;
* :mod:`scanwise.backends.triton_linear` -- the CUDA (Triton) kernels of those ops.
"""
