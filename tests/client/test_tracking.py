"""``track()`` against the live service: runs land START then COMPLETE or FAIL with what the
block logged, the environment and the git state; with the service down they are spooled and
``mllineage ingest`` sends them later."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy
import pandas
import pytest
from neo4j import Driver

from mllineage.client import LineageAPIError, LineageClient, TrackingWarning
from mllineage.client.capture import environment, git_state, without_credentials
from mllineage.local import LocalApi, free_port
from mllineage.settings import Settings
from tests.events import entity, event

REMOTE = "https://ci-bot:s3cret@git.example.com/acme/churn.git"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: a git repository with a commit, a remote with credentials in
    its URL, and an untracked file (which does not make it dirty)."""
    repo = tmp_path / "churn"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text("print('training')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "train")
    git(repo, "remote", "add", "origin", REMOTE)
    (repo / "notes.txt").write_text("not tracked")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def client(live_server: LocalApi, empty_graph: Driver) -> Iterator[LineageClient]:
    with LineageClient(live_server.url) as lineage:
        yield lineage


def read_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    reply = api.get(f"/v1/runs/{run_id}")
    assert reply.status_code == 200, reply.text
    run: dict[str, Any] = reply.json()
    return run


def expected_code(repo: Path) -> dict[str, Any]:
    """What git itself says of the repository."""
    return {
        "repo_url": "https://git.example.com/acme/churn.git",
        "commit": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "branch", "--show-current"),
        "dirty": bool(git(repo, "status", "--porcelain", "--untracked-files=no")),
    }


