"""Lifecycle through the client and the CLI: the calls, the views on reads, what-if as a
DataFrame, and `mllineage check --retire` as a CI gate (exit 0, 1 or 2)."""

from __future__ import annotations

import subprocess
import time

import pytest
from neo4j import Driver

from mllineage import __version__
from mllineage.client import LineageAPIError, LineageClient
from mllineage.local import LocalApi, free_port
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
    # NEW serves EP: retire says so and waits for --yes.
    unsure = cli("retire", NEW, "--at", "2026-11-05T00:00:00Z", url=live_server.url)
    assert unsure.returncode == 2 and "would hit 1 live endpoint" in unsure.stderr
    assert "prod" in unsure.stdout
    with LineageClient(live_server.url) as client:
        assert client.entity(NEW)["retired_at"] is None  # refused: nothing written
    sure = cli("retire", NEW, "--at", "2026-11-05T00:00:00Z", "--yes", url=live_server.url)
    assert sure.returncode == 0, sure.stderr
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


def test_names_work_in_every_command_and_retired_things_look_retired(
    live_server: LocalApi, empty_graph: Driver
) -> None:
    """On the demo, as a user types them: names as well as uids, live and retired."""
    url = live_server.url
    assert cli("demo", url=url).returncode == 0

    live = cli("impact", "customers", "--live", url=url)
    assert "live endpoints hit: 2" in live.stdout  # churn-prod and fraud-realtime
    everything = cli("impact", "customers", "--include-retired", url=url)
    rows = {line.split()[0]: line for line in everything.stdout.splitlines() if line.strip()}
    assert rows["churn-prod-old"].endswith("retired 2026-11-03")
    assert rows["churn-xgb@3"].endswith("retired 2026-11-06")
    assert rows["churn-xgb@4"].endswith("live")

    hidden = cli("impact", "churn-xgb@3", url=url)
    assert hidden.returncode == 1 and "Model:default:churn-xgb@3" in hidden.stderr
    assert "--include-retired" in hidden.stderr and "include_retired" not in hidden.stderr
    shown = cli("impact", "churn-xgb@3", "--include-retired", url=url)
    assert shown.returncode == 0 and "Model:default:churn-xgb@3" in shown.stdout

    gate = cli("check", "--retire", "churn-xgb@4", url=url)
    assert gate.returncode == 1 and "churn-prod" in gate.stdout
    typo = cli("check", "--retire", "churn-xgb@44", url=url)
    assert typo.returncode == 2 and "churn-xgb@4" in typo.stderr  # the closest, suggested
    metric = cli("drift", "churn-xgb-train", "--metric", "ndgc", url=url)
    assert metric.returncode == 2 and "precision" in metric.stderr

    assert cli("restore", "churn-prod-old", "--at", "2026-11-04T00:00:00Z", url=url).returncode == 0
    ended = cli("end-edge", "fraud-gbm@1", "fraud-realtime", "--at", "2026-11-20T00:00:00Z",
                url=url)  # fmt: skip
    assert ended.returncode == 0, ended.stderr
    assert "fraud-gbm@1" not in cli("impact", "customers", "--live", url=url).stdout
    deprecated = cli("deprecate", "ltv-regressor@1", "--reason", "r", "--replaced-by",
                     "churn-xgb@4", url=url)  # fmt: skip
    assert deprecated.returncode == 0, deprecated.stderr
    purge = cli("purge", "churn-xgb@3", "--yes", url=url)
    assert purge.returncode == 0 and "Model:default:churn-xgb@3" in purge.stdout


def test_the_cli_says_its_version_and_gives_up_soon_on_no_service() -> None:
    assert cli("--version", url="http://127.0.0.1:1").stdout.strip() == f"mllineage {__version__}"
    help_text = cli("impact", "--help", url="http://127.0.0.1:1").stdout
    assert "--as-of TIME" in help_text and "<bool>" not in help_text and "<str>]" not in help_text
    nowhere = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    done = cli("find", "churn", url=nowhere)
    assert time.monotonic() - began < 20  # 3 s of retries and the interpreter's start
    assert done.returncode == 1 and nowhere in done.stderr and "make run" in done.stderr
