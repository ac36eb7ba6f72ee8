"""The published JSON Schema, judged by an independent validator (the `jsonschema` package).

An editor must never mark red a file that `pipeline validate` accepts, and
should mark red what a schema can tell is wrong: unknown keys, wrong types,
unknown words. The YAML is read as an editor reads it (timestamps stay text),
without our loader, its interpolation or its models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.config import jsonschema as published
from pipeline.config.load import loads
from pipeline.errors import ConfigError
from tests.unit.config import test_load_malformed, test_load_valid
from tests.unit.config.helpers import FILE
from tests.unit.config.helpers import yaml as dedent

ROOT = Path(__file__).resolve().parents[3]
ENV = {"AWS_ACCOUNT_ID": "012345678901", "MAX_CRITICAL": "0", "SCAN": "true", "TAG": "7"}


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server reads it: dates are text, as in YAML 1.2."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _data(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "docs" / "pipeline.schema.json").read_text())
    assert schema == published.schema(), "docs/pipeline.schema.json is stale: make schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_data(text))]


# --------------------------------------------------------------------------- valid configs

VALID = {
    "the example": (ROOT / "pipeline.example.yaml").read_text(),
    "minimal": test_load_valid.MINIMAL,
    "interpolation wherever a value stands": dedent("""
        version: 1
        registry:
          account: "${AWS_ACCOUNT_ID:-123456789012}"
          region: ${AWS_REGION:-us-east-1}
          endpoint: ${ENDPOINT:-standard}
          create_repositories: ${CREATE:-false}
          repository: {scan_on_push: "${SCAN}", tag_mutability: "${MUT:-MUTABLE}"}
        latest: ${LATEST:-auto}
        images:
          - name: app
            platforms: ["${PLATFORM:-linux/amd64}"]
            tags: [{type: sha, length: "${LEN:-8}"}, {type: raw, value: "pr-${TAG}"}]
        scan:
          timeout: ${SCAN_TIMEOUT:-10m}
          thresholds:
            critical: "${MAX_CRITICAL}"
            high: ${MAX_HIGH:-3}
          undefined_as: ${UNDEFINED_AS:-high}
    """),
    "words in any case": dedent("""
        version: 1
        registry:
          type: ECR
          account: "123456789012"
          endpoint: FIPS
          region: us-east-1
          repository:
            tag_mutability: immutable
            mutable_tags: [latest, "*.*", x]
            encryption: {type: kms, kms_key: alias/x}
        latest: Never
        images:
          - name: app
            tags: [{type: sha, format: LONG}, {type: raw, value: x, when: Default_Branch}]
        scan:
          on_unsupported: WARN
          thresholds: {critical: 0, High: 1, medium: 10}
          undefined_as: medium
    """),
    "numbers and booleans written as the models read them": dedent("""
        version: 1
        registry: {account: "123456789012", create_repositories: "yes"}
        images:
          - name: app
            build_args: {PY: "3.12", N: 3}
            labels: {build: 12}
            tags: [{type: sha, length: "10", enable: "on"}]
        scan: {thresholds: {high: "2"}, enabled: 1}
    """),
    "every section and the keys of later versions": dedent("""
        version: 1
        registry:
          type: generic
          url: registry.example.com/acme
          username_env: REG_USER
          password_env: REG_PASS
          pull_from: [987654321098.dkr.ecr.eu-west-1.amazonaws.com]
        cache: false
        tags:
          - {type: semver, pattern: "{{major}}.{{minor}}"}
          - {type: edge, branch: main}
          - {type: schedule, value: "nightly-{{date 'YYYYMMDD'}}"}
        images:
          - name: app
            secrets: [{id: npmrc, src: .npmrc}, {id: tok, env: NPM_TOKEN}]
            cache: {from: [registry.example.com/acme/app:main], to: registry}
            depends_on: [base]
          - name: base
            cache: {from: auto}
        scan:
          enabled: false  # a generic registry has no scan API
          ignore:
            - {id: CVE-2023-1, reason: r, expires: 2027-01-31, until_fixed: true}
          sarif: scan.sarif
        deploy:
          - {type: ecs, image: app, cluster: c, service: s, wait: 1h30m,
             codedeploy: {application: a, deployment_group: g}}
          - {type: eks, image: app, context: kind-dev, deployment: app}
          - {type: manifest, image: app, files: [k.yaml], repo: "git@github.com:a/b.git"}
        outputs: {report: r.json, imagedefinitions: i.json, image_detail: d.json}
    """),
}


@pytest.mark.parametrize("name", VALID)
def test_what_validate_accepts_the_schema_accepts(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    text = VALID[name]
    loads(text, FILE, ENV)  # the premise: validate accepts it
    assert _errors(validator, text) == []


# --------------------------------------------------------------------------- invalid configs

INVALID = {
    "an unknown top-level key": "version: 1\nimages: [{name: app}]\ndefualt_branch: main\n",
    "an unknown key in a rule": "version: 1\nimages: [{name: app, tags: [{type: sha, lenght: 8}]}]",
    "an unknown tag rule type": "version: 1\nimages: [{name: app, tags: [{type: semvar}]}]\n",
    "an unknown registry type": "version: 1\nregistry: {type: gcr}\nimages: [{name: app}]\n",
    "an unknown severity": "version: 1\nimages: [{name: app}]\nscan: {undefined_as: severe}\n",
    "an unknown severity key": "version: 1\nimages: [{name: app}]\nscan: {thresholds: {bad: 1}}\n",
    "a word for a number": "version: 1\nimages: [{name: app}]\nscan: {thresholds: {high: many}}",
    "a negative count": "version: 1\nimages: [{name: app}]\nscan: {thresholds: {high: -1}}\n",
    "a list for a mapping": "version: 1\nregistry: [ecr]\nimages: [{name: app}]\n",
    "text for a list": "version: 1\nimages: app\n",
    "text for a boolean": "version: 1\nallow_dirty: maybe\nimages: [{name: app}]\n",
    "a number for text": "version: 1\ndefault_branch: 5\nimages: [{name: app}]\n",
    "no images": "version: 1\nregistry: {account: '123456789012'}\n",
    "the wrong version": "version: 2\nimages: [{name: app}]\n",
    "a duration without a unit": "version: 1\nimages: [{name: app}]\nscan: {timeout: 10}\n",
    "an account that is not 12 digits": (
        "version: 1\nregistry: {account: '12345'}\nimages: [{name: a}]"
    ),
    "an unknown cache destination": "version: 1\ncache: {to: disk}\nimages: [{name: app}]\n",
    "a host that is not ECR in pull_from": (
        "version: 1\nregistry: {pull_from: [ghcr.io]}\nimages: [{name: app}]\n"
    ),
    "an unknown key in codedeploy": (
        "version: 1\nimages: [{name: app}]\ndeploy: [{type: ecs, image: app, cluster: c,"
        " service: s, codedeploy: {app: a, deployment_group: g}}]\n"
    ),
}


@pytest.mark.parametrize("name", INVALID)
def test_what_a_schema_can_refuse_it_refuses(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    text = INVALID[name]
    with pytest.raises(ConfigError):
        loads(text, FILE, ENV)  # the premise: validate refuses it too
    assert _errors(validator, text) != []


#: Messages of the kinds of problem a schema expresses; the corpus's other problems
#: (cross-field rules, YAML 1.1 surprises, unset variables) a schema cannot see.
_EXPRESSIBLE = (
    "unknown key ",
    "unknown type ",
    "invalid value ",
    "needs at least 1 item",
    "expected a ",
    "expected true or false",
    "required key is missing",
)


def _expressible(text: str) -> bool:
    try:
        loads(text, FILE, {})
    except ConfigError as err:
        return any(p.message.startswith(_EXPRESSIBLE) for p in err.problems)
    return False


def _corpus() -> list[Any]:
    out = []
    for case in test_load_malformed.CASES:
        try:
            _data(case.text)
        except yaml.YAMLError:
            continue  # not YAML at all: an editor reports that itself
        if _expressible(case.text):
            out.append(pytest.param(case.text, id=case.id))
    return out


CORPUS = _corpus()


def test_the_corpus_has_enough_schema_expressible_cases() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("text", CORPUS)
def test_the_malformed_corpus_fails_the_schema_where_a_schema_can_tell(
    text: str, validator: jsonschema.Draft202012Validator
) -> None:
    assert _errors(validator, text) != []
