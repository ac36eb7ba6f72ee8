"""The README and docs/ link only to files of this repository, and every link resolves
(file and heading): users read them from a clone or a package page, never beside the
project's private notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_pages_name_no_private_paths(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for word in ("shared/", "CONTRACT"):
        assert word not in text, f"{page.name} mentions {word!r}, which users do not have"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        assert file.exists(), f"{page.name}: {target} does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{page.name}: no heading for #{anchor} in {path}"


def test_the_readme_links_to_nothing_outside_the_repository() -> None:
    external = [t for t in links(ROOT / "README.md") if re.match(r"^[a-z]+:", t)]
    assert external == []


def test_the_readme_links_to_the_reference() -> None:
    assert "docs/reference.md" in links(ROOT / "README.md")


def test_the_readme_opens_with_the_install_lines() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = FENCE.search(text)
    assert first_block, "README.md has no code block"
    block = first_block.group(0)
    for line in (
        "pip install pipeline-release",
        "pip install 'pipeline-release[eks]'",
        "pip install 'pipeline-release[sandbox]'",
    ):
        assert line in block
    assert text.index("make demo") < text.index("## Quick start")
    assert "make test" in text[: text.index("## Quick start")]
