"""The screen's third signal: a small learned text classifier.

Phrase rules and concept combos are precise but only as wide as the wording
their authors foresaw; on freshly written messages they miss about half. This
model generalises from the labelled sets instead: a linear score over features
of the normalised text, where every word contributes its own features (the
word, its prefix stem, its character 3-5-grams, so "suicidial", "mourir" and
"morirme" still share evidence with what was seen), and pairs of words near each
other add theirs ("want ... die"). It runs only when rules and combos stayed
silent, on the same text they saw (music idioms and negated mentions already
blanked).

The weights are trained offline (`python -m bot train-screen`, see
`bot/safety/training.py`) and committed as `safety/model.tsv`: the screen loads
them in milliseconds, needs no labelled data at run time, and the threshold
chosen by cross-validation travels with the weights it was chosen for.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from bot.yamlfile import DataError, Problem

STEM = 5
NGRAMS = (3, 4, 5)
BREAK = "|"
"""The screen's blank marker: word pairs never join words across it."""
MODEL_FILE = "model.tsv"


def word_features(word: str) -> list[str]:
    """A word's own features, in a stable order: the word, its stem, its n-grams."""
    found = [f"w={word}"]
    if len(word) > STEM:
        found.append(f"s={word[:STEM]}")
    marked = f"<{word}>"
    seen = set()
    for size in NGRAMS:
        for start in range(len(marked) - size + 1):
            gram = marked[start : start + size]
            if gram not in seen:
                seen.add(gram)
                found.append(f"c={gram}")
    return found


def word_pairs(text: str) -> list[str]:
    """Neighbouring words ("b=want die"), then words one apart ("s=want die" for
    "want to die", "me ... matar"), each once, in order of appearance; never
    across a blanked span."""
    neighbours, one_apart = _pairs(text)
    return [*itertools.starmap(_BIGRAM, neighbours), *itertools.starmap(_SKIP, one_apart)]


