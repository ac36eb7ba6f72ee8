"""What `pipeline release` may do, decided before anything changes (pure).

- Which tag prefix: each image's `tag_prefix`, else the top-level one. When
  the images use different prefixes, `--image NAME` names the one to release;
  without it the release is refused. The run that follows builds every image
  that shares the released prefix (the tag versions all of them).
- Refusals, all reported at once: a dirty work tree (without --allow-dirty),
  a branch other than the default one, a detached HEAD or an unknown default
  branch (without --allow-branch), and a shallow clone, which hides the tags
  the next version is computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline import semver
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import UsageError


@dataclass(frozen=True)
class Selection:
    prefix: str
    #: images the run builds; empty: every image of the config
    images: tuple[str, ...]


def prefixes(config: Config) -> dict[str, str]:
    return {
        i.name: i.tag_prefix if i.tag_prefix is not None else config.tag_prefix
        for i in config.images
    }


def select(config: Config, images: Sequence[str]) -> Selection:
    by_image = prefixes(config)
    unknown = [n for n in images if n not in by_image]
    if unknown:
        raise UsageError(
            f"--image {unknown[0]}: no such image; the config has {', '.join(by_image)}"
        )
    chosen = {by_image[n] for n in images} if images else set(by_image.values())
    if len(chosen) > 1:
        groups = "; ".join(
            f"{p or '(no prefix)'}: {', '.join(n for n in by_image if by_image[n] == p)}"
            for p in sorted(chosen)
        )
        hint = (
            "release them one at a time"
            if images
            else "name the image to release with --image NAME"
        )
        raise UsageError(f"the images use different tag prefixes ({groups}); {hint}")
    prefix = chosen.pop()
    if len(set(by_image.values())) == 1:
        return Selection(prefix, ())
    return Selection(prefix, tuple(n for n in by_image if by_image[n] == prefix))


def refusals(context: Context, *, allow_dirty: bool, allow_branch: bool) -> list[str]:
    out: list[str] = []
    if context.dirty and not allow_dirty:
        out.append(
            "the work tree has uncommitted changes to tracked files: commit or stash them,"
            " or pass --allow-dirty"
        )
    default = context.default_branch
    if not allow_branch:
        if default is None:
            out.append(
                "cannot tell the default branch: set default_branch in the config (or run"
                " `git remote set-head origin --auto`), or pass --allow-branch"
            )
        elif context.branch is None:
            out.append(
                f"HEAD is not on a branch: check out {default} to release it, or pass"
                " --allow-branch"
            )
        elif context.branch != default:
            out.append(
                f"on branch {context.branch}, not the default branch {default}: release from"
                f" {default}, or pass --allow-branch"
            )
    if context.shallow or context.repo_tags is None:
        out.append(
            "the clone is shallow, so its tags may be incomplete: fetch them first"
            " (`git fetch --unshallow --tags`)"
        )
    return out


def already_released(head_tags: Iterable[str], prefix: str) -> str | None:
    """The stable release tag with this prefix that HEAD already carries, if any."""
    stable = [t for v, t in semver.versions(sorted(head_tags), prefix) if not v.is_prerelease]
    best = semver.highest(stable, prefix)
    return best[1] if best else None
