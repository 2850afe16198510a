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
from itertools import repeat
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.textnorm import normalize
from bot.yamlfile import DataError, LineDict, Problem, line_of, load_each

OUT_OF_SCOPE = "out_of_scope"
THRESHOLD = 0.5
"""Below this confidence the bot says it did not understand and offers the menu."""
AMBIGUOUS_MARGIN = 0.03
"""Two intents closer than this are offered as a choice."""
CUE_BONUS = 0.15
STEM = 6
_CANDIDATES = 30
_COMMON_DF = 0.04
"""Stems in more than this share of examples are too common to tell intents apart."""
_COSINE_WEIGHT = 0.7
"""Example score: cosine of stems, blended with rapidfuzz's ratio of the texts."""
_CENTROID_WEIGHT = 0.5
"""Intent score: best example, blended with the cosine to the intent's centroid."""
_RAW_THRESHOLD = 0.15
"""Raw score at which the bot trusts a match (tuned on the dev sets)."""


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
    per_lang: dict[str, set[str]] = {}
    files, problems = load_each(directory, languages)
    for lang, raw in files.items():
        path = directory / f"{lang}.yaml"
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


def stem(token: str) -> str:
    """A crude prefix stem that works across the five languages ("crucificando" -> "crucif")."""
    return token[:STEM]


class IntentMatcher:
    def __init__(self, data: IntentData) -> None:
        self.intents = data.intents
        self._texts = [e.text for e in data.examples]
        self._intent_of = [e.intent for e in data.examples]
        feats = [{stem(t) for t in text.split()} for text in self._texts]
        df: dict[str, int] = defaultdict(int)
        for f in feats:
            for s in f:
                df[s] += 1
        n = len(self._texts)
        common = max(8, int(n * _COMMON_DF))
        self._idf = {s: math.log(n / c) for s, c in df.items() if c <= common}
        """Stems too common to tell intents apart are left out, like stop words."""
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        centroids: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for i, f in enumerate(feats):
            kept = sorted(s for s in f if s in self._idf)
            norm = math.sqrt(sum(self._idf[s] ** 2 for s in kept)) or 1.0
            for s in kept:
                postings[s][i] = self._idf[s] ** 2 / norm
                centroids[self._intent_of[i]][s] += self._idf[s] / norm
        self._postings = dict(postings)
        """Stem -> {example: the stem's share of the example's cosine}: summed over a
        message's stems, it ranks examples without touching the others."""
        exact: dict[str, set[str]] = defaultdict(set)
        for text, intent in zip(self._texts, self._intent_of, strict=True):
            exact[text].add(intent)
        self._exact = {text: next(iter(i)) for text, i in exact.items() if len(i) == 1}
        """Texts that are an example of one intent, for messages too short or common
        to have a stem in the index ("a+" normalises to "a")."""
        self._centroids: dict[str, dict[str, float]] = {}
        """Intent -> {stem: its share of the cosine to the intent's centroid}."""
        for intent, weights in centroids.items():
            c_norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            self._centroids[intent] = {s: self._idf[s] * w / c_norm for s, w in weights.items()}
        vocabulary = {t for text in self._texts for t in text.split()}
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for tok in sorted(vocabulary):
            self._by_initial[tok[0]].append(tok)
        self._cues = sorted(data.cues.items(), key=lambda kv: -len(kv[0]))
        self.vocabulary = frozenset(vocabulary)
        self._correct = lru_cache(maxsize=32768)(self._nearest)

    @property
    def example_count(self) -> int:
        return len(self._texts)

    def _nearest(self, token: str) -> str:
        """The closest known token, for typos; the token itself when nothing is close."""
        if len(token) < 4:
            return token
        bucket = self._by_initial.get(token[0], ())
        limit = 2 if len(token) >= 8 else 1
        found = process.extractOne(token, bucket, scorer=OSA.distance, score_cutoff=limit)
        return str(found[0]) if found else token

    def classify(self, text: str) -> Match:
        """Best intent for already normalised text, with a confidence in 0..1."""
        words = [t if t in self.vocabulary else self._correct(t) for t in text.split()]
        query = " ".join(words)
        if query in self._exact:
            return Match(self._exact[query], 1.0)
        stems = sorted({stem(w) for w in words} & self._idf.keys())
        scores: dict[str, float] = {}
        if stems:
            q_norm = math.sqrt(sum(self._idf[s] ** 2 for s in stems))
            overlap: dict[int, float] = {}
            get = overlap.get
            for s in stems:
                for i, share in self._postings[s].items():
                    overlap[i] = get(i, 0.0) + share
            zeros = repeat(0.0)
            ranked = sorted(overlap, key=overlap.__getitem__, reverse=True)[:_CANDIDATES]
            for i in ranked:
                score = _COSINE_WEIGHT * overlap[i] / q_norm + (1 - _COSINE_WEIGHT) * (
                    fuzz.ratio(query, self._texts[i]) / 100.0
                )
                intent = self._intent_of[i]
                if score > scores.get(intent, 0.0):
                    scores[intent] = score
            for intent in scores:
                centroid = sum(map(self._centroids[intent].get, stems, zeros)) / q_norm
                scores[intent] = (1 - _CENTROID_WEIGHT) * scores[intent] + (
                    _CENTROID_WEIGHT * centroid
                )
        padded = f" {query} "
        for cue, intents in self._cues:
            if f" {cue} " in padded:
                for intent in intents:
                    scores[intent] = scores.get(intent, 0.0) + CUE_BONUS
        if not scores:
            return Match(OUT_OF_SCOPE, 0.0)
        best = sorted(scores.items(), key=lambda kv: -kv[1])
        top, raw = best[0]
        # "Did you mean X or out of scope?" is no question to ask: the runner-up is
        # the closest real intent, and an out-of-scope message gets no choice.
        others = [kv for kv in best[1:] if kv[0] != OUT_OF_SCOPE]
        if others and top != OUT_OF_SCOPE:
            return Match(top, _calibrate(raw), others[0][0], _calibrate(others[0][1]))
        return Match(top, _calibrate(raw))


def _calibrate(raw: float) -> float:
    """Map raw scores so that the tuned threshold sits at confidence 0.5."""
    if raw < _RAW_THRESHOLD:
        value = 0.5 * raw / _RAW_THRESHOLD
    else:
        value = 0.5 + 0.5 * (raw - _RAW_THRESHOLD) / (1 - _RAW_THRESHOLD)
    return round(min(1.0, value), 4)
