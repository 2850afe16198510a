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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial, reduce
from itertools import accumulate, compress, repeat
from operator import add, and_, or_
from pathlib import Path
from time import perf_counter
from typing import Any, NamedTuple, Protocol

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.safety.concepts import (
    Combo,
    ComboBook,
    Concepts,
    check_links,
    read_combos,
    read_concepts,
)
from bot.safety.model import MODEL_FILE, TextModel, concept_features, read_model
from bot.safety.patterns import alternatives, compiled, normalize_pattern, problem_with
from bot.textnorm import normalize

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

    @property
    def crisis(self) -> bool:
        return self.level is Level.CRISIS


NO_CRISIS = Verdict(Level.NONE)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    pattern: str
    category: str | None


class Shape(NamedTuple):
    """What indexing and checking need from an alternative's parse tree, which is
    dropped once read: the parse trees of all of them would weigh 100 MB."""

    anchors: set[str] | None
    """Words one of which every match contains (see `_needed_words`)."""
    first_words: set[str] | None
    first_chars: set[str] | None
    """Letters a match can start with, read only when its first words are unknown."""
    ends_in_space: bool
    """A way through it ends in a space: dead, since a match must end a word."""
    strays: set[str]
    """Characters it spells out that normalised text never holds (",", "-", emoji):
    each marks a way through it that can never match."""


def shape_of(piece: str) -> Shape:
    parsed = _parse(normalize_pattern(piece))
    if parsed is None:
        return Shape(None, None, None, False, set())
    words = _first_words(parsed)
    last, _ = _first_of(parsed, reverse=True)
    return Shape(
        _needed_words(parsed, True, True),
        words,
        _first_chars(parsed) if words is None else None,
        last is not None and " " in last,
        _strays(parsed),
    )


def _strays(items: list[Any]) -> set[str]:
    found: set[str] = set()
    for op, av in items:
        if op is re_constants.LITERAL and chr(av) not in _TEXT_CHARS:
            found.add(chr(av))
        elif op is re_constants.BRANCH:
            found = found.union(*(_strays(_items(branch)) for branch in av[1]))
        elif op is re_constants.SUBPATTERN:
            found |= _strays(_items(av[-1]))
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            found |= _strays(_items(av[2]))
        elif op in (re_constants.ASSERT, re_constants.ASSERT_NOT):
            found |= _strays(_items(av[1]))
    return found


