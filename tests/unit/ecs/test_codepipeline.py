"""CodePipeline files: exact shape, UTF-8, at most 100 KB, atomic, byte-identical on a re-run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.ecs import codepipeline
from pipeline.ecs.codepipeline import (
    ArtifactError,
    ImageDefinition,
    write_image_detail,
    write_imagedefinitions,
)

URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:" + "a" * 64


def test_imagedefinitions_is_exactly_name_and_image_uri(tmp_path: Path) -> None:
    out = tmp_path / "imagedefinitions.json"
    write_imagedefinitions(out, [ImageDefinition("app", URI), ImageDefinition("worker", URI)])
    assert json.loads(out.read_bytes().decode("utf-8")) == [
        {"name": "app", "imageUri": URI},
        {"name": "worker", "imageUri": URI},
    ]


def test_image_detail_is_image_uri_only(tmp_path: Path) -> None:
    out = tmp_path / "imageDetail.json"
    write_image_detail(out, URI)
    assert json.loads(out.read_text(encoding="utf-8")) == {"ImageURI": URI}


def test_a_rerun_writes_the_same_bytes(tmp_path: Path) -> None:
    out = tmp_path / "imagedefinitions.json"
    entries = [ImageDefinition("app", URI), ImageDefinition("app", URI)]  # duplicates fold
    write_imagedefinitions(out, entries)
    first = out.read_bytes()
    write_imagedefinitions(out, entries)
    assert out.read_bytes() == first
    assert first.count(b'"name"') == 1


def test_over_100_kb_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "imagedefinitions.json"
    many = [ImageDefinition(f"c{i:05d}", URI) for i in range(1200)]
    with pytest.raises(ArtifactError, match="at most 100 KB"):
        write_imagedefinitions(out, many)
    assert not out.exists()
    fits = [ImageDefinition(f"c{i:05d}", URI) for i in range(100)]
    write_imagedefinitions(out, fits)
    assert out.stat().st_size <= codepipeline.MAX_IMAGEDEFINITIONS_BYTES


def test_one_container_cannot_get_two_images() -> None:
    with pytest.raises(ArtifactError, match="two images"):
        codepipeline.imagedefinitions_text(
            [ImageDefinition("app", URI), ImageDefinition("app", URI + "x")]
        )


def test_the_write_is_atomic_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "imageDetail.json"
    write_image_detail(out, URI)
    before = out.read_bytes()

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(ArtifactError, match="No space left"):
        write_image_detail(out, URI + "-new")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imageDetail.json"], "no temp file left"


def test_files_are_readable_by_others_and_folders_are_made(tmp_path: Path) -> None:
    out = tmp_path / "artifacts" / "deep" / "imageDetail.json"
    write_image_detail(out, URI)
    assert out.stat().st_mode & 0o777 == 0o644


def test_non_ascii_is_written_as_utf8(tmp_path: Path) -> None:
    out = tmp_path / "imagedefinitions.json"
    write_imagedefinitions(out, [ImageDefinition("café", URI)])
    assert "café".encode() in out.read_bytes()
