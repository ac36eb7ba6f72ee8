"""Is one commit an ancestor of another? Asked of git, in the repository being deployed.

CI clones are shallow (actions/checkout fetches one commit), so the commit a
target runs is often missing, and `merge-base --is-ancestor` in a shallow
history says "no" for commits beyond the cut. So: a missing commit is
fetched by id; a "no" in a shallow clone is trusted only when git proves the
opposite order, otherwise the history is deepened back to the older commit's
time (`fetch --shallow-since`) and asked again; whatever still cannot be
told is None, and the guard falls back to the images' created labels.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from pipeline import log

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # full ids only: a label is not an option


class GitAncestry:
    def __init__(self, root: Path, remote: str = "origin", timeout: float = 120.0) -> None:
        self.root = root
        self.remote = remote
        self.timeout = timeout

    def _git(self, *args: str) -> subprocess.CompletedProcess[str] | None:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            return subprocess.run(
                ["git", "-C", str(self.root), *args],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            log.LOG.debug("git %s: %s", args[0], err)
            return None

    def _ok(self, *args: str) -> bool:
        done = self._git(*args)
        return done is not None and done.returncode == 0

    def _has(self, sha: str) -> bool:
        return self._ok("cat-file", "-e", f"{sha}^{{commit}}")

    def _shallow(self) -> bool:
        done = self._git("rev-parse", "--is-shallow-repository")
        return done is not None and done.stdout.strip() == "true"

    def _time(self, sha: str) -> int | None:
        done = self._git("show", "-s", "--format=%ct", sha, "--")
        if done is None or done.returncode != 0 or not done.stdout.strip().isdigit():
            return None
        return int(done.stdout.strip())

    def _fetch(self, *args: str) -> bool:
        done = self._git("fetch", "--quiet", "--no-tags", *args)
        if done is not None and done.returncode != 0:
            log.LOG.debug("git fetch %s: %s", " ".join(args), done.stderr.strip())
        return done is not None and done.returncode == 0

    def _order(self, ancestor: str, descendant: str) -> bool | None:
        """True/False where git proves it; None where a shallow history hides the answer."""
        done = self._git("merge-base", "--is-ancestor", ancestor, descendant)
        if done is None or done.returncode not in (0, 1):
            return None
        if done.returncode == 0:
            return True
        if not self._shallow():
            return False
        if self._ok("merge-base", "--is-ancestor", descendant, ancestor):
            return False  # the other way round, so certainly not an ancestor
        return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        if not (_SHA.fullmatch(ancestor) and _SHA.fullmatch(descendant)):
            return None
        if not self._ok("rev-parse", "--git-dir"):
            return None
        for sha in (ancestor, descendant):
            if not self._has(sha):
                log.LOG.info("fetching commit %s to compare it", sha[:12])
                if not self._fetch(self.remote, sha) or not self._has(sha):
                    return None
        answer = self._order(ancestor, descendant)
        if answer is not None:
            return answer
        times = [t for t in (self._time(ancestor), self._time(descendant)) if t is not None]
        if not times:
            return None
        log.LOG.info(
            "deepening the shallow clone to compare %s and %s", ancestor[:12], descendant[:12]
        )
        if not self._fetch(f"--shallow-since={min(times) - 1}", self.remote, ancestor, descendant):
            return None
        return self._order(ancestor, descendant)
