"""A corpus of broken configs: each reports exactly these problems, in this order.

Every expected problem is (line, column, key path, a fragment of the message).
The column is that of the offending value, key or list item; for a missing key,
of the mapping that lacks it; for YAML syntax errors, where the parser stopped.
Line numbers count the whole file: most cases write only what follows a
common header (`ecr`, `ecr_app`, `ecr_registry`), whose docstring says on
which line the case's own text starts.
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple

import pytest

from tests.unit.config.helpers import FILE, problems, yaml

Expected = tuple[int, int, str, str]


HEADER = 'version: 1\nregistry: {account: "123456789012"}\n'


def _lines(text: str) -> str:
    """`yaml(text)`, ending in one newline (a one-line body needs none written)."""
    lines = yaml(text).rstrip("\n")
    return lines + "\n" if lines else ""


def ecr(body: str) -> str:
    """`version: 1` and an ECR registry on lines 1-2; `body` starts on line 3."""
    return HEADER + _lines(body)


def ecr_app(body: str) -> str:
    """`ecr` with `images: [{name: app}]` on line 3; `body` starts on line 4."""
    return HEADER + "images: [{name: app}]\n" + _lines(body)


def ecr_app_last(body: str) -> str:
    """`ecr`, `body` from line 3, then `images: [{name: app}]`."""
    return HEADER + _lines(body) + "images: [{name: app}]\n"


def ecr_account(body: str) -> str:
    """`version: 1`, `registry:` and its `account` on lines 1-3; `body` starts on line 4.

    Lines of `body` indented by two spaces are more keys of the registry.
    """
    return 'version: 1\nregistry:\n  account: "123456789012"\n' + yaml(body)


def registry_block(keys: str) -> str:
    """`version: 1`, then `registry:` with these `keys` from line 3; then the image app."""
    keys = textwrap.indent(_lines(keys), "  ")
    return "version: 1\nregistry:\n" + keys + "images: [{name: app}]\n"


def ecr_registry(keys: str) -> str:
    """More `keys` of the registry from line 4, after its `account`; then the image app."""
    return registry_block('account: "123456789012"\n' + _lines(keys))


class Case(NamedTuple):
    id: str
    text: str
    expected: list[Expected]


CASES = [
    # ------------------------------------------------------------------ unions
    # (one key path, never the type name of a member)
    Case(
        "union-cache-mapping-with-bad-member-keys",
        yaml("""
            version: 1
            registry: {account: "123456789012"}
            cache: {from: [1], to: s3, extra: 1}
            images: [{name: app}]
        """),
        [
            (3, 16, "cache.from[0]", "expected a string, got 1"),
            (3, 24, "cache.to", "invalid value 's3'; expected one of inline, registry, none"),
            (3, 28, "cache.extra", "unknown key 'extra'"),
        ],
    ),
    Case(
        "union-cache-from-neither-auto-nor-list",
        yaml("""
            version: 1
            registry: {account: "123456789012"}
            images:
              - name: app
                cache: {from: 5}
        """),
        [(5, 19, "images[0].cache.from", "expected auto or a list, got 5")],
    ),
    Case(
        "union-cache-scalar",
        yaml("""
            version: 1
            registry: {account: "123456789012"}
            cache: 7
            images: [{name: app}]
        """),
        [(3, 8, "cache", "expected true or false or a mapping, got 7")],
    ),
    Case(
        "union-lifecycle-policy-number",
        yaml("""
            version: 1
            registry:
              account: "123456789012"
              repository: {lifecycle_policy: 5}
            images: [{name: app}]
        """),
        [(4, 34, "registry.repository.lifecycle_policy", "expected a string or a mapping, got 5")],
    ),
    # ------------------------------------------------------------------ unknown keys
    Case(
        "unknown-top-level-key",
        ecr_app("defualt_branch: main"),
        [(4, 1, "defualt_branch", "unknown key 'defualt_branch' (did you mean 'default_branch'?)")],
    ),
    Case(
        "unknown-registry-key",
        ecr_registry("regoin: us-east-1"),
        [(4, 3, "registry.regoin", "(did you mean 'region'?)")],
    ),
    Case(
        "unknown-repository-settings-key",
        ecr_registry("""
            repository:
              scan_on_psuh: true
        """),
        [(5, 5, "registry.repository.scan_on_psuh", "(did you mean 'scan_on_push'?)")],
    ),
    Case(
        "unknown-encryption-key",
        ecr_registry("""
            repository:
              encryption: {type: KMS, kms: alias/ecr}
        """),
        [(5, 29, "registry.repository.encryption.kms", "(did you mean 'kms_key'?)")],
    ),
    Case(
        "unknown-image-key",
        ecr("""
            images:
              - name: app
                dockerfle: Dockerfile.prod
        """),
        [(5, 5, "images[0].dockerfle", "unknown key 'dockerfle' (did you mean 'dockerfile'?)")],
    ),
    Case(
        "unknown-tag-rule-key",
        ecr_app_last("""
            tags:
              - type: sha
                lenght: 8
        """),
        [(5, 5, "tags[0].lenght", "(did you mean 'length'?)")],
    ),
    Case(
        "unknown-scan-and-ignore-keys",
        ecr_app("""
            scan:
              treshold: {critical: 0}
              ignore:
                - {id: CVE-2023-1234, reason: unreachable, expire: 2027-01-31}
        """),
        [
            (5, 3, "scan.treshold", "(did you mean 'thresholds'?)"),
            (7, 48, "scan.ignore[0].expire", "(did you mean 'expires'?)"),
        ],
    ),
    Case(
        "unknown-deploy-key",
        ecr_app("""
            deploy:
              - type: ecs
                image: app
                cluster: prod
                service: app
                rolback: false
        """),
        [(9, 5, "deploy[0].rolback", "(did you mean 'rollback'?)")],
    ),
    Case(
        "unknown-outputs-key-without-close-match",
        ecr_app("outputs: {junit: out.xml}"),
        [(4, 11, "outputs.junit", "unknown key 'junit'")],
    ),
    Case(
        "key-named-like-the-rule-type",
        ecr_app_last("""
            tags:
              - {type: raw, raw: stable, value: stable}
        """),
        [(4, 17, "tags[0].raw", "unknown key 'raw'")],
    ),
    # ------------------------------------------------------------------ enum values
    Case(
        "registry-type",
        yaml("""
            version: 1
            registry: {type: ecrr, account: "123456789012"}
            images: [{name: app}]
        """),
        [(2, 18, "registry.type", "one of ecr, ecr-public, generic (did you mean 'ecr'?)")],
    ),
    Case(
        "registry-endpoint",
        ecr_registry("endpoint: fip"),
        [(4, 13, "registry.endpoint", "invalid value 'fip'; expected one of standard, fips")],
    ),
    Case(
        "tag-mutability",
        ecr_registry("""
            repository:
              tag_mutability: IMUTABLE
        """),
        [(5, 21, "registry.repository.tag_mutability", "(did you mean 'IMMUTABLE'?)")],
    ),
    Case(
        "latest-misspelled",
        ecr_app_last("latest: allways"),
        [(3, 9, "latest", "invalid value 'allways'; expected one of auto, always, never")],
    ),
    Case(
        "latest-boolean",
        ecr_app_last("latest: true"),
        [(3, 9, "latest", "YAML reads true as a boolean; did you mean 'always'?")],
    ),
    Case(
        "tag-rule-type",
        ecr("""
            images:
              - name: app
                tags:
                  - type: semvar
        """),
        [(6, 15, "images[0].tags[0].type", "unknown type 'semvar'; expected one of semver")],
    ),
    Case(
        "tag-rule-without-type",
        ecr_app_last("""
            tags:
              - pattern: "{{version}}"
        """),
        [(4, 5, "tags[0].type", "required key is missing (one of semver, branch, pr, sha")],
    ),
    Case(
        "raw-when",
        ecr_app_last("""
            tags:
              - type: raw
                value: stable
                when: tags
        """),
        [(6, 11, "tags[0].when", "expected one of always, default_branch, branch, tag, pr")],
    ),
    Case(
        "scan-enums-keep-the-spelling-written",
        ecr_app("""
            scan:
              on_unsupported: warning
              undefined_as: hgh
        """),
        [
            (5, 19, "scan.on_unsupported", "invalid value 'warning'; expected one of fail, warn"),
            (6, 17, "scan.undefined_as", "invalid value 'hgh'; expected one of CRITICAL"),
        ],
    ),
    Case(
        "sha-format",
        ecr_app_last("""
            tags:
              - {type: sha, format: full}
        """),
        [(4, 25, "tags[0].format", "invalid value 'full'; expected one of short, long")],
    ),
    Case(
        "deploy-type",
        ecr_app("""
            deploy:
              - type: lambda
                image: app
        """),
        [(5, 11, "deploy[0].type", "unknown type 'lambda'; expected one of ecs, eks, manifest")],
    ),
    # ------------------------------------------------------------------ wrong types
    Case(
        "images-is-a-mapping",
        ecr("""
            images:
              name: app
        """),
        [(4, 3, "images", "expected a list, got a mapping")],
    ),
    Case(
        "registry-is-a-list",
        yaml("""
            version: 1
            registry: [ecr]
            images: [{name: app}]
        """),
        [(2, 11, "registry", "expected a mapping (key: value), got a list")],
    ),
    Case(
        "build-args-is-a-list",
        ecr("""
            images:
              - name: app
                build_args: [PYTHON=3.12]
        """),
        [(5, 17, "images[0].build_args", "expected a mapping (key: value), got a list")],
    ),
    Case(
        "platforms-is-a-string",
        ecr("""
            images:
              - name: app
                platforms: linux/amd64
        """),
        [(5, 16, "images[0].platforms", "expected a list, got 'linux/amd64'")],
    ),
    Case(
        "string-where-a-number-is-expected",
        ecr_app_last("""
            tags:
              - type: sha
                length: seven
        """),
        [(5, 13, "tags[0].length", "expected a whole number, got 'seven'")],
    ),
    Case(
        "number-where-a-string-is-expected",
        ecr("""
            images:
              - name: 42
        """),
        [(4, 11, "images[0].name", "expected a string, got 42")],
    ),
    Case(
        "bool-not-recognised",
        ecr_app("allow_dirty: maybe"),
        [(4, 14, "allow_dirty", "expected true or false, got 'maybe'")],
    ),
    Case(
        "bare-words-where-mappings-belong",
        ecr("""
            images:
              - name: app
                secrets: [npmrc]
            tags: [sha]
            deploy: [ecs]
        """),
        [
            (5, 15, "images[0].secrets[0]", "expected a mapping (key: value), got 'npmrc'"),
            (6, 8, "tags[0]", "got 'sha' (write {type: sha})"),
            (7, 10, "deploy[0]", "got 'ecs' (write {type: ecs})"),
        ],
    ),
    # ------------------------------------------------------------------ missing keys
    Case(
        "missing-version",
        yaml("""
            registry: {account: "123456789012"}
            images: [{name: app}]
        """),
        [(1, 1, "version", "required key is missing")],
    ),
    Case(
        "missing-images",
        ecr("""
        """),
        [(1, 1, "images", "required key is missing")],
    ),
    Case(
        "empty-images",
        ecr("images: []"),
        [(3, 9, "images", "needs at least 1 item")],
    ),
    Case(
        "missing-image-name",
        ecr("""
            images:
              - repository: myapp/backend
        """),
        [(4, 5, "images[0].name", "required key is missing")],
    ),
    Case(
        "missing-deploy-fields",
        ecr_app("""
            deploy:
              - type: ecs
                image: app
              - type: eks
                cluster: prod
              - type: manifest
                image: app
        """),
        [
            (5, 5, "deploy[0].cluster", "required key is missing"),
            (5, 5, "deploy[0].service", "required key is missing"),
            (7, 5, "deploy[1].deployment", "required key is missing"),
            (7, 5, "deploy[1].image", "required key is missing"),
            (9, 5, "deploy[2].files", "required key is missing"),
        ],
    ),
    Case(
        "raw-rule-without-value",
        ecr_app_last("""
            tags:
              - type: raw
                when: pr
        """),
        [(4, 5, "tags[0].value", "required key is missing")],
    ),
    Case(
        "ignore-without-id-or-reason",
        ecr_app("""
            scan:
              ignore:
                - reason: not reachable
                - id: CVE-2023-1234
                - id: CVE-2023-5678
                  reason: ""
        """),
        [
            (6, 7, "scan.ignore[0].id", "required key is missing"),
            (7, 7, "scan.ignore[1].reason", "required key is missing"),
            (9, 15, "scan.ignore[2].reason", "must not be empty"),
        ],
    ),
    # ------------------------------------------------------------------ YAML itself
    Case(
        "tab-indentation",
        "version: 1\nimages:\n  - name: app\n\tplatforms: [linux/amd64]\n",
        [(4, 1, "", "YAML syntax error: tab character; indent YAML with spaces")],
    ),
    Case(
        "unclosed-bracket",
        ecr("""
            images: [{name: app}
            scan: {enabled: true}
        """),
        [(4, 1, "", "in the flow sequence that starts at line 3, column 9")],
    ),
    Case(
        "unclosed-bracket-at-end-of-file",
        ecr("""
            images:
              - name: app
                platforms: [linux/amd64
        """),
        [(6, 1, "", "expected ',' or ']'")],
    ),
    Case(
        "unclosed-quote",
        yaml("""
            version: 1
            registry: {account: "123456789012}
            images: [{name: app}]
        """),
        [(4, 1, "", "in the quoted scalar that starts at line 2, column 21")],
    ),
    Case(
        "mapping-value-where-none-belongs",
        ecr("""
            images:
              - name: app: backend
        """),
        [(4, 14, "", "YAML syntax error: mapping values are not allowed here")],
    ),
    Case(
        "duplicate-keys",
        ecr("""
            images:
              - name: app
                context: services/app
                context: services/other
            latest: never
            latest: always
        """),
        [
            (6, 5, "images[0].context", "duplicate key (first set at line 5)"),
            (8, 1, "latest", "duplicate key (first set at line 7)"),
        ],
    ),
    Case(
        "empty-file",
        "# nothing but a comment\n",
        [(1, 1, "", "the file is empty; it needs at least `version: 1`")],
    ),
    Case(
        "file-is-a-list",
        "- version: 1\n- images: []\n",
        [(1, 1, "", "the file must be a mapping (version: 1, images: ...), got a list")],
    ),
    Case(
        "version-2",
        yaml("""
            version: 2
            registry: {account: "123456789012"}
            images: [{name: app}]
        """),
        [(1, 10, "version", "unsupported version 2; this pipeline reads version: 1")],
    ),
    Case(
        "version-quoted",
        yaml("""
            version: "1"
            registry: {account: "123456789012"}
            images: [{name: app}]
        """),
        [(1, 10, "version", "write version: 1 as a number, without quotes")],
    ),
    # ------------------------------------------------------------------ account, region
    Case(
        "account-unquoted-leading-zero",
        registry_block("account: 012345678901"),
        [(3, 12, "registry.account", 'quote it: account: "012345678901"')],
    ),
    Case(
        "account-unquoted",
        registry_block("account: 123456789012"),
        [(3, 12, "registry.account", "YAML reads the unquoted 123456789012 as a number")],
    ),
    Case(
        "account-too-short",
        registry_block('account: "12345678901"'),
        [(3, 12, "registry.account", "an AWS account id is 12 digits, got '12345678901'")],
    ),
    Case(
        "account-too-long-unquoted",
        registry_block("account: 1234567890123"),
        [(3, 12, "registry.account", "12 digits, got 13 (1234567890123); write it quoted")],
    ),
    Case(
        "account-missing-for-ecr",
        registry_block("region: us-east-1"),
        [(3, 3, "registry.account", "required for type ecr")],
    ),
    Case(
        "region-upper-case",
        ecr_registry("region: US-EAST-1"),
        [(4, 11, "registry.region", "not an AWS region name (like us-east-1) (did you mean")],
    ),
    Case(
        "region-malformed",
        ecr_registry("region: useast1"),
        [(4, 11, "registry.region", "invalid value 'useast1': not an AWS region name")],
    ),
    # ------------------------------------------------------------------ durations
    Case(
        "duration-without-unit",
        ecr_app("""
            scan:
              timeout: 10
        """),
        [(5, 12, "scan.timeout", "a duration needs a unit: write 10s, not 10")],
    ),
    Case(
        "duration-unknown-unit",
        ecr_app("""
            scan:
              timeout: 10x
        """),
        [(5, 12, "scan.timeout", "invalid duration '10x': use a number with s, m or h")],
    ),
    Case(
        "duration-in-days",
        ecr_app("""
            deploy:
              - {type: ecs, image: app, cluster: prod, service: app, wait: 1d}
        """),
        [(5, 64, "deploy[0].wait", "invalid duration '1d'")],
    ),
    Case(
        "codedeploy-without-group",
        ecr_app("""
            deploy:
              - type: ecs
                image: app
                cluster: prod
                service: app
                codedeploy: {application: shop, deploymentgroup: prod}
        """),
        [
            (9, 17, "deploy[0].codedeploy.deployment_group", "required key is missing"),
            (9, 37, "deploy[0].codedeploy.deploymentgroup", "(did you mean 'deployment_group'?)"),
        ],
    ),
    # ------------------------------------------------------------------ interpolation
    Case(
        "unset-variable",
        registry_block("""
            account: "${AWS_ACCOUNT_ID}"
            region: ${AWS_REGION}
        """),
        [
            (3, 12, "registry.account", "environment variable AWS_ACCOUNT_ID is not set"),
            (4, 11, "registry.region", "(give a default: ${AWS_REGION:-value})"),
        ],
    ),
    Case(
        "unset-variable-is-reported-once",
        ecr("""
            images:
              - name: app
                repository: ${REPOSITORY}
              - name: web
                depends_on: ["${BASE}"]
        """),
        [
            (5, 17, "images[0].repository", "environment variable REPOSITORY is not set"),
            (7, 18, "images[1].depends_on[0]", "environment variable BASE is not set"),
        ],
    ),
    Case(
        "interpolation-syntax",
        ecr_account("""
              region: ${AWS_REGION
            default_branch: ${1BRANCH}
            tag_prefix: ${PREFIX:backend/}
            images: [{name: app}]
        """),
        [
            (4, 11, "registry.region", "unclosed ${ ... }: write ${VAR} or ${VAR:-default}"),
            (5, 17, "default_branch", "invalid variable name '1BRANCH'"),
            (6, 13, "tag_prefix", "invalid variable name 'PREFIX:backend/'"),
        ],
    ),
    # ------------------------------------------------------------------ tag rules
    Case(
        "unknown-placeholder",
        ecr("""
            images:
              - name: app
                tags:
                  - type: raw
                    value: "build-{{commit}}"
                  - type: branch
                    prefix: "{{brnch}}-"
        """),
        [
            (7, 16, "images[0].tags[0].value", "unknown placeholder {{commit}}; known:"),
            (9, 17, "images[0].tags[1].prefix", "{{brnch}} (did you mean {{branch}}?)"),
        ],
    ),
    Case(
        "semver-patterns",
        ecr_app_last("""
            tags:
              - type: semver
                pattern: "v1"
              - type: semver
                pattern: "{{mjor}}.{{minor}}"
        """),
        [
            (5, 14, "tags[0].pattern", "a semver pattern needs a placeholder"),
            (7, 14, "tags[1].pattern", "{{mjor}} (did you mean {{major}}?)"),
        ],
    ),
    Case(
        "sha-length-out-of-range",
        ecr_app_last("""
            tags:
              - {type: sha, length: 6}
              - {type: sha, length: 41}
        """),
        [
            (4, 25, "tags[0].length", "must be at least 7, got 6"),
            (5, 25, "tags[1].length", "must be at most 40, got 41"),
        ],
    ),
    Case(
        "commit-message-placeholder",
        ecr_app("""
            deploy:
              - type: manifest
                image: app
                files: [deploy/kustomization.yaml]
                commit_message: "deploy {{img}}"
        """),
        [(8, 21, "deploy[0].commit_message", "{{img}} (did you mean {{image}}?)")],
    ),
    # ------------------------------------------------------------------ references
    Case(
        "duplicate-image-names",
        ecr("""
            images:
              - name: app
              - name: web
              - name: app
        """),
        [(6, 11, "images[2].name", "duplicate image name 'app' (also images[0])")],
    ),
    Case(
        "depends-on-unknown-and-itself",
        ecr("""
            images:
              - name: base
              - name: app
                depends_on: [bse, app]
        """),
        [
            (6, 18, "images[1].depends_on[0]", "no image named 'bse' (did you mean 'base'?)"),
            (6, 23, "images[1].depends_on[1]", "an image cannot depend on itself"),
        ],
    ),
    Case(
        "depends-on-cycle",
        ecr("""
            images:
              - name: base
                depends_on: [app]
              - name: lib
                depends_on: [base]
              - name: app
                depends_on: [lib]
        """),
        [(7, 18, "images[1].depends_on[0]", "dependency cycle: base -> app -> lib -> base")],
    ),
    Case(
        "deploy-unknown-image-and-duplicate-target",
        ecr("""
            images: [{name: backend}]
            deploy:
              - {type: ecs, image: backend, cluster: prod, service: api}
              - {type: ecs, image: backnd, cluster: prod, service: api}
              - {type: ecs, image: backend, cluster: prod, service: api}
        """),
        [
            (6, 24, "deploy[1].image", "no image named 'backnd' (did you mean 'backend'?)"),
            (7, 5, "deploy[2]", "the same target as deploy[0]"),
        ],
    ),
    Case(
        "ignore-names-unknown-image",
        ecr("""
            images: [{name: backend}]
            scan:
              ignore:
                - id: CVE-2023-1234
                  reason: not reachable
                  images: [backend, frontend]
        """),
        [(8, 25, "scan.ignore[0].images[1]", "no image named 'frontend'")],
    ),
    Case(
        "ignore-with-an-empty-image-list",
        ecr("""
            images: [{name: backend}]
            scan:
              ignore:
                - id: CVE-2023-1234
                  reason: not reachable
                  images: []
        """),
        [(8, 15, "scan.ignore[0].images", "needs at least 1 item(s)")],
    ),
    # ------------------------------------------------------------------ IMMUTABLE
    Case(
        "immutable-with-default-latest",
        ecr_account("""
              repository: {tag_mutability: IMMUTABLE}
            tags: [{type: sha}]
            images: [{name: app}]
        """),
        [(4, 32, "registry.repository.tag_mutability", "`latest: auto` moves the latest tag")],
    ),
    Case(
        "immutable-with-default-rules",
        ecr_account("""
              repository: {tag_mutability: IMMUTABLE}
            latest: never
            images: [{name: app}]
        """),
        [(4, 32, "registry.repository.tag_mutability", "the default tag rules include `branch`")],
    ),
    Case(
        "immutable-with-moving-rules",
        ecr_account("""
              repository:
                tag_mutability: IMMUTABLE
            latest: always
            tags:
              - type: semver
              - type: semver
                pattern: "{{major}}.{{minor}}"
              - type: branch
              - type: edge
              - type: pr
              - type: schedule
              - type: raw
                value: stable
              - type: raw
                value: "{{sha}}-stable"
              - type: sha
            images: [{name: app}]
        """),
        [
            (6, 9, "latest", "`latest: always` moves the latest tag"),
            (9, 11, "tags[1].type", "pattern '{{major}}.{{minor}}' tags ('*.*') move"),
            (11, 11, "tags[2].type", "branch tags ('*') move between commits"),
            (12, 11, "tags[3].type", "edge tags ('edge')"),
            (13, 11, "tags[4].type", "pr tags ('pr-*')"),
            (14, 11, "tags[5].type", "schedule tags ('nightly')"),
            (15, 11, "tags[6].type", "raw tags ('stable')"),
        ],
    ),
    Case(
        "immutable-image-rules-partly-covered",
        ecr_account("""
              repository:
                tag_mutability: IMMUTABLE
                mutable_tags: ["pr-*"]
            latest: never
            images:
              - name: app
                tags:
                  - type: pr
                  - type: semver
                    pattern: "{{major}}"
        """),
        [(12, 15, "images[0].tags[1].type", "add a filter matching them to registry.repository")],
    ),
    Case(
        "mutable-tags-without-immutable",
        ecr_registry("""
            repository:
              mutable_tags: [latest]
        """),
        [(5, 19, "registry.repository.mutable_tags", "applies only with tag_mutability")],
    ),
    Case(
        "mutable-tags-bad-filters",
        ecr_registry("""
            repository:
              tag_mutability: IMMUTABLE
              mutable_tags: ["*", "release/*", "a b", ""]
        """),
        [
            (6, 25, "registry.repository.mutable_tags[1]", "a filter is 1-128 of letters"),
            (6, 38, "registry.repository.mutable_tags[2]", "a filter is 1-128 of letters"),
            (6, 45, "registry.repository.mutable_tags[3]", "a filter is 1-128 of letters"),
        ],
    ),
    # ------------------------------------------------------------------ scan gate
    Case(
        "thresholds",
        ecr_app("""
            scan:
              thresholds:
                critical: -1
                high: true
                severe: 0
                medium: 1.5
        """),
        [
            (6, 15, "scan.thresholds.critical", "must be at least 0, got -1"),
            (7, 11, "scan.thresholds.high", "expected a whole number of findings, got a boolean"),
            (8, 5, "scan.thresholds.severe", "invalid value 'severe'; expected one of CRITICAL"),
            (9, 13, "scan.thresholds.medium", "expected a whole number, got 1.5"),
        ],
    ),
    Case(
        "threshold-set-twice-in-different-case",
        ecr_app("""
            scan:
              thresholds: {high: 0, HIGH: 5}
        """),
        [(5, 31, "scan.thresholds.HIGH", "the same severity as 'high'")],
    ),
    Case(
        "expires-not-a-date",
        ecr_app("""
            scan:
              ignore:
                - {id: CVE-1, reason: r, expires: 2027-02-30}
                - {id: CVE-2, reason: r, expires: soon}
                - {id: CVE-3, reason: r, expires: 86400}
        """),
        [
            (6, 39, "scan.ignore[0].expires", "2027-02-30 is not a real date"),
            (7, 39, "scan.ignore[1].expires", "expected a date as YYYY-MM-DD, got 'soon'"),
            (8, 39, "scan.ignore[2].expires", "expected a date as YYYY-MM-DD, got 86400"),
        ],
    ),
    # ------------------------------------------------------------------ repositories
    Case(
        "repository-upper-case",
        ecr("""
            images:
              - name: app
                repository: MyApp/Backend
        """),
        [(5, 17, "images[0].repository", "lower case (did you mean 'myapp/backend'?)")],
    ),
    Case(
        "repository-one-character-from-the-name",
        ecr("""
            images:
              - name: a
        """),
        [(4, 11, "images[0].name", "2 to 256 characters, this one has 1")],
    ),
    Case(
        "repository-257-characters",
        ecr(f"""
            images:
              - name: app
                repository: {"a" * 257}
        """),
        [(5, 17, "images[0].repository", "2 to 256 characters, this one has 257")],
    ),
    Case(
        "repository-separators",
        ecr("""
            images:
              - {name: a1, repository: -app}
              - {name: a2, repository: app-}
              - {name: a3, repository: /app}
              - {name: a4, repository: team/app/}
              - {name: a5, repository: team//app}
              - {name: a6, repository: team/app..x}
              - {name: a7, repository: "team/app:1"}
        """),
        [
            (4, 28, "images[0].repository", "'-app': each part between / starts and ends"),
            (5, 28, "images[1].repository", "'app-': each part"),
            (6, 28, "images[2].repository", "empty path component"),
            (7, 28, "images[3].repository", "empty path component"),
            (8, 28, "images[4].repository", "empty path component"),
            (9, 28, "images[5].repository", "'app..x': each part"),
            (10, 28, "images[6].repository", "':' not allowed in an ECR repository name"),
        ],
    ),
    # ------------------------------------------------------------------ platforms
    Case(
        "platforms",
        ecr("""
            images:
              - name: app
                platforms:
                  - linux/amd64
                  - linux
                  - linux/x86_64
                  - Linux/amd64
                  - linux/aarch64
                  - linux/armhf
                  - linux/arm/v9
                  - amd64
        """),
        [
            (7, 9, "images[0].platforms[1]", "missing the architecture: write os/arch"),
            (8, 9, "images[0].platforms[2]", "'x86_64' (did you mean 'linux/amd64'?)"),
            (9, 9, "images[0].platforms[3]", "lower case (did you mean 'linux/amd64'?)"),
            (10, 9, "images[0].platforms[4]", "(did you mean 'linux/arm64'?)"),
            (11, 9, "images[0].platforms[5]", "(did you mean 'linux/arm/v7'?)"),
            (12, 9, "images[0].platforms[6]", "unknown arm variant 'v9'"),
            (13, 9, "images[0].platforms[7]", "missing the OS: write os/arch, like 'linux/amd64'"),
        ],
    ),
    Case(
        "platform-listed-twice",
        ecr("""
            images:
              - name: app
                platforms: [linux/amd64, linux/arm64, linux/amd64]
        """),
        [(5, 43, "images[0].platforms[2]", "linux/amd64 is listed twice")],
    ),
    # ------------------------------------------------------------------ secrets
    Case(
        "secrets-src-and-env",
        ecr("""
            images:
              - name: app
                secrets:
                  - {id: npmrc, src: .npmrc, env: NPMRC}
                  - {id: token}
                  - {id: npmrc, env: NPM_TOKEN}
        """),
        [
            (6, 9, "images[0].secrets[0]", "give exactly one of `src` (a file) or `env`"),
            (7, 9, "images[0].secrets[1]", "give exactly one of `src` (a file) or `env`"),
            (8, 14, "images[0].secrets[2].id", "duplicate secret id 'npmrc'"),
        ],
    ),
    # ------------------------------------------------------------------ registry types
    Case(
        "keys-of-other-registry-types-on-ecr",
        registry_block("""
            type: ecr
            account: "123456789012"
            alias: myalias
            url: ghcr.io/acme
        """),
        [
            (5, 10, "registry.alias", "not used by registry type ecr (only ecr-public)"),
            (6, 8, "registry.url", "not used by registry type ecr (only generic)"),
        ],
    ),
    Case(
        "account-on-generic",
        registry_block("""
            type: generic
            url: ghcr.io/acme
            account: "123456789012"
            endpoint: fips
        """),
        [
            (5, 12, "registry.account", "not used by registry type generic (only ecr)"),
            (6, 13, "registry.endpoint", "not used by registry type generic (only ecr)"),
        ],
    ),
    Case(
        "ecr-public-without-alias",
        registry_block("type: ecr-public"),
        [(3, 3, "registry.alias", "required for type ecr-public")],
    ),
    Case(
        "generic-without-url",
        yaml("""
            version: 1
            registry: {type: generic}
            images: [{name: app}]
        """),
        [(2, 11, "registry.url", "required for type generic")],
    ),
    Case(
        "generic-username-without-password",
        registry_block("""
            type: generic
            url: ghcr.io/acme
            username_env: REGISTRY_USER
        """),
        [(5, 17, "registry.username_env", "needs password_env too")],
    ),
    Case(
        "generic-url-with-scheme",
        registry_block("""
            type: generic
            url: https://ghcr.io/acme
        """),
        [(4, 8, "registry.url", "expected host[:port][/namespace] with no scheme")],
    ),
    Case(
        "kms-key-without-kms",
        ecr_registry("""
            repository:
              encryption: {kms_key: alias/ecr}
        """),
        [(5, 27, "registry.repository.encryption.kms_key", "needs type: KMS")],
    ),
    # ------------------------------------------------------------------ build args
    Case(
        "build-args-float-and-bool",
        ecr("""
            images:
              - name: app
                build_args:
                  PYTHON_VERSION: 3.10
                  DEBUG: yes
                  EMPTY:
        """),
        [
            (6, 23, "images[0].build_args.PYTHON_VERSION", "(3.10 becomes 3.1); quote it"),
            (7, 14, "images[0].build_args.DEBUG", "YAML reads this as the boolean true"),
            (8, 13, "images[0].build_args.EMPTY", "expected a string, got nothing (null)"),
        ],
    ),
    # ------------------------------------------------------------------ placeholders
    Case(
        "placeholders-of-every-wrong-kind",
        ecr("""
            images:
              - name: app
                tags:
                  - {type: raw, value: "build-{{shaa}}"}
                  - {type: raw, value: "{{ github.sha }}"}
                  - {type: raw, value: "x-{{sha"}
                  - {type: raw, value: "{{date 'YYYYMMDDq'}}"}
                  - {type: raw, value: "{{date 'YYYY' tz='Asia/Tokyo'}}"}
                  - {type: raw, value: "{{sha | upper}}"}
                  - {type: raw, value: "{{ {{sha}}"}
                  - {type: semver, pattern: "{{date 'YYYY'}}"}
        """),
        [
            (
                6,
                28,
                "images[0].tags[0].value",
                "unknown placeholder {{shaa}} (did you mean {{sha}}?)",
            ),
            (7, 28, "images[0].tags[1].value", "is a GitHub Actions expression"),
            (8, 28, "images[0].tags[2].value", "unclosed placeholder '{{sha': a {{ needs its }}"),
            (9, 28, "images[0].tags[3].value", "'q' is not supported in a date format"),
            (10, 28, "images[0].tags[4].value", "the date is always UTC"),
            (11, 28, "images[0].tags[5].value", "{{sha | upper}} is not a placeholder"),
            (12, 28, "images[0].tags[6].value", "unclosed placeholder '{{ ': a {{ needs its }}"),
            (13, 33, "images[0].tags[7].pattern", "unknown placeholder {{date}}"),
        ],
    ),
    Case(
        "a-github-expression-through-interpolation",
        ecr("""
            images:
              - name: app
                tags:
                  - {type: raw, value: "${{ github.sha }}"}
        """),
        [
            (
                6,
                28,
                "images[0].tags[0].value",
                "${{ ... }} is a GitHub Actions expression, which is never expanded in this file:"
                " set a variable in the workflow step",
            ),
        ],
    ),
    # ------------------------------------------------------------------ many at once
    Case(
        "several-problems-sorted-by-line",
        yaml("""
            version: 1
            registry:
              account: 123456789012
              regoin: us-east-1
            images:
              - name: app
                platforms: [linux/x86_64]
                depends_on: [bse]
            scan:
              timeout: 10
        """),
        [
            (3, 12, "registry.account", "quote it"),
            (4, 3, "registry.regoin", "did you mean 'region'?"),
            (7, 17, "images[0].platforms[0]", "did you mean 'linux/amd64'?"),
            (8, 18, "images[0].depends_on[0]", "no image named 'bse'"),
            (10, 12, "scan.timeout", "a duration needs a unit"),
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_config_reports_exact_locations(case: Case) -> None:
    found = problems(case.text)
    got = [(p.line, p.column, p.path, p.message) for p in found]
    assert len(got) == len(case.expected), "\n".join(p.render() for p in found)
    for (line, column, path, message), (want_line, want_col, want_path, fragment) in zip(
        got, case.expected, strict=True
    ):
        assert (line, column, path) == (want_line, want_col, want_path), message
        assert fragment in message


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_problem_renders_as_one_located_line(case: Case) -> None:
    found = problems(case.text)
    assert [(p.line, p.column) for p in found] == sorted((p.line, p.column) for p in found)
    for problem in found:
        line = problem.render()
        assert "\n" not in line
        where = f"{FILE}:{problem.line}:{problem.column}: "
        assert line.startswith(where)
        assert line == where + (f"{problem.path}: " if problem.path else "") + problem.message


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
