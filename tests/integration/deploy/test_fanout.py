"""Fan-out across runners, as parallel processes against the sandbox.

`pipeline matrix --format json` names the images; one `pipeline run --image
NAME --skip promote,deploy --report rN.json` per image runs at the same time
(the runners); then `pipeline run --only promote,deploy --from-report r*.json`
(the final job) promotes and deploys. The final state (every tag in ECR,
mutable ones included, and the digest each ECS service runs) must equal what
one `pipeline run` on one machine leaves; one runner's blocked report must
stop every promotion and every deploy; and a final job with `--only deploy`
deploys the runners' digests and moves no tag.

The config takes its repositories and cluster from the environment
(`${PREFIX}`, `${CLUSTER}`), so the fan-out and the single-machine run release
the same commit of the same project into separate repositories and services.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.sandbox import Sandbox
from tests.integration.deploy.test_run_deploy import ecs_service, running_definition
from tests.integration.run.support import Project, Result, image_tags, pipeline_argv, run_cli

NAMES = ("app", "web")
CVE = "CVE-2031-0777"


def fanout_project(make_project: Callable[[str], Project]) -> Project:
    project = make_project("project")
    for name in NAMES:
        project.write(
            f"{name}/Dockerfile",
            f"FROM local/busybox:1\nRUN echo {uuid.uuid4().hex} > /nonce-{name}\n",
        )
    project.config(
        {
            "version": 1,
            "registry": {
                "type": "ecr",
                "account": "123456789012",
                "region": "us-east-1",
                "create_repositories": True,
            },
            "tags": [
                {"type": "semver", "pattern": "{{version}}"},
                {"type": "semver", "pattern": "{{major}}.{{minor}}"},
                {"type": "sha"},
            ],
            "latest": "auto",
            "images": [{"name": n, "repository": f"${{PREFIX}}/{n}", "context": n} for n in NAMES],
            "scan": {"thresholds": {"critical": 0}},
            "deploy": [
                {"type": "ecs", "image": n, "cluster": "${CLUSTER}", "service": n, "wait": "60s"}
                for n in NAMES
            ],
        }
    )
    project.commit("release")
    project.tag("v1.2.3")
    return project


def release_env(env: dict[str, str], prefix: str, cluster: str) -> dict[str, str]:
    return {**env, "PREFIX": prefix, "CLUSTER": cluster}


def services(aws: Callable[[str], Any], env: dict[str, str], prefix: str) -> str:
    """A cluster with one service per image, each running an older image of its repository."""
    ecs = aws("ecs")
    cluster = f"fan-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    for name in NAMES:
        image = f"{env['PIPELINE_REGISTRY_HOST']}/{prefix}/{name}:old"
        ecs_service(ecs, cluster, name, image, f"{cluster}-{name}")
    return cluster


def scanning_repositories(ecr: Any, prefix: str) -> None:
    for name in NAMES:
        ecr.create_repository(
            repositoryName=f"{prefix}/{name}", imageScanningConfiguration={"scanOnPush": True}
        )


def matrix(project: Project, env: dict[str, str]) -> list[str]:
    result = run_cli(project, env, "matrix", "--format", "json", report=False)
    assert result.code == 0, result.describe()
    document = json.loads(result.stdout)
    assert document["levels"] == 1
    return [entry["name"] for entry in document["include"]]


def run_runners(project: Project, env: dict[str, str], names: list[str]) -> list[Result]:
    """One runner per image, all at once; their results in the order of `names`."""
    started = []
    for index, name in enumerate(names):
        report = project.root.parent / f"r{index}.json"
        argv = ["run", "--image", name, "--skip", "promote,deploy", "--report", str(report)]
        process = subprocess.Popen(
            pipeline_argv(*argv),
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append((process, report))
    results = []
    for process, report in started:
        out, err = process.communicate(timeout=300)
        results.append(Result(process.returncode, out, err, 0.0, report))
    return results


def final_job(project: Project, env: dict[str, str], count: int) -> Result:
    reports = [str(project.root.parent / f"r{i}.json") for i in range(count)]
    return run_cli(
        project, env, "run", "--only", "promote,deploy", "--from-report", *reports, timeout=300
    )


def state(
    aws: Callable[[str], Any], env: dict[str, str], prefix: str, cluster: str
) -> dict[str, Any]:
    """Per image: the tags of each digest in ECR, and which of those digests its service runs."""
    ecr, ecs = aws("ecr"), aws("ecs")
    out: dict[str, Any] = {}
    for name in NAMES:
        repository = f"{prefix}/{name}"
        by_digest = image_tags(ecr, repository)
        definition = ecs.describe_task_definition(
            taskDefinition=running_definition(ecs, cluster, name)
        )["taskDefinition"]
        (app,) = [c for c in definition["containerDefinitions"] if c["name"] == "app"]
        running = app["image"]
        pinned = f"{env['PIPELINE_REGISTRY_HOST']}/{repository}@"
        out[name] = {
            "tags": sorted(sorted(tags) for tags in by_digest.values()),
            "runs": sorted(by_digest[running.removeprefix(pinned)])
            if running.startswith(pinned)
            else running.removeprefix(f"{env['PIPELINE_REGISTRY_HOST']}/{repository}"),
        }
    return out


def test_a_fanned_out_release_ends_as_a_single_machine_release(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    aws: Callable[[str], Any],
) -> None:
    project = fanout_project(make_project)
    sha = f"sha-{project.head[:7]}"
    fanned, single = (f"it/fan-{uuid.uuid4().hex[:6]}" for _ in range(2))
    fanned_env = release_env(env, fanned, services(aws, env, fanned))
    single_env = release_env(env, single, services(aws, env, single))

    names = matrix(project, fanned_env)
    assert sorted(names) == sorted(NAMES)
    runners = run_runners(project, fanned_env, names)
    for runner in runners:
        assert runner.code == 0, runner.describe()
        assert runner.report["status"] == "ok"
        assert runner.report["deployments"] == []
    reports = [str(project.root.parent / f"r{i}.json") for i in range(len(names))]
    rehearsal = run_cli(
        project,
        fanned_env,
        "run",
        "--only",
        "promote,deploy",
        "--dry-run",
        "--from-report",
        *reports,
    )
    assert rehearsal.code == 0, rehearsal.describe()
    assert "would move 1.2, latest" in rehearsal.output
    unmoved = {"tags": [sorted([sha, "1.2.3"])], "runs": ":old"}
    assert state(aws, env, fanned, fanned_env["CLUSTER"]) == {n: unmoved for n in NAMES}
    final = final_job(project, fanned_env, len(names))
    whole = run_cli(project, single_env, "run", timeout=300)

    assert final.code == 0, final.describe()
    assert whole.code == 0, whole.describe()
    release = {name: [sorted([sha, "1.2", "1.2.3", "latest"])] for name in NAMES}
    assert {k: v["tags"] for k, v in state(aws, env, fanned, fanned_env["CLUSTER"]).items()} == (
        release
    )
    assert state(aws, env, fanned, fanned_env["CLUSTER"]) == state(
        aws, env, single, single_env["CLUSTER"]
    )
    report = final.report
    assert report["status"] == "ok"
    assert report["stages"] == ["promote", "deploy"]
    for runner, name in zip(runners, names, strict=True):
        published = runner.image(name)
        final_image = final.image(name)
        assert final_image["digest"] == published["digest"]
        assert final_image["gate"] == "pass"
        assert sorted(final_image["tags"]) == sorted([sha, "1.2.3", "1.2", "latest"])
        assert final_image["pending_tags"] == []
    deployed = {d["target"]: d for d in report["deployments"]}
    for name in NAMES:
        entry = deployed[f"{fanned_env['CLUSTER']}/{name}"]
        assert entry["status"] == "completed"
        assert entry["image"] == f"{final.image(name)['image']}@{final.image(name)['digest']}"


def test_one_blocked_runner_stops_every_promotion_and_every_deploy(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    aws: Callable[[str], Any],
    sandbox_handle: Sandbox,
    tmp_path: Path,
) -> None:
    project = fanout_project(make_project)
    sha = f"sha-{project.head[:7]}"
    prefix = f"it/fan-{uuid.uuid4().hex[:6]}"
    fanned_env = release_env(env, prefix, services(aws, env, prefix))
    cluster = fanned_env["CLUSTER"]
    scanning_repositories(aws("ecr"), prefix)
    findings = tmp_path / "critical.json"
    findings.write_text(
        json.dumps(
            {"findings": [{"name": CVE, "severity": "CRITICAL", "uri": "https://cve.example/x"}]}
        )
    )
    scripted = subprocess.run(
        pipeline_argv(
            "sandbox",
            "findings",
            f"{prefix}/web",
            "--file",
            str(findings),
            "--dir",
            str(sandbox_handle.dir),
        ),
        env=fanned_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert scripted.returncode == 0, scripted.stdout + scripted.stderr
    before = state(aws, env, prefix, cluster)

    names = matrix(project, fanned_env)
    runners = dict(zip(names, run_runners(project, fanned_env, names), strict=True))
    final = final_job(project, fanned_env, len(names))

    assert runners["app"].code == 0, runners["app"].describe()
    assert runners["web"].code == 3, runners["web"].describe()
    assert runners["web"].report["status"] == "blocked"
    assert final.code == 3, final.describe()
    assert final.report["status"] == "blocked"
    web_report = project.root.parent / f"r{names.index('web')}.json"
    assert "the gate blocked web in the runners' reports" in final.stderr
    assert f"web: blocked: blocked in {web_report}; blocking findings: {CVE}" in final.stderr
    after = state(aws, env, prefix, cluster)
    for name in NAMES:
        # only the immutable tags the runners pushed; no 1.2, no latest, for any image
        assert after[name]["tags"] == [sorted([sha, "1.2.3"])], after
        assert after[name]["runs"] == before[name]["runs"] == ":old"
    assert {d["status"] for d in final.report["deployments"]} == {"skipped"}
    assert {d["message"] for d in final.report["deployments"]} == {
        "not deployed: the gate blocked web in the runners' reports"
    }
    gates = {i["name"]: i["gate"] for i in final.report["images"]}
    assert gates == {"app": "pass", "web": "block"}
    for image in final.report["images"]:
        assert sorted(image["pending_tags"]) == ["1.2", "latest"]
    # the runners' findings carried into the final job's report (and its summary)
    scans = {i["name"]: i["scan"] for i in final.report["images"]}
    assert scans["web"]["blocking"] == [CVE] and scans["web"]["counts"]["CRITICAL"] == 1
    for name, runner in runners.items():
        (theirs,) = runner.report["images"]
        for key in ("status", "counts", "blocking", "suppressed"):
            assert scans[name][key] == theirs["scan"][key], (name, key)


def test_a_final_job_with_only_deploy_deploys_the_digests_and_moves_no_tag(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    aws: Callable[[str], Any],
) -> None:
    project = fanout_project(make_project)
    sha = f"sha-{project.head[:7]}"
    prefix = f"it/fan-{uuid.uuid4().hex[:6]}"
    fanned_env = release_env(env, prefix, services(aws, env, prefix))
    names = matrix(project, fanned_env)
    for runner in run_runners(project, fanned_env, names):
        assert runner.code == 0, runner.describe()
    reports = [str(project.root.parent / f"r{i}.json") for i in range(len(names))]

    final = run_cli(project, fanned_env, "run", "--only", "deploy", "--from-report", *reports)

    assert final.code == 0, final.describe()
    assert final.report["status"] == "ok"
    after = state(aws, env, prefix, fanned_env["CLUSTER"])
    for name in NAMES:
        assert after[name] == {"tags": [sorted([sha, "1.2.3"])], "runs": sorted([sha, "1.2.3"])}
    assert {d["status"] for d in final.report["deployments"]} == {"completed"}
