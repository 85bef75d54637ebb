"""Pictures of lineage: a walk or an impact report drawn left to right by depth.

    picture = from_impact(client.impact_report(uid))   # or from_lineage(answer, direction)
    write(picture, "impact.png")                       # png, svg, mermaid (.mmd, .md), dot

Nodes are coloured by kind as in the Neo4j Browser style (``cypher/style.grass``); at most
``MAX_NODES`` are drawn, the nearest ones, and the picture says so when more were found.
"""

from mllineage.pictures.draw import figure
from mllineage.pictures.model import MAX_NODES, Edge, Node, Picture, from_impact, from_lineage
from mllineage.pictures.output import FORMATS, format_for, render, write
from mllineage.pictures.text import to_dot, to_mermaid

__all__ = [
    "FORMATS",
    "MAX_NODES",
    "Edge",
    "Node",
    "Picture",
    "figure",
    "format_for",
    "from_impact",
    "from_lineage",
    "render",
    "to_dot",
    "to_mermaid",
    "write",
]
