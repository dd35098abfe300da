"""The main job runs end to end (small sizes) and its numbers are real measurements."""

from __future__ import annotations

import numpy as np
import pytest

from scanwise import cli, demo


def test_demo_quick_runs_and_writes_chart(tmp_path, capsys):
    png = tmp_path / "chart.png"
    assert cli.main(["demo", "--quick", "--png", str(png)]) == 0
    text = capsys.readouterr().out
    assert "scanwise.cumsum" in text and str(png) in text
    assert png.stat().st_size > 1000


def test_demo_discount_matrix_recipe_agrees_with_scanwise():
    import scanwise

    r = np.random.default_rng(1).standard_normal(300)
    np.testing.assert_allclose(
        demo._discount_matrix_returns(r, 0.97),
        scanwise.discounted_cumsum(r, 0.97, reverse=True),
        rtol=1e-10,
        atol=1e-10,
    )


@pytest.mark.xdist_group("dask")
def test_demo_on_a_local_dask_cluster(capsys):
    pytest.importorskip("distributed")
    assert cli.main(["demo", "--quick", "--scheduler", "local"]) == 0
    text = capsys.readouterr().out
    assert "scanwise.cumsum" in text and "dask.array.cumsum" in text
    diffs = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if "rel. diff" in line]
    assert len(diffs) == 2 and max(diffs) < 1e-9
