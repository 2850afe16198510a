"""The screen's second signal: concepts that co-occur.

Phrase rules are precise but specific: "the rope is in my gear case, tonight
after load out" names no phrase a rule could expect. What it does say is a
means of suicide (ROPE) next to a moment (TIME). Each language lists words and
short phrases for such concepts (`concepts:` in `safety/<lang>.yaml`); a combo
(`safety/combos.yaml`) fires when all of its concepts are found, in the same
language, within a window of words. The verdict names the combo ("en_combo_
means_time"), so a reviewer sees which concepts met and where.

A concept's terms are regexes like the rules', written for the normalised text,
and run on the same text the rules see: music idioms and negated mentions are
already blanked, and typo correction already applied.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.yamlfile import LineDict, Problem, line_of

NEAR = 3
"""How many words around a combo's span an `unless` concept cancels it from."""
_CONCEPT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_MAX_WINDOW = 40


@dataclass(frozen=True, slots=True)
class Combo:
    id: str
    category: str
    needs: tuple[frozenset[str], ...]
    """Each slot is met by any one of its concepts ("TAKEN", "DRUG|ALCOHOL")."""
    window: int
    """Most words between the first words of the hits that meet the slots."""
    unless: frozenset[str] = frozenset()
    """Concepts that cancel the combo when found in or near its span."""
    line: int = 0

    def met(self, hits: Sequence[tuple[int, str]]) -> bool:
        """Whether `hits` ((word index, concept), one language) meet every slot."""
        slots = [[at for at, name in hits if name in need] for need in self.needs]
        if not all(slots):
            return False
        blockers = [at for at, name in hits if name in self.unless]
        for chosen in itertools.product(*slots):
            low, high = min(chosen), max(chosen)
            if high - low > self.window:
                continue
            if not any(low - NEAR <= at <= high + NEAR for at in blockers):
                return True
        return False


class ComboBook:
    """The combos, with which of them a set of concepts could meet worked out once
    per set: most texts find two or three concepts, and the same few sets recur."""

    def __init__(self, combos: Iterable[Combo]) -> None:
        self.combos = tuple(combos)
        self._possible = lru_cache(maxsize=4096)(self._find_possible)

    def _find_possible(self, present: frozenset[str]) -> tuple[Combo, ...]:
        return tuple(
            combo
            for combo in self.combos
            if all(not need.isdisjoint(present) for need in combo.needs)
        )

    def first(self, hits: dict[str, list[tuple[int, str]]]) -> tuple[str, Combo] | None:
        """The first combo met by one language's hits: (language, combo)."""
        for lang, found in hits.items():
            present = frozenset(name for _, name in found)
            if len(present) < 2:
                continue
            for combo in self._possible(present):
                if combo.met(found):
                    return lang, combo
        return None


@dataclass(frozen=True, slots=True)
class Concepts:
    """One language file's concepts: name -> patterns, and where each was defined."""

    path: Path
    lang: str
    terms: dict[str, list[str]]
    lines: dict[str, int]


def read_concepts(
    path: Path,
    raw: LineDict,
    lang: str | None,
    check: Callable[[str], str | None],
) -> tuple[Concepts | None, list[Problem]]:
    """A language file's `concepts:` section; `check` says what is wrong with a term
    (the screen's check of its rules: terms are indexed and tried as rules are)."""
    section = raw.get("concepts")
    if section is None:
        return None, []
    if not isinstance(section, LineDict):
        return None, [Problem(path, line_of(raw, "concepts"), "concepts", "must be a mapping")]
    if not lang:
        return None, [Problem(path, line_of(raw, "concepts"), "concepts", "needs a top-level lang")]
    concepts: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for name, terms in section.items():
        where, line = f"concepts.{name}", line_of(section, name)
        if not _CONCEPT_NAME.fullmatch(name):
            problems.append(Problem(path, line, where, "concept names are UPPER_CASE"))
            continue
        if not isinstance(terms, list) or not terms:
            problems.append(Problem(path, line, where, "must be a non-empty list of patterns"))
            continue
        for i, term in enumerate(terms):
            term_line = line_of(terms, i)
            if not isinstance(term, str) or not term.strip():
                problems.append(Problem(path, term_line, f"{where}[{i}]", "must be a pattern"))
            elif (wrong := check(term)) is not None:
                problems.append(Problem(path, term_line, f"{where}[{i}]", wrong))
        concepts[name] = [str(t) for t in terms]
    lines = {name: line_of(section, name) for name in concepts}
    return Concepts(path, lang, concepts, lines), problems


