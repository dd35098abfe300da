"""Ready to publish: ``python -m build`` makes an sdist and a wheel (the wheel built from
the sdist, so the sdist is complete), and the wheel installed into a fresh virtual
environment imports, reports its version and computes.

The fresh venv gets only the wheel (``--no-deps``); its dependencies (numpy, numba) are
borrowed from the test's own environment through a ``.pth`` path entry, which adds that
site-packages to ``sys.path`` *after* the venv's own, without running its ``.pth`` hooks,
so the development checkout's editable install is not visible there. That keeps the test
offline and a few seconds long; a clean install with dependencies is ``pip install
dist/*.whl`` in any venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

import scanwise

ROOT = Path(__file__).resolve().parent.parent

SMOKE = """
import sys, numpy as np, scanwise
from importlib import metadata
assert scanwise.__file__.startswith(sys.prefix), scanwise.__file__
assert scanwise.__version__ == metadata.version("scanwise") == sys.argv[1]
assert np.array_equal(scanwise.cumsum(np.arange(5.0)), np.cumsum(np.arange(5.0)))
scanwise.show_versions()
print("smoke ok", scanwise.__version__)
"""


@pytest.mark.xdist_group("package")
def test_build_install_smoke(tmp_path):
    pytest.importorskip("build")
    t0 = time.perf_counter()
    dist = tmp_path / "dist"
    env = dict(os.environ, PIP_NO_INDEX="1")
    # --no-isolation: build with this environment's setuptools (offline, no fresh env);
    # -x: setuptools >= 70 builds wheels itself (the `wheel` requirement is for older ones)
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "-x", "--outdir", str(dist),
                    str(ROOT)], check=True, capture_output=True, text=True, env=env,
                   cwd=tmp_path)
    t_build = time.perf_counter() - t0
    version = scanwise.__version__
    (wheel,) = dist.glob(f"scanwise-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"scanwise-{version}.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "scanwise/py.typed" in names and "scanwise/_kernels/scans/linear.py" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    with tarfile.open(sdist) as tar:
        members = {Path(m).relative_to(f"scanwise-{version}").as_posix()
                   for m in tar.getnames() if "/" in m}
    assert {"pyproject.toml", "README.md", "src/scanwise/__init__.py"} <= members

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", "--no-index", "--no-compile", str(wheel)], check=True, env=env)
    fresh_site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                 "['purelib'])"], capture_output=True, text=True,
                                check=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(fresh_site, "_borrowed_deps.pth").write_text(ours + "\n")

    smoke = subprocess.run([str(py), "-c", SMOKE, version], capture_output=True, text=True,
                           cwd=tmp_path, env=dict(env, NUMBA_CACHE_DIR=str(tmp_path / "nb")))
    assert smoke.returncode == 0, smoke.stderr
    assert f"smoke ok {version}" in smoke.stdout
    cli = subprocess.run([str(venv / "bin" / "scanwise"), "--version"], capture_output=True,
                         text=True, check=True)
    assert cli.stdout.strip() == f"scanwise {version}"
    print(f"build {t_build:.1f}s, build+install+smoke {time.perf_counter() - t0:.1f}s")
