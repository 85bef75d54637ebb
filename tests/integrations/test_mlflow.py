"""A real `mlflow server` (sqlite backend, started here like Neo4j), written to by MLflow's own
client as a training script would, then synced with `mllineage sync mlflow`. Every
expectation is read off MLflow's client (the oracle), never off our mapping. Feast's own
events for its template (tests/fixtures/feast) stand for the feature store the runs read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from pydantic import SecretStr

from mllineage.client import LineageClient
from mllineage.local import LocalApi, free_port
from mllineage.settings import Settings
from tests import docs
from tests.helpers import dump_graph

mlflow = pytest.importorskip("mlflow", reason="the dev extra has mlflow: pip install -e '.[dev]'")

pytestmark = pytest.mark.timeout(900)
FEAST_EVENTS = Path(__file__).parents[1] / "fixtures" / "feast" / "template"
TRAINING_DATA = "s3://acme-lake/datasets/churn/2026-11-03"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "MLFLOW_ENABLE_ASYNC_LOGGING": "false"}
# What a local MLflow needs to deliver webhooks to a loopback address (docs/mlflow.md).
SERVER_ENV = {
    **ENV,
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    # MLflow caches each event's webhooks for 60 s: the other test's alias events, before the
    # webhook existed, would hide it from this one's for that long.
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
}
SECRET = "whsec-mllineage-test"


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server with its registry, on a free port."""
    yield from mlflow_server(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture
def webhook_tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own for the webhook test: no other test's events in its caches."""
    yield from mlflow_server(tmp_path_factory.mktemp("mlflow-hooks"))


def mlflow_server(root: Path) -> Iterator[str]:
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")), "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=SERVER_ENV)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{uri}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (root / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 180 s"
            time.sleep(0.5)
        yield uri
    finally:
        server.terminate()
        server.wait(30)


class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context: Any, model_input: Any) -> Any:
        return model_input


def train(tracking_uri: str) -> dict[str, Any]:
    """Three training runs of `churn` reading a dataset and a Feast service, each registered
    as a version of churn-model, the champion alias on version 2; one `fraud` run whose
    model is logged but not registered."""
    import pandas as pd

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("churn")
    frame = pd.DataFrame({"tenure": [1, 2, 3], "churned": [0, 1, 0]})
    for i in range(3):
        with mlflow.start_run(run_name=f"train-{i}"):
            data = mlflow.data.from_pandas(frame, source=TRAINING_DATA, name="churn-train")
            mlflow.log_input(data, context="training")
            mlflow.log_params({"max_depth": 4 + i, "learning rate": 0.1})
            for step in range(3):
                mlflow.log_metric("precision", 0.80 + i / 100 + step / 1000, step=step)
            mlflow.set_tags({
                "feast.project": "driver_repo", "feast.feature_service": "driver_activity_v1",
                "mlflow.source.git.commit": f"c0ffee{i}",
            })  # fmt: skip
            model = mlflow.pyfunc.log_model(name="model", python_model=Echo())
            mlflow.register_model(model.model_uri, "churn-model")
    client = mlflow.MlflowClient(tracking_uri)
    client.set_registered_model_alias("churn-model", "champion", "2")
    mlflow.set_experiment("fraud")
    with mlflow.start_run(run_name="fraud-baseline") as fraud:
        mlflow.log_metric("auc", 0.9)
        logged = mlflow.pyfunc.log_model(name="fraud", python_model=Echo())
    return {"fraud_model": logged.model_id, "fraud_run": fraud.info.run_id}


def sync_command(tracking_uri: str, *flags: str) -> list[str]:
    return [sys.executable, "-m", "mllineage.cli", "sync", "mlflow",
            "--tracking-uri", tracking_uri, *flags]  # fmt: skip


