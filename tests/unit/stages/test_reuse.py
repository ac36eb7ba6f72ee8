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


def _two_images(tmp_path: Path, *selected: str) -> Plan:
    from pipeline import plan as planning
    from pipeline.config.schema import Config
    from pipeline.context import Context

    for name in ("base", "app"):
        if not (tmp_path / name).exists():
            (tmp_path / name).mkdir()
            (tmp_path / name / "Dockerfile").write_text(f"FROM scratch\nLABEL n={name}\n")
    config = Config.model_validate(
        {
            "version": 1,
            "registry": {"type": "ecr", "account": "123456789012", "region": "eu-west-1"},
            "tags": [{"type": "sha"}],
            "images": [
                {"name": "base", "repository": "team/base", "context": "base"},
                {"name": "app", "repository": "team/app", "context": "app", "depends_on": ["base"]},
            ],
        }
    )
    ctx = Context(provider="local", event="push", sha="a" * 40, origins=())
    return planning.make(config, ctx, {}, root=tmp_path, images=selected)


def test_a_dependents_input_digest_is_the_same_when_its_dependency_is_not_selected(
    tmp_path: Path,
) -> None:
    # A fan-out runner builds `--image app` alone; a later run of every image
    # (the final CodeBuild build, a re-run) must find that image again, or it
    # rebuilds it and collides with its own immutable tag.
    alone = reuse.input_digests(_two_images(tmp_path, "app"))
    together = reuse.input_digests(_two_images(tmp_path))
    assert alone["app"] is not None
    assert alone["app"] == together["app"]
    assert "base" not in alone  # only the selected images are looked up


def test_a_dependency_change_still_changes_an_unselected_dependents_digest(
    tmp_path: Path,
) -> None:
    before = reuse.input_digests(_two_images(tmp_path, "app"))["app"]
    (tmp_path / "base" / "Dockerfile").write_text("FROM scratch\nLABEL n=changed\n")
    assert reuse.input_digests(_two_images(tmp_path, "app"))["app"] != before
