"""The ``mllineage`` command, run as a user runs it, against a running server and Neo4j."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from mllineage.client import LineageClient
from mllineage.local import LocalApi, LocalNeo4j, free_port
from mllineage.settings import Settings
from tests.events import entity, event
from tests.helpers import TEST_PASSWORD, dump_graph, local_settings

OPENLINEAGE = Path(__file__).parents[1] / "fixtures" / "openlineage"
MLLINEAGE = [sys.executable, "-m", "mllineage.cli"]


def cli(*args: str, url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MLLINEAGE, *args],
        env={**os.environ, "MLLINEAGE_URL": url},
        capture_output=True, text=True, timeout=120, input=stdin,
    )  # fmt: skip


@pytest.fixture
def demo(live_server: LocalApi, empty_graph: Driver) -> str:
    """The URL of the live service, loaded with the demo lineage."""
    loaded = cli("demo", url=live_server.url)
    assert loaded.returncode == 0, loaded.stderr
    return live_server.url


def test_demo_is_idempotent_and_impact_prints_models_and_endpoints(
    demo: str, empty_graph: Driver
) -> None:
    once = dump_graph(empty_graph)
    again = cli("demo", url=demo)
    assert "(0 new)" in again.stdout and dump_graph(empty_graph) == once

    impact = cli("impact", "FeatureGroup:default:customers", url=demo)
    assert impact.returncode == 0, impact.stderr
    for name in ("churn-xgb@4", "fraud-gbm@1", "churn-prod", "fraud-realtime", "team-risk"):
        assert name in impact.stdout
    as_json = cli("impact", "FeatureGroup:default:customers", "--json", url=demo)
    # churn-prod and fraud-realtime; churn-prod-old was retired when churn-prod took over
    assert json.loads(as_json.stdout)["counts"]["Endpoint"] == 2

    walk = cli("lineage", "Model:default:churn-xgb@4", "--direction", "upstream",
               "--kinds", "FeatureGroup", "--depth", "4", url=demo)  # fmt: skip
    assert walk.returncode == 0 and "customers" in walk.stdout and "engagement" in walk.stdout
    missing = cli("impact", "FeatureGroup:default:nope", url=demo)
    assert missing.returncode == 1 and "404" in missing.stderr


def test_demo_replaces_churn_xgb_3_with_4_and_live_impact_counts_only_4(demo: str) -> None:
    live = cli("impact", "FeatureGroup:default:customers", "--live", url=demo)
    assert live.returncode == 0, live.stderr
    assert "churn-xgb@4" in live.stdout and "churn-xgb@3" not in live.stdout
    report = json.loads(
        cli("impact", "FeatureGroup:default:customers", "--live", "--json", url=demo).stdout
    )
    models = {m["name"]: m for m in report["models"]}
    assert "churn-xgb@4" in models and "churn-xgb@3" not in models
    assert models["churn-xgb@4"]["live"] is True

    with LineageClient(demo) as client:
        everything = client.impact_report("FeatureGroup:default:customers", include_retired=True)
        walk = client.lineage_graph("Model:default:churn-xgb@3", include_retired=True)
        old = client.entity("Model:default:churn-xgb@3", include_retired=True)
    assert "churn-xgb@3" in {m["name"] for m in everything["models"]}
    assert old["retired_at"] == "2026-11-06T12:00:00Z"
    assert old["replaced_by"] == "Model:default:churn-xgb@4" and old["deprecated"] is True
    ended = {e["target"]: e["ended_at"] for e in walk["edges"] if e["source"] == old["uid"]}
    assert ended["Endpoint:default:churn-prod"] == "2026-11-06T12:00:00Z"
    shown = cli("impact", "customers", "--include-retired", url=demo)
    assert shown.returncode == 0 and "churn-xgb@3" in shown.stdout, shown.stderr


def test_ingest_lands_every_valid_line_and_reports_each_bad_one(
    live_server: LocalApi, empty_graph: Driver, tmp_path: Path
) -> None:
    good = [
        event(entity("FeatureQuery", f"q{i}"), [entity("FeatureGroup", "g")],
              [entity("Dataset", f"d{i}")])
        for i in range(4)
    ]  # fmt: skip
    bad = event(entity("FeatureQuery", "q-bad"), [entity("Endpoint", "e")], [])
    openlineage = json.loads((OPENLINEAGE / "query_complete.json").read_text())
    lines = [good[0], good[1], good[2], bad, openlineage]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\n{not json\n")

    done = cli("ingest", str(path), "--batch-size", "2", url=live_server.url)
    assert done.returncode == 1
    bad_line, bad_json = done.stderr.splitlines()  # each bad line, in one format
    assert bad_line.startswith(f"{path}:4: inputs[0]: Endpoint is a process")
    assert bad_json.startswith(f"{path}:6: invalid JSON: Expecting property name")
    assert "ingested 4 events" in done.stdout and "2 failed" in done.stdout
    uids = {p["uid"] for _, p in dump_graph(empty_graph)["nodes"]}
    assert {f"FeatureQuery:default:q{i}" for i in range(3)} <= uids  # q2 shares the bad batch
    assert "FeatureQuery:default:q-bad" not in uids
    assert "FeatureQuery:default:feature-jobs/churn_training_set" in uids  # OpenLineage line


def test_find_lists_the_entities_whose_name_contains_the_text(demo: str) -> None:
    models = cli("find", "churn", "--kind", "Model", url=demo)
    assert models.returncode == 0, models.stderr
    rows = [line.split() for line in models.stdout.splitlines()]
    assert rows[0] == ["uid", "kind", "name", "owner", "state"]
    assert [row[0] for row in rows[2:]] == ["Model:default:churn-xgb@4"]  # @2, @3 retired
    retired = cli("find", "churn", "--kind", "Model", "--include-retired", url=demo)
    states = {row[0]: " ".join(row[4:]) for row in map(str.split, retired.stdout.splitlines()[2:])}
    assert states == {
        "Model:default:churn-xgb@2": "retired 2026-11-03",
        "Model:default:churn-xgb@3": "retired 2026-11-06",
        "Model:default:churn-xgb@4": "live",
    }
    assert all(line == line.rstrip() for line in models.stdout.splitlines())

    everything = cli("find", "churn", url=demo)
    assert "TrainingJob:default:churn-xgb-train" in everything.stdout
    assert "Endpoint:default:churn-prod" in everything.stdout
    nothing = cli("find", "zzz", url=demo)
    assert nothing.returncode == 0 and "no entity" in nothing.stdout
    bad_kind = cli("find", "churn", "--kind", "Modle", url=demo)
    assert bad_kind.returncode == 2 and "Model" in bad_kind.stderr


def test_names_stand_for_uids_and_unknown_uids_get_the_closest(demo: str) -> None:
    impact = cli("impact", "customers", url=demo)
    assert impact.returncode == 0, impact.stderr
    assert "Changing FeatureGroup:default:customers affects" in impact.stdout
    walk = cli("lineage", "churn-xgb@4", "--direction", "upstream", "--depth", "1", url=demo)
    assert walk.returncode == 0 and "churn-xgb-train" in walk.stdout

    missing = cli("lineage", "Model:default:churn-xgb", url=demo)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "404" in missing.stderr and "did you mean" in missing.stderr
    assert "Model:default:churn-xgb@4" in missing.stderr
    typo = cli("impact", "custmers", url=demo)
    assert typo.returncode == 1 and "FeatureGroup:default:customers" in typo.stderr

    with LineageClient(demo) as client:
        client.upsert(nodes=[{"kind": "Dataset", "name": "customers"}])
    ambiguous = cli("impact", "customers", url=demo)
    assert ambiguous.returncode == 1 and not ambiguous.stdout
    assert "Dataset:default:customers" in ambiguous.stderr
    assert "FeatureGroup:default:customers" in ambiguous.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(demo: str) -> None:
    """``mllineage impact UID | head``: the pipe closes before the command writes."""
    for args in (["impact", "customers"], ["impact", "customers", "--json"], ["find", "a"]):
        process = subprocess.Popen(
            [*MLLINEAGE, *args],
            env={**os.environ, "MLLINEAGE_URL": demo},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        process.stdout.close()
        _, stderr = process.communicate(timeout=120)
        assert stderr == "", stderr
        assert process.returncode in (0, 1)


def _server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLINEAGE_")}
    return {
        **env,
        "MLLINEAGE_NEO4J_URI": settings.neo4j_uri,
        "MLLINEAGE_NEO4J_USER": settings.neo4j_user,
        "MLLINEAGE_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        **extra,
    }


def test_serve_without_a_key_says_what_to_do(settings: Settings) -> None:
    served = subprocess.run(
        [*MLLINEAGE, "serve"], env=_server_env(settings, MLLINEAGE_AUTH="on"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert served.returncode == 2
    assert served.stderr.count("\n") == 1 and "Traceback" not in served.stderr
    assert "mllineage keys create" in served.stderr and "MLLINEAGE_AUTH=off" in served.stderr


def _serve(env: dict[str, str], *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*MLLINEAGE, "serve", *flags], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not become ready on {url}")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def test_serve_takes_host_and_port_from_the_environment_or_flags(settings: Settings) -> None:
    port, flag_port = free_port(), free_port()
    env = _server_env(
        settings, MLLINEAGE_AUTH="off", MLLINEAGE_HOST="127.0.0.1", MLLINEAGE_PORT=str(port)
    )
    from_env = _serve(env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", from_env)
    finally:
        output = _stop(from_env)
    assert f"API docs:      http://127.0.0.1:{port}/docs" in output
    assert output.lower().count("authentication is off") == 1, output

    from_flag = _serve(env, "--port", str(flag_port))
    try:
        _wait_ready(f"http://127.0.0.1:{flag_port}", from_flag)
    finally:
        _stop(from_flag)


def test_serve_uses_a_local_neo4j_that_already_runs_and_leaves_it_running(
    tmp_path: Path,
) -> None:
    settings = local_settings(tmp_path / "neo4j")
    server = LocalNeo4j(settings)
    server.start()
    try:
        port = free_port()
        env = _server_env(
            settings,
            MLLINEAGE_AUTH="off",
            MLLINEAGE_PORT=str(port),
            MLLINEAGE_NEO4J_PASSWORD=TEST_PASSWORD,
            MLLINEAGE_NEO4J_INSTANCE_DIR=str(settings.neo4j_instance_dir),
            MLLINEAGE_NEO4J_BOLT_PORT=str(settings.neo4j_bolt_port),
            MLLINEAGE_NEO4J_HTTP_PORT=str(settings.neo4j_http_port),
        )
        process = _serve(env, "--local-neo4j")
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process)
        finally:
            output = _stop(process)
        assert "already running" in output and "starting" not in output, output
        assert server.status().running  # serve stops only a server it started
    finally:
        server.stop()