class RuleIndex:
    """All of the screen's rule sets, indexed together so that a text meets only the
    few rules it could match, and each word is looked up once for all of them.

    Rules are indexed twice. First by the words a rule needs somewhere ("me ...
    matar" needs "matar"): a text brings to life only the rules whose needed
    words it contains, which for most messages is a handful of the hundreds in
    five languages. Then by how a match can begin: its first word or two ("me
    quiero", "ich will"), the beginning of its first word, or else its first
    letter; a rule is tried only at the words where it can start. Both indexes
    come from the regex's parse tree; rules the parse cannot place are simply
    tried more often. Sets of rules are ints, one bit per rule: unions and
    intersections then run in C, not in a Python loop.

    What is indexed is each top-level alternative of a rule ("a|b|c", see
    `alternatives`), so that one vague alternative does not have the whole rule
    tried at every word (regex attempts per message went from 11 to 6).
    """

    def __init__(self, layers: list[list[Rule]], shapes: dict[str, Shape] | None = None) -> None:
        """`shapes`: alternatives already parsed (checking rule files parses them), by
        alternative; the rest are parsed here."""
        self._by_word: dict[str, set[int]] = {}
        self._by_char: dict[str, set[int]] = {c: set() for c in _WORD_CHARS}
        self._by_anchor: dict[str, set[int]] = {}
        self._unanchored: dict[str, set[int]] = {c: set() for c in _WORD_CHARS}
        """First letter -> entries that need no word the parse can name: a text with
        no word beginning with the letter cannot wake them."""
        per_layer = [
            [(rule, piece) for rule in layer for piece in alternatives(rule.pattern)]
            for layer in layers
        ]
        entries = [piece for layer in per_layer for _, piece in layer]
        for index, piece in enumerate(entries):
            shape = (shapes or {}).get(piece) or shape_of(piece)
            for anchor in shape.anchors or ():
                self._by_anchor.setdefault(anchor, set()).add(index)
            if shape.first_words is not None:
                for word in shape.first_words:
                    self._by_word.setdefault(word, set()).add(index)
                continue
            starts = shape.first_chars
            for char in _WORD_CHARS if starts is None else starts & set(_WORD_CHARS):
                self._by_char[char].add(index)
                if shape.anchors is None:
                    self._unanchored[char].add(index)
        self._prefix_sizes = _prefix_sizes(self._by_word)
        self._anchor_prefix_sizes = _prefix_sizes(self._by_anchor)
        self._starting = lru_cache(maxsize=65536)(self._find_starting)
        self._with_word = lru_cache(maxsize=65536)(self._find_with_word)
        """People reuse words: what a word implies is worked out once."""
        self._pairs = _by_first_word(self._by_word)
        self._starting_pair = lru_cache(maxsize=65536)(self._find_starting_pair)
        """Only pairs that begin a rule are cached: ten thousand messages hold some
        80,000 distinct word pairs, and a cache of every pair, cycled through,
        missed on nearly every word."""
        self.scan = lru_cache(maxsize=64)(self._scan)
        """Every layer scans the same text in turn, unless one blanked part of it."""
        self.layers: list[RuleSet] = []
        offset = 0
        for layer, layer_entries in zip(layers, per_layer, strict=True):
            self.layers.append(RuleSet(self, layer, layer_entries, offset))
            offset += len(layer_entries)

    def _find_with_word(self, word: str) -> int:
        """Rules that need this word, or a word beginning like it, or that can start
        with its first letter and need no word the parse could name."""
        found = self._by_anchor.get(word, set()) | self._unanchored.get(word[0], set())
        for size in self._anchor_prefix_sizes:
            if size <= len(word):
                found |= self._by_anchor.get(f"{word[:size]}{_PREFIX}", set())
        return _bits(found)

    def _candidates(self, one: str, after: str) -> int:
        """Rules that can start at a word: by its first two words, its first word, its
        beginning, or else its first letter."""
        found = self._starting(one)
        if after in self._pairs.get(one, ()):
            return found | self._starting_pair(one, after)
        return found

    def _find_starting(self, one: str) -> int:
        index = self._by_word
        found = set(self._by_char.get(one[0], ()))
        for key in (one, *(f"{one[:size]}{_PREFIX}" for size in self._prefix_sizes)):
            found |= index.get(key, set())
        return _bits(found)

    def _find_starting_pair(self, one: str, after: str) -> int:
        return _bits(self._pairs[one][after])

    def _scan(self, text: str) -> tuple[Sequence[int], int, list[int]]:
        """(where each word starts, the rules alive in the text, the rules that may
        match at each word)."""
        words = _words(text)
        alive = reduce(or_, map(self._with_word, words.words), 0)
        if not alive:
            return words.positions, 0, []
        lives = list(map(and_, map(self._candidates, words.words, words.nexts), repeat(alive)))
        return words.positions, alive, lives


class _Matcher(Protocol):
    def match(self, text: str, pos: int) -> re.Match[str] | None: ...


class _Timed:
    """A rule alternative's regex that adds the time of each try to its rule's cost."""

    __slots__ = ("_cost", "_pattern", "_rule")

    def __init__(self, pattern: _Matcher, rule: str, cost: dict[str, float]) -> None:
        self._pattern, self._rule, self._cost = pattern, rule, cost

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        start = perf_counter()
        found = self._pattern.match(text, pos)
        self._cost[self._rule] = self._cost.get(self._rule, 0.0) + perf_counter() - start
        return found


class RuleSet:
    """One layer of a `RuleIndex` (music idioms, negations, crisis rules, concepts):
    its rules' alternatives, in rule order, are the index's bits from `offset` on."""

    def __init__(
        self, index: RuleIndex, rules: list[Rule], entries: list[tuple[Rule, str]], offset: int
    ) -> None:
        self.rules = rules
        self._each: list[_Matcher] = [compiled(piece) for _, piece in entries]
        self._rule_of = [rule for rule, _ in entries]
        self._index = index
        self._offset = offset
        self._mask = ((1 << len(entries)) - 1) << offset

    def _starts(self, text: str) -> Iterator[tuple[int, int, list[int]]]:
        """(word index, position, candidate alternatives) at each word where some may match."""
        positions, alive, lives = self._index.scan(text)
        if not alive & self._mask:
            return
        mask, offset = self._mask, self._offset
        for n in compress(range(len(lives)), lives):
            mine = lives[n] & mask
            if mine.bit_count() == 1:  # most often: no new int to shift or split
                yield n, positions[n], [mine.bit_length() - 1 - offset]
            elif mine:
                yield n, positions[n], _indexes(mine >> offset)

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
                    yield pos, found.end(), self._rule_of[index]
                    break

    @contextmanager
    def timed(self, cost: dict[str, float]) -> Iterator[None]:
        plain = self._each
        self._each = [
            _Timed(p, rule.id, cost) for p, rule in zip(plain, self._rule_of, strict=True)
        ]
        try:
            yield
        finally:
            self._each = plain

    def first(self, text: str) -> Rule | None:
        return next((rule for _, _, rule in self._hits(text)), None)

    def every(self, text: str) -> Iterator[tuple[int, Rule]]:
        """(word index, rule) for every rule matching at every word start, once even
        when two of its alternatives match: overlaps allowed, so one span can carry
        two concepts ("cortarme": SELF_HARM and SELF)."""
        for n, pos, indexes in self._starts(text):
            last = None
            for index in indexes:
                rule = self._rule_of[index]
                if rule is not last and self._each[index].match(text, pos):
                    last = rule
                    yield n, rule

    def blank(self, text: str) -> str:
        pieces, last = [], 0
        for start, end, _ in self._hits(text):
            pieces += [text[last:start], _BLANK]
            last = end
        return "".join(pieces) + text[last:] if pieces else text


