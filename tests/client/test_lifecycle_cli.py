"""Lifecycle through the client and the CLI: the calls, the views on reads, what-if as a
DataFrame, and `mllineage check --retire` as a CI gate (exit 0, 1 or 2)."""

from __future__ import annotations

import subprocess

import pytest
from neo4j import Driver

from mllineage.client import LineageAPIError, LineageClient
from mllineage.local import LocalApi
from tests import docs
from tests.client.test_cli import cli

DS, JOB, OLD, NEW, EP = (
    "DataSource:default:raw", "TrainingJob:default:train", "Model:default:m@1",
    "Model:default:m@2", "Endpoint:default:prod",
)  # fmt: skip


def test_lifecycle_with_the_client_and_the_gate(live_server: LocalApi, empty_graph: Driver) -> None:
    with LineageClient(live_server.url) as client:
        nodes = [{"kind": u.split(":")[0], "name": u.split(":")[2], "owner": "ml"}
                 for u in (DS, JOB, OLD, NEW, EP)]  # fmt: skip
        edges = [
            {"source": DS, "target": JOB, "type": "ContributedTo"},
            {"source": JOB, "target": OLD, "type": "Produced"},
            {"source": JOB, "target": NEW, "type": "Produced"},
            {"source": OLD, "target": EP, "type": "ContributedTo"},
        ]
        client.upsert(nodes, edges, event_time="2026-11-01T00:00:00Z")
        # A new version deployed, the old one's serving edge ended, the old one retired.
        deployed = [{"source": NEW, "target": EP, "type": "ContributedTo"}]
        client.upsert(edges=deployed, event_time="2026-11-02T00:00:00Z")
        client.end_edges(edges[3:], event_time="2026-11-02T00:00:00Z")
        client.deprecate(OLD, "superseded", replaced_by=NEW, event_time="2026-11-02T00:00:00Z")
        client.retire(OLD, "superseded", event_time="2026-11-03T00:00:00Z")

        live = client.impact(JOB, live=True)
        assert list(live["uid"]) == [NEW, EP] and live.attrs["live_endpoints"] == 1
        before = client.impact(JOB, as_of="2026-11-01T12:00:00Z")
        assert set(before["uid"]) == {OLD, NEW, EP}
        assert client.entity(OLD, include_retired=True)["replaced_by"] == NEW
        assert list(client.entities(kind="Model")["uid"]) == [NEW]
        assert list(client.entities(kind="Model", as_of="2026-11-02T12:00:00Z")["uid"]) == [
            OLD, NEW,
        ]  # fmt: skip
        assert list(client.lineage(DS, include_retired=True)["uid"]) == [JOB, OLD, NEW, EP]
        frame = client.what_if([DS])
        assert list(frame["uid"]) == [EP, NEW] and frame.attrs["live_endpoints"] == 1
        assert list(frame["loses"]) == [DS, DS]
        client.restore(OLD, event_time="2026-11-04T00:00:00Z")
        assert OLD in set(client.lineage(DS)["uid"])
        with pytest.raises(LineageAPIError) as missing:
            client.retire("Model:default:m@9")
        assert missing.value.status == 404

    hit = cli("check", "--retire", DS, url=live_server.url)
    assert hit.returncode == 1, hit.stderr
    assert "1 live endpoint" in hit.stdout and "prod" in hit.stdout
    safe = cli("check", "--retire", OLD, url=live_server.url)
    assert safe.returncode == 0 and "0 live endpoint" in safe.stdout
    bad = cli("check", "--retire", "Model:default:nope", url=live_server.url)
    assert bad.returncode == 2 and "nope" in bad.stderr
    assert cli("check", "--retire", "not-a-uid", url=live_server.url).returncode == 2
    assert cli("retire", NEW, "--at", "2026-11-05T00:00:00Z", url=live_server.url).returncode == 0
    assert cli("check", "--retire", DS, url=live_server.url).returncode == 0
    shown = cli("impact", JOB, "--live", url=live_server.url)
    assert shown.returncode == 0 and "live endpoints hit: 0" in shown.stdout


def test_the_readme_lifecycle_examples_run_as_written(
    live_server: LocalApi, empty_graph: Driver
) -> None:
    """Every curl of docs/lifecycle.md's first example, after `mllineage demo`, answers 2xx."""
    section = docs.page("docs/lifecycle.md").split("# Lifecycle and time", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    assert block.count("curl -s ") == 9
    assert cli("demo", url=live_server.url).returncode == 0
    script = "set -e\n" + block.replace("http://127.0.0.1:8000", live_server.url).replace(
        "curl -s ", "curl -sS -f "
    )
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert '"live_endpoints":' in ran.stdout
