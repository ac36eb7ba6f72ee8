"""Load `pipeline.yaml`: YAML with marks -> interpolation -> schema -> cross checks.

Every problem found is reported at once as `FILE:LINE:COL: key.path: message`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pipeline import readfile
from pipeline.config import checks
from pipeline.config.schema import Config
from pipeline.config.suggest import did_you_mean
from pipeline.config.yamltree import Path, Tree, YamlSyntaxError, parse
from pipeline.errors import ConfigError, ConfigProblem, UsageError

DEFAULT_FILE = "pipeline.yaml"
_UNIONS = (Union, types.UnionType)


#: A config is a few kilobytes; this leaves room for generated ones and stops a
#: mistaken `-f` (a log file, an image) before the parser spends minutes on it.
MAX_BYTES = 1 << 20


def load(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Load the config file; paths in it are checked against the file system."""
    file = FsPath(path)
    try:
        data = readfile.read_regular(file, MAX_BYTES)
    except FileNotFoundError:
        raise UsageError(f"config file not found: {file} (use -f PATH to name another)") from None
    except readfile.UnreadableFile as err:
        raise UsageError(f"cannot read config file {file}: {err}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = readfile.position(data, err.start)
        message = f"not UTF-8 text: byte 0x{data[err.start]:02x} cannot start a character here"
        raise ConfigError([ConfigProblem(str(path), line, column, "", message)]) from None
    return loads(text, str(path), env, folder=file.parent)


def loads(
    text: str,
    filename: str = DEFAULT_FILE,
    env: Mapping[str, str] | None = None,
    *,
    folder: FsPath | None = None,
) -> Config:
    """Load config text; with `folder` (the file's directory) the paths in it are checked."""
    env = os.environ if env is None else env
    try:
        tree = parse(text, env)
    except YamlSyntaxError as err:
        raise ConfigError([ConfigProblem(filename, *err.mark, "", err.message)]) from None
    problems: list[ConfigProblem] = [
        ConfigProblem(filename, *mark, _dotted(path), message)
        for path, mark, message in tree.problems
    ]
    # a value whose ${VAR} failed is reported once, for the variable
    broken = {_dotted(path) for path in tree.unresolved}
    config: Config | None = None
    try:
        config = Config.model_validate(tree.data)
    except ValidationError as err:
        errors = _plain_unions(err.errors(), tree)
        located = (_schema_problem(filename, tree, e) for e in errors if _relevant(e))
        problems.extend(p for p in located if p.path not in broken)
    for path, message in checks.run_all(tree.data, folder):
        if _dotted(path) not in broken:
            problems.append(ConfigProblem(filename, *tree.mark(path), _dotted(path), message))
    if problems:
        hidden = {_dotted(path): found for path, found in tree.interpolated.items()}
        located = (_hide(p, *hidden[p.path]) if p.path in hidden else p for p in problems)
        unique = {p.render(): p for p in map(_bounded, located)}
        ordered = sorted(unique.values(), key=lambda p: (p.line, p.column, p.path))
        raise ConfigError(ordered)
    assert config is not None
    return config


def _relevant(err: ErrorDetails) -> bool:
    # pydantic counts a list's items *after* validation, so one bad image would
    # also report "images: needs at least 1 item"; the bad item says enough.
    if err["type"] == "too_short" and isinstance(err.get("input"), list):
        return len(err["input"]) < int((err.get("ctx") or {}).get("min_length", 1))
    return True


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = _short(part, 60)
        text = text if text.isprintable() else repr(text)  # one problem, one line
        out += f".{text}" if out else text
    return out


_QUOTED = re.compile(r"""(['"])([^'"]+)\1""")


def _hide(problem: ConfigProblem, value: str, names: list[str]) -> ConfigProblem:
    """The problem's message without a value that came from the environment.

    The contract: an error message never shows an interpolated value (it may be
    a secret). The value is named by its variables instead, in every form a
    message quotes it: as written, as repr, and cut short.
    """
    if not value:
        return problem
    instead = "<the value of " + ", ".join("${" + n + "}" for n in names) + ">"
    message = problem.message
    forms = [repr(v) for v in (value, value.lower(), value.upper())]  # hints change case
    forms += [repr(value)[1:-1], value]
    forms += [repr(value[:77] + "..."), value[:77] + "...", value[:57] + "..."]
    for form in sorted({f for f in forms if len(f) >= 3 or f.startswith(("'", '"'))}, key=len)[
        ::-1
    ]:
        message = message.replace(form, instead)
    # a message may quote a part of the value (`unclosed placeholder '{{x'`)
    message = _QUOTED.sub(
        lambda m: instead if len(m.group(2)) >= 3 and m.group(2) in value else m.group(0),
        message,
    )
    key = problem.path.rpartition(".")[2]
    if key.endswith("env") and len(names) == 1:
        # `password_env: "${REG_PASS}"` put the password itself where its name belongs
        message += f"; this key takes the variable's name: {key}: {names[0]} (without ${{}})"
    return ConfigProblem(problem.file, problem.line, problem.column, problem.path, message)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_LONG_QUOTE = re.compile(r"""(['"])([^'"]{80,}?)\1""")
MAX_MESSAGE = 400


def _bounded(problem: ConfigProblem) -> ConfigProblem:
    """A hostile value (a megabyte of text, a newline) must not flood or split the output."""
    message = _LONG_QUOTE.sub(
        lambda m: m.group(1) + _short(m.group(2), 60) + m.group(1), problem.message
    )
    message = _short(message.replace("\n", "\\n").replace("\r", "\\r"), MAX_MESSAGE)
    if message == problem.message:
        return problem
    return ConfigProblem(problem.file, problem.line, problem.column, problem.path, message)


# --------------------------------------------------------------------------- schema errors


def _locate(tree: Tree, loc: tuple[int | str, ...]) -> tuple[Path, bool]:
    """Follow a pydantic loc through the data; skip union tags it adds.

    Returns the data path and whether every element was found in the data.
    The schema is walked alongside, because a union tag can only be told from
    a key of the same name (`{type: raw, raw: x}`) by where it stands.
    """
    node: Any = tree.data
    current: Any = Config
    path: list[str | int] = []
    complete = True
    for part in loc:
        if part == "[key]":
            continue
        tagged = _is_union_tag(current, part)
        current = _step(current, part) if current is not None else None
        if tagged:
            continue  # the discriminated-union member name pydantic inserts
        if _has(node, part):
            node = node[part]
        else:
            complete = False
        path.append(part)
    return tuple(path), complete


def _plain_unions(errors: list[ErrorDetails], tree: Tree) -> list[ErrorDetails]:
    """Errors of plain unions (`cache: false | {...}`) as one key path would say them.

    pydantic reports a value that fits no member of such a union once per member, with
    the member's type name in the loc (`cache.Cache.to`, `cache.bool`). Only the members
    the value's shape fits (a mapping: the model) say what is wrong; when no member
    fits, one error says what the key takes.
    """
    kept: list[ErrorDetails] = []
    collapsed: dict[tuple[int | str, ...], ErrorDetails] = {}
    for err in errors:
        loc, unions = _strip_union_labels(tuple(err["loc"]))
        keep = True
        for prefix, members, member in unions:
            value = _node_at(tree, prefix)
            if not any(_fits(m, value) for m in members):
                names = " or ".join(dict.fromkeys(_shape_name(m) for m in members))
                collapsed.setdefault(
                    prefix,
                    ErrorDetails(
                        type="union_type",
                        loc=prefix,
                        msg=f"expected {names}, got {_describe(value)}",
                        input=value,
                    ),
                )
                keep = False
                break
            if member is None or not _fits(member, value):
                keep = False  # the value is meant for another member, which says what is wrong
                break
        if keep:
            kept.append(ErrorDetails(**{**err, "loc": loc}))
    return kept + list(collapsed.values())


_Union = tuple[tuple[int | str, ...], list[Any], Any]


def _strip_union_labels(loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], list[_Union]]:
    """`loc` without the member labels of plain unions; each union's place and members."""
    current: Any = Config
    out: list[int | str] = []
    unions: list[_Union] = []
    for part in loc:
        tp = _unwrap(current) if current is not None else None
        members = _plain_members(tp) if isinstance(part, str) else []
        if members and not _is_union_tag(tp, part):
            member = _member(members, str(part))
            unions.append((tuple(out), members, member))
            current = member
            continue
        current = _step(current, part) if current is not None else None
        out.append(part)
    return tuple(out), unions