def _by_first_word(index: dict[str, set[int]]) -> dict[str, dict[str, set[int]]]:
    """The two-word keys of an index ("me quiero"), by first word, then second."""
    pairs: dict[str, dict[str, set[int]]] = {}
    for key, entries in index.items():
        first, space, second = key.partition(" ")
        if space:
            pairs.setdefault(first, {})[second] = entries
    return pairs


def _prefix_sizes(index: dict[str, set[int]]) -> list[int]:
    return sorted({len(key) - 1 for key in index if key.endswith(_PREFIX)}, reverse=True)


_WORD = re.compile(r"(?<![a-z0-9])[a-z0-9]+")


class _Words(NamedTuple):
    positions: Sequence[int]
    words: Sequence[str]
    nexts: Sequence[str]
    """The word after each, when one space apart ("me" -> "quiero"), else ""."""


def _words(text: str) -> _Words:
    """Where each word starts, the words, and the words after them."""
    if _SPACED.fullmatch(text):  # most texts: words and single spaces, nothing else
        words = text.split(" ")
        starts = list(accumulate(map(add, map(len, words[:-1]), repeat(1)), initial=0))
        return _Words(starts, words, [*words[1:], ""])
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    nexts = [*spans[1:], (-1, -1, "")]
    return _Words(
        [start for start, _, _ in spans],
        [word for _, _, word in spans],
        [
            after if after_start == end + 1 else ""
            for (_, end, _), (after_start, _, after) in zip(spans, nexts, strict=False)
        ],
    )


_SPACED = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")


def _bits(indexes: Iterable[int]) -> int:
    return sum(1 << index for index in set(indexes))


def _indexes(bits: int) -> list[int]:
    """The rule indexes in a set of bits, lowest first (rule order decides ties)."""
    found = []
    while bits:
        low = bits & -bits
        found.append(low.bit_length() - 1)
        bits ^= low
    return found


_MAX_EXPANSION = 3000
_PREFIX = "*"
"""Marks an index key that is a word's beginning ("suicid*" for "suicid\\w*")."""


def _parse(pattern: str) -> list[Any] | None:
    """The regex's parse tree (None when unavailable): to index rules and find dead endings."""
    if re_parser is None:
        return None
    try:
        return _items(re_parser.parse(pattern))
    except re.error:
        return None


def _items(node: Any) -> list[Any]:
    """A parsed sequence's items. The parser's node hands them out one Python call
    per item; its list is read directly, as indexing reads every node many times."""
    return list(getattr(node, "data", node))


def _first_words(parsed: list[Any]) -> set[str] | None:
    """The first word or two words a match can begin with, when the pattern spells them
    out (see `_expand`)."""
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
        if op is not re_constants.LITERAL and _word_ends(items[at:]):
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
                sub = _expand(_items(alternative), open_, two_words)
                if sub is None:
                    return None
                done |= sub[0]
                merged |= sub[1]
            open_ = merged
        elif op is re_constants.SUBPATTERN:
            sub = _expand(_items(av[-1]), open_, two_words)
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
                sub = _expand(_items(av[2]), current, two_words)
                if sub is None:
                    return None
                done |= sub[0]
                current = sub[1]
            open_ = reached
        elif op in (re_constants.ASSERT, re_constants.ASSERT_NOT, re_constants.AT):
            continue  # takes no characters: "mejor$"
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


