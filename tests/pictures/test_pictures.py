"""Pictures from API-shaped answers, without a server: layers, marks, escaping, the cap, PNG."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pydot
import pytest
from PIL import Image

from mllineage.browser import grass
from mllineage.model.domain import Kind
from mllineage.pictures import (
    MAX_NODES,
    from_impact,
    from_lineage,
    render,
    to_dot,
    to_mermaid,
    write,
)
from mllineage.pictures.draw import CAPTION_WIDTH, DPI, size_inches, wrap

# pydot's parser uses pyparsing names that newer pyparsing deprecates
pytestmark = pytest.mark.filterwarnings("ignore:'\\w+' deprecated")

MERMAID_NODE = re.compile(r'^  (n\d+)(?:\(\[|\[)"(.*)"(?:\]\)|\])$', re.MULTILINE)
MERMAID_EDGE = re.compile(r"^  (n\d+) -->\|(\w+)\| (n\d+)$", re.MULTILINE)
ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#96;": "`", "#35;": "#"}


def unmermaid(label: str) -> str:
    """A Mermaid label's first line as text (the inverse of the escaping, ``#35;`` last)."""
    first = label.split("<br/>")[0]
    for code, char in ENTITIES.items():
        first = first.replace(code, char)
    return first


def mermaid_graph(text: str) -> tuple[list[str], set[tuple[str, str, str]]]:
    """(node names, {(source name, type, target name)}) read back from Mermaid text."""
    names = {node: unmermaid(label) for node, label in MERMAID_NODE.findall(text)}
    edges = {(names[s], t, names[d]) for s, t, d in MERMAID_EDGE.findall(text)}
    return list(names.values()), edges


def dot_graph(text: str) -> tuple[list[str], set[tuple[str, str, str]]]:
    """(node uids, {(source uid, type, target uid)}) parsed by pydot, a real DOT parser."""
    (graph,) = pydot.graph_from_dot_data(text)

    def unquote(value: str) -> str:
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")

    nodes = [
        unquote(n.get_name()) for n in graph.get_nodes() if n.get_name() not in ("node", "edge")
    ]
    edges = {
        (unquote(e.get_source()), unquote(e.get_label()), unquote(e.get_destination()))
        for e in graph.get_edges()
    }
    return nodes, edges


def row(kind: str, name: str, depth: int, **more: Any) -> dict[str, Any]:
    return {"uid": f"{kind}:default:{name}", "kind": kind, "name": name, "depth": depth, **more}


def walk(nodes: list[dict[str, Any]], edges: list[tuple[str, str, str]], **more: Any) -> dict:
    root = row("FeatureGroup", "customers", 0)
    return {
        "root": root,
        "nodes": nodes,
        "edges": [{"source": s, "target": t, "type": k} for s, t, k in edges],
        "truncated": False,
        **more,
    }


TRICKY = 'q "quoted" #1 <b>`x`\\ y'
CHAIN = walk(
    [
        row("FeatureQuery", TRICKY, 1),
        row("Dataset", "s3://acme/sets/churn/2026-11-03/", 2),
        row("TrainingJob", "train", 3),
        row("Model", "m@1", 4, deprecated=True, replaced_by="Model:default:m@2"),
        row("Model", "m@0", 4, retired_at="2026-11-06T00:00:00Z"),
        row("Endpoint", "prod", 5),
    ],
    [
        ("FeatureGroup:default:customers", f"FeatureQuery:default:{TRICKY}", "ContributedTo"),
        (f"FeatureQuery:default:{TRICKY}", "Dataset:default:s3://acme/sets/churn/2026-11-03/",
         "Produced"),
        ("Dataset:default:s3://acme/sets/churn/2026-11-03/", "TrainingJob:default:train",
         "ContributedTo"),
        ("TrainingJob:default:train", "Model:default:m@1", "Produced"),
        ("TrainingJob:default:train", "Model:default:m@0", "Produced"),
        ("Model:default:m@1", "Endpoint:default:prod", "ContributedTo"),
    ],
)  # fmt: skip


