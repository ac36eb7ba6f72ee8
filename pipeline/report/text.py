"""Readable renderings of the plan for people (the JSON forms are for machines)."""

from __future__ import annotations

from pipeline.plan import ImagePlan, Plan
from pipeline.report.run_report import ImageReport, RunReport


def _context_lines(plan: Plan) -> list[str]:
    ctx = plan.context
    kind = f"PR #{ctx.pr}" if ctx.pr is not None else (ctx.ref or "detached HEAD")
    facts = [f"{ctx.provider} {ctx.event}", kind, f"commit {ctx.sha[:12]}"]
    if ctx.tag:
        facts.append(f"tag {ctx.tag}")
    if ctx.dirty:
        facts.append("DIRTY work tree")
    if ctx.shallow:
        facts.append("shallow clone")
    lines = ["Context: " + ", ".join(facts)]
    lines.append(f"Default branch: {ctx.default_branch or '(unknown)'}")
    return lines


def _image_lines(image: ImagePlan, *, detail: bool) -> list[str]:
    lines = [f"  {image.name}  ->  {image.image}"]
    immutable, mutable = image.tags.immutable, image.tags.mutable
    lines.append(f"    tags (pushed):   {', '.join(immutable) or '-'}")
    lines.append(f"    tags (promoted): {', '.join(mutable) or '-'}")
    if image.tags.version:
        lines.append(f"    version:         {image.tags.version}")
    if detail:
        lines.append(f"    dockerfile:      {image.dockerfile}")
        if image.target:
            lines.append(f"    target:          {image.target}")
        if image.platforms:
            lines.append(f"    platforms:       {', '.join(image.platforms)}")
        if image.build_args:
            args = ", ".join(f"{k}={v}" for k, v in image.build_args.items())
            lines.append(f"    build args:      {args}")
        if image.secrets:
            lines.append(f"    secrets:         {', '.join(s.id for s in image.secrets)}")
        if image.depends_on:
            lines.append(f"    after:           {', '.join(image.depends_on)}")
    return lines


def tags(plan: Plan) -> str:
    lines = _context_lines(plan)
    lines.append("Images:")
    for image in plan.images:
        lines.extend(_image_lines(image, detail=False))
    return "\n".join(lines)


def plan(plan: Plan) -> str:
    lines = _context_lines(plan)
    reg = plan.registry
    where = reg.host if reg.host == reg.canonical_host else f"{reg.host} (for {reg.canonical_host})"
    lines.append(f"Registry: {reg.type} at {where}")
    lines.append(f"Stages: {' -> '.join(plan.stages)}")
    lines.append("Images (in build order):")
    for image in plan.images:
        lines.extend(_image_lines(image, detail=True))
    scan = plan.config.scan
    if "gate" in plan.stages:
        limits = ", ".join(f"{k} <= {v}" for k, v in scan.thresholds.items()) or "no limits"
        lines.append(f"Gate: {limits}; {len(scan.ignore)} ignore entr(y/ies)")
    if "deploy" in plan.stages:
        lines.append("Deploy:")
        for target in plan.config.deploy:
            if target.type == "ecs":
                where = f"ECS {target.cluster}/{target.service}"
            elif target.type == "eks":
                where = f"EKS {target.cluster} {target.namespace}/{target.deployment}"
            else:
                where = f"manifests {', '.join(target.files)} in {target.repo}"
            lines.append(f"  {target.image} -> {where}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def run_summary(report: RunReport) -> str:
    """The run for people; what it quotes (errors, build output) passes the masks."""
    from pipeline import log

    lines = [
        f"Run {report.status}{' (dry run)' if report.dry_run else ''}: {', '.join(report.stages)}"
    ]
    for image in report.images:
        how = (
            "reused (unchanged inputs)"
            if image.reused
            else ("built and pushed" if image.pushed else ("built" if image.built else "not built"))
        )
        lines.append(f"  {image.name}: {how}")
        if image.digest:
            lines.append(f"    {image.image}@{image.digest}")
        if image.tags:
            lines.append(f"    tags: {', '.join(image.tags)}")
        if image.pending_tags:
            lines.append(f"    not moved (promote stage): {', '.join(image.pending_tags)}")
        lines += _scan_lines(image)
        if image.error:
            lines.append(f"    error: {image.error}")
    for d in report.deployments:
        lines.append(f"  deploy {d.type} {d.target}: {d.status.replace('_', ' ')}")
        if d.message:
            lines.append(f"    {d.message}")
    if report.error:
        lines.append(f"  error: {report.error}")
    return log.redact("\n".join(lines))


def _scan_lines(image: ImageReport) -> list[str]:
    """The scan's counts, the gate's decision and what was accepted, with the reason."""
    if image.scan is None:
        return [f"    gate: {image.gate}"] if image.gate else []
    counts = ", ".join(f"{n} {sev}" for sev, n in image.scan.get("counts", {}).items())
    lines = [f"    scan: {image.scan.get('status')}, {counts or 'no findings'}; gate: {image.gate}"]
    for entry in image.scan.get("suppressed", []):
        lines.append(f"    accepted {entry['id']}: {entry['reason']}")
    return lines
