"""The Neo4j Browser guide: the saved queries in ``cypher/queries/`` as clickable steps.

Neo4j Browser's ``:play <url>`` fetches an HTML page and shows each ``<slide>`` as a step;
a ``<pre class="runnable">`` in a slide puts its text in the editor when clicked. Each query
file opens with ``//`` lines saying the question it answers: they become the slide's text,
the file name its title, and the rest the query. The files are read in name order, so
``00_...`` (the demo's impact question) comes first. Pure: it reads package files only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources


@dataclass(frozen=True)
class Step:
    title: str
    question: str
    query: str


def steps() -> list[Step]:
    """The saved queries, in file-name order."""
    folder = resources.files("mllineage.cypher").joinpath("queries")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".cypher"):
            continue
        lines = entry.read_text().splitlines()
        comments = [line for line in lines if line.startswith("//")]
        query = "\n".join(line for line in lines if not line.startswith("//")).strip()
        words = entry.name.removesuffix(".cypher").split("_")
        title = " ".join(words[1:] if words[0].isdigit() else words).capitalize()
        question = " ".join(line.removeprefix("//").strip() for line in comments)
        found.append(Step(title, question, query))
    return found


def _slide(number: int, total: int, step: Step) -> str:
    return f"""  <slide class="row-fluid">
    <div class="col-sm-4">
      <h3>{number}/{total}. {escape(step.title)}</h3>
      <p class="lead">{escape(step.question)}</p>
    </div>
    <div class="col-sm-8">
      <p>Click the query to put it in the editor, then run it (Ctrl+Enter).</p>
      <figure><pre class="pre-scrollable code runnable">{escape(step.query)}</pre></figure>
    </div>
  </slide>
"""


@cache
def guide_html() -> str:
    """The whole guide, one slide per saved query."""
    found = steps()
    slides = "".join(_slide(i, len(found), step) for i, step in enumerate(found, start=1))
    return f"""<article class="guide">
<carousel class="deck container-fluid">
{slides}</carousel>
</article>
"""
