"""Reading the protobuf bodies kubectl's typed commands send.

`kubectl create namespace` and `kubectl create deployment` post
application/vnd.kubernetes.protobuf (the other commands send JSON): the
`k8s\\0` magic, then a runtime.Unknown envelope {typeMeta, raw} whose raw
bytes are the object. The tables below cover what those commands fill in:
ObjectMeta's names, labels and annotations, and a Deployment's spec down to
its containers' names, images, commands, args, ports, env and resources. A
field outside the tables that carries a value is refused (415 with a hint to
send JSON) rather than silently dropped; empty ones are what gogo-protobuf
writes for every non-pointer field, and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    """The body cannot be read (malformed, or a field the tables do not know)."""


@dataclass(frozen=True)
class F:
    """One field: its JSON name, kind and (for messages, maps of messages) sub-table.

    kind: string, int, bool, message, strings (repeated string), messages
    (repeated message), map (string to string), quantities (string to Quantity),
    int-or-string. keep: a pointer field whose zero value is meaningful
    (replicas: 0).
    """

    name: str
    kind: str
    table: Mapping[int, F] | None = None
    keep: bool = False


OBJECT_META: dict[int, F] = {
    1: F("name", "string"),
    2: F("generateName", "string"),
    3: F("namespace", "string"),
    4: F("selfLink", "string"),
    5: F("uid", "string"),
    6: F("resourceVersion", "string"),
    7: F("generation", "int"),
    8: F("creationTimestamp", "ignored"),  # set by the server
    11: F("labels", "map"),
    12: F("annotations", "map"),
    14: F("finalizers", "strings"),
}
_PORT = {
    1: F("name", "string"),
    2: F("hostPort", "int"),
    3: F("containerPort", "int"),
    4: F("protocol", "string"),
    5: F("hostIP", "string"),
}
_ENV = {1: F("name", "string"), 2: F("value", "string")}
_RESOURCES = {1: F("limits", "quantities"), 2: F("requests", "quantities")}
_CONTAINER = {
    1: F("name", "string"),
    2: F("image", "string"),
    3: F("command", "strings"),
    4: F("args", "strings"),
    5: F("workingDir", "string"),
    6: F("ports", "messages", _PORT),
    7: F("env", "messages", _ENV),
    8: F("resources", "message", _RESOURCES),
    13: F("terminationMessagePath", "string"),
    14: F("imagePullPolicy", "string"),
    16: F("stdin", "bool"),
    17: F("stdinOnce", "bool"),
    18: F("tty", "bool"),
    20: F("terminationMessagePolicy", "string"),
}
_POD_SPEC = {
    2: F("containers", "messages", _CONTAINER),
    3: F("restartPolicy", "string"),
    4: F("terminationGracePeriodSeconds", "int", keep=True),
    6: F("dnsPolicy", "string"),
    8: F("serviceAccountName", "string"),
    9: F("serviceAccount", "string"),
    10: F("nodeName", "string"),
    11: F("hostNetwork", "bool"),
    12: F("hostPID", "bool"),
    13: F("hostIPC", "bool"),
    16: F("hostname", "string"),
    17: F("subdomain", "string"),
    19: F("schedulerName", "string"),
    20: F("initContainers", "messages", _CONTAINER),
    24: F("priorityClassName", "string"),
}
_LABEL_SELECTOR = {
    1: F("matchLabels", "map"),
    2: F(
        "matchExpressions",
        "messages",
        {1: F("key", "string"), 2: F("operator", "string"), 3: F("values", "strings")},
    ),
}
_DEPLOYMENT_SPEC = {
    1: F("replicas", "int", keep=True),
    2: F("selector", "message", _LABEL_SELECTOR),
    3: F(
        "template",
        "message",
        {1: F("metadata", "message", OBJECT_META), 2: F("spec", "message", _POD_SPEC)},
    ),
    4: F("strategy", "message", {1: F("type", "string")}),
    5: F("minReadySeconds", "int"),
    6: F("revisionHistoryLimit", "int", keep=True),
    7: F("paused", "bool"),
    9: F("progressDeadlineSeconds", "int", keep=True),
}
KINDS: dict[str, dict[int, F]] = {
    "Namespace": {
        1: F("metadata", "message", OBJECT_META),
        2: F("spec", "ignored"),
        3: F("status", "ignored"),
    },
    "Deployment": {
        1: F("metadata", "message", OBJECT_META),
        2: F("spec", "message", _DEPLOYMENT_SPEC),
        3: F("status", "ignored"),  # the server ignores a client's status anyway
    },
}


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded Namespace or Deployment."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body lacks the k8s protobuf magic number")
    envelope = _fields(body[len(MAGIC) :])
    type_meta = _fields(_one(envelope, 1, b""))
    api_version = _one(type_meta, 1, b"").decode()
    kind = _one(type_meta, 2, b"").decode()
    if kind not in KINDS:
        raise ProtobufError(f"protobuf bodies are read for {', '.join(KINDS)} only, not {kind!r}")
    obj = _message(_one(envelope, 2, b""), KINDS[kind], kind)
    return {"apiVersion": api_version, "kind": kind, **obj}


# -- the wire format ---------------------------------------------------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) in order: an int for varints, bytes for the rest."""
    found: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = _varint(data, at)
            found.append((number, value))
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ProtobufError("truncated field")
            found.append((number, data[at : at + size]))
            at += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            found.append((number, data[at : at + width]))
            at += width
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return found


