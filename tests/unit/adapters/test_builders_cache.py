"""The builder's cache arguments and its docker config for registry logins."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pipeline.adapters import builders
from pipeline.adapters.git import parse_parent
from pipeline.adapters.ports import BuildRequest

REF = "reg.example/team/app"


def req(**kw: object) -> BuildRequest:
    return BuildRequest("app", (f"{REF}:sha-1",), Path("/ctx"), Path("/ctx/Dockerfile"), **kw)  # type: ignore[arg-type]


def argv(kind: str, request: BuildRequest) -> list[str]:
    builder = builders.CliBuilder(builders.Found(kind, "/usr/bin/docker", "x"), {})
    return builder.argv(request, Path("/tmp/iid"))


def test_buildkit_client_exports_inline_cache_and_reads_images() -> None:
    out = argv("buildkit", req(cache_from=(f"{REF}:main",), cache_to="inline"))
    assert out[out.index("--cache-from") + 1] == f"{REF}:main"
    assert "BUILDKIT_INLINE_CACHE=1" in out


def test_buildx_exports_a_registry_cache_in_the_form_ecr_accepts() -> None:
    request = req(
        cache_from=(f"{REF}:buildcache",), cache_to="registry", cache_ref=f"{REF}:buildcache"
    )
    out = argv("buildx", request)
    assert out[out.index("--cache-from") + 1] == f"type=registry,ref={REF}:buildcache"
    assert out[out.index("--cache-to") + 1] == (
        f"type=registry,ref={REF}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true"
    )
    assert "BUILDKIT_INLINE_CACHE=1" not in out


def test_no_cache_means_no_cache_arguments() -> None:
    out = argv("buildkit", req(cache_to="none"))
    assert "--cache-from" not in out and "BUILDKIT_INLINE_CACHE=1" not in out


def test_a_build_with_registry_hosts_runs_with_its_own_docker_config(tmp_path: Path) -> None:
    """A fake docker client records its DOCKER_CONFIG; the folder is gone afterwards."""
    record = tmp_path / "seen"
    cli = tmp_path / "docker"
    cli.write_text(
        "#!/bin/sh\n"
        f'echo "$DOCKER_CONFIG" > {record}\n'
        f'cat "$DOCKER_CONFIG/config.json" >> {record}\n'
        f"echo >> {record}\n"
        f'stat -c %a "$DOCKER_CONFIG" >> {record}\n'
        'while [ "$1" != "--iidfile" ]; do shift; done; echo sha256:abc > "$2"\n'
    )
    cli.chmod(0o755)
    builder = builders.CliBuilder(builders.Found("buildkit", str(cli), "20.10"), dict(os.environ))
    result = builder.build(req(registry_hosts=("127.0.0.1:5321",)), lambda line: None)
    assert result.image_id == "sha256:abc"
    folder, *rest = record.read_text().splitlines()
    assert json.loads("\n".join(rest[:-1]))["credHelpers"]["127.0.0.1:5321"] == "pipeline"
    assert rest[-1] == "700"
    assert not Path(folder).exists()
    assert stat.S_ISREG(record.stat().st_mode)


def test_the_parent_is_read_from_the_commit_object_header() -> None:
    parent = "d" * 40
    text = f"tree {'e' * 40}\nparent {parent}\nparent {'f' * 40}\nauthor a\n\nparent {'0' * 40}\n"
    assert parse_parent(text) == parent
    assert parse_parent(f"tree {'e' * 40}\nauthor a\n\nparent {parent}\n") is None


class PullingEngine:
    def __init__(self, missing: set[str]) -> None:
        self.missing = missing
        self.pulls: list[tuple[str, dict[str, str] | None]] = []
        self.built: list[BuildRequest] = []

    def pull(self, ref: str, auth: dict[str, str] | None) -> None:
        from pipeline.errors import RegistryError

        self.pulls.append((ref, auth))
        if ref in self.missing:
            raise RegistryError(f"pull {ref}: manifest unknown")

    def classic_build(self, request: BuildRequest, on_line: object) -> object:
        self.built.append(request)
        return builders.BuildResult("sha256:1")


def test_classic_builds_pull_the_candidates_and_pass_those_that_came_as_cache_from() -> None:
    from pipeline.adapters.ports import Credentials
    from pipeline.credhelper.hosts import Served

    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    engine = PullingEngine({f"{ecr}/app:gone"})
    asked: list[Served] = []

    def fetch(target: Served) -> Credentials:
        asked.append(target)
        return Credentials("AWS", "pw-0123456789", target.host)

    builder = builders.ClassicBuilder(engine, {}, fetch)  # type: ignore[arg-type]
    request = req(
        cache_from=(f"{ecr}/app:sha-1", f"{ecr}/app:gone", "docker.io/library/x:1"),
        registry_hosts=(ecr,),
    )
    lines: list[str] = []
    builder.build(request, lines.append)
    assert engine.built[0].cache_from == (f"{ecr}/app:sha-1", "docker.io/library/x:1")
    auths = dict(engine.pulls)
    assert auths[f"{ecr}/app:sha-1"] == {"username": "AWS", "password": "pw-0123456789"}
    assert auths["docker.io/library/x:1"] is None  # not ours: the engine's own login
    assert [t.region for t in asked] == ["eu-west-1", "eu-west-1"]
    assert not any("pw-0123456789" in line for line in lines)
