"""`mllineage sync mlflow` on a big tracking server, and the registry webhook's answer time.

    python -m bench.mlflow_sync --runs 10000 --versions 1000

The tracking store is filled with MLflow's own SQLAlchemy store (sqlite), then served by a real
`mlflow server`. Baselines, measured in the same run: reading the same experiments, runs,
versions and aliases with MLflow's client (the floor of any sync), and for the webhook a plain
`POST /v1/graph` of the nodes and edge one alias move writes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.stack import running_stack
from mllineage.client import LineageClient
from mllineage.ingest import mlflow as registry
from mllineage.integrations import mlflow as sync_mlflow
from mllineage.local import free_port

SECRET = "bench-secret"


def fill(db: str, artifacts: str, runs: int, versions: int) -> None:
    """``runs`` runs over 10 experiments (params, metrics, a git commit, a dataset input of 50
    sources) and ``versions`` versions over 10 registered models, each with a champion."""
    from mlflow.entities import (
        Dataset,
        DatasetInput,
        InputTag,
        Metric,
        Param,
        RunStatus,
        RunTag,
    )
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    tracking, registry = SqlAlchemyStore(db, artifacts), Registry(db)
    experiments = [tracking.create_experiment(f"exp-{i}") for i in range(10)]
    now = int(time.time() * 1000) - runs * 1000
    run_ids = []
    for i in range(runs):
        run = tracking.create_run(experiments[i % 10], "bench", now + i * 1000, [], f"run-{i}")
        tracking.log_batch(
            run.info.run_id,
            metrics=[Metric("precision", 0.8 + (i % 100) / 1000, now + i * 1000, 0)],
            params=[Param("max_depth", str(i % 9)), Param("lr", "0.1")],
            tags=[RunTag("mlflow.source.git.commit", f"{i:040x}")],
        )
        source = json.dumps({"uri": f"s3://bench-lake/tables/t{i % 50}"})
        dataset = Dataset(f"t{i % 50}", "d1", "s3", source)
        tracking.log_inputs(run.info.run_id, [DatasetInput(dataset, [InputTag("k", "v")])])
        tracking.update_run_info(run.info.run_id, RunStatus.FINISHED, now + i * 1000 + 500, None)
        run_ids.append(run.info.run_id)
    for m in range(10):
        registry.create_registered_model(f"model-{m}")
    for v in range(versions):
        registry.create_model_version(f"model-{v % 10}", "s3://bench-models/x", run_ids[v])
    for m in range(10):
        registry.set_registered_model_alias(f"model-{m}", "champion", "1")


@contextmanager
def mlflow_server(db: str, artifacts: str) -> Iterator[str]:
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")), "server", "--backend-store-uri", db,
        "--default-artifact-root", artifacts, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    try:
        for _ in range(360):
            try:
                if httpx.get(f"{uri}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield uri
    finally:
        server.terminate()
        server.wait(30)


def read_everything(uri: str) -> int:
    """What any sync must read, with MLflow's client: the floor."""
    from mlflow import MlflowClient

    client, count = MlflowClient(uri), 0
    for experiment in client.search_experiments():
        token = None
        while True:
            page = client.search_runs(
                [experiment.experiment_id], max_results=1000, page_token=token
            )
            count += len(page)
            if not (token := page.token):
                break
    token = None
    while True:
        page = client.search_model_versions(max_results=200, page_token=token)
        count += len(page)
        if not (token := page.token):
            break
    return count + len(client.search_registered_models())


def signed(payload: dict[str, Any]) -> dict[str, Any]:
    """A delivery signed as MLflow signs it (``ingest.mlflow.signed``)."""
    body = json.dumps(payload)
    delivery, at = str(uuid.uuid4()), str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": at,
        "X-MLflow-Signature": registry.signed(SECRET, delivery, at, body.encode()),
    }
    return {"content": body, "headers": headers}


def webhook_ms(url: str, moves: int) -> tuple[list[float], list[float]]:
    """Alias moves through the webhook, and the plain upsert of the same nodes and edge."""
    hook, plain = [], []
    with httpx.Client(timeout=60) as http:
        for i in range(moves):
            version = str(1 + i % 2)
            move = {
                "entity": "model_version_alias",
                "action": "created",
                "timestamp": datetime.now(UTC).isoformat(),
                "data": {"name": "hooked", "alias": "champion", "version": version},
            }
            start = time.perf_counter()
            assert http.post(f"{url}/v1/hooks/mlflow", **signed(move)).status_code == 200
            hook.append((time.perf_counter() - start) * 1000)
            upsert = {
                "nodes": [{"kind": "Endpoint", "name": "plain@champion"},
                          {"kind": "Model", "name": f"plain@{version}"}],
                "edges": [{"source": f"Model:default:plain@{version}",
                           "target": "Endpoint:default:plain@champion", "type": "ContributedTo"}],
            }  # fmt: skip
            start = time.perf_counter()
            assert http.post(f"{url}/v1/graph", json=upsert).status_code == 200
            plain.append((time.perf_counter() - start) * 1000)
    return hook, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mllineage-mlflow-") as folder:
        db, artifacts = f"sqlite:///{folder}/mlflow.db", f"{folder}/artifacts"
        start = time.perf_counter()
        fill(db, artifacts, args.runs, args.versions)
        filled = time.perf_counter() - start
        print(f"filled {args.runs} runs, {args.versions} versions in {filled:.0f} s")
        secret = SecretStr(SECRET)
        with mlflow_server(db, artifacts) as uri, running_stack(mlflow_webhook_secret=secret) as (
            _settings, _neo4j, api,
        ):  # fmt: skip
            read_everything(uri)  # the server's first answers load its modules: not timed
            start = time.perf_counter()
            read = read_everything(uri)
            floor = time.perf_counter() - start
            with LineageClient(api.url) as client:
                start = time.perf_counter()
                first = sync_mlflow.sync(client, uri)
                first_s = time.perf_counter() - start
                start = time.perf_counter()
                sync_mlflow.sync(client, uri)
                second_s = time.perf_counter() - start
            hook, plain = webhook_ms(api.url, args.moves)
    print(f"read with MLflow's client (floor): {read} objects in {floor:.1f} s")
    print(f"sync, first pass: {first.runs} runs, {first.versions} versions in {first_s:.1f} s "
          f"({first_s / floor:.2f}x the floor)")  # fmt: skip
    print(f"sync, second pass (nothing new): {second_s:.1f} s ({second_s / floor:.2f}x)")
    hook_ms, plain_ms = statistics.median(hook), statistics.median(plain)
    print(f"webhook alias move: median {hook_ms:.1f} ms; plain POST /v1/graph of the same "
          f"nodes and edge: {plain_ms:.1f} ms ({hook_ms / plain_ms:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