def _one(fields: list[tuple[int, int | bytes]], number: int, default: bytes) -> bytes:
    for found, value in fields:
        if found == number and isinstance(value, bytes):
            return value
    return default


def _message(data: bytes, table: Mapping[int, F], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _fields(data):
        spec = table.get(number)
        if spec is None:
            if _empty(value):
                continue
            raise ProtobufError(
                f"the sandbox cannot read protobuf field {number} of {where}: send JSON "
                "(e.g. `kubectl apply -f`) for objects with more than the common fields"
            )
        _put(result, spec, value, f"{where}.{spec.name}")
    return result


def _empty(value: int | bytes) -> bool:
    """A zero value, or a message of nothing but zero values (gogo writes those)."""
    if value in (0, b""):
        return True
    if isinstance(value, int):
        return False
    try:
        return all(_empty(inner) for _, inner in _fields(value))
    except ProtobufError:
        return False


def _put(result: dict[str, Any], spec: F, value: int | bytes, where: str) -> None:
    kind = spec.kind
    if kind == "ignored":
        return
    if kind in ("int", "bool"):
        if not isinstance(value, int):
            raise ProtobufError(f"{where}: expected a varint")
        if value or spec.keep:
            signed = value - (1 << 64) if value >= 1 << 63 else value
            result[spec.name] = bool(value) if kind == "bool" else signed
        return
    if not isinstance(value, bytes):
        raise ProtobufError(f"{where}: expected a length-delimited value")
    if kind == "string":
        if value:
            result[spec.name] = value.decode()
    elif kind == "strings":
        result.setdefault(spec.name, []).append(value.decode())
    elif kind == "message":
        assert spec.table is not None
        result[spec.name] = _message(value, spec.table, where)
    elif kind == "messages":
        assert spec.table is not None
        result.setdefault(spec.name, []).append(_message(value, spec.table, where))
    elif kind in ("map", "quantities"):
        entry = _fields(value)
        key = _one(entry, 1, b"").decode()
        raw = _one(entry, 2, b"")
        # A Quantity is a message whose field 1 is its string form.
        text = _one(_fields(raw), 1, b"").decode() if kind == "quantities" else raw.decode()
        result.setdefault(spec.name, {})[key] = text
    else:
        raise ProtobufError(f"{where}: unknown kind {kind}")
