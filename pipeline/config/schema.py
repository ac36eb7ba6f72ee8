"""The version-1 configuration, as frozen pydantic models.

This module is the single definition of `pipeline.yaml`; `pipeline schema`
prints its JSON Schema. Field-level rules live here; rules that relate several
parts of the file (unique names, references, tag mutability) live in
`checks.py`, which reports them with exact locations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from pipeline import templating
from pipeline.config.platforms import check_platform
from pipeline.config.types import (
    REGION_PATTERN,
    AccountId,
    Date,
    Duration,
    EcrHost,
    Lower,
    ScalarText,
    Upper,
)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


def _check_template(text: str, allowed: frozenset[str]) -> str:
    return templating.check(text, allowed)  # TemplateError is a ValueError: a located problem


# --------------------------------------------------------------------------- registry


class Encryption(Model):
    """How ECR encrypts images at rest."""

    type: Annotated[Literal["AES256", "KMS"], Upper] = Field(
        "AES256", description="AES256 (ECR-managed keys) or KMS."
    )
    kms_key: str | None = Field(
        None, description="KMS key id, ARN or alias (KMS only; default: the AWS managed key)."
    )


class RepositorySettings(Model):
    """Settings used when the pipeline creates a missing ECR repository."""

    scan_on_push: bool = Field(True, description="Scan every image when it is pushed.")
    tag_mutability: Annotated[Literal["MUTABLE", "IMMUTABLE"], Upper] = Field(
        "MUTABLE", description="IMMUTABLE refuses to move an existing tag."
    )
    mutable_tags: tuple[str, ...] = Field(
        (),
        description=(
            "IMMUTABLE only: tags (with * wildcards) that may still move; created as"
            " IMMUTABLE_WITH_EXCLUSION with these filters."
        ),
    )
    encryption: Encryption = Field(default_factory=Encryption)
    lifecycle_policy: str | dict[str, Any] | None = Field(
        None, description="A lifecycle policy: a JSON file path, or the policy inline."
    )


class Registry(Model):
    """Where images are pushed."""

    type: Annotated[Literal["ecr", "ecr-public", "generic"], Lower] = Field(
        "ecr", description="ecr (private), ecr-public, or any OCI registry (generic)."
    )
    account: AccountId | None = Field(
        None, description='ecr: the 12-digit registry account id, quoted ("012345678901").'
    )
    region: str | None = Field(
        None,
        pattern=REGION_PATTERN,
        description="ecr: AWS region; default AWS_REGION, then AWS_DEFAULT_REGION.",
    )
    endpoint: Annotated[Literal["standard", "fips", "dualstack"], Lower] = Field(
        "standard", description="ecr: which registry endpoint to push to."
    )
    alias: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_-]{1,254}$", description="ecr-public: the registry alias."
    )
    url: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?$",
        description="generic: host[:port][/namespace], no scheme.",
    )
    username_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="generic: env var with the user."
    )
    password_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="generic: env var with the password."
    )
    host: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9.-]+(:\d+)?$",
        description="Data-plane host override (env PIPELINE_REGISTRY_HOST wins).",
    )
    create_repositories: bool = Field(
        False, description="ecr: create missing repositories with `repository` settings."
    )
    pull_from: tuple[EcrHost, ...] = Field(
        (),
        description=(
            "More private ECR hosts that builds pull base images from (the config's own"
            " registry and hosts named in FROM lines need no listing)."
        ),
    )
    repository: RepositorySettings = Field(default_factory=RepositorySettings)


# --------------------------------------------------------------------------- layer cache


class Cache(Model):
    """The layer cache a cold runner builds from, and where a build leaves its own."""

    from_: Literal["auto"] | tuple[str, ...] = Field(
        "auto",
        alias="from",
        description=(
            "auto: the parent commit's sha tag, the branch tag, the default branch tag and"
            " latest; or a list of image references."
        ),
    )
    to: Annotated[Literal["inline", "registry", "none"], Lower] = Field(
        "inline", description="inline (in the image) | registry (needs buildx) | none."
    )


CacheSetting = Annotated[
    bool | Cache | None,
    Field(description="`false` turns the layer cache off; or {from: ..., to: ...}."),
]


# --------------------------------------------------------------------------- tag rules


class _Rule(Model):
    prefix: str | None = Field(None, description="Text before the value (rule default if unset).")
    suffix: str = Field("", description="Text after the value.")
    enable: bool = Field(True, description="false turns the rule off.")

    @field_validator("prefix", "suffix")
    @classmethod
    def _affix_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, templating.TAG_VARIABLES)


class SemverRule(_Rule):
    """Tags from the semver git tag on HEAD."""

    type: Literal["semver"]
    pattern: str = Field(
        "{{version}}",
        description="{{version}}, {{major}}.{{minor}}, {{major}}, {{raw}}, or any mix.",
    )

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        _check_template(value, templating.SEMVER_VARIABLES)
        if not templating.names(value):
            raise ValueError(
                "a semver pattern needs a placeholder:"
                " {{version}}, {{major}}, {{minor}}, {{patch}} or {{raw}}"
            )
        return value


class BranchRule(_Rule):
    """The sanitised branch name, on runs that are on a branch."""

    type: Literal["branch"]


class PrRule(_Rule):
    """`pr-<N>` on pull-request builds."""

    type: Literal["pr"]


class ShaRule(_Rule):
    """`sha-<first 7>` of the commit built."""

    type: Literal["sha"]
    length: int = Field(7, ge=7, le=40, description="Characters of the sha (short format).")
    format: Annotated[Literal["short", "long"], Lower] = Field("short")


class EdgeRule(_Rule):
    """`edge` on the default branch."""

    type: Literal["edge"]
    value: str = Field("edge", min_length=1)
    branch: str | None = Field(None, description="Branch that counts as edge (default branch).")

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        return _check_template(value, templating.TAG_VARIABLES)


class ScheduleRule(_Rule):
    """`nightly` on scheduled runs."""

    type: Literal["schedule"]
    value: str = Field("nightly", min_length=1, description="May use {{date}} (YYYYMMDD).")

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        return _check_template(value, templating.TAG_VARIABLES)


class RawRule(_Rule):
    """A fixed value, optionally only on some kinds of run."""

    type: Literal["raw"]
    value: str = Field(..., min_length=1, description="The tag; may use {{branch}}, {{sha}}...")
    when: Annotated[Literal["always", "default_branch", "branch", "tag", "pr"], Lower] = Field(
        "always"
    )

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        return _check_template(value, templating.TAG_VARIABLES)


TagRule = Annotated[
    SemverRule | BranchRule | PrRule | ShaRule | EdgeRule | ScheduleRule | RawRule,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------- images


Platform = Annotated[
    str,
    AfterValidator(check_platform),
    Field(
        description="os/arch[/variant], e.g. linux/amd64 or linux/arm/v7.",
        json_schema_extra={"pattern": r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9.]+)?$"},
    ),
]


class Secret(Model):
    """A BuildKit secret: from a file (`src`) or an environment variable (`env`)."""

    id: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$")
    src: str | None = None
    env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class Image(Model):
    """One image to build and publish."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Unique name.")
    repository: str | None = Field(None, description="Repository path (default: the name).")
    context: str = Field(".", description="Build context directory.")
    dockerfile: str = Field("Dockerfile", description="Relative to the context.")
    target: str | None = None
    build_args: dict[str, ScalarText] = Field(default_factory=dict)
    secrets: tuple[Secret, ...] = ()
    platforms: tuple[Platform, ...] = ()
    labels: dict[str, ScalarText] = Field(default_factory=dict)
    tags: tuple[TagRule, ...] | None = Field(None, description="Replaces the top-level rules.")
    tag_prefix: str | None = Field(None, description="Monorepo git tag prefix for this image.")
    depends_on: tuple[str, ...] = Field((), description="Images built before this one.")
    cache: CacheSetting = None