def sync(server: LocalApi, tracking_uri: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sync_command(tracking_uri, *flags),
        env={**ENV, "MLLINEAGE_URL": server.url}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def cli(server: LocalApi, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mllineage.cli", *args],
        env={**ENV, "MLLINEAGE_URL": server.url}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def run_the_page(server: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/mlflow.md's examples, on this data: its Python, then its commands."""
    page = docs.page("docs/mlflow.md")
    section = page.split("## The questions, on that data", 1)[1]
    examples = re.findall(r"^```py\n(.*?)^```$", section, re.M | re.S)
    [commands] = re.findall(r"^```sh\n(.*?)^```$", section, re.M | re.S)
    assert examples and commands
    monkeypatch.setenv("MLLINEAGE_URL", server.url)
    for example in examples:
        exec(compile(example, "docs/mlflow.md", "exec"), {})
    for line in commands.splitlines():
        words = shlex.split(line, comments=True)
        done = cli(server, *words[1:])
        expected = {"check": (1,), "drift": (0, 1)}.get(words[1], (0,))
        assert done.returncode in expected and done.stdout.strip(), (line, done.stderr)


def test_an_mlflow_server_lands_joined_to_its_data_and_features(
    tracking_uri: str, live_server: LocalApi, empty_graph: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in sorted(FEAST_EVENTS.iterdir()):  # Feast's own events: the feature store
        event = json.loads(path.read_text())
        reply = httpx.post(f"{live_server.url}/api/v1/lineage", json=event, timeout=60)
        assert reply.status_code == 201, reply.text
    trained = train(tracking_uri)
    oracle = mlflow.MlflowClient(tracking_uri)
    first = sync(live_server, tracking_uri)
    assert first.returncode == 0, first.stderr
    churn = oracle.get_experiment_by_name("churn")
    runs = oracle.search_runs([churn.experiment_id])
    with LineageClient(live_server.url) as client:
        synced = client.runs("TrainingJob:default:churn")
        assert set(synced["id"]) == {r.info.run_id for r in runs}
        for run in runs:
            row = synced[synced["id"] == run.info.run_id].iloc[0]
            assert row["metrics.precision"] == run.data.metrics["precision"]
            assert str(row["params.max_depth"]) == run.data.params["max_depth"]
            assert row["code.commit"] == run.data.tags["mlflow.source.git.commit"]
        versions = oracle.search_model_versions("name='churn-model'")
        impact = client.impact(f"DataSource:default:{TRAINING_DATA}")
        models = set(impact[impact["role"] == "models"]["name"])
        assert models == {f"churn-model@{v.version}" for v in versions}
        assert impact.attrs["live_endpoints"] == 1
        assert client.entity(f"Model:default:models:/{trained['fraud_model']}")["kind"] == "Model"
    # A Feast view the training runs read (through their service) serves the champion.
    gate = cli(live_server, "check", "--retire", "FeatureGroup:driver_repo:driver_hourly_stats")
    assert gate.returncode == 1 and "churn-model@champion" in gate.stdout, gate.stdout
    drift = cli(live_server, "drift", "churn", "--metric", "precision")
    assert drift.returncode in (0, 1), drift.stderr
    runs_table = cli(live_server, "runs", "churn", "--metric", "precision")
    assert all(r.info.run_id in runs_table.stdout for r in runs)
    run_the_page(live_server, monkeypatch)

    before = dump_graph(empty_graph)
    again = sync(live_server, tracking_uri)
    assert again.returncode == 0, again.stderr
    assert dump_graph(empty_graph) == before  # a second pass writes nothing new
    killed = subprocess.Popen(
        sync_command(tracking_uri), env={**ENV, "MLLINEAGE_URL": live_server.url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(3)  # reading MLflow, or posting: killed wherever it is
    killed.kill()
    killed.wait()
    assert sync(live_server, tracking_uri).returncode == 0
    assert dump_graph(empty_graph) == before  # a killed sync and the next one: no trace

    moved_at = datetime.now(UTC).isoformat()
    oracle.set_registered_model_alias("churn-model", "champion", "3")
    oracle.delete_model_version("churn-model", "1")
    oracle.delete_run(trained["fraud_run"])  # what only it made goes with it
    third = sync(live_server, tracking_uri)
    assert third.returncode == 0, third.stderr
    assert "churn-model@2 -> Model:default:churn-model@3" in third.stdout
    assert "retired Model:default:churn-model@1" in third.stdout
    assert f"retired Model:default:models:/{trained['fraud_model']}" in third.stdout
    with LineageClient(live_server.url) as client:
        endpoint = "Endpoint:default:churn-model@champion"
        now = client.lineage(endpoint, direction="upstream", depth=1)
        assert set(now[now["kind"] == "Model"]["name"]) == {"churn-model@3"}
        then = client.lineage(endpoint, direction="upstream", depth=1, as_of=moved_at)
        assert set(then[then["kind"] == "Model"]["name"]) == {"churn-model@2"}
        live = client.impact(f"DataSource:default:{TRAINING_DATA}", live=True)
        assert set(live[live["role"] == "models"]["name"]) == {"churn-model@3"}
        retired = client.entity("Model:default:churn-model@1", include_retired=True)
        assert retired["retirement_reason"] == "deleted in MLflow"

    # An incremental pass reads only the runs started since the newest the graph has.
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="train-late") as late:
        mlflow.log_metric("precision", 0.9)
    quick = sync(live_server, tracking_uri, "--incremental")
    assert quick.returncode == 0 and "(incremental)" in quick.stdout, quick.stderr
    read = int(re.search(r"(\d+) runs", quick.stdout).group(1))  # type: ignore[union-attr]
    assert 1 <= read < len(oracle.search_runs([churn.experiment_id])), quick.stdout
    with LineageClient(live_server.url) as client:
        assert late.info.run_id in set(client.runs("churn")["id"])


@pytest.fixture(scope="module")
def hooked(settings: Settings) -> Iterator[LocalApi]:
    """A service that takes MLflow's webhooks signed with SECRET."""
    with LocalApi(settings.model_copy(update={"mlflow_webhook_secret": SecretStr(SECRET)})) as api:
        yield api


def served(api: LocalApi, endpoint: str, as_of: str | None = None) -> set[str]:
    with LineageClient(api.url) as client:
        try:
            walk = client.lineage(endpoint, direction="upstream", depth=1, as_of=as_of)
        except Exception:
            return set()
    return set(walk[walk["kind"] == "Model"]["name"])


def exists(api: LocalApi, uid: str) -> bool:
    return httpx.get(f"{api.url}/v1/entities/{uid}", timeout=30).status_code == 200


def eventually(check: Any, seconds: float = 90) -> None:
    """MLflow delivers in the background (retrying with backoff when it hears no answer on
    a loaded machine): wait for ``check`` to hold."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "MLflow's webhook did not arrive"
        time.sleep(0.3)


def delivery(payload: dict[str, Any] | str, secret: str = SECRET) -> dict[str, Any]:
    """A delivery signed as MLflow's docs say (HMAC-SHA256 of "id.timestamp.body"); a
    string payload is the body as it is."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    delivery_id, timestamp = str(uuid.uuid4()), str(int(time.time()))
    mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": "v1," + base64.b64encode(mac.digest()).decode(),
    }
    return {"content": body, "headers": headers}


def test_registry_webhooks_move_the_endpoint_as_it_happens(
    webhook_tracking_uri: str, hooked: LocalApi, empty_graph: Driver
) -> None:
    oracle = mlflow.MlflowClient(webhook_tracking_uri)
    oracle.create_webhook(
        name="mllineage",
        url=f"{hooked.url}/v1/hooks/mlflow",
        events=[
            "model_version.created", "model_version_alias.created",
            "model_version_alias.deleted", "model_version_tag.set",
        ],
        secret=SECRET,
    )  # fmt: skip
    oracle.create_registered_model("ranker")
    for _ in range(2):
        oracle.create_model_version("ranker", source="s3://acme-models/ranker")
    endpoint = "Endpoint:default:ranker@champion"
    eventually(lambda: exists(hooked, "Model:default:ranker@2"))  # model_version.created
    oracle.set_registered_model_alias("ranker", "champion", "1")
    eventually(lambda: served(hooked, endpoint) == {"ranker@1"})
    before_move = datetime.now(UTC).isoformat()
    oracle.set_registered_model_alias("ranker", "champion", "2")
    eventually(lambda: served(hooked, endpoint) == {"ranker@2"})
    assert served(hooked, endpoint, as_of=before_move) == {"ranker@1"}
    oracle.set_model_version_tag("ranker", "1", "mllineage.deprecated", "superseded by 2")
    with LineageClient(hooked.url) as client:
        eventually(lambda: client.entity("Model:default:ranker@1")["deprecated"])
        assert client.entity("Model:default:ranker@1")["deprecation_reason"] == "superseded by 2"
        oracle.delete_registered_model_alias("ranker", "champion")
        eventually(lambda: served(hooked, endpoint) == set())
        # The edge ends, then the endpoint retires: wait for the second write too.
        reason = "alias deleted in MLflow"
        eventually(
            lambda: client.entity(endpoint, include_retired=True)["retirement_reason"] == reason
        )

    # Unsigned, wrongly signed, stale or replayed deliveries change nothing.
    before = dump_graph(empty_graph)
    move = {
        "entity": "model_version_alias",
        "action": "created",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {"name": "ranker", "alias": "x", "version": "1"},
    }
    hook = f"{hooked.url}/v1/hooks/mlflow"
    unsigned = httpx.post(hook, json=move, timeout=30)
    assert unsigned.status_code == 401 and "X-MLflow-Signature" in unsigned.json()["message"]
    forged = httpx.post(hook, **delivery(move, secret="not-the-secret"), timeout=30)
    assert forged.status_code == 401 and "secret" in forged.json()["message"]
    stale = delivery(move)
    stale["headers"]["X-MLflow-Timestamp"] = str(int(time.time()) - 3600)
    assert httpx.post(hook, **stale, timeout=30).status_code == 401
    assert dump_graph(empty_graph) == before
    signed_once = delivery(move)
    assert httpx.post(hook, **signed_once, timeout=30).json()["applied"] is True
    after = dump_graph(empty_graph)
    replay = httpx.post(hook, **signed_once, timeout=30)
    assert replay.status_code == 200 and replay.json()["applied"] is False
    assert dump_graph(empty_graph) == after
    ignored = delivery({**move, "entity": "prompt", "action": "created", "data": {"name": "p"}})
    assert httpx.post(hook, **ignored, timeout=30).json()["applied"] is False
    # Signed but bad: a clear 422, nothing written.
    deep = '{"data": ' * 5_000 + "null" + "}" * 5_000
    huge = {**move, "data": {"name": "x" * 5_000, "alias": "a", "version": "1"}}
    for bad in (deep, huge, {**move, "data": {"name": "ranker", "alias": "a", "version": "v2"}}):
        answer = httpx.post(hook, **delivery(bad), timeout=30)
        assert answer.status_code == 422, answer.text
    assert dump_graph(empty_graph) == after
