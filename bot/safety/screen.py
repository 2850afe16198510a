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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.safety.concepts import (
    Combo,
    Concepts,
    check_links,
    first_combo,
    read_combos,
    read_concepts,
)
from bot.safety.model import MODEL_FILE, TextModel, concept_features, read_model
from bot.textnorm import normalize, squeeze

try:  # the regex parser is private; without it every rule is simply tried at every word
    from re import _constants as re_constants  # type: ignore[attr-defined]
    from re import _parser as re_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    re_parser = None
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
    why: tuple[tuple[str, float], ...] = ()
    """For the model's verdicts: the features that pushed it over, with their share
    of the score. They quote bits of the message: show them to reviewers, never log them."""

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


class RuleSet:
    """Rules indexed by how a match can begin, so each word is tried on few rules.

    Most rules start with known words ("me quiero", "ich will", "i"): they are
    tried only where those words stand. The others are tried at every word with their first
    letter. A word's candidates form one alternation without groups (the regex
    engine then skips a branch on its first letter); only a hit pays for finding
    which rule it was. This keeps the screen within microseconds with hundreds
    of rules in five languages.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._each = [re.compile(f"(?:{_normalize_pattern(r.pattern)})(?![a-z0-9])") for r in rules]
        self._by_word: dict[str, list[int]] = {}
        self._by_char: dict[str, list[int]] = {c: [] for c in _WORD_CHARS}
        for index, rule in enumerate(rules):
            pattern = _normalize_pattern(rule.pattern)
            words = _first_words(pattern)
            if words is not None:
                for word in words:
                    self._by_word.setdefault(word, []).append(index)
                continue
            starts = _first_chars(pattern)
            for char in _WORD_CHARS if starts is None else starts & set(_WORD_CHARS):
                self._by_char[char].append(index)
        self._prefix_sizes = sorted(
            {len(key) - 1 for key in self._by_word if key.endswith(_PREFIX)}, reverse=True
        )
        self._compiled: dict[tuple[str, ...], tuple[re.Pattern[str], list[int]] | None] = {}
        self._candidates = lru_cache(maxsize=65536)(self._find_candidates)
        """People reuse words: a word pair's candidates are worked out once."""

    def _find_candidates(self, one: str, two: str) -> tuple[re.Pattern[str], list[int]] | None:
        """Rules that can start at a word: by its first two words, its first word, its
        beginning, or else its first letter."""
        index = self._by_word
        prefixes = [
            f"{one[:size]}{_PREFIX}"
            for size in self._prefix_sizes
            if size <= len(one) and f"{one[:size]}{_PREFIX}" in index
        ]
        key = (one if one in index else one[0], two if two in index else "", *prefixes)
        if key not in self._compiled:
            found = {i for k in key[:2] for i in index.get(k, ())}
            found |= {i for k in prefixes for i in index[k]}
            indexes = sorted(found | set(self._by_char.get(one[0], ())))
            joined = "|".join(f"(?:{self._each[i].pattern})" for i in indexes)
            self._compiled[key] = (re.compile(joined), indexes) if indexes else None
        return self._compiled[key]

    def _starts(self, text: str) -> Iterator[tuple[int, int, list[int]]]:
        """(word index, position, candidate rules) at each word where some rule may match."""
        for n, (pos, one, two) in enumerate(_words(text)):
            candidates = self._candidates(one, two)
            if candidates is not None and candidates[0].match(text, pos):
                yield n, pos, candidates[1]

    def _hits(self, text: str) -> Iterator[tuple[int, int, Rule]]:
        """Non-overlapping matches, left to right, each starting at a word start."""
        resume = 0
        for _, pos, indexes in self._starts(text):
            if pos < resume:
                continue
            for index in indexes:
                found = self._each[index].match(text, pos)
                if found is not None:
                    resume = max(found.end(), pos + 1)
                    yield pos, found.end(), self.rules[index]
                    break

    def first(self, text: str) -> Rule | None:
        return next((rule for _, _, rule in self._hits(text)), None)

    def every(self, text: str) -> Iterator[tuple[int, Rule]]:
        """(word index, rule) for every rule matching at every word start: overlaps
        allowed, so one span can carry two concepts ("cortarme": SELF_HARM and SELF)."""
        for n, pos, indexes in self._starts(text):
            for index in indexes:
                if self._each[index].match(text, pos):
                    yield n, self.rules[index]

    def blank(self, text: str) -> str:
        pieces, last = [], 0
        for start, end, _ in self._hits(text):
            pieces += [text[last:start], _BLANK]
            last = end
        return "".join(pieces) + text[last:] if pieces else text


