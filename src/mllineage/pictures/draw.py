"""Pictures as matplotlib figures (PNG, SVG): layered left to right by depth.

networkx's ``multipartite_layout`` puts each depth in a column; within a column nodes are
ordered by where their neighbours in the column before sit (one barycentre sweep), which
removes most crossings of lineage's fan-outs. Figures are made with the object-oriented API
(``matplotlib.figure.Figure``), never pyplot: no global state, no display needed.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import networkx as nx

from mllineage.browser.grass import edge_style, node_style
from mllineage.pictures.model import Node, Picture
from mllineage.pictures.text import DEPRECATED_COLOUR, RETIRED_COLOUR, ring_colour

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
COLUMN_INCHES = 2.7  # room for a caption of ~26 characters at 8 pt
ROW_INCHES = 0.85  # a node and two caption lines
MARGIN_INCHES = 0.5
HEADER_INCHES = 0.8  # title and note; the legend's rows come on top
LEGEND_ROW_INCHES = 0.25
LEGEND_ENTRY_INCHES = 1.45
MAX_INCHES = 80.0  # 8,000 pixels at 100 dpi: the cap on nodes keeps most pictures far below
CAPTION_WIDTH = 26
MAX_ARROWS = 150  # beyond, edges going right are plain lines: one arrow patch each is slow
# A caption stays readable where a line passes under it.
_UNDER = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6}


def wrap(name: str, width: int = CAPTION_WIDTH) -> list[str]:
    """``name`` in at most two lines of about ``width`` characters, broken after ``/ . - _ @
    :`` where it can; a longer name keeps its start and its end around an ellipsis."""
    if len(name) <= width:
        return [name]
    pieces = re.findall(r"[^/.\-_@:]*[/.\-_@:]?", name)
    lines = [""]
    for piece in filter(None, pieces):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    lines = [part for line in lines for part in _chunks(line, width)]
    if len(lines) <= 2:
        return lines
    return [lines[0], "…" + "".join(lines[1:])[-(width - 1) :]]


def _chunks(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def columns(picture: Picture) -> dict[int, list[str]]:
    """The uids of each layer, ordered by the mean row of their neighbours in the layer
    nearer the root (then by kind and name), so that lines cross as little as they can."""
    by_layer: dict[int, list[Node]] = defaultdict(list)
    for node in picture.nodes:
        by_layer[node.layer].append(node)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in picture.edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    ordered: dict[int, list[str]] = {}
    for layer in sorted(by_layer, key=abs):
        nearer = ordered.get(layer - 1 if layer > 0 else layer + 1, [])
        row = {uid: i for i, uid in enumerate(nearer)}

        def key(node: Node, row: dict[str, int] = row) -> tuple[float, str, str]:
            rows = [row[uid] for uid in neighbours[node.uid] if uid in row]
            return (sum(rows) / len(rows) if rows else math.inf, node.kind, node.name)

        ordered[layer] = [node.uid for node in sorted(by_layer[layer], key=key)]
    return dict(sorted(ordered.items()))


def legend_entries(picture: Picture) -> int:
    """How many entries the legend has: kinds shown, lifecycle marks, edge types, ended."""
    marks = {"deprecated" for n in picture.nodes if n.deprecated and not n.retired}
    marks |= {"retired" for n in picture.nodes if n.retired}
    marks |= {"ended" for e in picture.edges if e.ended}
    return len({n.kind for n in picture.nodes}) + len(marks) + len({e.type for e in picture.edges})


def _legend_columns(width: float) -> int:
    return max(1, int((width - 2 * MARGIN_INCHES) / LEGEND_ENTRY_INCHES))


def size_inches(picture: Picture) -> tuple[float, float, float]:
    """The figure's width and height, and the header's height: a column per layer, a row
    per node of the fullest, and a line of the legend per few entries."""
    layers = columns(picture)
    rows = max(len(members) for members in layers.values())
    width = min(max(2 * MARGIN_INCHES + COLUMN_INCHES * len(layers), 8.0), MAX_INCHES)
    legend_rows = math.ceil(legend_entries(picture) / _legend_columns(width))
    header = HEADER_INCHES + LEGEND_ROW_INCHES * legend_rows
    height = min(max(header + MARGIN_INCHES + ROW_INCHES * rows, 3.0), MAX_INCHES)
    return width, height, header


def _node_size(kind: str) -> float:
    """A marker area (points²) from the style's diameter in pixels."""
    diameter = float(node_style(kind).get("diameter", "50px").removesuffix("px"))
    return (diameter * 0.55) ** 2