# --------------------------------------------------------------------------- scan


Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a whole number of findings, got a boolean")
    return value


Count = Annotated[int, Ge(0), BeforeValidator(_no_bool)]


class Ignore(Model):
    """A finding that does not count against the gate (still reported)."""

    id: str = Field(..., min_length=1, description="Vulnerability id, e.g. CVE-2023-1234.")
    reason: str = Field(..., min_length=1, description="Why it is accepted.")
    expires: Date | None = Field(None, description="From this day on the entry no longer applies.")
    images: tuple[str, ...] | None = Field(
        None, min_length=1, description="Default: all images (an empty list would match none)."
    )
    until_fixed: bool = Field(False, description="Applies only while no fix is available.")


class Scan(Model):
    """Waiting for the registry's scan and gating on its findings."""

    enabled: bool = True
    timeout: Duration = Field(600.0, description="How long to wait for a scan result.")
    on_unsupported: Annotated[Literal["fail", "warn"], Lower] = "fail"
    thresholds: dict[Annotated[Severity, Upper], Count] = Field(
        default_factory=dict, description="Most findings allowed per severity; absent = unlimited."
    )
    undefined_as: Annotated[Severity, Upper] = Field(
        "HIGH", description="How UNDEFINED / UNTRIAGED findings count."
    )
    ignore_unfixed: bool = False
    ignore: tuple[Ignore, ...] = ()
    sarif: str | None = Field(None, description="Write a SARIF 2.1.0 report here.")