def _plain_members(tp: Any) -> list[Any]:
    """Members of a union pydantic labels in locs (two or more, besides None)."""
    if get_origin(tp) not in _UNIONS:
        return []
    members = [_unwrap(a) for a in get_args(tp) if a is not type(None)]
    return members if len(members) > 1 else []


_LABELS: dict[Any, str] = {
    bool: "bool",
    str: "str",
    int: "int",
    float: "float",
    dict: "dict",
    tuple: "tuple",
    list: "list",
    Literal: "literal",
}


def _member(members: list[Any], label: str) -> Any:
    for member in members:
        if isinstance(member, type) and issubclass(member, BaseModel):
            if label == member.__name__:
                return member
            continue
        name = _LABELS.get(get_origin(member) or member)
        if name and (label == name or label.startswith(name + "[") or label.endswith("-" + name)):
            return member
    return None


def _fits(member: Any, value: Any) -> bool:
    """Whether `value` has the shape `member` takes (its content may still be wrong)."""
    origin = get_origin(member) or member
    if origin is Literal:
        return any(type(a) is type(value) for a in get_args(member))
    if isinstance(value, bool):
        return origin is bool
    if isinstance(value, dict):
        return origin is dict or (isinstance(origin, type) and issubclass(origin, BaseModel))
    if isinstance(value, list):
        return origin in (list, tuple)
    if isinstance(value, str):
        return origin is str
    if isinstance(value, (int, float)):
        return origin in (int, float)
    return False


