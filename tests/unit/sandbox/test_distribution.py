"""The registry child process: what it is given of our environment."""

from __future__ import annotations

from pipeline.sandbox.distribution import child_environment


def test_the_registry_gets_a_scrubbed_environment() -> None:
    ours = {
        "PATH": "/usr/bin",
        "TZ": "UTC",
        "REGISTRY_HTTP_ADDR": "0.0.0.0:80",  # would move the registry off loopback
        "REGISTRY_AUTH": "none",  # would open it
        "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": "/",
        "HTTP_PROXY": "http://proxy:3128",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "HOME": "/root",
    }
    assert child_environment(ours) == {"PATH": "/usr/bin", "TZ": "UTC"}
