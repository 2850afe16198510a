"""The crisis screen: every inbound message passes here before anything else.

It is pure and in memory (no I/O, no await), so it cannot be slowed or broken
by the store, the network or a rate limit. Rules are data (`safety/<lang>.yaml`)
and every verdict names the rule that fired, so a reviewer can see why.

Pipeline over normalised text: typos are corrected towards the crisis lexicon,
music idioms ("we killed it") are blanked, negated or past mentions ("I'm not
suicidal") are noted and blanked, then the crisis rules run on what is left.
All languages' rules run on every message: people mix languages, and a short
message says little about its language.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.textnorm import normalize, squeeze
from bot.yamlfile import DataError, LineDict, Problem, line_of, load

CATEGORIES = frozenset({"suicide", "self_harm", "overdose", "danger", "harm_others"})
_BLANK = " | "
"""Replaces blanked spans; gap patterns (\\w+) cannot bridge across it."""


class Level(enum.IntEnum):
    NONE = 0
    CHECK = 1
    """A negated or past mention: a gentle check, not the full crisis reply."""
    CRISIS = 2


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    rule: str | None = None
    category: str | None = None

    @property
    def crisis(self) -> bool:
        return self.level is Level.CRISIS


NO_CRISIS = Verdict(Level.NONE)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    pattern: str
    category: str | None


def _normalize_pattern(pattern: str) -> str:
    """Give patterns the text's normal form: lower case, no accents, squeezed letters."""
    stripped = unicodedata.normalize("NFKD", pattern.casefold())
    return squeeze("".join(ch for ch in stripped if not unicodedata.combining(ch)))


def _combine(rules: list[Rule]) -> re.Pattern[str] | None:
    """One alternation with a named group per rule: one scan finds which rule fired."""
    if not rules:
        return None
    branches = "|".join(
        f"(?P<r{i}>{_normalize_pattern(rule.pattern)})(?![a-z0-9])" for i, rule in enumerate(rules)
    )
    return re.compile(f"(?<![a-z0-9])(?:{branches})")


class CrisisScreen:
    def __init__(
        self,
        safe: list[Rule],
        negated: list[Rule],
        rules: list[Rule],
        lexicon: Iterable[str],
        known_words: Iterable[str] = (),
    ) -> None:
        self._safe_rules, self._negated_rules, self._crisis_rules = safe, negated, rules
        self._safe = _combine(safe)
        self._negated = _combine(negated)
        self._crisis = _combine(rules)
        self._lexicon = sorted({normalize(w) for w in lexicon if normalize(w)})
        self._keep = frozenset(self._lexicon) | frozenset(known_words)
        self._correct = lru_cache(maxsize=32768)(self._nearest)

    @classmethod
    def from_dir(cls, directory: Path, known_words: Iterable[str] = ()) -> CrisisScreen:
        safe: list[Rule] = []
        negated: list[Rule] = []
        rules: list[Rule] = []
        lexicon: list[str] = []
        problems: list[Problem] = []
        seen: set[str] = set()
        files = sorted(directory.glob("*.yaml"))
        if not files:
            problems.append(Problem(directory, 0, "(dir)", "no safety rule files"))
        for path in files:
            problems += _read_rules(path, safe, negated, rules, lexicon, seen)
        if problems:
            raise DataError(problems)
        return cls(safe, negated, rules, lexicon, known_words)

    @property
    def rule_count(self) -> int:
        return len(self._crisis_rules)

    def _nearest(self, token: str) -> str:
        max_distance = 2 if len(token) >= 9 else 1
        found = process.extractOne(
            token, self._lexicon, scorer=OSA.distance, score_cutoff=max_distance
        )
        return str(found[0]) if found else token

    def _corrected(self, text: str) -> str:
        words = text.split()
        fixed = [w if len(w) < 6 or w in self._keep else self._correct(w) for w in words]
        return " ".join(fixed)

    def screen(self, raw_text: str) -> Verdict:
        """The verdict for one message. Typo correction only ever adds: the rules run on
        the text as written and, when it differs, on the corrected text."""
        text = normalize(raw_text)
        if not text:
            return NO_CRISIS
        verdict = self._screen(text)
        if verdict.crisis:
            return verdict
        corrected = self._corrected(text)
        if corrected != text:
            second = self._screen(corrected)
            if second.level > verdict.level:
                return second
        return verdict

    def _screen(self, text: str) -> Verdict:
        if self._safe is not None:
            text = self._safe.sub(_BLANK, text)
        negated: Rule | None = None
        if self._negated is not None:
            found = self._negated.search(text)
            if found:
                negated = self._negated_rules[_index(found)]
                text = self._negated.sub(_BLANK, text)
        if self._crisis is not None:
            hit = self._crisis.search(text)
            if hit:
                rule = self._crisis_rules[_index(hit)]
                return Verdict(Level.CRISIS, rule.id, rule.category)
        if negated is not None:
            return Verdict(Level.CHECK, negated.id)
        return NO_CRISIS


def _index(match: re.Match[str]) -> int:
    return int((match.lastgroup or "r0")[1:])


def _read_rules(
    path: Path,
    safe: list[Rule],
    negated: list[Rule],
    rules: list[Rule],
    lexicon: list[str],
    seen: set[str],
) -> list[Problem]:
    try:
        raw = load(path)
    except DataError as exc:
        return exc.problems
    problems: list[Problem] = []
    if not isinstance(raw, LineDict):
        return [Problem(path, 0, "(top)", "must be a mapping")]
    words = raw.get("lexicon", [])
    if isinstance(words, list):
        lexicon.extend(str(w) for w in words)
    else:
        problems.append(Problem(path, line_of(raw, "lexicon"), "lexicon", "must be a list"))
    for section, target in (("safe", safe), ("negated", negated), ("rules", rules)):
        items = raw.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(path, line_of(raw, section), section, "must be a list"))
            continue
        for i, item in enumerate(items):
            problems += _read_rule(path, section, i, item, target, seen)
    return problems


def _read_rule(
    path: Path, section: str, i: int, item: Any, target: list[Rule], seen: set[str]
) -> list[Problem]:
    where = f"{section}[{i}]"
    line = line_of(item)
    if not isinstance(item, dict) or not item.get("id") or not item.get("pattern"):
        return [Problem(path, line, where, "needs id and pattern")]
    rule_id, pattern = str(item["id"]), str(item["pattern"])
    category = item.get("category")
    problems = []
    if not re.fullmatch(r"[a-z0-9_]+", rule_id):
        problems.append(Problem(path, line, f"{where}.id", f"{rule_id!r}: use a-z, 0-9, _"))
    if rule_id in seen:
        problems.append(Problem(path, line, f"{where}.id", f"{rule_id!r} is used twice"))
    seen.add(rule_id)
    if section == "rules" and category not in CATEGORIES:
        problems.append(
            Problem(path, line, f"{where}.category", f"must be one of {sorted(CATEGORIES)}")
        )
    if "\\b" in pattern or "(?P<" in pattern:
        problems.append(Problem(path, line, f"{where}.pattern", "no \\b or named groups"))
    try:
        re.compile(_normalize_pattern(pattern))
    except re.error as exc:
        problems.append(Problem(path, line, f"{where}.pattern", f"bad pattern: {exc}"))
    if not problems:
        target.append(Rule(rule_id, pattern, str(category) if category else None))
    return problems
