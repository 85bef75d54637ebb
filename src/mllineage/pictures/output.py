"""A picture in one of the output formats, as bytes or text, or written to a file."""

from __future__ import annotations

import io
from pathlib import Path

from mllineage.pictures.draw import DPI, figure
from mllineage.pictures.model import Picture
from mllineage.pictures.text import to_dot, to_mermaid

FORMATS = ("png", "svg", "mermaid", "dot")
_SUFFIXES = {
    ".png": "png",
    ".svg": "svg",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
}


def format_for(path: Path | str) -> str | None:
    """The format a file name asks for (``.png .svg .mmd .mermaid .md .dot .gv``), if any."""
    return _SUFFIXES.get(Path(path).suffix.lower())


def render(picture: Picture, format: str) -> bytes | str:
    """PNG bytes, or SVG, Mermaid or DOT text."""
    if format == "mermaid":
        return to_mermaid(picture)
    if format == "dot":
        return to_dot(picture)
    if format not in ("png", "svg"):
        raise ValueError(f"unknown picture format {format!r}: use one of {', '.join(FORMATS)}")
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable
        figure(picture).savefig(buffer, format=format, dpi=DPI, facecolor="white")
    data = buffer.getvalue()
    return data.decode() if format == "svg" else data


def write(picture: Picture, path: Path | str, format: str | None = None) -> Path:
    """Write the picture to ``path`` in ``format`` (default: from the suffix). A Mermaid
    picture in a ``.md`` file is fenced, so GitHub shows it drawn."""
    path = Path(path)
    format = format or format_for(path)
    if format is None:
        raise ValueError(
            f"cannot tell the picture format from {path.name!r}: name a .png, .svg, .mmd, "
            f".md or .dot file, or give the format ({', '.join(FORMATS)})"
        )
    content = render(picture, format)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif format == "mermaid" and path.suffix.lower() == ".md":
        path.write_text(f"```mermaid\n{content}```\n")
    else:
        path.write_text(content)
    return path
