"""YAML loading that remembers where every value came from.

A hub edits `resources.yaml` by hand; when a field is wrong the bot must name
the file, the line and the field, so errors carry a `Problem` with all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping that knows the line of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that knows the line of each of its items (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser when PyYAML was built with it (the wheels are): the
    safety rules alone are 1.6 MB of YAML, read at every start (0.6 s -> 0.04 s)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.path}:{self.line}: {kind}: {self.field}: {self.message}"


class DataError(Exception):
    """One or more problems in a data file; str() lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a DataError naming the line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)
    except FileNotFoundError:
        raise DataError([Problem(path, 0, "(file)", "file not found")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 0
        raise DataError([Problem(path, line, "(syntax)", str(exc.problem))]) from None


def line_of(container: Any, key: str | int | None = None) -> int:
    """Best line number for a key of a mapping, an item of a list, or the container."""
    if isinstance(container, LineDict) and isinstance(key, str) and key in container.key_lines:
        return container.key_lines[key]
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container):
        return container.item_lines[key]
    return getattr(container, "line", 0)


def load_each(directory: Path, languages: tuple[str, ...]) -> tuple[dict[str, Any], list[Problem]]:
    """`<lang>.yaml` of every language: the parsed files and the problems met."""
    loaded: dict[str, Any] = {}
    problems: list[Problem] = []
    for lang in languages:
        try:
            loaded[lang] = load(directory / f"{lang}.yaml")
        except DataError as exc:
            problems += exc.problems
    return loaded, problems
