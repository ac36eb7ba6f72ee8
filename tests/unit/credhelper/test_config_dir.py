"""A build's DOCKER_CONFIG keeps the user's entries, names our helper, holds no token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pipeline.credhelper import config_dir

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    (folder / "cli-plugins").mkdir(parents=True)
    (folder / "cli-plugins" / "docker-buildx").write_text("#!/bin/sh\n")
    (folder / "buildx" / "instances").mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": "dXNlcjpodWI="},
                    ECR: {"auth": "QVdTOnN0YWxl"},
                },
                "credHelpers": {"gcr.io": "gcloud"},
                "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
                "credsStore": "desktop",
            }
        )
    )
    return folder


def test_keeps_the_users_entries_and_names_pipeline_for_the_builds_hosts(tmp_path: Path) -> None:
    folder = tmp_path / "build"
    config_dir.write(folder, user_dir(tmp_path), [ECR, "127.0.0.1:5321"])
    data = json.loads((folder / "config.json").read_text())
    assert data["credHelpers"] == {
        "gcr.io": "gcloud",
        ECR: "pipeline",
        "127.0.0.1:5321": "pipeline",
    }
    assert data["proxies"] == {"default": {"httpProxy": "http://proxy:3128"}}
    assert data["credsStore"] == "desktop"
    # Docker Hub's login stays; a stale token of a host the helper now serves does not
    assert data["auths"] == {"https://index.docker.io/v1/": {"auth": "dXNlcjpodWI="}}


def test_the_folder_is_private_and_links_plugins_and_builders(tmp_path: Path) -> None:
    folder = tmp_path / "build"
    user = user_dir(tmp_path)
    config_dir.write(folder, user, [ECR])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "config.json").stat().st_mode) == 0o600
    assert (folder / "cli-plugins" / "docker-buildx").exists()
    assert (folder / "buildx").resolve() == (user / "buildx").resolve()


def test_no_user_config_still_names_the_helper(tmp_path: Path) -> None:
    folder = tmp_path / "build"
    config_dir.write(folder, tmp_path / "absent", [ECR])
    assert json.loads((folder / "config.json").read_text()) == {"credHelpers": {ECR: "pipeline"}}


def test_a_broken_user_config_is_ignored_not_copied(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "config.json").write_text("{not json")
    folder = tmp_path / "build"
    config_dir.write(folder, user, [ECR])
    assert json.loads((folder / "config.json").read_text()) == {"credHelpers": {ECR: "pipeline"}}


def test_build_env_points_docker_at_the_folder_and_finds_the_helper_then_removes_it(
    tmp_path: Path,
) -> None:
    env = {"DOCKER_CONFIG": str(user_dir(tmp_path)), "PATH": "/usr/bin"}
    with config_dir.build_env(env, [ECR]) as extra:
        folder = Path(extra["DOCKER_CONFIG"])
        text = "".join(p.read_text() for p in folder.rglob("*.json") if p.is_file())
        assert "pipeline" in text and "dXNlcjpodWI=" in text  # the user's own login only
        assert extra["PATH"].endswith(os.pathsep + "/usr/bin")
        dirs = extra["PATH"].split(os.pathsep)[:-1]
        assert any((Path(d) / "docker-credential-pipeline").exists() for d in dirs)
    assert not folder.exists()


def test_user_config_dir_follows_docker_config_then_home(tmp_path: Path) -> None:
    assert config_dir.user_config_dir({"DOCKER_CONFIG": "/x"}) == Path("/x")
    assert config_dir.user_config_dir({"HOME": "/h"}) == Path("/h/.docker")