def _shape_name(member: Any) -> str:
    origin = get_origin(member) or member
    if origin is Literal:
        return ", ".join(str(a) for a in get_args(member))
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return "a mapping"
    names = {bool: "true or false", str: "a string", dict: "a mapping", int: "a number"}
    return names.get(origin, "a list" if origin in (list, tuple) else str(origin))


def _node_at(tree: Tree, loc: tuple[int | str, ...]) -> Any:
    path, complete = _locate(tree, loc)
    node: Any = tree.data
    for part in path if complete else ():
        node = node[part]
    return node if complete else None


def _is_union_tag(tp: Any, part: str | int) -> bool:
    tp = _unwrap(tp)
    if not isinstance(part, str) or get_origin(tp) not in _UNIONS:
        return False
    members = [_unwrap(a) for a in get_args(tp)]
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    return len(models) > 1 and _as_model(tp, part) is not None


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _schema_problem(filename: str, tree: Tree, err: ErrorDetails) -> ConfigProblem:
    loc = tuple(err["loc"])
    path, _ = _locate(tree, loc)
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = _as_written(tree, path, loc, err.get("input"))
    if not path and kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = f"the file must be a mapping (version: 1, images: ...), got {_describe(value)}"
        return ConfigProblem(filename, *tree.mark(path), "", msg)
    if kind == "missing":
        parent = path[:-1]
        return ConfigProblem(filename, *tree.mark(parent), _dotted(path), "required key is missing")
    if kind == "extra_forbidden":
        key = str(path[-1])
        options = _fields_at(loc[:-1])
        msg = f"unknown key {key!r}" + did_you_mean(key, options)
        return ConfigProblem(filename, *tree.mark(path, key=True), _dotted(path), msg)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "type")).strip("'")
        expected = _quoted(str(ctx.get("expected_tags", ""))) or _tags_at(loc)
        path = (*path, disc)
        if kind == "union_tag_not_found":
            msg = "required key is missing (one of " + ", ".join(expected) + ")"
            return ConfigProblem(filename, *tree.mark(path[:-1]), _dotted(path), msg)
        tag = str(ctx.get("tag", ""))
        msg = f"unknown type {tag!r}; expected one of {', '.join(expected)}" + did_you_mean(
            tag, expected
        )
        return ConfigProblem(filename, *tree.mark(path), _dotted(path), msg)
    message = _message(kind, ctx, value, err["msg"], path)
    if kind == "model_attributes_type" and isinstance(value, str) and value in _tags_at(loc):
        message += f" (write {{type: {value}}})"
    return ConfigProblem(
        filename, *tree.mark(path, key=loc[-1:] == ("[key]",)), _dotted(path), message
    )


