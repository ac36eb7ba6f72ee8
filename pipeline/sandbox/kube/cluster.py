"""The emulated cluster's state: namespaces, Deployments and their ReplicaSets,
resource versions and the event log that watches read.

Thread-safe: the HTTP handlers and the controller thread (`tick`) share one
lock. Every write gets the next resourceVersion and an event, as etcd would
give it. Time comes from the injected clock, so tests drive rollouts by
moving a fake clock and calling `tick()`.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.sandbox.kube import deployments, rollout
from pipeline.sandbox.kube.fields import decode
from pipeline.sandbox.kube.merge import PatchError, json_patch, merge_patch, strategic_merge
from pipeline.sandbox.kube.rollout import Phase, Timing, timestamp
from pipeline.sandbox.kube.schema import DEPLOYMENT, NAMESPACE, SCALE, Schema
from pipeline.sandbox.kube.status import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
)

REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH = "pod-template-hash"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_HISTORY = 2000  # events kept for watches; an older resourceVersion gets 410 Gone


@dataclass(frozen=True)
class Event:
    rv: int
    resource: str  # "deployments" or "namespaces"
    namespace: str | None
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]


@dataclass
class ReplicaSet:
    hash: str
    revision: int
    template: dict[str, Any]  # the pod template, with its pod-template-hash label
    uid: str
    created: float


@dataclass
class _Record:
    obj: dict[str, Any]
    changed: float  # when the generation last changed
    phase: Phase | None = None
    sets: dict[str, ReplicaSet] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)


class Gone(Exception):
    """The resourceVersion asked for is older than the event log."""


class Cluster:
    def __init__(
        self, clock: Callable[[], float] = time.time, timing: Timing | None = None
    ) -> None:
        self.clock = clock
        self.timing = timing or Timing()
        self._lock = threading.Condition()
        self._rv = 0
        self._events: deque[Event] = deque(maxlen=_HISTORY)
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._deployments: dict[tuple[str, str], _Record] = {}
        self._armed: set[tuple[str, str]] = set()
        self._closed = False
        for name in SYSTEM_NAMESPACES:
            self.create_namespace({"metadata": {"name": name}})

    # -- versions and events -----------------------------------------------------

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    def _bump(self, obj: dict[str, Any]) -> None:
        self._rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self._rv)

    def _emit(self, resource: str, namespace: str | None, kind: str, obj: dict[str, Any]) -> None:
        self._events.append(Event(self._rv, resource, namespace, kind, copy.deepcopy(obj)))
        self._lock.notify_all()

    def events(
        self, resource: str, namespace: str | None, since: int, timeout: float
    ) -> list[Event] | None:
        """Events after `since`, waiting up to `timeout` (real) seconds; None once closed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if self._closed:
                    return None
                if self._events and since < self._events[0].rv - 1:
                    raise Gone(since)
                found = [
                    e
                    for e in self._events
                    if e.rv > since
                    and e.resource == resource
                    and (namespace is None or e.namespace == namespace)
                ]
                if found:
                    return found
                since = max(since, self._rv)  # only other resources moved on
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._lock.wait(remaining)

    def close(self) -> None:
        """Ends every watch."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    # -- namespaces ----------------------------------------------------------------

    def namespaces(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(ns) for _, ns in sorted(self._namespaces.items())]

    def namespace(self, name: str) -> dict[str, Any]:
        with self._lock:
            if name not in self._namespaces:
                raise not_found("namespaces", "", name)
            return copy.deepcopy(self._namespaces[name])

    def create_namespace(self, body: dict[str, Any], mode: str = "Warn") -> dict[str, Any]:
        decoded = _decoded(body, NAMESPACE, mode, "Namespace", "v1", [])
        name = (decoded.get("metadata") or {}).get("name") or ""
        if not name or not deployments.valid_label(name):
            raise invalid(
                "namespaces",
                "",
                name,
                [("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}"')],
            )
        with self._lock:
            if name in self._namespaces:
                raise already_exists("namespaces", "", name)
            meta = decoded.setdefault("metadata", {})
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=timestamp(self.clock()))
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            namespace = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": meta,
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            self._bump(namespace)
            self._namespaces[name] = namespace
            self._emit("namespaces", None, "ADDED", namespace)
            return copy.deepcopy(namespace)

    def patch_namespace(self, name: str, content_type: str, patch: Any) -> dict[str, Any]:
        """Labels and annotations change; the rest of a namespace is the server's."""
        with self._lock:
            if name not in self._namespaces:
                raise not_found("namespaces", "", name)
            current = self._namespaces[name]
            patched = _decoded(
                _patched(current, content_type, patch, NAMESPACE),
                NAMESPACE,
                "Warn",
                "Namespace",
                "v1",
                [],
            )
            updated = copy.deepcopy(current)
            meta = patched.get("metadata") or {}
            labels = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
            updated["metadata"]["labels"] = labels
            updated["metadata"]["annotations"] = meta.get("annotations") or {}
            if not updated["metadata"]["annotations"]:
                del updated["metadata"]["annotations"]
            if updated == current:
                return copy.deepcopy(current)
            self._bump(updated)
            self._namespaces[name] = updated
            self._emit("namespaces", None, "MODIFIED", updated)
            return copy.deepcopy(updated)

    def delete_namespace(self, name: str) -> dict[str, Any]:
        """Gone at once with its Deployments (a real one is Terminating for a while first)."""
        with self._lock:
            if name not in self._namespaces:
                raise not_found("namespaces", "", name)
            if name in SYSTEM_NAMESPACES:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                )
            for ns, deployment in [k for k in self._deployments if k[0] == name]:
                self._delete(ns, deployment)
            namespace = self._namespaces.pop(name)
            self._bump(namespace)
            self._emit("namespaces", None, "DELETED", namespace)
            return copy.deepcopy(namespace)

    # -- deployments -----------------------------------------------------------------

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._record(namespace, name).obj)

    def list_deployments(self, namespace: str | None) -> tuple[list[dict[str, Any]], str]:
        """(items sorted by namespace and name, the list's resourceVersion)."""
        with self._lock:
            items = [
                copy.deepcopy(record.obj)
                for key, record in sorted(self._deployments.items())
                if namespace is None or key[0] == namespace
            ]
            return items, str(self._rv)

    def create(
        self, namespace: str, body: Any, mode: str = "Warn", warnings: list[str] | None = None
    ) -> dict[str, Any]:
        found = [] if warnings is None else warnings
        obj = _decoded(body, DEPLOYMENT, mode, "Deployment", "apps/v1", found)
        meta = obj.setdefault("metadata", {})
        _same_namespace(meta, namespace)
        with self._lock:
            self._require_namespace(namespace)
            name = meta.get("name") or ""
            if (namespace, name) in self._deployments:
                raise already_exists("deployments", "apps", name)
            deployments.apply_defaults(obj)
            causes = deployments.validate(obj)
            if causes:
                raise invalid("deployments", "apps", name, causes)
            now = self.clock()
            for key in ("resourceVersion", "generation", "uid", "creationTimestamp"):
                meta.pop(key, None)
            meta.update(
                namespace=namespace,
                uid=str(uuid.uuid4()),
                generation=1,
                creationTimestamp=timestamp(now),
            )
            obj["status"] = {}
            self._bump(obj)
            self._deployments[(namespace, name)] = _Record(obj, now)
            self._emit("deployments", namespace, "ADDED", obj)
            return copy.deepcopy(obj)

    def replace(
        self,
        namespace: str,
        name: str,
        body: Any,
        mode: str = "Warn",
        warnings: list[str] | None = None,
    ) -> dict[str, Any]:
        found = [] if warnings is None else warnings
        obj = _decoded(body, DEPLOYMENT, mode, "Deployment", "apps/v1", found)
        with self._lock:
            return self._update(namespace, name, obj)

    def patch(
        self,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        mode: str = "Warn",
        warnings: list[str] | None = None,
    ) -> dict[str, Any]:
        found = [] if warnings is None else warnings
        with self._lock:
            current = self._record(namespace, name).obj
            patched = _patched(current, content_type, patch, DEPLOYMENT)
            obj = _decoded(patched, DEPLOYMENT, mode, "Deployment", "apps/v1", found)
            return self._update(namespace, name, obj)

    def delete(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            return self._delete(namespace, name)

    def _delete(self, namespace: str, name: str) -> dict[str, Any]:
        record = self._record(namespace, name)
        del self._deployments[(namespace, name)]
        self._armed.discard((namespace, name))
        self._bump(record.obj)
        self._emit("deployments", namespace, "DELETED", record.obj)
        return copy.deepcopy(record.obj)

    def _update(self, namespace: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
        record = self._record(namespace, name)
        old = record.obj
        meta = obj.setdefault("metadata", {})
        _same_namespace(meta, namespace)
        if meta.get("name") not in (None, name):
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the "
                f"URL ({name})"
            )
        wanted = meta.get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise conflict("deployments", "apps", name)
        meta["name"] = name
        deployments.apply_defaults(obj)
        causes = deployments.validate(obj, old)
        if causes:
            raise invalid("deployments", "apps", name, causes)
        for key in ("uid", "creationTimestamp", "generation"):
            meta[key] = old["metadata"][key]
        meta["namespace"] = namespace
        obj["status"] = old.get("status", {})  # the status is the controller's
        if obj.get("spec") != old.get("spec"):
            meta["generation"] = old["metadata"]["generation"] + 1
            record.changed = self.clock()
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if obj == old:
            return copy.deepcopy(old)  # a no-op write keeps its resourceVersion
        self._bump(obj)
        record.obj = obj
        self._emit("deployments", namespace, "MODIFIED", obj)
        return copy.deepcopy(obj)

    def _record(self, namespace: str, name: str) -> _Record:
        record = self._deployments.get((namespace, name))
        if record is None:
            raise not_found("deployments", "apps", name)
        return record

    def _require_namespace(self, namespace: str) -> None:
        if namespace not in self._namespaces:
            raise not_found("namespaces", "", namespace)

    # -- the scale subresource ---------------------------------------------------------

    def scale(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            return _scale(self._record(namespace, name).obj)

    def set_scale(
        self, namespace: str, name: str, content_type: str | None, body: Any
    ) -> dict[str, Any]:
        """PUT (content_type None) or PATCH of the scale subresource: spec.replicas only."""
        with self._lock:
            record = self._record(namespace, name)
            current = _scale(record.obj)
            wanted = body if content_type is None else _patched(current, content_type, body, SCALE)
            replicas = ((wanted or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool):
                raise bad_request("the Scale's spec.replicas must be an integer")
            obj = copy.deepcopy(record.obj)
            obj["spec"]["replicas"] = replicas
            obj["metadata"].pop("resourceVersion")
            wanted_rv = ((wanted or {}).get("metadata") or {}).get("resourceVersion")
            if content_type is None and wanted_rv:
                obj["metadata"]["resourceVersion"] = wanted_rv
            return _scale(self._update(namespace, name, obj))

    # -- replica sets (read only: the controller owns them) ------------------------------

    def replica_sets(self, namespace: str | None) -> tuple[list[dict[str, Any]], str]:
        with self._lock:
            now = self.clock()
            items = [
                rs
                for (ns, _), record in sorted(self._deployments.items())
                if namespace is None or ns == namespace
                for rs in _replica_sets(record, now, self.timing)
            ]
            items.sort(key=lambda rs: (rs["metadata"]["namespace"], rs["metadata"]["name"]))
            return items, str(self._rv)

    # -- the controller ------------------------------------------------------------------

    def fail_next(self, namespace: str, name: str) -> None:
        """The next rollout of a new pod template of this Deployment never becomes
        available: its pods stay unready and the progress deadline passes."""
        with self._lock:
            self._armed.add((namespace, name))

    def tick(self) -> None:
        """One pass of the deployment controller at the clock's current time."""
        with self._lock:
            now = self.clock()
            for (namespace, name), record in self._deployments.items():
                self._reconcile(namespace, name, record, now)

    def _reconcile(self, namespace: str, name: str, record: _Record, now: float) -> None:
        obj = record.obj
        generation = obj["metadata"]["generation"]
        phase = record.phase
        if (phase is None or phase.generation != generation) and (
            now >= record.changed + self.timing.observe
        ):
            phase = record.phase = self._observe(namespace, name, record, now)
        if phase is None:
            return
        current = record.sets[phase.current]
        new_status = rollout.status(
            phase,
            now,
            self.timing,
            rs_name=f"{name}-{current.hash}",
            deadline_seconds=int(obj["spec"].get("progressDeadlineSeconds") or 600),
            previous=obj.get("status"),
        )
        annotations = obj["metadata"].get("annotations") or {}
        if new_status == obj.get("status") and annotations.get(REVISION) == str(current.revision):
            return
        updated = copy.deepcopy(obj)
        updated["status"] = new_status
        updated["metadata"].setdefault("annotations", {})[REVISION] = str(current.revision)
        self._bump(updated)
        record.obj = updated
        self._emit("deployments", namespace, "MODIFIED", updated)

    def _observe(self, namespace: str, name: str, record: _Record, now: float) -> Phase:
        spec = record.obj["spec"]
        template = spec["template"]
        digest = deployments.template_hash(template)
        before = record.phase
        ready = dict(rollout.pods(before, now, self.timing).ready) if before else {}
        paused = bool(spec.get("paused"))
        stale = paused and before is not None and before.current != digest
        if stale and before is not None:
            digest = before.current  # a paused Deployment does not roll out a new template
        switching = before is None or before.current != digest
        if switching:
            revision = max((rs.revision for rs in record.sets.values()), default=0) + 1
            if digest in record.sets:
                record.sets[digest].revision = revision
            else:
                labelled = copy.deepcopy(template)
                labels = labelled.setdefault("metadata", {}).setdefault("labels", {})
                labels[TEMPLATE_HASH] = digest
                record.sets[digest] = ReplicaSet(digest, revision, labelled, str(uuid.uuid4()), now)
            if (namespace, name) in self._armed:
                self._armed.discard((namespace, name))
                record.failing.add(digest)
            else:
                record.failing.discard(digest)
            _prune(record, ready, digest, int(spec.get("revisionHistoryLimit", 10)))
        replicas = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        ordered = sorted(record.sets.values(), key=lambda rs: rs.revision)
        return Phase(
            generation=record.obj["metadata"]["generation"],
            started=now,
            replicas=replicas,
            current=digest,
            available={rs.hash: ready.get(rs.hash, 0) for rs in ordered},
            failing=digest in record.failing,
            recreate=strategy.get("type") == "Recreate",
            paused=paused,
            stale=stale,
            max_surge=rollout.scaled(rolling.get("maxSurge", "25%"), replicas, round_up=True),
            max_unavailable=rollout.scaled(
                rolling.get("maxUnavailable", "25%"), replicas, round_up=False
            ),
        )


def _prune(record: _Record, ready: dict[str, int], current: str, keep: int) -> None:
    """Old ReplicaSets with no pods beyond revisionHistoryLimit go, oldest first."""
    old = sorted(
        (rs for rs in record.sets.values() if rs.hash != current and not ready.get(rs.hash)),
        key=lambda rs: rs.revision,
    )
    for rs in old[: max(0, len(old) - keep)]:
        del record.sets[rs.hash]
        record.failing.discard(rs.hash)


def _replica_sets(record: _Record, now: float, timing: Timing) -> list[dict[str, Any]]:
    deployment = record.obj
    meta = deployment["metadata"]
    found = rollout.pods(record.phase, now, timing) if record.phase else None
    selector = copy.deepcopy(deployment["spec"]["selector"])
    items = []
    for rs in sorted(record.sets.values(), key=lambda r: r.revision):
        ready = found.of(rs.hash) if found else 0
        pending = found.pending if found and record.phase and rs.hash == record.phase.current else 0
        rs_selector = copy.deepcopy(selector)
        rs_selector.setdefault("matchLabels", {})[TEMPLATE_HASH] = rs.hash
        replicas = ready + pending
        counts = {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        items.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{meta['name']}-{rs.hash}",
                    "namespace": meta["namespace"],
                    "uid": rs.uid,
                    "resourceVersion": meta["resourceVersion"],
                    "generation": 1,
                    "creationTimestamp": timestamp(rs.created),
                    "labels": copy.deepcopy(rs.template["metadata"]["labels"]),
                    "annotations": {
                        REVISION: str(rs.revision),
                        "deployment.kubernetes.io/desired-replicas": str(
                            deployment["spec"].get("replicas", 1)
                        ),
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": meta["name"],
                            "uid": meta["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "replicas": replicas,
                    "selector": rs_selector,
                    "template": copy.deepcopy(rs.template),
                },
                "status": {"observedGeneration": 1, **{k: v for k, v in counts.items() if v}},
            }
        )
    return items


def _scale(deployment: dict[str, Any]) -> dict[str, Any]:
    meta = deployment["metadata"]
    labels = deployment["spec"]["selector"].get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        },
        "spec": {"replicas": deployment["spec"].get("replicas", 1)},
        "status": {
            "replicas": deployment.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }


def _patched(current: dict[str, Any], content_type: str, patch: Any, schema: Schema) -> Any:
    try:
        if content_type == "application/strategic-merge-patch+json":
            return strategic_merge(current, patch, schema)
        if content_type == "application/merge-patch+json":
            return merge_patch(current, patch)
        if content_type == "application/json-patch+json":
            return json_patch(current, patch)
    except PatchError as err:
        raise ApiError(422, "Invalid", str(err)) from None
    raise ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(PATCH_TYPES)} (server-side apply is not emulated)",
    )


