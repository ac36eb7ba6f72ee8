"""Readable renderings of the plan for people (the JSON forms are for machines)."""

from __future__ import annotations

from pipeline.plan import ImagePlan, Plan


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