def _needed_words(items: list[Any], word_start: bool, word_end: bool) -> set[str] | None:
    """Words one of which every match contains, whole or as a beginning ("suicid*");
    None when the parse shows none. Of the choices ("me", "quiero", "matar|morir")
    the one with the longest words is kept: long words are rare, so the rule sleeps
    through most texts. `word_start`/`word_end`: whether `items` begin and end at
    a word's edge."""
    choices: list[set[str]] = []
    befores = _running(items, reverse=False)
    afters = _running(items, reverse=True)
    for at, (op, av) in enumerate(items):
        starts = _edge(*befores[at], word_start)
        ends = _edge(*afters[len(items) - at - 1], word_end)
        # a word spelled out from here; a group that ends a word is read more
        # closely below, alternative by alternative
        if starts and (op in (re_constants.LITERAL, re_constants.IN) or not ends):
            expanded = _expand(items[at:], {""}, two_words=False)
            if expanded is not None and (word_end or not expanded[1]):
                keys = {key.strip() for key in expanded[0] | expanded[1]}
                if keys and "" not in keys:
                    choices.append(keys)
        inner: set[str] | None = None
        if op is re_constants.SUBPATTERN:
            inner = _needed_words(_items(av[-1]), starts, ends)
        elif op is re_constants.BRANCH:
            each = [_needed_words(_items(branch), starts, ends) for branch in av[1]]
            inner = set().union(*each) if all(each) else None  # type: ignore[arg-type]
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT) and av[0] >= 1:
            inner = _needed_words(_items(av[2]), starts, ends and av[1] == 1)
        if inner:
            choices.append(inner)
    return max(choices, key=_rarity) if choices else None


def _rarity(words: set[str]) -> tuple[int, int]:
    return min(len(word.rstrip(_PREFIX)) for word in words), -len(words)


def _edge(chars: set[str] | None, nullable: bool, at_edge: bool) -> bool:
    """Whether a point with these neighbouring characters is a word's edge."""
    return (
        chars is not None
        and chars <= {" "}
        and (bool(chars) or nullable)
        and (at_edge or not nullable)
    )


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
_TEXT_CHARS = frozenset(_WORD_CHARS + _BLANK)
"""All that normalised (and blanked) text is made of."""
_LETTERS = frozenset(_WORD_CHARS[:26])


def _first_chars(parsed: list[Any]) -> set[str] | None:
    """Letters a match can start with; None when any (or unsure)."""
    chars, nullable = _first_of(parsed)
    return None if chars is None or nullable else chars


def _first_of(items: list[Any], reverse: bool = False) -> tuple[set[str] | None, bool]:
    """(first characters, can be empty) of a parsed regex sequence; with `reverse`,
    its last characters."""
    out: set[str] = set()
    for op, av in reversed(items) if reverse else items:
        chars: set[str] | None
        nullable = False
        if op is re_constants.LITERAL:
            chars = {chr(av)}
        elif op is re_constants.IN:
            chars = _class_chars(av)
        elif op is re_constants.BRANCH:
            chars = set()
            for branch in av[1]:
                sub, empty = _first_of(_items(branch), reverse)
                if sub is None:
                    return None, False
                chars |= sub
                nullable |= empty
        elif op is re_constants.SUBPATTERN:
            chars, nullable = _first_of(_items(av[-1]), reverse)
        elif op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            chars, nullable = _first_of(_items(av[2]), reverse)
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