def _pairs(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(neighbouring words, words one apart), each pair once, in order."""
    words = text.split()
    runs = [part.split() for part in text.split(BREAK)] if BREAK in text else [words]
    neighbours = itertools.chain.from_iterable(map(itertools.pairwise, runs))
    one_apart = itertools.chain.from_iterable(zip(w, w[2:], strict=False) for w in runs)
    if len(runs) == 1 and len(set(words)) == len(words):
        # most texts: no word said twice, so no pair is either, and none to drop
        return list(neighbours), list(one_apart)
    return list(dict.fromkeys(neighbours)), list(dict.fromkeys(one_apart))


_BIGRAM = "b={} {}".format
_SKIP = "s={} {}".format


def distinct_words(text: str) -> list[str]:
    """Each word once, in order: "la la la ..." must not outweigh what was said."""
    words = dict.fromkeys(text.split())
    words.pop(BREAK, None)
    return list(words)


def concept_features(hits: Mapping[str, Iterable[str]]) -> list[str]:
    """The screen's concepts (see concepts.py) found in a text, each language's
    alone and in pairs: the model learns which meetings matter, and how much,
    where a combo needs them spelled out. Sorted, each once."""
    found: set[str] = set()
    for names in hits.values():
        found.update(_one_language(frozenset(names)))
    return sorted(found)


@lru_cache(maxsize=4096)
def _one_language(names: frozenset[str]) -> tuple[str, ...]:
    """Cached: a text finds two or three concepts, and the same sets recur."""
    present = sorted(names)
    pairs = itertools.combinations(present, 2)
    return (*(f"k={name}" for name in present), *(f"k={one}+{two}" for one, two in pairs))


def features(text: str, concepts: Sequence[str] = ()) -> list[str]:
    """The features of a normalised (and blanked) text: each distinct word's own,
    each distinct word pair, the concepts. A repeated word counts once; two words
    sharing an n-gram count it twice (that keeps word scores cacheable)."""
    found = [f for word in distinct_words(text) for f in word_features(word)]
    return found + word_pairs(text) + list(concepts)


@dataclass(frozen=True, slots=True)
class Header:
    threshold: float
    bias: float
    fingerprint: str
    """Hash of the training data, so a stale weights file is noticed (tests, check)."""


class TextModel:
    """A linear crisis score; `fires` is score >= threshold."""

    def __init__(self, weights: dict[str, float], bias: float, threshold: float) -> None:
        self.weights = weights
        self.bias = bias
        self.threshold = threshold
        self._word_score = lru_cache(maxsize=65536)(self._score_word)
        self._neighbours = _pair_weights(weights, "b=")
        self._one_apart = _pair_weights(weights, "s=")
        """Pair weights by pairs of words: looking a pair up then needs no new
        string, and its words' hashes are already known (3 us less per message)."""

    def _score_word(self, word: str) -> tuple[float, int]:
        get = self.weights.get
        found = word_features(word)
        return sum(get(f, 0.0) for f in found), len(found)

    def score(self, text: str, concepts: Sequence[str] = ()) -> float:
        """bias + (sum of the weights of every feature) / sqrt(number of features):
        the same length normalisation as in training, so long messages do not win
        by sheer size. Word parts are cached: people reuse words. Summed in the
        order of `features`, so the score is the same to the last bit."""
        scored = list(map(self._word_score, distinct_words(text)))
        neighbours, one_apart = _pairs(text)
        zeros = itertools.repeat(0.0)
        total = sum(
            itertools.chain(
                map(itemgetter(0), scored),
                map(self._neighbours.get, neighbours, zeros),
                map(self._one_apart.get, one_apart, zeros),
                map(self.weights.get, concepts, zeros),
            )
        )
        count = sum(map(itemgetter(1), scored)) + len(neighbours) + len(one_apart) + len(concepts)
        return self.bias + (total / math.sqrt(count) if count else 0.0)

    def fires(self, text: str, concepts: Sequence[str] = ()) -> bool:
        return self.score(text, concepts) >= self.threshold

    def explain(
        self, text: str, concepts: Sequence[str] = (), top: int = 5
    ) -> list[tuple[str, float]]:
        """The features that pushed the score up most, for a reviewer of the verdict."""
        totals: dict[str, float] = {}
        found = features(text, concepts)
        scale = 1.0 / math.sqrt(len(found) or 1)
        for feature in found:
            weight = self.weights.get(feature, 0.0)
            if weight > 0:
                totals[feature] = totals.get(feature, 0.0) + weight * scale
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(name, round(weight, 3)) for name, weight in ranked[:top]]


def _pair_weights(weights: Mapping[str, float], kind: str) -> dict[tuple[str, str], float]:
    pairs = {}
    for name, weight in weights.items():
        if name.startswith(kind) and " " in name:
            first, second = name[len(kind) :].split(" ")
            pairs[first, second] = weight
    return pairs


def write_model(path: Path, model: TextModel, header: Header, notes: list[str]) -> None:
    """One feature per line, sorted, so a retrained file diffs readably."""
    lines = [f"# {note}" for note in notes]
    lines += [
        f"threshold\t{header.threshold!r}",
        f"bias\t{header.bias!r}",
        f"fingerprint\t{header.fingerprint}",
        "",
    ]
    lines += [f"{name}\t{weight!r}" for name, weight in sorted(model.weights.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_model(path: Path) -> tuple[TextModel, Header]:
    """The model and its header; DataError names the line that is wrong."""
    meta: dict[str, str] = {}
    weights: dict[str, float] = {}
    in_header, number = True, 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):  # noqa: B007 (read on error)
                name, _, value = line.rstrip("\n").partition("\t")
                if name.startswith("#"):
                    continue
                if not name:
                    in_header = False
                elif in_header:
                    meta[name] = value
                else:
                    weights[name] = float(value)
        header = Header(float(meta["threshold"]), float(meta["bias"]), meta["fingerprint"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError([Problem(path, number, "(model)", f"unreadable weights: {exc}")]) from None
    return TextModel(weights, header.bias, header.threshold), header