def test_the_palette_is_the_packaged_browser_style() -> None:
    text = resources.files("mllineage.cypher").joinpath("style.grass").read_text()
    for kind in Kind:
        rule = re.search(rf"node\.{kind} \{{([^}}]*)\}}", text)
        assert rule is not None, kind
        colour = re.search(r"(?<![-\w])color: (#[0-9A-Fa-f]{6})", rule.group(1))
        assert colour is not None
        assert grass.node_style(kind)["color"] == colour.group(1)
    assert "/*" not in grass.style_text() and grass.style_rules()["node"]["caption"] == "{name}"


def test_layers_follow_depth_and_direction() -> None:
    down = from_lineage(CHAIN)
    assert [n.layer for n in down.nodes] == [0, 1, 2, 3, 4, 4, 5]
    up = from_lineage(CHAIN, "upstream")
    assert [n.layer for n in up.nodes] == [0, -1, -2, -3, -4, -4, -5]
    # ``both``: a node is upstream when the answer's edges lead from it to the root.
    both = walk(
        [row("DataSource", "raw", 1), row("FeatureQuery", "q", 1)],
        [("DataSource:default:raw", "FeatureGroup:default:customers", "ContributedTo"),
         ("FeatureGroup:default:customers", "FeatureQuery:default:q", "ContributedTo")],
    )  # fmt: skip
    layers = {n.name: n.layer for n in from_lineage(both, "both").nodes}
    assert layers == {"customers": 0, "raw": -1, "q": 1}


def test_lifecycle_marks_reach_every_format() -> None:
    picture = from_lineage(CHAIN)
    marks = {n.name: n.status for n in picture.nodes}
    assert marks["m@1"] == "deprecated → m@2" and marks["m@0"] == "retired"
    mermaid = to_mermaid(picture)
    assert "m@1<br/>(deprecated → m@2)" in mermaid and "m@0<br/>(retired)" in mermaid
    assert re.search(r"style n\d+ stroke:#6F7480,stroke-dasharray", mermaid)
    dot = to_dot(picture)
    assert re.search(r'"Model:default:m@0" \[label="m@0\\n\(retired\)".*dashed', dot)


def test_mermaid_and_dot_name_every_node_and_edge_whatever_the_characters() -> None:
    picture = from_lineage(CHAIN)
    names = [n.name for n in picture.nodes]
    by_uid = {n.uid: n.name for n in picture.nodes}
    edges = {(e["source"], e["type"], e["target"]) for e in CHAIN["edges"]}

    mermaid = to_mermaid(picture)
    assert '"quoted"' not in mermaid and "<b>" not in mermaid  # escaped, not markup
    mermaid_names, mermaid_edges = mermaid_graph(mermaid)
    assert sorted(mermaid_names) == sorted(names)
    assert mermaid_edges == {(by_uid[s], t, by_uid[d]) for s, t, d in edges}

    dot_nodes, dot_edges = dot_graph(to_dot(picture))
    assert sorted(dot_nodes) == sorted(by_uid)
    assert dot_edges == edges


def test_an_impact_picture_draws_the_paths_to_the_items() -> None:
    report = {
        "root": row("FeatureGroup", "customers", 0),
        "models": [{**row("Model", "m@0", 4, retired=True), "path": [
            "FeatureGroup:default:customers", "FeatureQuery:default:q", "Dataset:default:d",
            "TrainingJob:default:t", "Model:default:m@0"]}],
        "endpoints": [{**row("Endpoint", "e", 3, deprecated=True), "path": [
            "FeatureGroup:default:customers", "FeatureQuery:default:q", "Dataset:default:d",
            "Endpoint:default:e"]}],
        "training_jobs": [{**row("TrainingJob", "t", 3), "path": [
            "FeatureGroup:default:customers", "FeatureQuery:default:q", "Dataset:default:d",
            "TrainingJob:default:t"]}],
        "truncated": False,
    }  # fmt: skip
    picture = from_impact(report)
    assert [(n.name, n.layer) for n in picture.nodes] == [
        ("customers", 0), ("q", 1), ("d", 2), ("e", 3), ("t", 3), ("m@0", 4),
    ]  # fmt: skip
    assert {(e.source.split(":")[2], e.type, e.target.split(":")[2]) for e in picture.edges} == {
        ("customers", "ContributedTo", "q"), ("q", "Produced", "d"), ("d", "ContributedTo", "e"),
        ("d", "ContributedTo", "t"), ("t", "Produced", "m@0"),
    }  # fmt: skip
    assert {n.name: n.status for n in picture.nodes if n.status} == {
        "m@0": "retired", "e": "deprecated",
    }  # fmt: skip
    assert picture.title.endswith("1 model, 1 endpoint, 1 training job")


