"""Pictures as text: Mermaid (rendered by GitHub in Markdown) and Graphviz DOT.

Both say the same as the drawing: nodes coloured by kind from the Browser style, left to
right by depth, retired nodes dashed and faded, deprecated ones with a thick orange border,
ended edges dashed. Names may hold any character, so every label is escaped.
"""

from __future__ import annotations

import re
from collections import defaultdict

from mllineage.browser.grass import edge_style, node_style
from mllineage.pictures.model import Node, Picture

DEPRECATED_COLOUR = "#E08A00"
RETIRED_COLOUR = "#6F7480"


def caption(node: Node) -> list[str]:
    """The lines under a node: its name, and its lifecycle status when it has one."""
    return [node.name] + ([f"({node.status})"] if node.status else [])


# --- Mermaid ------------------------------------------------------------------------------

_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;"}


def mermaid_text(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label: markup characters become entity codes
    (``#`` first, as it starts them) and line breaks become spaces."""
    text = re.sub(r"\s+", " ", text)
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in text)


def to_mermaid(picture: Picture) -> str:
    """A ``flowchart LR`` with one class per kind; node ids are ``n0`` (the root), ``n1``, ..."""
    ids = {node.uid: f"n{i}" for i, node in enumerate(picture.nodes)}
    lines = ["flowchart LR"]
    for line in (picture.title, picture.note):
        if line:
            lines.append(f"  %% {mermaid_text(line)}")
    for node in picture.nodes:
        label = "<br/>".join(mermaid_text(part) for part in caption(node))
        shape = ('(["', '"])') if node.uid == picture.root else ('["', '"]')
        lines.append(f"  {ids[node.uid]}{shape[0]}{label}{shape[1]}")
    kinds: dict[str, list[str]] = defaultdict(list)
    for node in picture.nodes:
        kinds[node.kind].append(ids[node.uid])
    for kind, members in sorted(kinds.items()):
        style = node_style(kind)
        text = style.get("text-color-internal", "#FFFFFF")
        lines.append(
            f"  classDef {kind} fill:{style['color']},stroke:{style['border-color']},color:{text}"
        )
        lines.append(f"  class {','.join(members)} {kind}")
    for node in picture.nodes:
        if node.retired:
            extra = f"stroke:{RETIRED_COLOUR},stroke-dasharray:5 5,opacity:0.5"
            lines.append(f"  style {ids[node.uid]} {extra}")
        elif node.deprecated:
            lines.append(f"  style {ids[node.uid]} stroke:{DEPRECATED_COLOUR},stroke-width:4px")
    for index, edge in enumerate(picture.edges):
        lines.append(f"  {ids[edge.source]} -->|{edge.type}| {ids[edge.target]}")
        dashes = ",stroke-dasharray:4 4" if edge.ended else ""
        lines.append(f"  linkStyle {index} stroke:{edge_style(edge.type)['color']}{dashes}")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT -------------------------------------------------------------------------


def ring_colour(node: Node, border: str) -> str:
    """The border colour: grey when retired, orange when deprecated, else the kind's."""
    if node.retired:
        return RETIRED_COLOUR
    return DEPRECATED_COLOUR if node.deprecated else border


def dot_text(text: str) -> str:
    """``text`` as a DOT quoted string (backslashes and quotes escaped, lines kept)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(picture: Picture) -> str:
    """A ``digraph`` laid out left to right; the nodes of one depth share a rank."""
    label = picture.title + (f"\n{picture.note}" if picture.note else "")
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        f"  label={dot_text(label)};",
        '  labelloc=t; fontname="Helvetica";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8];',
    ]
    for node in picture.nodes:
        style = node_style(node.kind)
        styles = ["rounded", "filled"] + (["dashed"] if node.retired else [])
        attributes = {
            "label": dot_text("\n".join(caption(node))),
            "fillcolor": dot_text(style["color"] + ("80" if node.retired else "")),
            "color": dot_text(ring_colour(node, style["border-color"])),
            "fontcolor": dot_text(style.get("text-color-internal", "#FFFFFF")),
            "penwidth": "3" if node.deprecated or node.uid == picture.root else "1",
            "style": dot_text(",".join(styles)),
        }
        attributes_text = ", ".join(f"{key}={value}" for key, value in attributes.items())
        lines.append(f"  {dot_text(node.uid)} [{attributes_text}];")
    layers: dict[int, list[str]] = defaultdict(list)
    for node in picture.nodes:
        layers[node.layer].append(dot_text(node.uid))
    for _, members in sorted(layers.items()):
        lines.append(f"  {{ rank=same; {'; '.join(members)}; }}")
    for edge in picture.edges:
        colour = dot_text(edge_style(edge.type)["color"])
        dashed = ", style=dashed" if edge.ended else ""
        lines.append(
            f"  {dot_text(edge.source)} -> {dot_text(edge.target)} "
            f"[label={dot_text(edge.type)}, color={colour}, fontcolor={colour}{dashed}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