def _running(items: list[Any], reverse: bool) -> list[tuple[set[str] | None, bool]]:
    """For each point in a sequence, (characters, can be empty) of what stands right
    before it: the last characters of items[:at]; with `reverse`, counted from the
    end, the first characters of what follows."""
    found: list[tuple[set[str] | None, bool]] = [(set(), True)]
    for op, av in reversed(items) if reverse else items:
        if op is re_constants.LITERAL:
            found.append(({chr(av)}, False))
            continue
        chars, nullable = _first_of([(op, av)], not reverse)
        before, before_nullable = found[-1]
        if chars is not None and nullable:
            chars = None if before is None else chars | before
            nullable = before_nullable
        found.append((chars, nullable))
    return found


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
        shapes: dict[str, Shape] | None = None,
    ) -> None:
        concept_rules = [
            Rule(lang.lang, term, name)
            for lang in concepts
            for name, terms in lang.terms.items()
            for term in terms
        ]
        index = RuleIndex([safe, negated, rules, concept_rules], shapes)
        self._safe, self._negated, self._crisis, self._concepts = index.layers
        self._combos = ComboBook(combos)
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
            found.shapes,
        )

    @contextmanager
    def timed(self, cost: dict[str, float]) -> Iterator[None]:
        """While open, the time each rule's regexes take is added to `cost` under its id
        (concept terms under their language): `bench` names the costliest, since one
        rule the index could not place once cost 30 % of the screen's time."""
        with ExitStack() as stack:
            for layer in (self._safe, self._negated, self._crisis, self._concepts):
                stack.enter_context(layer.timed(cost))
            yield

    @property
    def rule_count(self) -> int:
        return len(self._crisis.rules)

    def _concept_hits(self, text: str) -> dict[str, list[tuple[int, str]]]:
        """Language -> (word index, concept) for every concept term found."""
        hits: dict[str, list[tuple[int, str]]] = {}
        if self._combos.combos or self.model is not None:
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
                return Verdict(Level.CRISIS, "model")
        return verdict

    def explain(self, raw_text: str) -> list[tuple[str, float]]:
        """The model's features that pushed a text towards crisis most, with their share
        of the score. They quote bits of the message: show them to reviewers, never
        log them. Worked out when a reviewer asks, not with every verdict: it costs
        more than the whole screen, and a crisis reply must not wait for it."""
        text = normalize(raw_text)
        if self.model is None or not text:
            return []
        _, blanked, hits = self._screen(text)
        return self.model.explain(blanked, _concept_names(hits))

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
        met = self._combos.first(hits)
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
    shapes: dict[str, Shape] = field(default_factory=dict)
    """Each rule alternative as checking parsed it, so that indexing need not again."""
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
            problems += _read_rule(path, section, i, item, target, found)
    lang = raw.get("lang")
    concepts, concept_problems = read_concepts(
        path, raw, str(lang) if lang else None, partial(_pattern_problem, shapes=found.shapes)
    )
    problems += concept_problems
    if concepts is not None:
        found.concepts.append(concepts)
    combos, combo_problems = read_combos(path, raw, CATEGORIES)
    problems += combo_problems
    found.combos += [(path, combo) for combo in combos]


DEAD_ENDING = (
    "a way through it ends in a space, so it never matches (a match must end where a word"
    " ends): put the space inside the optional part, 'me(?: off)?' not 'me (?:off)?'"
)
STRAY_CHARACTERS = (
    "it spells out {}, which normalised text never holds (punctuation and emoji turn"
    " into spaces; in single-quoted YAML an escape takes one backslash: \\w, not"
    " \\\\w): no match can hold it, so that part of the pattern is dead"
)
TRIED_EVERYWHERE = (
    "no word it needs and no first word can be read from it, so it is tried at almost"
    " every word of every message (one such safe idiom cost 30 % of the screen's time):"
    " begin each alternative with its words, and put a lookahead after them"
)
MAX_FIRST_LETTERS = 4
"""An alternative known only by the letters it may start with is tried at every word
starting with one of them: a few are cheap, most of the alphabet is not."""


def _tried_everywhere(shape: Shape) -> bool:
    if shape.anchors is not None or shape.first_words is not None:
        return False
    starts = _LETTERS if shape.first_chars is None else shape.first_chars & _LETTERS
    return len(starts) > MAX_FIRST_LETTERS


def _pattern_problem(pattern: str, shapes: dict[str, Shape]) -> str | None:
    """What is wrong with a rule's or a concept term's pattern, or None. Its
    alternatives' shapes are kept in `shapes`, so that indexing need not parse
    them again: concept terms are indexed like rules, and cost like them."""
    wrong = problem_with(pattern)
    if wrong is not None:
        return wrong
    found = {piece: shape_of(piece) for piece in alternatives(pattern)}
    shapes.update(found)
    # normalised text never ends a word with a space, so such a path is dead:
    # an author's intent silently lost, never a refinement
    if any(shape.ends_in_space for shape in found.values()):
        return DEAD_ENDING
    strays = set().union(*(shape.strays for shape in found.values()))
    if strays:
        return STRAY_CHARACTERS.format(" ".join(repr(char) for char in sorted(strays)))
    if any(_tried_everywhere(shape) for shape in found.values()):
        return TRIED_EVERYWHERE
    return None


def _read_rule(
    path: Path, section: str, i: int, item: Any, target: list[Rule], found: _Loaded
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
    if rule_id in found.seen:
        problems.append(Problem(path, line, f"{where}.id", f"{rule_id!r} is used twice"))
    found.seen.add(rule_id)
    if section == "rules" and category not in CATEGORIES:
        problems.append(
            Problem(path, line, f"{where}.category", f"must be one of {sorted(CATEGORIES)}")
        )
    wrong = _pattern_problem(pattern, found.shapes)
    if wrong is not None:
        problems.append(Problem(path, line, f"{where}.pattern", wrong))
    if not problems:
        target.append(Rule(rule_id, pattern, str(category) if category else None))
    return problems
