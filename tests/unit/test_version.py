"""The version the CLI reports is the installed distribution's, and the source tree's
fallback agrees with it."""

from __future__ import annotations

from importlib import metadata

import pytest

import pipeline
from pipeline.cli import main


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"pipeline, version {metadata.version(pipeline.DISTRIBUTION)}"


def test_source_fallback_matches_the_installed_version() -> None:
    assert metadata.version(pipeline.DISTRIBUTION) == pipeline._SOURCE_VERSION


def test_version_falls_back_without_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(pipeline._metadata, "version", missing)
    assert pipeline._version() == pipeline._SOURCE_VERSION


def test_the_distribution_name_is_not_the_import_name() -> None:
    # `pipeline` on the package index is an unrelated project.
    assert pipeline.DISTRIBUTION == "pipeline-release"
    assert metadata.distribution(pipeline.DISTRIBUTION).entry_points.select(
        group="console_scripts", name="pipeline"
    )