def read_combos(
    path: Path, raw: LineDict, categories: frozenset[str]
) -> tuple[list[Combo], list[Problem]]:
    """The `combos:` section: which concepts, how close, what cancels them."""
    items = raw.get("combos")
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], [Problem(path, line_of(raw, "combos"), "combos", "must be a list")]
    combos: list[Combo] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        where, line = f"combos[{i}]", line_of(items, i)
        found = _read_combo(path, where, line, item, categories)
        if isinstance(found, Combo):
            combos.append(found)
        else:
            problems += found
    return combos, problems


def _read_combo(
    path: Path, where: str, line: int, item: Any, categories: frozenset[str]
) -> Combo | list[Problem]:
    if not isinstance(item, dict):
        return [Problem(path, line, where, "must be a mapping")]
    problems: list[Problem] = []
    combo_id = str(item.get("id", ""))
    if not re.fullmatch(r"[a-z0-9_]+", combo_id):
        problems.append(Problem(path, line, f"{where}.id", f"{combo_id!r}: use a-z, 0-9, _"))
    category = item.get("category")
    if category not in categories:
        problems.append(
            Problem(path, line, f"{where}.category", f"must be one of {sorted(categories)}")
        )
    needs = item.get("all")
    if not isinstance(needs, list) or len(needs) < 2 or not all(isinstance(n, str) for n in needs):
        problems.append(Problem(path, line, f"{where}.all", "needs two or more concepts"))
        needs = []
    unless = item.get("unless", [])
    if not isinstance(unless, list) or not all(isinstance(n, str) for n in unless):
        problems.append(Problem(path, line, f"{where}.unless", "must be a list of concepts"))
        unless = []
    window = item.get("window", 8)
    if not isinstance(window, int) or not 0 < window <= _MAX_WINDOW:
        problems.append(Problem(path, line, f"{where}.window", f"must be 1..{_MAX_WINDOW} words"))
    slots = tuple(frozenset(n.split("|")) for n in needs)
    for name in {n for slot in slots for n in slot} | set(unless):
        if not _CONCEPT_NAME.fullmatch(name):
            problems.append(Problem(path, line, where, f"{name!r}: concept names are UPPER_CASE"))
    if problems:
        return problems
    return Combo(combo_id, str(category), slots, int(window), frozenset(unless), line)


def check_links(combos: list[tuple[Path, Combo]], languages: list[Concepts]) -> list[Problem]:
    """Every combo's concepts exist in every language, and every concept is used.

    A concept missing in one language would silently switch its combos off there.
    """
    problems: list[Problem] = []
    used: set[str] = set()
    seen: set[str] = set()
    for path, combo in combos:
        if combo.id in seen:
            problems.append(Problem(path, combo.line, f"combos.{combo.id}", "id is used twice"))
        seen.add(combo.id)
        names = {n for slot in combo.needs for n in slot} | combo.unless
        used |= names
        for lang in languages:
            for name in sorted(names - lang.terms.keys()):
                problems.append(
                    Problem(
                        path,
                        combo.line,
                        f"combos.{combo.id}",
                        f"{name} is not defined in {lang.path.name}",
                    )
                )
    for lang in languages:
        for name in sorted(lang.terms.keys() - used):
            problems.append(
                Problem(lang.path, lang.lines[name], f"concepts.{name}", "no combo uses it")
            )
    return problems
