"""Version plumbing: one version (the package's), ``scanwise --version`` and
``scanwise.show_versions()`` without importing backends that are not loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

import scanwise
from scanwise import cli


def test_version_is_the_installed_metadata():
    assert scanwise.__version__ == metadata.version("scanwise")


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"scanwise {scanwise.__version__}"


def test_show_versions_fields(capsys):
    scanwise.show_versions()
    lines = capsys.readouterr().out.splitlines()
    fields = dict(line.split(" : ", 1) for line in lines)
    fields = {k.strip(): v for k, v in fields.items()}
    assert fields["scanwise"] == scanwise.__version__
    assert fields["python"] == sys.version.split()[0]
    import numpy

    assert fields["numpy"] == numpy.__version__
    assert int(fields["numba_threads"]) >= 1 and int(fields["cpu_count"]) >= 1
    for name in ("numba", "pandas", "polars", "xarray", "dask", "torch", "cpu"):
        assert name in fields


def test_show_versions_json_via_cli(capsys):
    assert cli.main(["versions", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["scanwise"] == scanwise.__version__
    assert set(info) >= {"numpy", "numba", "pandas", "torch", "cpu", "numba_threads"}


def test_show_versions_imports_no_backend():
    code = (
        "import sys, scanwise; scanwise.show_versions(); "
        "print(sorted(m for m in ('pandas', 'polars', 'xarray', 'dask', 'torch') "
        "if m in sys.modules))"  # (numba itself imports scipy)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
