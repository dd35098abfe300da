"""Kernels of the core scans: the linear recurrence (sequential and chunk-parallel) and
``logaddexp`` in log space."""
