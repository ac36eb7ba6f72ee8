"""docs/reference.md stays true: its configuration keys are exactly the JSON Schema's,
and every command and option of the command line appears in it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest

from pipeline.cli import _register_extras, cli
from pipeline.config.jsonschema import schema

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "reference.md"


def _section(text: str, title: str) -> str:
    """The text of a `## title` section, up to the next `## ` heading."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert found, f"docs/reference.md has no '## {title}' section"
    return found[1]


def documented_keys(text: str) -> list[str]:
    """The first cell of every table row of "Configuration keys", when it is a `key`."""
    body = _section(text, "Configuration keys")
    return re.findall(r"^\| `([A-Za-z_][\w.\[\]]*)` \|", body, flags=re.M)


def _refs(node: Mapping[str, Any]) -> list[str]:
    out = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
    for key in ("anyOf", "oneOf", "allOf"):
        for child in node.get(key, []):
            out += _refs(child)
    return out


def _items(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The item schema when the value may be a list."""
    if node.get("type") == "array":
        return node.get("items", {})
    for key in ("anyOf", "oneOf"):
        for child in node.get(key, []):
            if child.get("type") == "array":
                return child.get("items", {})
    return None


def schema_keys(document: Mapping[str, Any]) -> Iterator[str]:
    """Dotted keys (`a[].b` for the entries of a list) of every property in the schema.

    A definition is spelt out where it first appears (in document order): a later
    key that reuses it (`images[].tags` takes the tag rules of `tags`) is one key.
    """
    defs = document.get("$defs", {})
    expanded: set[str] = set()

    def walk(path: str, node: Mapping[str, Any]) -> Iterator[str]:
        items = _items(node)
        names = _refs(items) if items is not None else _refs(node)
        if not names or any(n in expanded for n in names):
            return
        expanded.update(names)
        stem = f"{path}[]" if items is not None else path
        props: dict[str, Mapping[str, Any]] = {}
        for name in names:
            for key, child in defs[name].get("properties", {}).items():
                props.setdefault(key, child)
        for key, child in props.items():
            yield f"{stem}.{key}"
            yield from walk(f"{stem}.{key}", child)

    for key, child in document["properties"].items():
        yield key
        yield from walk(key, child)


def _commands(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


_register_extras()  # what `main` adds before it parses: run, sandbox, release, ...
COMMANDS = list(_commands(cli, "pipeline"))


@pytest.fixture(scope="module")
def text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def test_every_schema_key_is_documented_and_no_other(text: str) -> None:
    want = list(schema_keys(schema()))
    got = documented_keys(text)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing, f"config keys missing from docs/reference.md: {missing}"
    assert not extra, f"docs/reference.md documents keys the schema lacks: {extra}"
    dupes = sorted({k for k in got if got.count(k) > 1})
    assert not dupes, f"keys documented twice: {dupes}"


def test_the_schema_walk_finds_nested_keys_and_list_entries() -> None:
    keys = set(schema_keys(schema()))
    assert {"registry.repository.encryption.kms_key", "images[].secrets[].id"} <= keys
    assert {"deploy[].codedeploy.application", "scan.ignore[].until_fixed"} <= keys
    assert {"tags[].pattern", "images[].tags", "cache.from"} <= keys
    assert "images[].tags[].type" not in keys  # the tag rules are spelt out once, at tags[]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _c in COMMANDS])
def test_every_command_appears_under_commands(path: str, command: click.Command, text: str) -> None:
    body = _section(text, "Commands")
    assert f"`{path}" in body, f"{path} is missing from the Commands of docs/reference.md"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _c in COMMANDS])
def test_every_option_appears_under_commands(path: str, command: click.Command, text: str) -> None:
    body = _section(text, "Commands")
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for flag in param.opts:
            if flag in ("-h", "--help"):
                continue
            assert f"`{flag}" in body, f"{path}: option {flag} is missing from docs/reference.md"


def test_every_global_option_appears(text: str) -> None:
    body = _section(text, "Commands")
    for param in cli.params:
        for flag in getattr(param, "opts", []):
            assert f"`{flag}" in body, f"pipeline {flag} is missing from docs/reference.md"


def test_every_exit_code_of_the_package_is_documented(text: str) -> None:
    from pipeline.errors import ExitCode

    body = _section(text, "Exit codes and errors")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", body, flags=re.M), f"exit code {int(code)}"