# --------------------------------------------------------------------------- deploy


class _Target(Model):
    image: str = Field(..., description="Name of the image to deploy.")
    containers: tuple[str, ...] | None = Field(None, description="Default: every match.")
    region: str | None = Field(None, pattern=REGION_PATTERN)

    @field_validator("wait", check_fields=False)
    @classmethod
    def _some_wait(cls, value: float) -> float:
        # zero would time out at once and roll back a rollout that had just started
        if value <= 0:
            raise ValueError("a rollout needs time: give a wait of more than 0 (e.g. 10m)")
        return value


class CodeDeploy(Model):
    """The CodeDeploy application and deployment group of a CODE_DEPLOY service."""

    application: str = Field(..., min_length=1)
    deployment_group: str = Field(..., min_length=1)


class EcsTarget(_Target):
    """Update an ECS service to the pushed digest."""

    type: Literal["ecs"]
    cluster: str = Field(..., min_length=1)
    service: str = Field(..., min_length=1)
    codedeploy: CodeDeploy | None = Field(
        None,
        description="Only for CODE_DEPLOY services; default AppECS-<cluster>-<service>"
        " and DgpECS-<cluster>-<service>, the names the ECS console creates.",
    )
    wait: Duration = 900.0
    rollback: bool = True


class EksTarget(_Target):
    """Update a Kubernetes Deployment in an EKS cluster (or any cluster by kubeconfig context)."""

    type: Literal["eks"]
    cluster: str | None = Field(None, min_length=1, description="The EKS cluster name.")
    context: str | None = Field(
        None, min_length=1, description="Instead of cluster: a kubeconfig context, any cluster."
    )
    namespace: str = "default"
    deployment: str = Field(..., min_length=1)
    wait: Duration = 600.0
    rollback: bool = True


class ManifestTarget(Model):
    """GitOps write-back: set the image in manifests and commit."""

    type: Literal["manifest"]
    image: str
    repo: str = Field(".", description="A path or a git URL.")
    branch: str | None = None
    files: tuple[str, ...] = Field(..., min_length=1)
    commit_message: str = "deploy {{image}} {{tag}}"
    push: bool = True

    @field_validator("commit_message")
    @classmethod
    def _message(cls, value: str) -> str:
        return _check_template(value, templating.MESSAGE_VARIABLES)


DeployTarget = Annotated[EcsTarget | EksTarget | ManifestTarget, Field(discriminator="type")]


# --------------------------------------------------------------------------- root


class Outputs(Model):
    report: str | None = Field(None, description="JSON report of the run.")
    imagedefinitions: str | None = Field(None, description="CodePipeline ECS deploy file.")
    image_detail: str | None = Field(None, description="CodePipeline blue/green file.")


LatestPolicy = Literal["auto", "always", "never", "default_branch"]


class Config(Model):
    """pipeline.yaml, version 1."""

    version: Literal[1] = Field(..., description="Always 1.")
    registry: Registry = Field(default_factory=Registry)
    tags: tuple[TagRule, ...] | None = Field(
        None, description="Default tag rules for every image; output keeps rule order."
    )
    latest: Annotated[LatestPolicy, Lower] = "auto"
    default_branch: str | None = Field(None, description="Else detected (CI, origin/HEAD).")
    tag_prefix: str = Field("", description='Monorepo git tag prefix, e.g. "backend/".')
    allow_dirty: bool = False
    cache: CacheSetting = None
    images: tuple[Image, ...] = Field(..., min_length=1)
    scan: Scan = Field(default_factory=Scan)
    deploy: tuple[DeployTarget, ...] = ()
    outputs: Outputs = Field(default_factory=Outputs)

    def image(self, name: str) -> Image:
        for image in self.images:
            if image.name == name:
                return image
        raise KeyError(name)
