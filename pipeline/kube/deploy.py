"""Deploy an image (by digest) to a Kubernetes Deployment and watch it roll out.

Value in, value out: the settings, the pushed `repo@sha256:...`, a connector
and an injected clock and sleep; a `Deployment` result comes back, never a
print. Failures of the target (unreachable, unknown container, missed
deadline) are results with status `failed` or `rolled_back`, not exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline import imageref, poll
from pipeline.config.schema import EksTarget
from pipeline.config.types import format_duration
from pipeline.deployment import DeployError, Deployment, Status
from pipeline.kube import patch as patches
from pipeline.kube.ports import Cluster, KubeApi, KubeConnector, KubeObject, KubeUnavailable
from pipeline.kube.rollout import Verdict, judge, state
from pipeline.poll import Deadline

LOG = logging.getLogger("pipeline")

Clock = Callable[[], float]  # monotonic seconds
Sleep = Callable[[float], None]
#: Polling often enough that a finished rollout is noticed within a second or so.
POLL_INTERVAL = 1.0
#: Pauses before asking again after a connection failure, a 429 or a 5xx.
RETRY_DELAYS = (1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Running:
    """What the target runs before the deploy: the hook for the "never backwards" guard.

    `revision` is the commit the pipeline last deployed there (its
    `pipeline.revision` annotation), None when the pipeline never has.
    """

    target: str
    images: Mapping[str, str]  # container name -> image
    revision: str | None


#: Raises a DeployError to refuse the deploy (say, an older commit than the one running).
Guard = Callable[[Running], None]


def cluster_of(settings: EksTarget) -> Cluster:
    context = settings.context
    if bool(settings.cluster) == bool(context):
        raise DeployError("an eks target needs either `cluster` (EKS) or `context` (kubeconfig)")
    return Cluster(name=settings.cluster, context=context, region=settings.region)


def target_name(settings: EksTarget) -> str:
    where = settings.cluster or settings.context
    return f"{where}/{settings.namespace}/{settings.deployment}"


def deploy_eks(
    settings: EksTarget,
    image: str,
    ports: KubeConnector,
    clock: Clock,
    sleep: Sleep,
    dry_run: bool = False,
    *,
    revision: str | None = None,
    guard: Guard | None = None,
    poll: float = POLL_INTERVAL,
    also_matches: Sequence[str] = (),
) -> Deployment:
    """`also_matches`: other names of the image's repository (ECR's own host when images
    are pushed through a host override); containers running them are this image's too."""
    target = target_name(settings)
    try:
        ref = imageref.parse(image)
        if ref is None or not ref.digest:
            raise DeployError(f"deploy needs an image by digest (repo@sha256:...), got {image!r}")
        pinned = imageref.pinned(ref.repository, ref.digest)
        api = ports.connect(cluster_of(settings))
        try:
            run = _Rollout(settings, api, target, clock, sleep, poll, tuple(also_matches))
            return run.deploy(ref.repository, pinned, dry_run, revision, guard)
        finally:
            api.close()
    except DeployError as err:
        return Deployment("eks", target, image, None, "failed", str(err))


class _Rollout:
    def __init__(
        self,
        settings: EksTarget,
        api: KubeApi,
        target: str,
        clock: Clock,
        sleep: Sleep,
        poll: float,
        also: tuple[str, ...] = (),
    ) -> None:
        self.s = settings
        self.also = also
        self.api = api
        self.target = target
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        cluster = settings.cluster or settings.context
        self.where = f"deployment {settings.namespace}/{settings.deployment} on {cluster}"

    def deploy(
        self, repository: str, image: str, dry_run: bool, revision: str | None, guard: Guard | None
    ) -> Deployment:
        s = self.s
        obj = self.retried(lambda: self.api.get_deployment(s.namespace, s.deployment))
        selected = patches.select(obj, s.containers, repository, self.where, self.also)
        changed = patches.changes(selected, image, self.also)
        previous = _previous(c.image for c in selected)
        running_revision = patches.revision(obj)
        if guard is not None:
            guard(Running(self.target, {c.name: c.image for c in selected}, running_revision))

        def result(status: Status, message: str) -> Deployment:
            return Deployment("eks", self.target, image, previous, status, message)

        if dry_run:
            diff = "; ".join(c.describe() for c in changed) or f"already runs {image}"
            LOG.info("dry run: %s: %s", self.where, diff)
            return result("skipped", f"dry run: {diff}")
        if not changed:
            # Nothing to roll out; only make sure what runs is healthy.
            verdict = self.wait()
            if verdict.done:
                return result("skipped", f"already runs {image}")
            return result("failed", verdict.message)
        LOG.info("%s: %s", self.where, "; ".join(c.describe() for c in changed))
        forward = patches.forward(changed, revision)
        self.retried(lambda: self.api.patch_deployment(s.namespace, s.deployment, forward))
        verdict = self.wait()
        if verdict.done:
            return result("completed", verdict.message)
        if not s.rollback:
            return result("failed", verdict.message)
        LOG.warning("%s: %s; rolling back to %s", self.where, verdict.message, previous)
        undo = patches.backward(changed, running_revision, revision)
        self.retried(lambda: self.api.patch_deployment(s.namespace, s.deployment, undo))
        back = self.wait()
        if back.done:
            return result("rolled_back", f"{verdict.message}; rolled back to {previous}")
        return result(
            "failed", f"{verdict.message}; the rollback to {previous} failed too: {back.message}"
        )

    def retried(self, call: Callable[[], KubeObject]) -> KubeObject:
        """A read or a patch (setting images is idempotent), asked again after a hiccup."""
        for delay in RETRY_DELAYS:
            try:
                return call()
            except KubeUnavailable as err:
                LOG.info("%s; asking again in %gs", err, delay)
                self.sleep(delay)
        return call()

    def wait(self) -> Verdict:
        """Poll until done, failed, or `wait` runs out; transient API errors are asked again."""
        said = ""

        def look(_deadline: Deadline) -> Verdict:
            try:
                return judge(state(self.api.get_deployment(self.s.namespace, self.s.deployment)))
            except KubeUnavailable as err:
                return Verdict(False, False, str(err))

        def pending(verdict: Verdict) -> None:
            nonlocal said
            if verdict.message != said:
                LOG.info("%s", verdict.message)
                said = verdict.message

        polled = poll.until(
            look,
            lambda verdict: verdict.done or verdict.failed,
            seconds=self.s.wait,
            now=self.clock,
            sleep=self.sleep,
            interval=poll.every(self.poll),
            pending=pending,
        )
        if not polled.timed_out:
            return polled.answer
        return Verdict(
            False,
            True,
            f"{self.where} did not finish within {format_duration(self.s.wait)}: {said}",
        )


def _previous(images: Iterable[str]) -> str | None:
    seen: list[str] = []
    for image in images:
        if image not in seen:
            seen.append(image)
    return ", ".join(seen) or None
