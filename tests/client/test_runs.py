"""Runs through the client and the CLI, on the demo's 30 daily retrains (real Neo4j, real API)."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver

from mllineage.client import LineageClient
from mllineage.client.demo import daily_precision, load_demo
from mllineage.local import LocalApi
from tests.client.test_cli import cli

TRAIN = "TrainingJob:default:churn-xgb-train"


@pytest.fixture
def demo(live_server: LocalApi, empty_graph: Driver) -> Iterator[LineageClient]:
    with LineageClient(live_server.url) as lineage:
        load_demo(lineage)
        yield lineage


def test_runs_frame_has_a_row_a_run_and_a_column_a_param_and_metric(
    demo: LineageClient,
) -> None:
    table = demo.runs(TRAIN)
    assert len(table) == 30 and table["started_at"].is_monotonic_decreasing
    assert isinstance(table["started_at"].dtype, pd.DatetimeTZDtype)
    assert str(table["started_at"].dtype.tz) == "UTC"
    assert {"params.max_depth", "metrics.precision", "metrics.auc", "env.xgboost"} <= set(table)
    daily = table[table["experiment"] == "churn-daily-retrain"]
    expected = daily_precision()
    assert (
        dict(zip(daily["started_at"].dt.day, daily["metrics.precision"], strict=True)) == expected
    )
    built = demo.runs(produced="Model:default:churn-xgb@3")
    assert list(built["id"]) == ["tj-churn-3"] and built["params.max_depth"].item() == 8
    experiments = demo.experiments()
    assert experiments.loc[0, "name"] == "churn-daily-retrain" and experiments.loc[0, "runs"] == 27


def test_metric_history_and_its_plot(demo: LineageClient, tmp_path: Path) -> None:
    history = demo.metric_history(TRAIN, "precision")
    assert len(history) == 30 and history.index.is_monotonic_increasing
    assert history.iloc[-1] == 0.74 and history.name == "precision"
    png = tmp_path / "precision.png"
    figure = demo.plot_metric(TRAIN, "precision", png)
    width, height = struct.unpack(">II", png.read_bytes()[16:24])  # the PNG's IHDR
    assert (width, height) == tuple(int(v * figure.dpi) for v in figure.get_size_inches())
    line = figure.axes[0].lines[0]
    assert list(line.get_ydata()) == list(history)


def test_compare_runs_shows_what_differs(demo: LineageClient) -> None:
    table = demo.compare_runs(["tj-churn-3", "tj-churn-4"])
    assert table.loc["params.max_depth"].tolist() == [8, 10]
    assert table.loc["metrics.auc"].tolist() == [0.86, 0.88]
    assert "inputs" not in table.index  # both read the same training set
    run = demo.run("tj-churn-4")
    assert [o["uid"] for o in run["outputs"]] == ["Model:default:churn-xgb@4"]


def test_drift_names_the_upstream_change_and_exits_1(demo: LineageClient) -> None:
    report = demo.drift(TRAIN, "precision")
    assert report.drifted and report.last_good["id"] == "tj-churn-daily-1129"
    [change] = report.upstream
    assert "customer-features" in change and "'30d' -> '7d'" in change
    assert "'a1c3e5f' -> '9b2d4f7'" in change and "FeatureGroup:default:customers" in change

    alert = cli("drift", TRAIN, "--metric", "precision", url=demo.url)
    assert alert.returncode == 1, alert.stderr
    assert "DRIFT" in alert.stdout and "params.window: '30d' -> '7d'" in alert.stdout
    quiet = cli("drift", TRAIN, "--metric", "precision", "--min-drop", "0.2", url=demo.url)
    assert quiet.returncode == 0 and "ok: inside the band" in quiet.stdout
    as_json = json.loads(cli("drift", TRAIN, "-m", "precision", "--json", url=demo.url).stdout)
    assert as_json["drifted"] and as_json["newest"]["id"] == "tj-churn-daily-1130"


@pytest.mark.parametrize(
    "args",
    [
        ["drift", TRAIN],  # no --metric
        ["drift", TRAIN, "-m", "precision", "--sigma", "2", "--min-drop", "0.1"],
        ["drift", TRAIN, "-m", "precision", "--window", "1"],
        ["drift", "TrainingJob:default:nope", "-m", "precision"],
    ],
)
def test_drift_exits_2_when_it_cannot_check(demo: LineageClient, args: list[str]) -> None:
    assert cli(*args, url=demo.url).returncode == 2


def test_runs_command_lists_and_plots(demo: LineageClient, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    listed = cli("runs", "churn-xgb-train", "-m", "precision", "--limit", "3", "--plot",
                 str(png), url=demo.url)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "tj-churn-daily-1130" in lines[2] and "0.74" in lines[2] and len(lines) == 6
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = json.loads(cli("runs", TRAIN, "--json", "--limit", "2", url=demo.url).stdout)
    assert [r["id"] for r in raw] == ["tj-churn-daily-1130", "tj-churn-daily-1129"]
    assert pd.Timestamp(raw[0]["started_at"]).day == 30
