"""`pipeline release` on real temporary repositories, with a bare `origin` beside them.

The run that follows a pushed tag is replaced by a fake click command (the
run itself has its own tests); everything else is real git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from pipeline.cli import main
from pipeline.release import cli as release_cli
from tests.unit.gitrepo import GitRepo

CONFIG = """\
version: 1
registry: {type: generic, url: registry.example.com/acme}
images:
  - name: api
  - name: web
"""
MONOREPO = """\
version: 1
registry: {type: generic, url: registry.example.com/acme}
images:
  - name: api
    tag_prefix: "api/"
  - name: worker
    tag_prefix: "api/"
  - name: web
    tag_prefix: "web/"
"""


@dataclass
class World:
    repo: GitRepo
    remote: GitRepo

    @property
    def config(self) -> str:
        return str(self.repo.path / "pipeline.yaml")

    def release(self, *args: str) -> int:
        return main(["release", "-f", self.config, *args])

    def local_tags(self) -> list[str]:
        return sorted(self.repo.git("tag", "--list").split())

    def remote_tags(self) -> list[str]:
        return sorted(self.remote.git("tag", "--list").split())


def make_world(tmp_path: Path, config: str = CONFIG, tags: tuple[str, ...] = ("v1.2.3",)) -> World:
    remote = GitRepo(tmp_path / "origin.git")
    remote.path.mkdir()
    remote.git("init", "-q", "--bare", "-b", "main")
    repo = GitRepo.init(tmp_path / "repo")
    (repo.path / "pipeline.yaml").write_text(config, encoding="utf-8")
    (repo.path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    repo.git("add", "pipeline.yaml", "Dockerfile")
    repo.commit()
    for tag in tags:
        repo.tag(tag, annotated=True)
    repo.commit()
    repo.set_origin(str(remote.path))
    repo.git("push", "-q", "origin", "main", "--tags")
    repo.git("remote", "set-head", "origin", "main")
    return World(repo, remote)


@dataclass
class FakeRun:
    calls: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0

    def command(self, *, with_force: bool = False) -> click.Command:
        params: list[click.Parameter] = [
            click.Option(["-f", "--file", "file_"]),
            click.Option(["--ref"]),
            click.Option(["--image", "images"], multiple=True),
            click.Option(["--report", "report_file"]),
        ]
        if with_force:
            params.append(click.Option(["--force"], is_flag=True))

        @click.pass_context
        def callback(ctx: click.Context, **kwargs: Any) -> None:
            self.calls.append(kwargs)
            if self.exit_code:
                ctx.exit(self.exit_code)

        return click.Command("run", params=params, callback=callback)


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    fake = FakeRun()
    command = fake.command()
    monkeypatch.setattr(release_cli, "run_command", lambda: command)
    return fake


# --------------------------------------------------------------------------- the tag


def test_no_run_creates_the_next_annotated_tag_on_head_without_pushing(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", "minor", "--no-run") == 0
    out, err = capsys.readouterr()
    assert out == "v1.3.0\n"
    assert "created annotated tag v1.3.0 (after v1.2.3)" in err
    repo = world.repo
    assert repo.git("cat-file", "-t", "v1.3.0") == "tag"  # annotated, not lightweight
    assert repo.git("rev-parse", "v1.3.0^{commit}") == repo.head()
    assert repo.git("tag", "-l", "--format=%(contents:subject)", "v1.3.0") == "Release v1.3.0"
    assert world.remote_tags() == ["v1.2.3"]
    assert fake_run.calls == []


def test_without_push_the_run_follows_for_the_local_tag(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # The contract: release "creates the next annotated semver git tag, then
    # runs the pipeline for it"; --push only adds publishing the tag.
    world = make_world(tmp_path)
    report = str(tmp_path / "report.json")
    assert world.release("--bump", "minor", "--report", report) == 0
    assert world.local_tags() == ["v1.2.3", "v1.3.0"]
    assert world.remote_tags() == ["v1.2.3"]
    assert len(fake_run.calls) == 1
    assert fake_run.calls[0]["ref"] == "refs/tags/v1.3.0"
    assert fake_run.calls[0]["report_file"] == report
    assert "git push origin refs/tags/v1.3.0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("bump", "tag"), [("patch", "v1.2.4"), ("minor", "v1.3.0"), ("major", "v2.0.0")]
)
def test_each_bump(tmp_path: Path, fake_run: FakeRun, bump: str, tag: str) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", bump) == 0
    assert tag in world.local_tags()


def test_first_release_of_a_repository_without_tags(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path, tags=())
    assert world.release("--bump", "minor") == 0
    assert world.local_tags() == ["v0.1.0"]


def test_prereleases_do_not_count(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path, tags=("v1.2.3",))
    world.repo.tag("v2.0.0-rc.1")  # on HEAD, a release candidate
    assert world.release("--bump", "patch") == 0
    assert "v1.2.4" in world.local_tags()


def test_dry_run_prints_the_tag_and_changes_nothing(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", "patch", "--push", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert out == "v1.2.4\n"
    assert "dry-run: would create v1.2.4" in err and "would push v1.2.4 to origin" in err
    assert world.local_tags() == world.remote_tags() == ["v1.2.3"]
    assert fake_run.calls == []


# --------------------------------------------------------------------------- refusals


def test_refuses_a_dirty_tree(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.make_dirty()
    assert world.release("--bump", "patch", "--push") == 2
    err = capsys.readouterr().err
    assert "refusing to release" in err and "--allow-dirty" in err
    assert "Traceback" not in err
    assert world.local_tags() == world.remote_tags() == ["v1.2.3"]


def test_untracked_files_are_not_dirt(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path)
    world.repo.add_untracked()
    assert world.release("--bump", "patch") == 0


def test_allow_dirty_releases_a_dirty_tree(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path)
    world.repo.make_dirty()
    assert world.release("--bump", "patch", "--allow-dirty") == 0
    assert "v1.2.4" in world.local_tags()


def test_refuses_another_branch(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.branch("feature")
    assert world.release("--bump", "patch") == 2
    err = capsys.readouterr().err
    assert "on branch feature, not the default branch main" in err
    assert world.local_tags() == ["v1.2.3"]
    assert world.release("--bump", "patch", "--allow-branch") == 0
    assert "v1.2.4" in world.local_tags()


def test_refuses_a_detached_head(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.detach()
    assert world.release("--bump", "patch") == 2
    assert "HEAD is not on a branch" in capsys.readouterr().err


def test_refuses_dirty_and_wrong_branch_in_one_message(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.branch("feature")
    world.repo.make_dirty()
    assert world.release("--bump", "patch") == 2
    err = capsys.readouterr().err
    assert "--allow-dirty" in err and "--allow-branch" in err


def test_the_config_default_branch_wins_over_origin_head(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path, config=CONFIG + "default_branch: trunk\n")
    assert world.release("--bump", "patch") == 2
    assert "not the default branch trunk" in capsys.readouterr().err


def test_unknown_default_branch_is_refused_with_the_fix(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.git("remote", "set-head", "origin", "--delete")
    assert world.release("--bump", "patch") == 2
    assert "set default_branch in the config" in capsys.readouterr().err


def test_refuses_a_head_that_is_already_released(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.tag("v1.2.4")
    assert world.release("--bump", "patch") == 2
    assert "already released as v1.2.4" in capsys.readouterr().err
    assert world.local_tags() == ["v1.2.3", "v1.2.4"]


def test_refuses_a_shallow_clone(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    clone = world.repo.clone(tmp_path / "shallow", depth=1)
    assert main(["release", "-f", str(clone.path / "pipeline.yaml"), "--bump", "patch"]) == 2
    assert "the clone is shallow" in capsys.readouterr().err


def test_refuses_a_directory_outside_git(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pipeline.yaml").write_text(CONFIG, encoding="utf-8")
    assert main(["release", "-f", str(tmp_path / "pipeline.yaml"), "--bump", "patch"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("args", [[], ["--bump", "pre"]])
def test_bad_arguments_exit_2(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    world = make_world(tmp_path)
    assert world.release(*args) == 2
    assert world.local_tags() == ["v1.2.3"]


# --------------------------------------------------------------------------- push, then run


def test_push_pushes_only_the_tag_then_runs_the_pipeline_for_it(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.tag("scratch")  # a local tag that must stay local
    report = str(tmp_path / "report.json")
    assert world.release("--bump", "patch", "--push", "--report", report) == 0
    assert world.remote_tags() == ["v1.2.3", "v1.2.4"]
    assert world.remote.git("rev-parse", "v1.2.4^{commit}") == world.repo.head()
    assert len(fake_run.calls) == 1
    call = fake_run.calls[0]
    assert call["ref"] == "refs/tags/v1.2.4"
    assert call["file_"] == world.config
    assert call["images"] == ()
    assert call["report_file"] == report
    assert "pushed v1.2.4 to origin" in capsys.readouterr().err


def test_a_failed_run_is_the_release_exit_code_and_the_tag_stays(
    tmp_path: Path, fake_run: FakeRun
) -> None:
    world = make_world(tmp_path)
    fake_run.exit_code = 3
    assert world.release("--bump", "patch", "--push") == 3
    assert world.remote_tags() == ["v1.2.3", "v1.2.4"]


def test_no_run_pushes_the_tag_only(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", "patch", "--push", "--no-run") == 0
    assert world.remote_tags() == ["v1.2.3", "v1.2.4"]
    assert fake_run.calls == []


def test_tags_only_the_remote_has_count(tmp_path: Path, fake_run: FakeRun) -> None:
    world = make_world(tmp_path)
    other = world.remote.clone(tmp_path / "colleague")
    other.commit()
    other.tag("v1.5.0", annotated=True)
    other.git("push", "-q", "origin", "v1.5.0")
    assert world.release("--bump", "patch", "--push") == 0
    assert "v1.5.1" in world.remote_tags()
    assert fake_run.calls[0]["ref"] == "refs/tags/v1.5.1"


def test_a_rejected_push_removes_the_local_tag_and_runs_nothing(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    hook = world.remote.path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are frozen' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    assert world.release("--bump", "patch", "--push") == 1
    err = capsys.readouterr().err
    assert "`git push` failed" in err and "tags are frozen" in err
    assert "removed the local tag v1.2.4 again" in err
    assert world.local_tags() == world.remote_tags() == ["v1.2.3"]
    assert fake_run.calls == []


def test_push_without_origin_is_refused_before_tagging(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.git("remote", "rename", "origin", "upstream")
    world.repo.git("config", "--unset-all", "remote.upstream.fetch")
    assert main(["release", "-f", world.config, "--bump", "patch", "--push", "--allow-branch"]) == 2
    assert "no remote named origin" in capsys.readouterr().err
    assert world.local_tags() == ["v1.2.3"]


def test_credentials_in_the_remote_url_never_reach_the_output(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.git("remote", "set-url", "origin", "https://user:s3cr3t-t0ken@127.0.0.1:9/x.git")
    assert world.release("--bump", "patch", "--push") == 1
    out, err = capsys.readouterr()
    assert "s3cr3t-t0ken" not in out + err
    assert "`git ls-remote` failed" in err
    assert world.local_tags() == ["v1.2.3"]


# --------------------------------------------------------------------------- monorepo prefixes


def test_monorepo_needs_an_image_to_pick_the_prefix(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path, config=MONOREPO, tags=("api/v1.0.0", "web/v3.1.0"))
    assert world.release("--bump", "patch") == 2
    assert "--image NAME" in capsys.readouterr().err
    assert world.release("--bump", "minor", "--image", "worker", "--push") == 0
    assert "api/v1.1.0" in world.remote_tags()
    assert fake_run.calls[0]["ref"] == "refs/tags/api/v1.1.0"
    assert fake_run.calls[0]["images"] == ("api", "worker")


# ------------------------------------------------------------ --force and the real run


def test_force_is_refused_before_tagging_when_the_run_has_no_force(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", "patch", "--push", "--force") == 2
    assert "has no --force" in capsys.readouterr().err
    assert world.local_tags() == world.remote_tags() == ["v1.2.3"]


def test_force_is_passed_to_a_run_that_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRun()
    command = fake.command(with_force=True)
    monkeypatch.setattr(release_cli, "run_command", lambda: command)
    world = make_world(tmp_path)
    assert world.release("--bump", "patch", "--push", "--force") == 0
    assert fake.calls[0]["force"] is True
    assert fake.calls[0]["ref"] == "refs/tags/v1.2.4"


def test_the_real_run_command_takes_what_the_release_passes() -> None:
    names = {p.name for p in release_cli.run_command().params}
    assert {"file_", "ref", "images", "report_file"} <= names


def test_a_refusal_never_waits_for_the_remote(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path)
    world.repo.git("remote", "set-url", "origin", "https://127.0.0.1:9/x.git")
    world.repo.make_dirty()
    assert world.release("--bump", "patch", "--push") == 2
    err = capsys.readouterr().err
    assert "--allow-dirty" in err and "ls-remote" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--no-run", "--force"],
        ["--no-run", "--report", "r.json"],
        ["--push", "--no-run", "--force"],
    ],
)
def test_run_options_without_a_run_are_refused(
    tmp_path: Path, fake_run: FakeRun, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    world = make_world(tmp_path)
    assert world.release("--bump", "patch", *args) == 2
    assert "are for the run that follows the tag" in capsys.readouterr().err
    assert world.local_tags() == world.remote_tags() == ["v1.2.3"]
