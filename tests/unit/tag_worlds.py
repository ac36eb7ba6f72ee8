"""Repository states for the context and tag tests, built with the git CLI.

Each function builds one state under a temporary directory and returns its
facts (path, shas, dates) by name, for the tables to refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.unit.gitrepo import GitRepo

ORIGIN = "https://github.com/acme/app.git"

World = dict[str, Any]


@dataclass(frozen=True)
class W:
    """A fact of the built repository, looked up when the case runs."""

    name: str


def _facts(repo: GitRepo, **shas: str) -> World:
    """The built repository's path and the named commits."""
    return {"path": repo.path, **shas}


def _detached_at(world: World, fact: str) -> World:
    """`world`, its checkout detached at the commit named `fact`."""
    GitRepo(world["path"]).detach(world[fact])
    return world


def _in_checkout(world: World, *git: str) -> World:
    """`world` after one more git command in its checkout."""
    GitRepo(world["path"]).git(*git)
    return world


def _detached_release(tmp: Path, older: str, *tags: tuple[str, bool]) -> World:
    """`older` (lightweight) on the first commit, `tags` (name, annotated) on HEAD, detached."""
    r = GitRepo.init(tmp / "repo")
    r.commit()
    r.tag(older)
    head = r.commit()
    for name, annotated in tags:
        r.tag(name, annotated=annotated)
    r.detach()
    return _facts(r, head=head)


# --------------------------------------------------------------------------- repository states


def on_main(tmp: Path) -> World:
    """main with two commits; origin/HEAD -> main."""
    r = GitRepo.init(tmp / "repo")
    base = r.commit()
    head = r.commit()
    r.set_origin(ORIGIN)
    r.set_origin_head("main")
    return {"path": r.path, "base": base, "head": head, "head_time": r.time_of(head)}


def tag_named_like_the_branch(tmp: Path) -> World:
    """main, with a tag also named `main` on HEAD (git then abbreviates the branch heads/main)."""
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    r.tag("main")
    return {"path": r.path, "head": head}


def tagged(tmp: Path) -> World:
    """main: v1.0.0 (annotated) on the first commit, v1.1.0 (annotated) on HEAD."""
    r = GitRepo.init(tmp / "repo")
    base = r.commit()
    r.tag("v1.0.0", annotated=True)
    head = r.commit()
    r.tag("v1.1.0", annotated=True)
    return _facts(r, base=base, head=head)


def pull_request(tmp: Path) -> World:
    """GitHub's PR checkout: detached at the synthetic merge of `feature` into main."""
    r = GitRepo.init(tmp / "repo")
    r.commit()
    r.branch("feature")
    pr_head = r.commit(file="feature.txt")
    r.checkout("main")
    base_tip = r.commit()
    r.detach()
    merge = r.merge("feature")
    return {
        "path": r.path,
        "pr_head": pr_head,
        "base_tip": base_tip,
        "merge": merge,
        "pr_head_time": r.time_of(pr_head),
    }


def pull_request_head(tmp: Path) -> World:
    """The same PR, checked out as the contract asks: detached at the PR head."""
    return _detached_at(pull_request(tmp), "pr_head")


def pull_request_base(tmp: Path) -> World:
    """pull_request_target's default checkout: the base branch tip."""
    return _detached_at(pull_request(tmp), "base_tip")


def tagged_at_base(tmp: Path) -> World:
    """`tagged`, checked out (detached) at the first commit, v1.0.0."""
    return _detached_at(tagged(tmp), "base")


def tagged_ids(tmp: Path) -> World:
    """`tagged` plus the object ids of its annotated tags (not the commits)."""
    world = tagged(tmp)
    repo = GitRepo(world["path"])
    world["v1_0_0_object"] = repo.git("rev-parse", "refs/tags/v1.0.0")
    world["v1_1_0_object"] = repo.git("rev-parse", "refs/tags/v1.1.0")
    return world


def rc_then_release(tmp: Path) -> World:
    """HEAD carries v2.0.0-rc.1 and, pushed later onto the same commit, v2.0.0."""
    return _detached_release(tmp, "v1.0.0", ("v2.0.0-rc.1", True), ("v2.0.0", True))


def detached_rc_and_stable(tmp: Path) -> World:
    """Detached HEAD carrying annotated v1.2.0-rc.1 and lightweight v1.2.0.

    git sorts the rc first (`git describe`, `--sort=-version:refname`).
    """
    return _detached_release(tmp, "v1.1.0", ("v1.2.0-rc.1", True), ("v1.2.0", False))


