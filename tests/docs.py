"""The documentation's text, for the tests that run its examples: README.md and the pages
under docs/ it links from its "## Documentation" list."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def page(name: str) -> str:
    """The text of one page, by its path from the repository's root (``docs/runs.md``)."""
    return (ROOT / name).read_text()


def linked_pages() -> list[str]:
    """The ``docs/*.md`` pages README's Documentation list links, in the list's order."""
    listing = page("README.md").split("\n## Documentation\n", 1)[1].split("\n## ", 1)[0]
    return list(dict.fromkeys(re.findall(r"\]\((docs/[\w-]+\.md)\)", listing)))


def pages() -> list[str]:
    """README.md first, then every docs page in the order README's Documentation list gives.

    Every listed page must exist (a broken link fails), and every page under docs/ must be
    listed, so no page's examples go unread."""
    listed = linked_pages()
    unlisted = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "docs").glob("*.md")
        if path.relative_to(ROOT).as_posix() not in listed
    )
    assert not unlisted, f"README's Documentation list does not link {unlisted}"
    missing = [name for name in listed if not (ROOT / name).exists()]
    assert not missing, f"README's Documentation list links pages that do not exist: {missing}"
    return ["README.md", *listed]