def _decoded(
    body: Any, schema: Schema, mode: str, kind: str, api_version: str, warnings: list[str]
) -> dict[str, Any]:
    """The body as the server would store it, after strict or lenient decoding."""
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object (a {kind})")
    if body.get("kind") not in (None, kind) or body.get("apiVersion") not in (None, api_version):
        raise bad_request(
            f"the API version in the data ({body.get('apiVersion')}) and kind "
            f"({body.get('kind')}) do not match the expected {api_version} {kind}"
        )
    result = decode(body, schema)
    if result.type_errors:
        raise bad_request(
            f'{kind} in version "{api_version.rsplit("/", 1)[-1]}" cannot be handled as a '
            f"{kind}: {result.type_errors[0]}"
        )
    unknown = [f'unknown field "{path}"' for path in result.unknown]
    if unknown and mode == "Strict":
        raise bad_request(
            f'{kind} in version "{api_version.rsplit("/", 1)[-1]}" cannot be '
            f"handled as a {kind}: strict decoding error: {', '.join(unknown)}"
        )
    if mode != "Ignore":
        warnings.extend(unknown)
    obj: dict[str, Any] = result.value
    obj.update(apiVersion=api_version, kind=kind)
    return obj


def _same_namespace(meta: dict[str, Any], namespace: str) -> None:
    if meta.get("namespace") not in (None, "", namespace):
        raise bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
