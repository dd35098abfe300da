"""pytest (``--doctest-modules`` imports every module): the backends that need an optional
framework are collected only where it is installed."""

import importlib.util

collect_ignore = [
    f"{module}.py"
    for module, needs in (("torch_ops", "torch"), ("triton_linear", "triton"))
    if importlib.util.find_spec(needs) is None
]