def figure(picture: Picture) -> Figure:
    """The picture drawn on a new figure: nodes coloured as in the Browser style, captions
    under them, retired nodes faded with a dashed grey ring, deprecated ones with an orange
    ring and their replacement, ended edges dashed, and a legend of what is shown."""
    from matplotlib.figure import Figure

    width, height, header = size_inches(picture)
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()

    graph = nx.DiGraph()
    graph.add_nodes_from(node.uid for node in picture.nodes)
    layout = nx.multipartite_layout(graph, subset_key=columns(picture), align="vertical")
    positions = _fit(layout, width, height, header)
    nodes = {node.uid: node for node in picture.nodes}
    uids = list(nodes)
    sizes = [_node_size(nodes[uid].kind) for uid in uids]

    graph.add_edges_from((edge.source, edge.target) for edge in picture.edges)
    edge_groups: dict[tuple[str, bool, bool], list[tuple[str, str]]] = defaultdict(list)
    for edge in picture.edges:
        backwards = nodes[edge.target].layer <= nodes[edge.source].layer
        edge_groups[edge.type, edge.ended, backwards].append((edge.source, edge.target))
    for (edge_type, ended, backwards), edgelist in edge_groups.items():
        arrows: dict[str, Any] = {}
        if backwards or len(picture.edges) <= MAX_ARROWS:
            rad = 0.35 if backwards else 0.0
            arrows = {"arrowstyle": "-|>", "arrowsize": 11, "connectionstyle": f"arc3,rad={rad}"}
        nx.draw_networkx_edges(
            graph, positions, edgelist=edgelist, ax=ax, nodelist=uids, node_size=sizes,
            edge_color=edge_style(edge_type)["color"], style="dashed" if ended else "solid",
            width=1.2, arrows=bool(arrows), **arrows,
        )  # fmt: skip
    node_groups: dict[tuple[str, str, bool, bool], list[str]] = defaultdict(list)
    for node in picture.nodes:
        ring = ring_colour(node, node_style(node.kind)["border-color"])
        ring = "#222222" if node.uid == picture.root else ring
        thick = node.deprecated or node.uid == picture.root
        node_groups[node.kind, ring, thick, node.retired].append(node.uid)
        _caption(ax, node, positions[node.uid], node.uid == picture.root)
    for (kind, ring, thick, retired), nodelist in node_groups.items():
        drawn = nx.draw_networkx_nodes(
            graph, positions, nodelist=nodelist, ax=ax, node_size=_node_size(kind),
            node_color=node_style(kind)["color"], edgecolors=ring,
            linewidths=3.0 if thick else 1.5, alpha=0.35 if retired else 1.0,
        )  # fmt: skip
        if retired:
            drawn.set_linestyle("--")
    _header(fig, ax, picture, width, height)
    return fig


def _fit(
    layout: dict[str, Any], width: float, height: float, header: float
) -> dict[str, tuple[float, float]]:
    """networkx's layout (centred on 0) moved into the figure's inches, below the header."""
    box = (
        (MARGIN_INCHES + COLUMN_INCHES / 2, width - MARGIN_INCHES - COLUMN_INCHES / 2),
        (MARGIN_INCHES + ROW_INCHES / 2, height - header - ROW_INCHES / 4),
    )
    spans = []
    for axis, (low, high) in enumerate(box):
        values = [float(point[axis]) for point in layout.values()]
        spans.append((min(values), max(values), low, high))

    def place(value: float, span: tuple[float, float, float, float]) -> float:
        least, most, low, high = span
        if most == least:
            return (low + high) / 2
        return low + (value - least) / (most - least) * (high - low)

    return {
        uid: (place(float(p[0]), spans[0]), place(float(p[1]), spans[1]))
        for uid, p in layout.items()
    }


def _caption(ax: Axes, node: Node, at: tuple[float, float], is_root: bool) -> None:
    """The name under the node (bold for the root), and its lifecycle status below it."""
    x, y = at
    below = y - math.sqrt(_node_size(node.kind)) / 2 / 72 - 0.04
    ax.text(
        x, below, "\n".join(wrap(node.name)), ha="center", va="top", fontsize=8,
        fontweight="bold" if is_root else "normal", color="#222222", zorder=5, bbox=_UNDER,
    )  # fmt: skip
    if node.status:
        lines = len(wrap(node.name))
        colour = RETIRED_COLOUR if node.retired else DEPRECATED_COLOUR
        ax.text(
            x, below - 0.14 * lines, f"({node.status})", ha="center", va="top", fontsize=7,
            style="italic", color=colour, zorder=5, bbox=_UNDER,
        )  # fmt: skip


def _header(fig: Figure, ax: Axes, picture: Picture, width: float, height: float) -> None:
    """The title, the note on what was left out, and a legend of the kinds, marks and edges
    that appear."""
    from matplotlib.lines import Line2D

    ax.text(MARGIN_INCHES, height - 0.3, picture.title, fontsize=11, fontweight="bold", va="center")
    if picture.note:
        ax.text(
            MARGIN_INCHES, height - 0.55, picture.note, fontsize=9, color="#B00020", va="center"
        )
    handles: list[Line2D] = []
    for kind in sorted({node.kind for node in picture.nodes}):
        style = node_style(kind)
        handles.append(
            Line2D([], [], marker="o", linestyle="", markersize=9, label=kind,
                   markerfacecolor=style["color"], markeredgecolor=style["border-color"])
        )  # fmt: skip
    if any(node.deprecated and not node.retired for node in picture.nodes):
        handles.append(
            Line2D([], [], marker="o", linestyle="", markersize=9, label="deprecated",
                   markerfacecolor="white", markeredgecolor=DEPRECATED_COLOUR, markeredgewidth=2.5)
        )  # fmt: skip
    if any(node.retired for node in picture.nodes):
        handles.append(
            Line2D([], [], marker="o", linestyle="", markersize=9, label="retired", alpha=0.5,
                   markerfacecolor=RETIRED_COLOUR, markeredgecolor=RETIRED_COLOUR)
        )  # fmt: skip
    for edge_type in sorted({edge.type for edge in picture.edges}):
        handles.append(Line2D([], [], color=edge_style(edge_type)["color"], label=edge_type))
    if any(edge.ended for edge in picture.edges):
        handles.append(Line2D([], [], color="#888888", linestyle="--", label="ended"))
    fig.legend(
        handles=handles, loc="upper left", ncol=min(len(handles), _legend_columns(width)),
        bbox_to_anchor=(MARGIN_INCHES / width, 1 - 0.7 / height), frameon=False, fontsize=8,
        handletextpad=0.3, columnspacing=1.2,
    )  # fmt: skip
