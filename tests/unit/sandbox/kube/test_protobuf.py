"""Protobuf bodies as kubectl's typed commands send them (bytes captured from kubectl 1.32)."""

from __future__ import annotations

import pytest

from pipeline.sandbox.kube.protobuf import ProtobufError, decode_object

# `kubectl create namespace team-a`
NAMESPACE = bytes.fromhex(
    "6b3873000a0f0a02763112094e616d657370616365121e0a160a067465616d2d6112001a0022002a0032"
    "003800420012001a020a001a002200"
)
# `kubectl create deployment web --image=busybox:1 --replicas=2 --port=8080 -n team-a
#  -- sleep 3600`
DEPLOYMENT = bytes.fromhex(
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412d3010a250a0377656212001a0674"
    "65616d2d6122002a003200380042005a0a0a036170701203776562129b010802120c0a0a0a0361707012"
    "037765621a80010a1c0a0012001a0022002a003200380042005a0a0a036170701203776562126012420a"
    "0762757379626f78120962757379626f783a311a05736c6565701a04333630302a00320b0a0010001890"
    "3f22002a0042006a007200800100880100900100a201001a00320042004a005200580060006800820100"
    "8a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200"
)


def test_kubectl_create_namespace() -> None:
    assert decode_object(NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a"},
    }


def test_kubectl_create_deployment() -> None:
    assert decode_object(DEPLOYMENT) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "busybox",
                            "image": "busybox:1",
                            "command": ["sleep", "3600"],
                            "ports": [{"containerPort": 8080}],
                            "resources": {},
                        }
                    ]
                },
            },
            "strategy": {},
        },
    }


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_a_field_outside_the_tables_with_a_value_is_refused_not_dropped() -> None:
    # Namespace.metadata with field 15 (not in the table) set.
    meta = _field(1, b"x") + _field(15, b"something")
    body = (
        b"k8s\x00"
        + _field(1, _field(1, b"v1") + _field(2, b"Namespace"))
        + _field(2, _field(1, meta))
    )
    with pytest.raises(ProtobufError, match=r"field 15 of Namespace\.metadata"):
        decode_object(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"kind": "Namespace"}', "magic"),
        (b"k8s\x00" + _field(1, _field(1, b"v1") + _field(2, b"Secret")), "not 'Secret'"),
        (b"k8s\x00\x0a\x7f", "truncated"),
    ],
)
def test_bad_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode_object(body)
