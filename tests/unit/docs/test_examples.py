"""Every configuration the README and docs/ show is one `pipeline validate` accepts
(paths aside: the examples name folders of a user's repository)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config.load import loads

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def configs() -> list[tuple[str, str]]:
    """(where, text) of each `version: 1` YAML block and each heredoc'd pipeline.yaml."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = re.findall(r"^```yaml\n(version: 1\n.*?)^```", text, flags=re.M | re.S)
        blocks += re.findall(r"cat > pipeline\.yaml <<'EOF'\n(.*?)^EOF$", text, flags=re.M | re.S)
        found += [(f"{page.relative_to(ROOT)}#{n}", block) for n, block in enumerate(blocks)]
    return found


CONFIGS = configs()


def test_the_pages_show_configurations() -> None:
    where = {w.split("#")[0] for w, _text in CONFIGS}
    assert {"README.md", "docs/migration.md", "docs/where-it-runs.md"} <= where


@pytest.mark.parametrize(("where", "text"), CONFIGS, ids=[w for w, _t in CONFIGS])
def test_every_configuration_shown_loads(where: str, text: str) -> None:
    config = loads(text, filename=where, env={})
    assert config.images
