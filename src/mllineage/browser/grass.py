"""The Neo4j Browser style shipped in the package (``cypher/style.grass``), read and parsed.

One palette for the whole project: the Browser uses the file, the API serves it to the
Browser, and the pictures take their colours from it, so a kind looks the same everywhere.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r'(node|relationship)(?:\.([A-Za-z_]\w*))?\s*\{((?:[^{}"]|"[^"]*")*)\}')
_DECLARATION = re.compile(r'([\w-]+)\s*:\s*("[^"]*"|[^;]*)')


@cache
def style_text() -> str:
    """The packaged style without its comments: the Browser's grass parser does not know
    comments and would read one as part of the next selector, losing the default ``node``
    rule."""
    text = resources.files("mllineage.cypher").joinpath("style.grass").read_text()
    return _COMMENT.sub("", text).strip() + "\n"


@cache
def style_rules() -> dict[str, dict[str, str]]:
    """``{"node": {...}, "node.Model": {...}, "relationship.Produced": {...}, ...}``, each
    rule's properties with the quotes around values removed."""
    rules: dict[str, dict[str, str]] = {}
    for element, label, body in _RULE.findall(style_text()):
        properties = {key: value.strip().strip('"') for key, value in _DECLARATION.findall(body)}
        rules[f"{element}.{label}" if label else element] = properties
    return rules


def node_style(kind: str) -> dict[str, str]:
    """The style of a node of ``kind``: its own rule over the default ``node`` rule."""
    rules = style_rules()
    return {**rules.get("node", {}), **rules.get(f"node.{kind}", {})}


def edge_style(edge_type: str) -> dict[str, str]:
    """The style of an edge of ``edge_type`` over the default ``relationship`` rule."""
    rules = style_rules()
    return {**rules.get("relationship", {}), **rules.get(f"relationship.{edge_type}", {})}