_WORD = re.compile(r"(?<![a-z0-9])[a-z0-9]+")


@lru_cache(maxsize=256)
def _words(text: str) -> tuple[tuple[int, str, str], ...]:
    """(position, word, the word and the next when one space apart) of each word.
    Cached: every rule set scans the same text in turn."""
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    nexts = [*spans[1:], (-1, -1, "")]
    return tuple(
        (start, one, f"{one} {after}" if after_start == end + 1 else "")
        for (start, end, one), (after_start, _, after) in zip(spans, nexts, strict=False)
    )


_MAX_EXPANSION = 3000
_PREFIX = "*"
"""Marks an index key that is a word's beginning ("suicid*" for "suicid\\w*")."""


def _parse(pattern: str) -> list[Any] | None:
    """The regex's parse tree (None when unavailable): used only to index rules."""
    if re_parser is None:
        return None
    try:
        return list(re_parser.parse(pattern))
    except re.error:
        return None


def _first_words(pattern: str) -> set[str] | None:
    """The first word or two words a match can begin with, when the pattern spells them
    out (see `_expand`)."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    expanded = _expand(parsed, {""}) or _expand(parsed, {""}, two_words=False)
    if expanded is None:
        return None
    keys = {key.strip() for key in expanded[0] | expanded[1]}
    return None if "" in keys or not keys else keys


def _expand(
    items: list[Any], partials: set[str], two_words: bool = True
) -> tuple[set[str], set[str]] | None:
    """(keys completed, partial keys still open) after matching `items`.

    A key is the first word a match begins with, or its first two words ("me
    quiero") when the pattern spells both out: common first words ("me", "i")
    start dozens of rules, their second word tells them apart.
    """
    done: set[str] = set()
    open_ = set(partials)
    for at, (op, av) in enumerate(items):
        if not open_:
            break
        if (op, av) != (re_constants.LITERAL, ord(" ")) and _word_ends(items[at:]):
            # "(?: \w+){0,2} a gun": whatever comes next starts with a space (or
            # nothing comes), so the first word is complete.
            done |= {p.split(" ")[0] for p in open_}
            open_ = set()
            break
        if op is re_constants.LITERAL and chr(av) == " ":
            if not two_words:
                done |= open_
                break
            done |= {p for p in open_ if " " in p}
            open_ = {p + " " for p in open_ if " " not in p}
        elif op is re_constants.LITERAL:
            if chr(av) not in _WORD_CHARS:
                return None
            open_ = {p + chr(av) for p in open_}
        elif op is re_constants.IN:
            chars = _class_chars(av)
            if chars is None or not chars <= set(_WORD_CHARS):
                return None
            open_ = {p + c for p in open_ for c in chars}
        elif op is re_constants.BRANCH:
            merged: set[str] = set()
            for alternative in av[1]:
                sub = _expand(list(alternative), open_, two_words)
                if sub is None:
                    return None
                done |= sub[0]
                merged |= sub[1]
            open_ = merged
        elif op is re_constants.SUBPATTERN:
            sub = _expand(list(av[-1]), open_, two_words)
            if sub is None:
                return None
            done |= sub[0]
            open_ = sub[1]
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT) and av[1] <= 3:
            # "x?", "[ui]{1,2}": each allowed count of the body, spelled out.
            current, reached = open_, set()
            for count in range(av[1] + 1):
                if count >= av[0]:
                    reached |= current
                if count == av[1]:
                    break
                sub = _expand(list(av[2]), current, two_words)
                if sub is None:
                    return None
                done |= sub[0]
                current = sub[1]
            open_ = reached
        elif op in (re_constants.ASSERT, re_constants.ASSERT_NOT):
            continue
        elif _is_word_run(op, av) and all(len(p) >= 3 and " " not in p for p in open_):
            done |= {p + _PREFIX for p in open_}
            open_ = set()
        elif all(" " in p for p in open_):
            done |= {p.split(" ")[0] for p in open_}
            open_ = set()
        else:
            return None
        if len(done) + len(open_) > _MAX_EXPANSION:
            return None
    return done, open_


def _word_ends(items: list[Any]) -> bool:
    """Whether the rest of a pattern can only go on with a space, or end."""
    chars, _ = _first_of(items)
    return chars is not None and chars <= {" "} and bool(chars)


def _is_word_run(op: Any, av: Any) -> bool:
    """`\\w*`, `\\w+`, `[a-z]+` and the like: the rest of a word, whatever it is."""
    if op is not re_constants.MAX_REPEAT or len(av[2]) != 1:
        return False
    body_op, body = next(iter(av[2]))
    return body_op is re_constants.IN and (
        body == [(re_constants.CATEGORY, re_constants.CATEGORY_WORD)]
        or body == [(re_constants.RANGE, (ord("a"), ord("z")))]
    )


def _class_chars(av: Any) -> set[str] | None:
    chars: set[str] = set()
    for kind, value in av:
        if kind is re_constants.LITERAL:
            chars.add(chr(value))
        elif kind is re_constants.CATEGORY and value is re_constants.CATEGORY_DIGIT:
            chars |= set("0123456789")
        elif kind is re_constants.RANGE:
            chars |= {chr(c) for c in range(value[0], value[1] + 1)}
        else:
            return None
    return chars


_WORD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _first_chars(pattern: str) -> set[str] | None:
    """Letters a match of `pattern` can start with; None when any (or unsure)."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    chars, nullable = _first_of(parsed)
    return None if chars is None or nullable else chars


def _first_of(items: list[Any]) -> tuple[set[str] | None, bool]:
    """(first characters, can be empty) of a parsed regex sequence."""
    out: set[str] = set()
    for op, av in items:
        chars: set[str] | None
        nullable = False
        if op is re_constants.LITERAL:
            chars = {chr(av)}
        elif op is re_constants.IN:
            chars = _class_chars(av)
        elif op is re_constants.BRANCH:
            chars = set()
            for branch in av[1]:
                sub, empty = _first_of(list(branch))
                if sub is None:
                    return None, False
                chars |= sub
                nullable |= empty
        elif op is re_constants.SUBPATTERN:
            chars, nullable = _first_of(list(av[-1]))
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            chars, nullable = _first_of(list(av[2]))
            nullable |= av[0] == 0
        elif op in (re_constants.ASSERT, re_constants.ASSERT_NOT, re_constants.AT):
            chars, nullable = set(), True
        else:
            return None, False
        if chars is None:
            return None, False
        out |= chars
        if not nullable:
            return out, False
    return out, True


class CrisisScreen:
    def __init__(
        self,
        safe: list[Rule],
        negated: list[Rule],
        rules: list[Rule],
        lexicon: Iterable[str],
        known_words: Iterable[str] = (),
        concepts: Iterable[Concepts] = (),
        combos: Iterable[Combo] = (),
        model: TextModel | None = None,
    ) -> None:
        self._safe = RuleSet(safe)
        self._negated = RuleSet(negated)
        self._crisis = RuleSet(rules)
        self._concepts = RuleSet(
            [
                Rule(lang.lang, term, name)
                for lang in concepts
                for name, terms in lang.terms.items()
                for term in terms
            ]
        )
        self._combos = list(combos)
        self.model = model
        self._lexicon = sorted({normalize(w) for w in lexicon if normalize(w)})
        self._keep = frozenset(self._lexicon) | frozenset(known_words)
        self._correct = lru_cache(maxsize=32768)(self._nearest)

    @classmethod
    def from_dir(cls, directory: Path, known_words: Iterable[str] = ()) -> CrisisScreen:
        found = _Loaded()
        files = sorted(directory.glob("*.yaml"))
        if not files:
            found.problems.append(Problem(directory, 0, "(dir)", "no safety rule files"))
        for path in files:
            _read_rules(path, found)
        found.problems += check_links(found.combos, found.concepts)
        model = None
        if (directory / MODEL_FILE).exists():
            try:
                model = read_model(directory / MODEL_FILE)[0]
            except DataError as exc:
                found.problems += exc.problems
        if found.problems:
            raise DataError(found.problems)
        return cls(
            found.safe,
            found.negated,
            found.rules,
            found.lexicon,
            known_words,
            found.concepts,
            [combo for _, combo in found.combos],
            model,
        )

    @property
    def rule_count(self) -> int:
        return len(self._crisis.rules)

    def _concept_hits(self, text: str) -> dict[str, list[tuple[int, str]]]:
        """Language -> (word index, concept) for every concept term found."""
        hits: dict[str, list[tuple[int, str]]] = {}
        if self._combos or self.model is not None:
            for at, term in self._concepts.every(text):
                hits.setdefault(term.id, []).append((at, str(term.category)))
        return hits

    def analyse(self, text: str) -> tuple[str, list[str]]:
        """(blanked text, concept features) of a normalised text: what the model sees.
        Training uses it, so the model learns on exactly what it will meet."""
        blanked = self._blank(text)[0]
        return blanked, _concept_names(self._concept_hits(blanked))

    def _nearest(self, token: str) -> str:
        max_distance = 2 if len(token) >= 10 else 1
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
        verdict, blanked, hits = self._screen(text)
        if verdict.crisis:
            return verdict
        corrected = self._corrected(text)
        if corrected != text:
            second = self._screen(corrected)[0]
            if second.level > verdict.level:
                return second
        if self.model is not None:
            concepts = _concept_names(hits)
            if self.model.fires(blanked, concepts):
                why = tuple(self.model.explain(blanked, concepts))
                return Verdict(Level.CRISIS, "model", None, why)
        return verdict

    def _blank(self, text: str) -> tuple[str, Rule | None]:
        text = self._safe.blank(text)
        negated = self._negated.first(text)
        if negated is not None:
            text = self._negated.blank(text)
        return text, negated

    def _screen(self, text: str) -> tuple[Verdict, str, dict[str, list[tuple[int, str]]]]:
        """The rules' and combos' verdict, with the blanked text and concept hits
        the model reuses."""
        text, negated = self._blank(text)
        rule = self._crisis.first(text)
        if rule is not None:
            return Verdict(Level.CRISIS, rule.id, rule.category), text, {}
        hits = self._concept_hits(text)
        met = first_combo(self._combos, hits) if self._combos else None
        if met is not None:
            lang, combo = met
            return Verdict(Level.CRISIS, f"{lang}_combo_{combo.id}", combo.category), text, hits
        if negated is not None:
            return Verdict(Level.CHECK, negated.id), text, hits
        return NO_CRISIS, text, hits


def _concept_names(hits: dict[str, list[tuple[int, str]]]) -> list[str]:
    return concept_features({lang: [name for _, name in found] for lang, found in hits.items()})


@dataclass
class _Loaded:
    """Everything read from the rule files so far, and what was wrong with it."""

    safe: list[Rule] = field(default_factory=list)
    negated: list[Rule] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    lexicon: list[str] = field(default_factory=list)
    concepts: list[Concepts] = field(default_factory=list)
    combos: list[tuple[Path, Combo]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _read_rules(path: Path, found: _Loaded) -> None:
    try:
        raw = load(path)
    except DataError as exc:
        found.problems += exc.problems
        return
    problems = found.problems
    if not isinstance(raw, LineDict):
        problems.append(Problem(path, 0, "(top)", "must be a mapping"))
        return
    words = raw.get("lexicon", [])
    if isinstance(words, list):
        found.lexicon.extend(str(w) for w in words)
    else:
        problems.append(Problem(path, line_of(raw, "lexicon"), "lexicon", "must be a list"))
    for section, target in (
        ("safe", found.safe),
        ("negated", found.negated),
        ("rules", found.rules),
    ):
        items = raw.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(path, line_of(raw, section), section, "must be a list"))
            continue
        for i, item in enumerate(items):
            problems += _read_rule(path, section, i, item, target, found.seen)
    lang = raw.get("lang")
    concepts, concept_problems = read_concepts(path, raw, str(lang) if lang else None)
    problems += concept_problems
    if concepts is not None:
        found.concepts.append(concepts)
    combos, combo_problems = read_combos(path, raw, CATEGORIES)
    problems += combo_problems
    found.combos += [(path, combo) for combo in combos]


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
