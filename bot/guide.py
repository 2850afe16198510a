"""`guide.yaml`: the touring/studio guide's tips, the exercises and family mode.

The hub's writers edit this file by hand in five languages, so it is checked
strictly at start-up: a topic, exercise or family section missing in one
language, or a topic with too few tips, is an error naming file, line and field
(a person must never meet an English tip in a German conversation, or see the
same two tips over and over).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LANGUAGES
from bot.yamlfile import DataError, LineDict, LineList, Problem, line_of, load

TOPICS: tuple[str, ...] = (
    "tour",
    "studio",
    "burnout",
    "stage_fright",
    "anxiety",
    "low_mood",
    "sleep",
    "substances",
    "fame_pressure",
    "loneliness",
)
EXERCISES: tuple[str, ...] = ("box_breathing", "breathing_478", "grounding_54321", "preshow_reset")
FAMILY_SECTIONS: tuple[str, ...] = ("support", "say", "not_say", "signs", "get_help")
MIN_TIPS = 8
MIN_STEPS = 3
MAX_TIP_CHARS = 320
"""About three short sentences: a tip is read on a phone between soundcheck and doors."""
_PARTS = ("tips", "exercises", "family")


@dataclass(frozen=True, slots=True)
class Exercise:
    title: str
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Guide:
    tips: dict[str, dict[str, tuple[str, ...]]]
    """topic -> language -> tips."""
    exercises: dict[str, dict[str, Exercise]]
    """exercise -> language -> title and steps."""
    family: dict[str, dict[str, tuple[str, ...]]]
    """section -> language -> points."""


class _Checker:
    """Walks the parsed file and collects every problem instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: Any, key: str | int | None, where: str, msg: str) -> None:
        self.problems.append(Problem(self.path, line_of(node, key), where, msg))

    def mapping(
        self, parent: LineDict | None, key: str, where: str, expected: tuple[str, ...]
    ) -> LineDict | None:
        """`parent[key]` if it is a mapping; a missing key was reported with the parent."""
        if parent is None or key not in parent:
            return None
        node = parent[key]
        if not isinstance(node, LineDict):
            self.problem(parent, key, where, "must be a mapping")
            return None
        return self.keys(node, where, expected)

    def keys(self, node: LineDict, where: str, expected: tuple[str, ...]) -> LineDict:
        """Report keys that are unknown or missing; `where` prefixes the field names."""
        prefix = f"{where}." if where else ""
        for extra in sorted(node.keys() - set(expected)):
            self.problem(node, extra, prefix + extra, f"unknown (expected {', '.join(expected)})")
        for absent in expected:
            if absent not in node:
                self.problem(node, None, prefix + absent, "missing")
        return node

    def texts(
        self, parent: LineDict | None, key: str, where: str, min_items: int, max_chars: int = 0
    ) -> tuple[str, ...]:
        if parent is None or key not in parent:
            return ()
        node = parent[key]
        if not isinstance(node, LineList):
            self.problem(parent, key, where, "must be a list of texts")
            return ()
        items: list[str] = []
        for i, item in enumerate(node):
            text = item.strip() if isinstance(item, str) else ""
            if not text:
                self.problem(node, i, f"{where}[{i}]", "must be a non-empty text")
            elif text in items:
                self.problem(node, i, f"{where}[{i}]", "repeats an earlier item")
            elif max_chars and len(text) > max_chars:
                self.problem(node, i, f"{where}[{i}]", f"longer than {max_chars} characters")
            items.append(text)
        if len(node) < min_items:
            self.problem(parent, key, where, f"needs at least {min_items} items, has {len(node)}")
        return tuple(items)

    def text(self, parent: LineDict | None, key: str, where: str) -> str:
        value = parent.get(key) if parent is not None else None
        if parent is not None and key in parent and not (isinstance(value, str) and value.strip()):
            self.problem(parent, key, where, "must be a non-empty text")
        return value.strip() if isinstance(value, str) else ""


def parse_guide(path: Path) -> tuple[Guide | None, list[Problem]]:
    """The guide and every problem in it; the guide is None when any error was found."""
    try:
        raw = load(path)
    except DataError as exc:
        return None, exc.problems
    c = _Checker(path)
    tips: dict[str, dict[str, tuple[str, ...]]] = {t: {} for t in TOPICS}
    exercises: dict[str, dict[str, Exercise]] = {e: {} for e in EXERCISES}
    family: dict[str, dict[str, tuple[str, ...]]] = {s: {} for s in FAMILY_SECTIONS}
    if not isinstance(raw, LineDict):
        return None, [Problem(path, line_of(raw), "(top)", "must map each language to its guide")]
    root = c.keys(raw, "", LANGUAGES)
    for lang in LANGUAGES:
        parts = c.mapping(root, lang, lang, _PARTS)
        by_topic = c.mapping(parts, "tips", f"{lang}.tips", TOPICS)
        by_name = c.mapping(parts, "exercises", f"{lang}.exercises", EXERCISES)
        by_section = c.mapping(parts, "family", f"{lang}.family", FAMILY_SECTIONS)
        for topic in TOPICS:
            where = f"{lang}.tips.{topic}"
            tips[topic][lang] = c.texts(by_topic, topic, where, MIN_TIPS, MAX_TIP_CHARS)
        for name in EXERCISES:
            where = f"{lang}.exercises.{name}"
            node = c.mapping(by_name, name, where, ("title", "steps"))
            title = c.text(node, "title", f"{where}.title")
            exercises[name][lang] = Exercise(
                title, c.texts(node, "steps", f"{where}.steps", MIN_STEPS)
            )
        for section in FAMILY_SECTIONS:
            family[section][lang] = c.texts(by_section, section, f"{lang}.family.{section}", 2)
    if c.problems:
        return None, c.problems
    return Guide(tips, exercises, family), []


def load_guide(path: Path) -> Guide:
    guide, problems = parse_guide(path)
    if guide is None:
        raise DataError(problems)
    return guide
