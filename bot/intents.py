"""Intent matching: rapidfuzz over normalised YAML examples, pruned by an index.

A brute-force fuzzy scan of every example costs milliseconds; instead an
inverted index of tokens (weighted by rarity) picks a few candidate examples
and only those are scored with rapidfuzz. Unknown tokens are first corrected
towards the examples' vocabulary, so "stresed", "anxeity" and "tuor" still land.
Cues (words that point strongly to one intent) are added where measurement on
the dev set showed fuzzy ratios confusing two intents.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.textnorm import normalize
from bot.yamlfile import DataError, LineDict, Problem, line_of, load

THRESHOLD = 0.55
"""Below this confidence the bot says it did not understand and offers the menu."""
AMBIGUOUS_MARGIN = 0.04
"""Two intents closer than this are offered as a choice."""
CUE_BONUS = 0.25
_CANDIDATES = 24
_COMMON_DF = 0.04
"""Tokens in more than this share of examples are too common to pick candidates."""


@dataclass(frozen=True, slots=True)
class Example:
    intent: str
    lang: str
    text: str


@dataclass(frozen=True, slots=True)
class Match:
    intent: str
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0

    @property
    def ambiguous(self) -> bool:
        return (
            self.runner_up is not None
            and self.runner_up_confidence >= THRESHOLD
            and self.confidence - self.runner_up_confidence < AMBIGUOUS_MARGIN
        )


@dataclass(frozen=True, slots=True)
class IntentData:
    examples: tuple[Example, ...]
    cues: dict[str, tuple[str, ...]]
    """Normalised cue phrase -> the intents it points to."""
    intents: tuple[str, ...]


def load_intents(directory: Path, languages: tuple[str, ...]) -> IntentData:
    examples: list[Example] = []
    cues: dict[str, set[str]] = defaultdict(set)
    problems: list[Problem] = []
    per_lang: dict[str, set[str]] = {}
    for lang in languages:
        path = directory / f"{lang}.yaml"
        try:
            raw = load(path)
        except DataError as exc:
            problems += exc.problems
            continue
        section = raw.get("intents") if isinstance(raw, LineDict) else None
        if not isinstance(section, LineDict):
            problems.append(Problem(path, line_of(raw), "intents", "must be a mapping"))
            continue
        per_lang[lang] = set(section)
        for intent, body in section.items():
            where = f"intents.{intent}"
            if not isinstance(body, LineDict) or not isinstance(body.get("examples"), list):
                problems.append(Problem(path, line_of(section, intent), where, "needs examples"))
                continue
            for text in body["examples"]:
                norm = normalize(str(text))
                if norm:
                    examples.append(Example(intent, lang, norm))
            for cue in body.get("cues") or []:
                cues[normalize(str(cue))].add(intent)
    all_intents = set().union(*per_lang.values()) if per_lang else set()
    for lang, have in per_lang.items():
        for missing in sorted(all_intents - have):
            problems.append(
                Problem(directory / f"{lang}.yaml", 0, f"intents.{missing}", "missing here")
            )
    if problems:
        raise DataError(problems)
    return IntentData(
        tuple(examples), {c: tuple(sorted(i)) for c, i in cues.items()}, tuple(sorted(all_intents))
    )


class IntentMatcher:
    def __init__(self, data: IntentData) -> None:
        self.intents = data.intents
        self._texts = [e.text for e in data.examples]
        self._intent_of = [e.intent for e in data.examples]
        postings: dict[str, set[int]] = defaultdict(set)
        for i, text in enumerate(self._texts):
            for tok in text.split():
                postings[tok].add(i)
        n = len(self._texts)
        self._idf = {tok: math.log(n / len(ids)) for tok, ids in postings.items()}
        common = max(8, int(n * _COMMON_DF))
        self._postings = {t: tuple(ids) for t, ids in postings.items() if len(ids) <= common}
        self._norm = [
            math.sqrt(sum(self._idf[t] ** 2 for t in set(text.split()))) or 1.0
            for text in self._texts
        ]
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for tok in postings:
            self._by_initial[tok[0]].append(tok)
        self._cues = sorted(data.cues.items(), key=lambda kv: -len(kv[0]))
        self.vocabulary = frozenset(postings)
        self._correct = lru_cache(maxsize=32768)(self._nearest)

    @property
    def example_count(self) -> int:
        return len(self._texts)

    def _nearest(self, token: str) -> str | None:
        """The closest known token, for typos; None when nothing is close."""
        if len(token) < 4:
            return None
        bucket = self._by_initial.get(token[0], ())
        limit = 2 if len(token) >= 8 else 1
        found = process.extractOne(token, bucket, scorer=OSA.distance, score_cutoff=limit)
        return str(found[0]) if found else None

    def _query_tokens(self, text: str) -> list[str]:
        out = []
        for tok in text.split():
            if tok in self._idf:
                out.append(tok)
            else:
                fixed = self._correct(tok)
                if fixed:
                    out.append(fixed)
        return out

    def classify(self, text: str) -> Match:
        """Best intent for already normalised text, with a confidence in 0..1."""
        toks = self._query_tokens(text)
        if not toks:
            return Match("out_of_scope", 0.0)
        query = " ".join(toks)
        unique = set(toks)
        q_norm = math.sqrt(sum(self._idf[t] ** 2 for t in unique)) or 1.0
        overlap: dict[int, float] = defaultdict(float)
        for tok in unique:
            weight = self._idf[tok] ** 2
            for i in self._postings.get(tok, ()):
                overlap[i] += weight
        if not overlap:
            return self._with_cues(query, {})
        ranked = sorted(overlap, key=lambda i: -overlap[i] / self._norm[i])[:_CANDIDATES]
        scores: dict[str, float] = {}
        for i in ranked:
            cosine = overlap[i] / (q_norm * self._norm[i])
            fuzzy = fuzz.token_set_ratio(query, self._texts[i]) / 100.0
            score = 0.5 * cosine + 0.5 * fuzzy
            intent = self._intent_of[i]
            if score > scores.get(intent, 0.0):
                scores[intent] = score
        return self._with_cues(query, scores)

    def _with_cues(self, query: str, scores: dict[str, float]) -> Match:
        padded = f" {query} "
        for cue, intents in self._cues:
            if f" {cue} " in padded:
                for intent in intents:
                    scores[intent] = min(1.0, max(scores.get(intent, 0.0), 0.5) + CUE_BONUS)
        if not scores:
            return Match("out_of_scope", 0.0)
        best = sorted(scores.items(), key=lambda kv: -kv[1])
        top, conf = best[0]
        if len(best) > 1:
            return Match(top, round(conf, 4), best[1][0], round(best[1][1], 4))
        return Match(top, round(conf, 4))
