"""A report file inside a build context is flagged: it would change the image's inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.plan import ImagePlan, Plan
from pipeline.stages import reuse
from pipeline.tags import TagSet


def _plan(context: Path) -> Plan:
    image = ImagePlan(
        name="app",
        repository="app",
        image="r/app",
        context_dir=context,
        dockerfile=context / "Dockerfile",
        target=None,
        build_args={},
        secrets=(),
        platforms=(),
        labels={},
        tags=TagSet((), None, None),
        depends_on=(),
    )
    return Plan(None, context, None, None, (image,), ("build",))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ignore", "report", "warned"),
    [
        ("", "report.json", True),
        ("report.json\n", "report.json", False),
        ("", "../outside.json", False),
    ],
)
def test_report_inside_context(
    tmp_path: Path,
    ignore: str,
    report: str,
    warned: bool,
) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    (context / ".dockerignore").write_text(ignore)
    found = reuse.report_warnings(_plan(context), [context / report])
    assert any("inside the build context" in w for w in found) is warned
