"""The documentation's examples, run as written against the demo, print what it says.

The documentation is README.md and the pages under docs/, read in a fixed order: README
first, then the pages in the order of README's "## Documentation" list (``tests.docs.pages``;
every docs page must be listed). In that order, on one graph: the tour's commands (README,
which load the demo), the curl examples (each answer compared with the ``# {...}`` line under
it), every ``GET`` mentioned (docs/http-api.md's "Asking questions", docs/runs.md), the CLI
commands quoted in the text, the Python examples (docs/runs.md's, then the client's and the
tracking example in docs/client-and-cli.md), the drift commands of docs/runs.md and the
OpenLineage facet example of docs/openlineage.md. Only the service's address is changed, to
the test server's. ``test_the_examples_are_found`` holds the counts, so that an example that
moved out of reach fails rather than goes untested.
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
from tests import docs

PAGES = docs.pages()
TEXT = {name: docs.page(name) for name in PAGES}
DOCUMENTED_URL = "http://127.0.0.1:8000"


def page_blocks(language: str) -> list[tuple[str, str]]:
    """(page, block) for every fenced block of ``language``, in the pages' order."""
    return [
        (name, block)
        for name in PAGES
        for block in re.findall(
            rf"^```{language}\n(.*?)^```$", TEXT[name], flags=re.MULTILINE | re.DOTALL
        )
    ]


def blocks(language: str) -> list[str]:
    return [block for _, block in page_blocks(language)]


def tour_commands() -> list[list[str]]:
    """The ``mllineage`` lines of the tour, without the ``.venv/bin/`` and the comments."""
    tour = TEXT["README.md"].split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", tour, re.DOTALL)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("/mllineage"):
            commands.append(words[1:])
    return commands


def curl_examples() -> list[tuple[str, str | None]]:
    """(command, the answer the page shows under it, if any)."""
    examples = []
    for block in blocks("sh"):
        if not block.startswith("curl "):
            continue
        command, _, shown = block.partition("\n# ")
        examples.append((command, shown.strip() or None))
    return examples


GETS = [path for name in PAGES for path in re.findall(r"`GET (/v1/[^`]+)`", TEXT[name])]
QUOTED_COMMANDS = sorted(
    {
        command
        for name in PAGES
        for command in re.findall(r"`mllineage ((?:impact|lineage|find) [^`A-Z]+)`", TEXT[name])
    }
)


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
    """Every ``python`` block, in the pages' order, in a fresh folder (they may write files)."""
    monkeypatch.setenv("MLLINEAGE_URL", demo)
    monkeypatch.chdir(tmp_path)
    namespaces = []
    for name, example in page_blocks("python"):
        namespaces.append({})
        exec(compile(example, name, "exec"), namespaces[-1])
    [graph] = [namespace["graph"] for namespace in namespaces if "graph" in namespace]
    assert "FeatureGroup:default:customers" in graph  # type: ignore[operator]
    assert (tmp_path / "precision.png").exists()


def test_the_tracking_example_records_a_run(demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ((name, example),) = [(n, block) for n, block in page_blocks("python") if ".track(" in block]
    monkeypatch.setenv("MLLINEAGE_URL", demo)
    namespace: dict[str, object] = {}
    exec(compile(example, name, "exec"), namespace)
    run_id = namespace["run"].id  # type: ignore[attr-defined]
    run = httpx.get(f"{demo}/v1/runs/{run_id}", timeout=60).json()
    assert run["status"] == "COMPLETE" and run["metrics"] == {"precision": 0.91, "recall": 0.84}
    assert [i["name"] for i in run["inputs"]] == ["s3://acme-lake/datasets/churn/2026-11-03/"]
    assert [o["uid"] for o in run["outputs"]] == ["Model:default:churn-xgb@5"]


def runs_commands() -> list[tuple[list[str], list[str]]]:
    """The ``mllineage`` lines of the first ``sh`` block of docs/runs.md ("Runs: parameters,
    metrics and drift"), each with the ``# `` lines the page shows under it."""
    section = TEXT["docs/runs.md"].split("# Runs: parameters, metrics and drift", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands: list[tuple[list[str], list[str]]] = []
    for line in block.group(1).splitlines():
        if line.startswith("# "):
            commands[-1][1].append(line[2:])
        elif words := shlex.split(line, comments=True):
            commands.append((words[1:], []))
    return commands


def test_the_drift_example_prints_what_the_page_shows(demo: str, tmp_path: Path) -> None:
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


def test_the_examples_are_found() -> None:
    """Each kind of example is found where the documentation keeps it, as many as it has:
    a parametrized test over nothing would pass without running anything."""
    assert PAGES[0] == "README.md" and "docs/runs.md" in PAGES and len(PAGES) >= 13, PAGES
    assert [c[0] for c in tour_commands()] == [
        "demo", "impact", "impact", "find", "lineage", "impact", "runs",
    ]  # fmt: skip
    assert len(curl_examples()) >= 3 and sum(s is not None for _, s in curl_examples()) >= 2
    assert len(GETS) >= 19 and any(g.startswith("/v1/runs") for g in GETS), GETS
    assert len(QUOTED_COMMANDS) >= 2, QUOTED_COMMANDS
    python = page_blocks("python")
    assert len(python) >= 3, python
    assert sum("graph =" in b for _, b in python) == 1
    assert sum("precision.png" in b for _, b in python) == 1
    assert sum(".track(" in b for _, b in python) == 1
    assert [args[0] for args, _ in runs_commands()] == ["runs", "drift"]
    assert len(runs_commands()[1][1]) >= 3
    assert sum('"eventType"' in b for b in blocks("json")) == 1
