"""YAML text -> plain data, remembering where every key and value came from.

PyYAML's composer gives nodes with marks; we build the Python values ourselves
so that (a) every path maps to a line and column, (b) duplicate keys are
reported instead of silently overwritten, (c) `${VAR}` interpolation happens
per scalar with that scalar's location, and (d) YAML 1.1 surprises (octal
`0123`, dates turned into objects) cannot lose what the user wrote.

Hostile files stay cheap: nesting is capped while the parser composes (its
composer recurses), aliases may not expand the data past a fixed number of
values (the "billion laughs" file is a few hundred bytes), an alias may not
contain itself, and control characters and huge numbers are located errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipeline.config.interpolate import InterpolationError, interpolate, variables
from pipeline.config.types import UnquotedDigits
from pipeline.readfile import position

Path = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line and column

_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_DIGITS = re.compile(r"^0[0-9]+$")
_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

#: Deepest nesting of mappings and lists; a config needs fewer than ten levels.
MAX_DEPTH = 64
#: Most values (scalars, mappings, lists) the file may hold, or expand to through
#: aliases. A large monorepo's config holds a few thousand; PyYAML's nodes cost
#: about 0.7 KB each, so this also bounds the parser's memory.
MAX_VALUES = 20_000
#: Longest whole number written in digits; ids with more digits must be quoted.
MAX_DIGITS = 30


class YamlSyntaxError(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass
class Tree:
    """Plain data plus the location of each value and each key."""

    data: Any
    value_marks: dict[Path, Mark] = field(default_factory=dict)
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    problems: list[tuple[Path, Mark, str]] = field(default_factory=list)
    #: values whose ${VAR} failed: already reported, so not judged again
    unresolved: set[Path] = field(default_factory=set)
    #: values that came from the environment, and the variables they came from:
    #: a message about them names the variables, never the value (it may be a secret)
    interpolated: dict[Path, tuple[str, list[str]]] = field(default_factory=dict)

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """Location of `path`, else of its closest located parent."""
        table = self.key_marks if key else self.value_marks
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.value_marks:
                return self.value_marks[probe]
            probe = probe[:-1]
        return self.value_marks.get((), (1, 1))


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit on its recursive composer."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH or self.nodes > MAX_VALUES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlSyntaxError(
                    (mark.line + 1, mark.column + 1),
                    f"nested more than {MAX_DEPTH} levels deep; a config needs only a few"
                    if self.depth > MAX_DEPTH
                    else f"the file holds more than {MAX_VALUES} values; a config needs far fewer",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _control_character(text: str, err: yaml.reader.ReaderError) -> YamlSyntaxError:
    line, column = position(text, err.position)
    code = err.character if isinstance(err.character, int) else ord(str(err.character))
    name = "NUL" if code == 0 else f"U+{code:04X}"
    return YamlSyntaxError(
        (line, column), f"control character {name} is not allowed in the file (binary data?)"
    )


def _compose(text: str) -> list[yaml.Node]:
    loader = _Loader(text)
    try:
        out: list[yaml.Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                out.append(node)
        return out
    finally:
        loader.dispose()


def parse(text: str, env: Mapping[str, str]) -> Tree:
    try:
        documents = _compose(text)
    except yaml.reader.ReaderError as err:
        raise _control_character(text, err) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(where, f"YAML syntax error: {_syntax_message(err)}") from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError((1, 1), f"YAML syntax error: {err}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise YamlSyntaxError((1, 1), "the file is empty; it needs at least `version: 1`")
    if len(documents) > 1:
        raise YamlSyntaxError(_mark(documents[1]), "expected one YAML document, found several")
    tree = Tree(data=None)
    tree.data = _Builder(tree, env).build(documents[0], ())
    return tree


def _anchor_loop(node: yaml.Node) -> YamlSyntaxError:
    return YamlSyntaxError(
        _mark(node),
        "a YAML alias refers to the anchor that contains it, which never ends;"
        " point the alias at another node",
    )


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or err.context or str(err)
    if "'\\t'" in problem or "tab character" in problem:
        return "tab character; indent YAML with spaces"
    # PyYAML's context ("while parsing a flow sequence") names where the
    # unfinished construct began, which is usually where the fix goes.
    start = err.context_mark
    if err.problem and err.context and start is not None:
        what = re.sub(r"^while (?:parsing|scanning) (?:an? )?", "", err.context)
        where = f"line {start.line + 1}, column {start.column + 1}"
        problem += f" (in the {what} that starts at {where})"
    return problem


class _Builder:
    def __init__(self, tree: Tree, env: Mapping[str, str]) -> None:
        self.tree = tree
        self.env = env
        self.values = 0
        #: the collections being built: an alias to one of them would loop forever
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlSyntaxError(
                _mark(node),
                f"the file expands to more than {MAX_VALUES} values through YAML aliases;"
                " a config needs far fewer",
            )
        self.tree.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            raise _anchor_loop(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            assert isinstance(node, yaml.SequenceNode)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, Mark] = {}
        for key_node, value_node in self._merged_pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                self.tree.problems.append((path, _mark(key_node), "keys must be plain text"))
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in first_seen:
                line = first_seen[key][0]
                self.tree.problems.append(
                    (child, _mark(key_node), f"duplicate key (first set at line {line})")
                )
                continue
            first_seen[key] = _mark(key_node)
            self.tree.key_marks[child] = _mark(key_node)
            out[key] = self.build(value_node, child)
        return out

    def _merged_pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Resolve `<<: *anchor` merge keys; explicit keys win over merged ones."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        continue
                    if id(source) in self.active:
                        raise _anchor_loop(source)
                    self.active.add(id(source))
                    try:
                        merged.extend(self._merged_pairs(source))
                    finally:
                        self.active.discard(id(source))
            else:
                own.append((key_node, value_node))
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        seen: set[str] = set()
        kept: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in merged:
            name = key_node.value
            if name in own_keys or name in seen:
                continue
            seen.add(name)
            kept.append((key_node, value_node))
        return kept + own

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        text = node.value
        if node.style is None:  # plain: resolve the type ourselves
            tag = node.tag.rsplit(":", 1)[-1]
            if _DIGITS.match(text):
                return UnquotedDigits(text)
            if tag == "null":
                return None
            if tag == "bool" and text.lower() in _BOOL:
                return _BOOL[text.lower()]
            if tag == "int" and _INT.match(text):
                digits = text.replace("_", "").lstrip("+-")
                if len(digits) > MAX_DIGITS:
                    self.tree.problems.append(
                        (
                            path,
                            _mark(node),
                            f"a number of {len(digits)} digits is too large; quote it if it is"
                            " text",
                        )
                    )
                    self.tree.unresolved.add(path)
                    return text
                return int(text.replace("_", ""))
            if tag == "float":
                try:
                    return float(text.replace("_", ""))
                except ValueError:
                    return text
            # timestamps stay text: pydantic parses dates and reports bad ones
        try:
            value = interpolate(text, self.env)
        except InterpolationError as err:
            self.tree.problems.append((path, _mark(node), str(err)))
            self.tree.unresolved.add(path)
            return text
        if value != text:
            names = variables(text)
            if names:
                self.tree.interpolated[path] = (value, names)
        return value
