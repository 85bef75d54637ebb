"""Pictures of the demo, from the CLI and the client, checked against the API's own answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image

from mllineage.browser import grass
from mllineage.client import LineageClient
from mllineage.pictures.draw import DPI
from tests.client.test_cli import cli, demo  # noqa: F401  (the demo fixture)
from tests.pictures.test_pictures import colours, dot_graph, hex_rgb, mermaid_graph

pytestmark = pytest.mark.filterwarnings("ignore:'\\w+' deprecated")  # pydot's pyparsing names
CUSTOMERS = "FeatureGroup:default:customers"


def test_impact_as_png_from_the_cli(demo: str, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "impact.png"
    done = cli("impact", "customers", "--format", "png", "-o", str(out), url=demo)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (png)" in done.stdout
    image = Image.open(out)
    width, height = image.size
    assert width >= 8 * DPI and height >= 3 * DPI
    present = colours(out.read_bytes())
    for kind in ("FeatureGroup", "FeatureQuery", "Dataset", "TrainingJob", "Model", "Endpoint"):
        assert hex_rgb(grass.node_style(kind)["color"]) in present, kind


def test_mermaid_and_dot_of_a_walk_name_what_the_api_answered(demo: str) -> None:  # noqa: F811
    with LineageClient(demo) as client:
        answer = client.lineage_graph(CUSTOMERS, depth=10, include_retired=True)
    by_uid = {n["uid"]: n["name"] for n in [answer["root"], *answer["nodes"]]}
    edges = {(e["source"], e["type"], e["target"]) for e in answer["edges"]}
    assert len(by_uid) > 20 and len(edges) > 30  # the demo's walk, cycles and all

    args = ["lineage", CUSTOMERS, "--depth", "10", "--include-retired", "--format"]
    mermaid = cli(*args, "mermaid", url=demo)
    assert mermaid.returncode == 0, mermaid.stderr
    names, mermaid_edges = mermaid_graph(mermaid.stdout)
    assert sorted(names) == sorted(by_uid.values())
    assert mermaid_edges == {(by_uid[s], t, by_uid[d]) for s, t, d in edges}
    assert "churn-xgb@3<br/>(retired)" in mermaid.stdout

    dot = cli(*args, "dot", url=demo)
    assert dot.returncode == 0, dot.stderr
    dot_nodes, dot_edges = dot_graph(dot.stdout)
    assert sorted(dot_nodes) == sorted(by_uid) and dot_edges == edges


def test_the_impact_picture_holds_the_items_and_their_paths(demo: str) -> None:  # noqa: F811
    with LineageClient(demo) as client:
        report = client.impact_report(CUSTOMERS, include_retired=True)
        picture = client.impact_picture(CUSTOMERS, include_retired=True)
    items = [item for role in ("models", "endpoints", "training_jobs") for item in report[role]]
    on_paths = {uid for item in items for uid in item["path"]}
    assert {node.uid for node in picture.nodes} == on_paths
    steps = {(a, b) for item in items for a, b in zip(item["path"], item["path"][1:], strict=False)}
    assert {(e.source, e.target) for e in picture.edges} == steps
    marked = {node.name: node.status for node in picture.nodes if node.status}
    assert marked == {
        "churn-xgb@3": "retired",
        "churn-xgb@2": "retired",
        "churn-prod-old": "retired",
    }


def test_plot_lineage_returns_a_figure_and_writes_the_file(demo: str, tmp_path: Path) -> None:  # noqa: F811
    with LineageClient(demo) as client:
        figure = client.plot_lineage(
            "Model:default:churn-xgb@4", tmp_path / "up.svg", direction="upstream", depth=20
        )
        capped = client.plot_lineage(CUSTOMERS, impact=True, max_nodes=5)
    assert isinstance(figure, Figure) and isinstance(capped, Figure)
    svg = (tmp_path / "up.svg").read_text()
    assert "<svg" in svg and ">churn-xgb-train</text>" in svg and ">customers</text>" in svg
    texts = [text.get_text() for text in capped.axes[0].texts]
    assert any("showing the nearest 5 of" in text for text in texts), texts


def test_picture_options_that_do_not_fit_are_refused(demo: str, tmp_path: Path) -> None:  # noqa: F811
    no_file = cli("impact", "customers", "--format", "png", url=demo)
    assert no_file.returncode == 2 and "add -o FILE" in no_file.stderr
    unknown = cli("lineage", "customers", "-o", str(tmp_path / "x.txt"), url=demo)
    assert unknown.returncode == 2 and "--format png|svg|mermaid|dot" in unknown.stderr
    both = cli("impact", "customers", "--json", "--format", "dot", url=demo)
    assert both.returncode == 2 and "exclude each other" in both.stderr
    capped = cli("impact", "customers", "--max-nodes", "3", "-o", str(tmp_path / "i.md"), url=demo)
    assert capped.returncode == 0, capped.stderr
    assert "note: showing the nearest 3 of" in capped.stderr
    assert (tmp_path / "i.md").read_text().startswith("```mermaid\nflowchart LR\n")