def test_beyond_the_cap_the_nearest_are_drawn_and_the_picture_says_so() -> None:
    fan = [row("FeatureQuery", f"q{i:04d}", 1 + i // 400) for i in range(1000)]
    edges = [("FeatureGroup:default:customers", r["uid"], "ContributedTo") for r in fan]
    picture = from_lineage(walk(fan, edges, truncated=True), max_nodes=MAX_NODES)
    assert len(picture.nodes) == MAX_NODES
    assert {n.depth for n in picture.nodes} == {0, 1}  # the nearest
    assert [n.name for n in picture.nodes[1:4]] == ["q0000", "q0001", "q0002"]
    assert picture.note is not None
    assert "nearest 300 of 1001 nodes" in picture.note and "limit cut the walk" in picture.note
    assert len(picture.edges) == MAX_NODES - 1
    assert "nearest 300 of 1001" in to_mermaid(picture) and "nearest 300 of 1001" in to_dot(picture)
    small = from_lineage(walk(fan[:10], edges[:10]), max_nodes=5)
    assert len(small.nodes) == 5 and small.note and "nearest 5 of 11" in small.note


def colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 20) or []}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_png_has_its_size_and_the_colours_of_its_kinds(tmp_path: Path) -> None:
    picture = from_lineage(CHAIN)
    path = write(picture, tmp_path / "chain.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height, _ = size_inches(picture)
    assert Image.open(path).size == (round(width * DPI), round(height * DPI))
    assert width >= 2.7 * 6  # six layers: a column each
    present = colours(data)
    assert len(present) > 20  # not blank: fills, lines, anti-aliased text
    for kind in ("FeatureGroup", "FeatureQuery", "Dataset", "TrainingJob", "Model", "Endpoint"):
        assert hex_rgb(grass.node_style(kind)["color"]) in present, kind


def test_a_capped_png_stays_drawable(tmp_path: Path) -> None:
    fan = [row("Feature", f"customers.f{i}", 1) for i in range(1000)]
    edges = [("FeatureGroup:default:customers", r["uid"], "HasFeature") for r in fan]
    picture = from_lineage(walk(fan, edges))
    image = Image.open(io.BytesIO(render(picture, "png")))  # type: ignore[arg-type]
    assert image.size[1] <= 80 * DPI and len(picture.nodes) == MAX_NODES


def test_svg_and_the_formats_a_file_name_asks_for(tmp_path: Path) -> None:
    picture = from_lineage(CHAIN)
    svg = write(picture, tmp_path / "chain.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    fenced = write(picture, tmp_path / "chain.md").read_text()
    assert fenced.startswith("```mermaid\nflowchart LR\n") and fenced.endswith("```\n")
    assert write(picture, tmp_path / "chain.gv").read_text().startswith("digraph lineage {")
    with pytest.raises(ValueError, match="cannot tell the picture format"):
        write(picture, tmp_path / "chain.txt")


def test_long_names_wrap_into_two_lines_keeping_both_ends() -> None:
    assert wrap("customers") == ["customers"]
    assert wrap("s3://acme-lake/datasets/churn/2026-11-03/") == [
        "s3://acme-lake/datasets/", "churn/2026-11-03/",
    ]  # fmt: skip
    long = "s3://acme-lake/" + "very-long-folder-name/" * 6 + "part-0001.parquet"
    first, last = wrap(long)
    assert long.startswith(first) and last.startswith("…") and long.endswith(last[1:])
    assert max(len(first), len(last)) <= CAPTION_WIDTH
    assert all(len(line) <= CAPTION_WIDTH for line in wrap("x" * 60))