def test_a_tracked_block_lands_start_then_complete_with_what_it_logged(
    client: LineageClient, api: httpx.Client, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLLINEAGE_IMAGE", "acme/train:7")
    client.post_event(
        event(entity("FeatureQuery", "make-set"), [], [entity("Dataset", "churn-set")])
    )
    inputs = ["churn-set", "DataSource:default:raw", entity("FeatureGroup", "customers")]
    with client.track("TrainingJob", "churn-train", inputs=inputs, experiment="churn") as run:
        started = read_run(api, run.id)
        run.log_params({"max_depth": numpy.int64(6), "booster": {"eta": 0.1}})
        run.log_param("objective", "binary:logistic")
        run.log_metrics({"precision": numpy.float32(0.5), "rows": 1000})
        run.log_metric("recall", 0.8)
        assert run.add_output("Model", "churn-xgb@5") == "Model:default:churn-xgb@5"
    assert started["status"] == "START" and started["outputs"] == []
    assert started["ended_at"] is None and started["env"]["python"] == platform.python_version()

    done = read_run(api, run.id)
    assert done["status"] == "COMPLETE" and done["process"] == "TrainingJob:default:churn-train"
    assert done["experiment"] == "churn" and done["ended_at"] >= done["started_at"]
    assert done["params"] == {"max_depth": 6, "booster.eta": 0.1, "objective": "binary:logistic"}
    assert done["metrics"] == {"precision": 0.5, "rows": 1000, "recall": 0.8}
    env = done["env"]
    assert env["python"] == platform.python_version() and env["image"] == "acme/train:7"
    assert env["numpy"] == metadata.version("numpy") == numpy.__version__
    assert env["pandas"] == metadata.version("pandas") == pandas.__version__
    assert env["platform"] == platform.platform() and env["host"]
    assert "torch" not in sys.modules and "torch" not in env, "only imported packages count"
    assert done["code"] == expected_code(repo) and done["code"]["dirty"] is False
    assert sorted(i["uid"] for i in done["inputs"]) == [
        "DataSource:default:raw", "Dataset:default:churn-set", "FeatureGroup:default:customers",
    ]  # fmt: skip
    assert [o["uid"] for o in done["outputs"]] == ["Model:default:churn-xgb@5"]
    built = api.get("/v1/runs", params={"produced": "Model:default:churn-xgb@5"}).json()
    assert [r["id"] for r in built["items"]] == [run.id]

    (repo / "train.py").write_text("print('training harder')\n")
    with client.track("TrainingJob", "churn-train") as second:
        pass
    assert second.id != run.id
    code = read_run(api, second.id)["code"]
    assert code == expected_code(repo) and code["dirty"] is True


def test_a_raising_block_fails_the_run_and_the_error_goes_on(
    client: LineageClient, api: httpx.Client, empty_graph: Driver
) -> None:
    with pytest.raises(ZeroDivisionError), client.track("TrainingJob", "t") as run:
        run.add_output("Model", "m@1")
        run.log_metric("loss", 0.3)
        1 / 0  # noqa: B018
    failed = read_run(api, run.id)
    assert failed["status"] == "FAIL" and failed["ended_at"] is not None
    assert failed["error_message"] == "ZeroDivisionError: division by zero"
    assert failed["metrics"] == {"loss": 0.3} and failed["outputs"] == []
    assert api.get("/v1/entities/Model:default:m@1").status_code == 404, "a failed run wrote it"

    with (
        pytest.raises(TypeError, match="metric 'precision'"),
        client.track("TrainingJob", "t") as early,
    ):
        early.log_metric("precision", "high")
    assert "must be a number" in read_run(api, early.id)["error_message"]


def test_bad_input_raises_on_enter_and_posts_nothing(
    client: LineageClient, api: httpx.Client
) -> None:
    with pytest.raises(ValueError, match="process"):
        client.track("Model", "m@1")
    with (
        pytest.raises(LineageAPIError) as unknown,
        client.track("TrainingJob", "t", inputs=["nope"]),
    ):
        pytest.fail("the block ran")
    assert unknown.value.status == 404
    client.post_event(event(entity("TrainingJob", "other"), [], [], run_id="taken"))
    with pytest.raises(LineageAPIError) as taken, client.track("TrainingJob", "t", run_id="taken"):
        pytest.fail("the block ran")
    assert taken.value.status == 422 and "taken" in taken.value.message
    assert [r["id"] for r in api.get("/v1/runs").json()["items"]] == ["taken"]


def test_a_refused_complete_only_warns(settings: Settings, empty_graph: Driver) -> None:
    """A COMPLETE larger than the service takes is a 413 after the START landed: the block
    ends normally, with a warning."""
    limited = settings.model_copy(update={"max_body_bytes": 20_000})
    with LocalApi(limited) as server, LineageClient(server.url) as lineage:
        refused = pytest.warns(TrackingWarning, match="refused the COMPLETE")
        with refused, lineage.track("TrainingJob", "t") as run:
            run.add_output("Model", "m@1", properties={"notes": "x" * 16_000})
            run.add_output("Model", "m@2", properties={"notes": "y" * 16_000})
        assert httpx.get(f"{server.url}/v1/runs/{run.id}").json()["status"] == "START"


def test_with_the_service_down_the_run_is_spooled_and_ingest_sends_it_later(
    live_server: LocalApi,
    api: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spool = tmp_path / "spool" / "runs.jsonl"
    monkeypatch.setenv("MLLINEAGE_SPOOL", str(spool))
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    trained = False
    began = time.monotonic()
    with LineageClient(down) as lineage, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lineage.track("TrainingJob", "churn-train", inputs=["Dataset:default:set"]) as run:
            run.log_metrics({"precision": 0.9})
            run.add_output("Model", "churn-xgb@6")
            trained = True
    assert trained and time.monotonic() - began < 20, "tracking held the training up"
    spooled = [w for w in caught if issubclass(w.category, TrackingWarning)]
    assert len(spooled) == 1 and str(spool) in str(spooled[0].message)
    assert spooled[0].filename == __file__, "the warning points at the caller"
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert [(e["run"]["id"], e["run"]["status"]) for e in lines] == [
        (run.id, "START"), (run.id, "COMPLETE"),
    ]  # fmt: skip

    sent = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "ingest", str(spool), "--delete-after"],
        env={**os.environ, "MLLINEAGE_URL": live_server.url},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "ingested 2 events" in sent.stdout and not spool.exists()
    landed = read_run(api, run.id)
    assert landed["status"] == "COMPLETE" and landed["metrics"] == {"precision": 0.9}
    assert [o["uid"] for o in landed["outputs"]] == ["Model:default:churn-xgb@6"]


def test_ingest_keeps_a_spool_whose_events_did_not_all_land(
    live_server: LocalApi, api: httpx.Client, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.jsonl"
    good = event(entity("TrainingJob", "t"), [], [], run_id="r1")
    spool.write_text(json.dumps(good) + "\n" + json.dumps({**good, "process": {}}) + "\n")
    sent = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "ingest", str(spool), "--delete-after"],
        env={**os.environ, "MLLINEAGE_URL": live_server.url},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert sent.returncode == 1 and f"kept {spool}" in sent.stderr and spool.exists()


def test_capture_knows_nothing_outside_a_repository_or_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert git_state(tmp_path) == {}
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path
    assert git_state(Path(__file__).parent) == {}
    assert without_credentials(REMOTE) == "https://git.example.com/acme/churn.git"
    assert without_credentials("git@github.com:acme/churn.git") == "git@github.com:acme/churn.git"
    for name in ("MLLINEAGE_IMAGE", "CONTAINER_IMAGE", "DOCKER_IMAGE", "IMAGE"):
        monkeypatch.delenv(name, raising=False)
    assert "image" not in environment()
    monkeypatch.setenv("CONTAINER_IMAGE", "acme/base:1")
    assert environment()["image"] == "acme/base:1"
