"""The README's examples, run as written against the demo, print what the README says.

In README order on one graph: the tour's commands (which load the demo), the curl examples
(each answer compared with the ``# {...}`` line under it), every ``GET`` of "Asking
questions", the CLI commands quoted in the text, and the Python client example. Only the
service's address is changed, to the test server's.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from mllineage.local import LocalApi

README = (Path(__file__).parents[1] / "README.md").read_text()
DOCUMENTED_URL = "http://127.0.0.1:8000"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def tour_commands() -> list[list[str]]:
    """The ``mllineage`` lines of the tour, without the ``.venv/bin/`` and the comments."""
    tour = README.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", tour, re.DOTALL)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("/mllineage"):
            commands.append(words[1:])
    return commands


def curl_examples() -> list[tuple[str, str | None]]:
    """(command, the answer the README shows under it, if any)."""
    examples = []
    for block in blocks("sh"):
        if not block.startswith("curl "):
            continue
        command, _, shown = block.partition("\n# ")
        examples.append((command, shown.strip() or None))
    return examples


GETS = re.findall(r"`GET (/v1/[^`]+)`", README)
QUOTED_COMMANDS = sorted(set(re.findall(r"`mllineage ((?:impact|lineage|find) [^`A-Z]+)`", README)))


@pytest.fixture(scope="module")
def demo(live_server: LocalApi, neo4j_driver: Driver) -> Iterator[str]:
    """The live server's URL, over a graph that holds what the tour loaded (the demo)."""
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    for command in tour_commands():
        done = mllineage(command, live_server.url)
        assert done.returncode == 0, (command, done.stderr)
    yield live_server.url


def mllineage(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLLINEAGE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "mllineage.cli", *args],
        env=env, capture_output=True, text=True, timeout=120,
        cwd=tempfile.gettempdir(),  # where the tour's `-o impact.png` lands, not the checkout
    )  # fmt: skip


def test_the_tour_loads_the_demo_and_answers(demo: str) -> None:
    assert [c[0] for c in tour_commands()][:1] == ["demo"]
    impact = mllineage(["impact", "FeatureGroup:default:customers"], demo)
    assert "churn-xgb@4" in impact.stdout and "churn-prod" in impact.stdout, impact.stdout


@pytest.mark.parametrize("command, shown", curl_examples(), ids=lambda v: str(v)[:40])
def test_curl_examples_answer_as_shown(demo: str, command: str, shown: str | None) -> None:
    assert DOCUMENTED_URL in command
    done = subprocess.run(
        ["bash", "-c", command.replace(DOCUMENTED_URL, demo)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert "message" not in answer, answer
    if shown is not None:
        assert answer == json.loads(shown)


@pytest.mark.parametrize("path", GETS)
def test_every_documented_get_answers_on_the_demo(demo: str, path: str) -> None:
    reply = httpx.get(demo + path, timeout=60)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    found = body.get("nodes", body.get("items", body.get("models", [body])))
    assert found, f"{path} finds nothing on the demo"


@pytest.mark.parametrize("command", QUOTED_COMMANDS)
def test_quoted_commands_run_on_the_demo(demo: str, command: str) -> None:
    done = mllineage(shlex.split(command), demo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_python_examples_run(
    demo: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every ``python`` block, in README order, in a fresh folder (they may write files)."""
    monkeypatch.setenv("MLLINEAGE_URL", demo)
    monkeypatch.chdir(tmp_path)
    namespaces = []
    for example in blocks("python"):
        namespaces.append({})
        exec(compile(example, "README.md", "exec"), namespaces[-1])
    [graph] = [namespace["graph"] for namespace in namespaces if "graph" in namespace]
    assert "FeatureGroup:default:customers" in graph  # type: ignore[operator]
    assert (tmp_path / "precision.png").exists()


def test_the_tracking_example_records_a_run(demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (example,) = [block for block in blocks("python") if ".track(" in block]
    monkeypatch.setenv("MLLINEAGE_URL", demo)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    run_id = namespace["run"].id  # type: ignore[attr-defined]
    run = httpx.get(f"{demo}/v1/runs/{run_id}", timeout=60).json()
    assert run["status"] == "COMPLETE" and run["metrics"] == {"precision": 0.91, "recall": 0.84}
    assert [i["name"] for i in run["inputs"]] == ["s3://acme-lake/datasets/churn/2026-11-03/"]
    assert [o["uid"] for o in run["outputs"]] == ["Model:default:churn-xgb@5"]


def runs_commands() -> list[tuple[list[str], list[str]]]:
    """The ``mllineage`` lines of the Runs section's first ``sh`` block, each with the
    ``# `` lines the README shows under it."""
    section = README.split("## Runs: parameters, metrics and drift", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands: list[tuple[list[str], list[str]]] = []
    for line in block.group(1).splitlines():
        if line.startswith("# "):
            commands[-1][1].append(line[2:])
        elif words := shlex.split(line, comments=True):
            commands.append((words[1:], []))
    return commands


def test_the_drift_example_prints_what_the_readme_shows(demo: str, tmp_path: Path) -> None:
    for args, shown in runs_commands():
        done = subprocess.run(
            [sys.executable, "-m", "mllineage.cli", *args], cwd=tmp_path, capture_output=True,
            text=True, env={**os.environ, "MLLINEAGE_URL": demo}, timeout=120,
        )  # fmt: skip
        assert done.returncode == (1 if args[0] == "drift" else 0), done.stderr
        if shown:
            assert done.stdout.splitlines() == shown
    assert (tmp_path / "precision.png").stat().st_size > 10_000


def test_the_openlineage_facet_example_lands_on_its_run(demo: str) -> None:
    [example] = [json.loads(b) for b in blocks("json") if '"eventType"' in b]
    reply = httpx.post(f"{demo}/api/v1/lineage", json=example, timeout=60)
    assert reply.status_code == 201, reply.text
    run = httpx.get(f"{demo}/v1/runs/{example['run']['runId']}", timeout=60).json()
    facet = example["run"]["facets"]["mllineage"]
    assert run["experiment"] == facet["experiment"] and run["status"] == "COMPLETE"
    assert run["params"] == facet["params"] and run["metrics"] == facet["metrics"]
    assert [o["uid"] for o in run["outputs"]] == ["Model:default:models/churn-xgb@5"]