def detached_many(tmp: Path) -> World:
    """Detached HEAD with v1.9.0, v1.10.0 (lexically lower), a build, and a non-semver tag."""
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    for name in ("v1.9.0", "v1.10.0", "v1.10.0-rc.2", "nightly", "backend/v3.0.0"):
        r.tag(name, annotated=name.startswith("v1.10"))
    r.detach()
    return _facts(r, head=head)


def detached_untagged(tmp: Path) -> World:
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    r.commit()
    r.detach(head)
    return _facts(r, head=head)


def nested_tag(tmp: Path) -> World:
    """An annotated tag of an annotated tag: it still names the commit."""
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    r.tag("v2.0.0", annotated=True)
    r.git("tag", "-a", "-m", "again", "v2.0.0-again", "v2.0.0")
    return _facts(r, head=head)


def dirty(tmp: Path) -> World:
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    r.make_dirty()
    return _facts(r, head=head)


def untracked_only(tmp: Path) -> World:
    r = GitRepo.init(tmp / "repo")
    head = r.commit()
    r.add_untracked()
    return _facts(r, head=head)


def shallow(tmp: Path) -> World:
    """`git clone --depth 1` of a repository whose HEAD is tagged v2.0.0."""
    src = _released_origin(tmp)
    return _facts(src.clone(tmp / "clone", depth=1), head=src.head())


def _released_origin(tmp: Path, first: str = "v1.0.0") -> GitRepo:
    """A repository with `first` on its first commit and v2.0.0 on HEAD (branch trunk)."""
    src = GitRepo.init(tmp / "src", branch="trunk")
    src.commit()
    src.tag(first)
    src.commit()
    src.tag("v2.0.0", annotated=True)
    return src


def shallow_tags_fetched(tmp: Path) -> World:
    """A depth-1 clone that ran `git fetch --tags`: every tag, none of the history."""
    src = _released_origin(tmp)
    clone = src.clone(tmp / "clone", depth=1)
    clone.git("fetch", "-q", "--tags")
    return _facts(clone, head=src.head())


def shallow_checkout_fetch_tags(tmp: Path) -> World:
    """What actions/checkout leaves with `fetch-tags: true` (depth 1, detached)."""
    src = _released_origin(tmp)
    path = tmp / "clone"
    clone = GitRepo.init(path)
    clone.set_origin(f"file://{src.path}")
    head = src.head()
    refspecs = ["+refs/tags/*:refs/tags/*", f"+{head}:refs/remotes/origin/trunk"]
    clone.git("fetch", "-q", "--depth=1", "origin", *refspecs)
    clone.detach(head)
    return _facts(clone, head=head)


def shallow_only_head_release(tmp: Path) -> World:
    """A depth-1 clone whose origin has no release besides the one on HEAD."""
    src = _released_origin(tmp, first="nightly")
    return _facts(src.clone(tmp / "clone", depth=1), head=src.head())


def shallow_unreachable_origin(tmp: Path) -> World:
    """`shallow`, but origin cannot be asked (gone, or no credentials kept)."""
    return _in_checkout(shallow(tmp), "remote", "set-url", "origin", str(tmp / "gone.git"))


def shallow_without_origin(tmp: Path) -> World:
    return _in_checkout(shallow(tmp), "remote", "remove", "origin")


def codebuild_pr_checkout(tmp: Path) -> World:
    """CodeBuild's PR build: detached at the PR head."""
    return _detached_at(codebuild_checkout(tmp), "pr_head")


def codebuild_at_base(tmp: Path) -> World:
    """CodeBuild built `--source-version v1.0.0`: detached at that commit."""
    return _detached_at(codebuild_checkout(tmp), "base")


def codebuild_checkout(tmp: Path) -> World:
    """CodeBuild's clone: detached at the commit, branches and tags present."""
    r = GitRepo.init(tmp / "repo")
    base = r.commit()
    r.tag("v1.0.0")
    r.branch("feature")
    pr_head = r.commit(file="feature.txt")
    r.checkout("main")
    head = r.commit()
    r.tag("v1.1.0")
    r.detach()
    return {"path": r.path, "base": base, "head": head, "pr_head": pr_head}


def no_git(tmp: Path) -> World:
    """A CodePipeline source artifact: the files, no .git."""
    path = tmp / "src"
    path.mkdir()
    (path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    return {"path": path, "head": "0123456789abcdef0123456789abcdef01234567"}


def no_commits(tmp: Path) -> World:
    return {"path": GitRepo.init(tmp / "repo").path}


def broken_config(tmp: Path) -> World:
    """git itself fails (exit 128), as it does on "dubious ownership"."""
    r = GitRepo.init(tmp / "repo")
    r.commit()
    config = r.path / ".git" / "config"
    config.write_text(config.read_text(encoding="utf-8") + "[broken\n", encoding="utf-8")
    return {"path": r.path}
