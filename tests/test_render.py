"""Benchmark results as data: the recorder writes what the renderer reads, the ratios are
right, and the README table and docs/performance.md are what the renderer prints from
the committed results (so no benchmark number is typed by hand)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import _results  # noqa: E402
import render  # noqa: E402


def test_readme_and_performance_page_match_the_committed_results():
    data = render.load()
    readme, page = render.render(data, write_plots=False)
    assert (ROOT / "README.md").read_text() == readme, (
        "README.md's performance table differs from the committed results: "
        "run `python benchmarks/render.py`")
    assert (ROOT / "docs" / "performance.md").read_text() == page, (
        "docs/performance.md differs from the committed results: "
        "run `python benchmarks/render.py`")
    for name in render.series_groups(data):
        assert (ROOT / "docs" / "img" / f"perf-{render.slug(name)}.svg").exists(), name


def test_committed_results_have_machine_versions_commands():
    data = render.load()
    assert {"cpu", "cpu_count", "name"} <= set(data["machine"])
    assert {"scanwise", "python", "numpy", "numba"} <= set(data["versions"])
    for suite, body in data["suites"].items():
        assert body["command"].startswith("python "), suite
        assert body["figures"], suite
        for fig in body["figures"]:
            assert fig["role"] in _results.ROLES and fig["value"] >= 0


def _record(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "r.json"
    monkeypatch.setenv("SCANWISE_BENCH_RESULTS", str(path))
    rec = _results.Recorder("core", argv=["bench_core.py", "--quick"])
    for size, (sw, peer, floor) in [(1000, (1.0, 4.0, 0.5)), (10000, (8.0, 40.0, 5.0))]:
        case = f"cumsum n={size}"
        rec.add(case, "scanwise", sw, role="scanwise", size=size, series="cumsum")
        rec.add(case, "scanwise", sw, role="scanwise", size=size, series="cumsum")  # repeat
        rec.add(case, "numpy.cumsum", peer, role="peer", size=size, series="cumsum")
        rec.add(case, "np.copyto", floor, role="floor", size=size, series="cumsum")
    rec.add("start-up", "import scanwise", 0.05, role="info")
    assert rec.save() == path
    rec2 = _results.Recorder("ewm", argv=["bench_ewm.py"])
    rec2.add("ewm_mean n=100", "scanwise", 2.0, role="scanwise")
    rec2.add("ewm_mean n=100", "pandas", 3.0, role="peer")
    rec2.save()
    return path


def test_recorder_merges_suites_and_renderer_computes_ratios(tmp_path, monkeypatch):
    path = _record(tmp_path, monkeypatch)
    raw = json.loads(path.read_text())
    assert set(raw["suites"]) == {"core", "ewm"}
    assert raw["suites"]["core"]["command"] == "python bench_core.py --quick"
    assert len(raw["suites"]["core"]["figures"]) == 7  # the repeated figure is kept once
    data = render.load(path)
    r = render.ratios(render.cases(data)[("core", "cumsum n=10000")])
    assert [(f["method"], x) for f, x in r["peers"]] == [("numpy.cumsum", 5.0)]
    assert [(f["method"], x) for f, x in r["floors"]] == [("np.copyto", 1.6)]
    assert render.series_groups(data) == {
        "cumsum": {"scanwise": [(1000, 1.0), (10000, 8.0)],
                   "numpy.cumsum": [(1000, 4.0), (10000, 40.0)],
                   "np.copyto": [(1000, 0.5), (10000, 5.0)]}}
    page = render.page(data, {"cumsum": "perf-cumsum.svg"})
    assert "| cumsum n=10000 | 8 s | numpy.cumsum | 40 s | 5x | 1.6x (5 s) |" in page
    assert "![cumsum](img/perf-cumsum.svg)" in page
    assert "| start-up | import scanwise | 50 ms |" in page


def test_plot_writes_a_stable_svg(tmp_path):
    pytest.importorskip("matplotlib")
    lines = {"scanwise": [(10, 1e-3), (100, 5e-3)], "np.copyto": [(10, 5e-4), (100, 3e-3)]}
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    render.plot("cumsum", lines, a)
    render.plot("cumsum", lines, b)
    assert a.read_text().startswith("<?xml") and a.read_text() == b.read_text()


def test_splice_replaces_only_the_marked_block():
    text = f"intro\n{render.START}\nold\n{render.END}\nrest\n"
    assert render.splice(text, "new\n") == f"intro\n{render.START}\nnew\n{render.END}\nrest\n"
    with pytest.raises(ValueError, match="no"):
        render.splice("no markers", "x")


def test_recorder_refuses_bad_figures(monkeypatch):
    monkeypatch.delenv("SCANWISE_BENCH_RESULTS", raising=False)
    rec = _results.Recorder("x", argv=["b.py"])
    with pytest.raises(ValueError, match="role"):
        rec.add("c", "m", 1.0, role="best")
    with pytest.raises(ValueError, match="number"):
        rec.add("c", "m", float("nan"), role="peer")
    assert rec.save() is None  # no file asked for: nothing written


def test_fmt():
    assert render.fmt_time(1.234) == "1.23 s"
    assert render.fmt_time(0.0123) == "12.3 ms"
    assert render.fmt_time(4.5e-5) == "45 µs"
    assert render.fmt_ratio(3.14159) == "3.1x" and render.fmt_ratio(16.04) == "16x"