def _as_written(tree: Tree, path: Path, loc: tuple[int | str, ...], fallback: Any) -> Any:
    """The value as the file has it: validators may have changed its case."""
    if loc[-1:] == ("[key]",):
        return path[-1] if path else fallback
    node: Any = tree.data
    for part in path:
        if not _has(node, part):
            return fallback
        node = node[part]
    return node


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


_PATTERN_HINTS = {
    "region": "not an AWS region name (like us-east-1)",
    "url": "expected host[:port][/namespace] with no scheme (like ghcr.io/acme)",
    "host": "expected host[:port] with no scheme or path (like 127.0.0.1:5000)",
    "alias": "an ECR Public alias is lower-case letters, digits, _ and -",
    "name": "an image name is letters, digits, . _ and -, starting with a letter or digit",
    "id": "letters, digits, . _ and - only",
    "env": "not an environment variable name",
    "username_env": "not an environment variable name",
    "password_env": "not an environment variable name",
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "tuple_type": "a list",
    "float_type": "a number",
    "float_parsing": "a number",
}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _version_message(value: Any) -> str:
    if value is None:
        return "needs a value: version: 1"
    if value == "1":
        return "write version: 1 as a number, without quotes"
    return f"unsupported version {_describe(value)}; this pipeline reads version: 1"


def _message(kind: str, ctx: dict[str, Any], value: Any, default: str, path: Path) -> str:
    if kind == "literal_error":
        options = _quoted(str(ctx.get("expected", ""))) or [str(ctx.get("expected", ""))]
        if path == ("version",):
            return _version_message(value)
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        if isinstance(value, bool):
            word = {True: "always", False: "never"}[value]
            hint = f" (YAML reads {str(value).lower()} as a boolean"
            hint += f"; did you mean {word!r}?)" if word in options else "; use one of the words)"
        return f"invalid value {_describe(value)}; expected one of {', '.join(options)}{hint}"
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}"
    if kind == "string_pattern_mismatch":
        last = next((p for p in reversed(path) if isinstance(p, str)), "")
        hint = _PATTERN_HINTS.get(last, f"does not match {ctx.get('pattern')}")
        lower = value.lower() if isinstance(value, str) else value
        if lower != value and re.search(str(ctx.get("pattern")), lower):
            hint += f" (did you mean {lower!r}?)"
        return f"invalid value {value!r}: {hint}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}, got {_describe(value)}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}, got {_describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind.startswith("date_"):
        return f"not a real date: {value!r} (write YYYY-MM-DD)"
    if kind == "value_error":
        return str(default).removeprefix("Value error, ")
    return str(default)


# --------------------------------------------------------------------------- known keys


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model found at `loc`, for 'did you mean' hints."""
    current: Any = Config
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    model = _as_model(current, None)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _as_model(tp: Any, tag: str | int | None) -> type[BaseModel] | None:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    if get_origin(tp) in _UNIONS:
        members = [_unwrap(a) for a in get_args(tp) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(models) == 1:
            return models[0]
        for model in models:
            field = model.model_fields.get("type")
            if field is not None and tag in get_args(_unwrap(field.annotation)):
                return model
    return None


def _step(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    model = _as_model(tp, part)
    if model is not None:
        if isinstance(part, str):
            for name, field in model.model_fields.items():
                if part in (name, field.alias):  # locs name a field by its alias (`from`)
                    return field.annotation
        if model is not tp and isinstance(part, str):
            return model  # `part` was a union tag
        return None
    if get_origin(tp) in _UNIONS:
        for arg in get_args(tp):
            if arg is not type(None):
                return _step(arg, part)
    origin = get_origin(tp)
    if origin in (tuple, list) and isinstance(part, int):
        return get_args(tp)[0]
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1]
    if origin is Literal:
        return None
    return None


def _tags_at(loc: tuple[int | str, ...]) -> list[str]:
    """The `type` values a discriminated union at `loc` accepts."""
    current: Any = Config
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    tags: list[str] = []
    for member in get_args(current) if get_origin(current) in _UNIONS else ():
        field = getattr(_unwrap(member), "model_fields", {}).get("type")
        if field is not None:
            tags.extend(str(t) for t in get_args(_unwrap(field.annotation)))
    return tags
