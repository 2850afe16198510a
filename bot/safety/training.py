"""Training the screen's model (`python -m bot train-screen`).

Positives are the crisis items of the crisis dev sets; negatives are their
non-crisis items (music slang, near misses), every intent example and every
intent dev item. Held-out sets are never read. Texts are blanked by the
screen's own idiom and negation rules first, so the model learns on what it
will see.

The threshold comes from k-fold cross-validation (folds stratified by language
and label): the lowest score threshold at which the out-of-fold false-alarm
rate stays within budget in every language, both on all negatives and on the
hard ones (the crisis sets' own non-crisis items). The out-of-fold recall at
that threshold is the honest estimate of recall on unseen wording.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import LANGUAGES
from bot.evaluate import read_items
from bot.safety.model import MODEL_FILE, Header, TextModel, features, write_model
from bot.safety.screen import CrisisScreen
from bot.textnorm import normalize
from bot.yamlfile import LineDict, load

CRISIS_SETS = "crisis_dev*.jsonl"
INTENT_SETS = "intents_dev*.jsonl"
FOLDS = 5
MAX_FALSE_ALARMS = 0.02
EPOCHS = 12
L2 = 1e-5
LEARNING_RATE = 0.2
MIN_DOCS = 2
"""Features seen in fewer training texts are dropped: they cannot generalise."""
MIN_WEIGHT = 0.01
"""Smaller weights are left out of the file: they never tip a verdict."""
SEED = 20261125
HARD_WEIGHT = 8.0
"""Near misses (slang, "killed it") teach more than a greeting: they count more."""


@dataclass(frozen=True, slots=True)
class Example:
    raw: str
    """Normalised, as written."""
    text: str
    """Normalised and blanked, as the screen's model sees it."""
    concepts: tuple[str, ...]
    lang: str
    crisis: bool
    hard: bool
    """A non-crisis item written to look like one (from the crisis sets)."""


Analyse = Callable[[str], tuple[str, list[str]]]
"""CrisisScreen.analyse: normalised text -> (blanked text, concept features)."""


def _labelled(root: Path) -> Iterator[tuple[str, str, bool, bool]]:
    """(text, lang, crisis, hard) of every training item; crisis=null items left out."""
    for pattern, hard in ((CRISIS_SETS, True), (INTENT_SETS, False)):
        for path in sorted((root / "eval").glob(pattern)):
            for item in read_items(path):
                if item.crisis is not None:
                    yield item.text, item.lang, item.crisis, hard and not item.crisis
    for lang in LANGUAGES:
        raw = load(root / "intents" / f"{lang}.yaml")
        section = raw.get("intents") if isinstance(raw, LineDict) else None
        for body in (section or {}).values():
            for text in body.get("examples") or []:
                yield str(text), lang, False, False


def read_examples(root: Path, analyse: Analyse) -> list[Example]:
    """Every labelled training text under the project root, seen as the screen sees
    it; the same text twice (one set repeating another) is kept once."""
    found: dict[tuple[str, bool], Example] = {}
    for raw, lang, crisis, hard in _labelled(root):
        norm = normalize(raw)
        text, concepts = analyse(norm)
        if text.strip(" |") and (text, crisis) not in found:
            found[(text, crisis)] = Example(norm, text, tuple(concepts), lang, crisis, hard)
    return list(found.values())


def fingerprint(examples: Sequence[Example]) -> str:
    """Changes when the training data or the blanking rules change: the committed
    weights are then stale (a test says so)."""
    digest = hashlib.sha256()
    for e in examples:
        line = f"{e.lang}\t{e.crisis:d}\t{e.hard:d}\t{e.text}\t{' '.join(e.concepts)}\n"
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def train(examples: Sequence[Example]) -> TextModel:
    """Logistic regression by plain SGD in a seeded order; the classes weigh the same
    in total, near misses more than plain negatives."""
    docs = [features(e.text, e.concepts) for e in examples]
    counts: dict[str, int] = {}
    for doc in docs:
        for f in set(doc):
            counts[f] = counts.get(f, 0) + 1
    vocab = sorted(f for f, n in counts.items() if n >= MIN_DOCS)
    index = {f: i for i, f in enumerate(vocab)}
    rows = []
    for doc, e in zip(docs, examples, strict=True):
        ids: dict[int, float] = {}
        scale = 1.0 / math.sqrt(len(doc) or 1)
        for f in doc:
            i = index.get(f)
            if i is not None:
                ids[i] = ids.get(i, 0.0) + scale
        rows.append((sorted(ids.items()), e.crisis, HARD_WEIGHT if e.hard else 1.0))
    positives = sum(1 for e in examples if e.crisis)
    negatives = sum(weight for _, crisis, weight in rows if not crisis)
    weight_pos = negatives / max(1, positives)
    w = [0.0] * len(vocab)
    bias = 0.0
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    step = 0
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for r in order:
            x, y, weight = rows[r]
            step += 1
            rate = LEARNING_RATE / (1.0 + L2 * LEARNING_RATE * step)
            z = bias + sum(w[i] * v for i, v in x)
            p = 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z))))
            g = (p - 1.0) * weight_pos if y else p * weight
            bias -= rate * g
            for i, v in x:
                w[i] -= rate * (g * v + L2 * w[i])
    kept = {f: round(w[i], 4) for f, i in index.items() if abs(w[i]) >= MIN_WEIGHT}
    return TextModel(kept, round(bias, 4), 0.0)


def folds_of(examples: Sequence[Example], folds: int = FOLDS) -> list[int]:
    """A fold per example, stratified by language, label and hardness."""
    groups: dict[tuple[str, bool, bool], list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault((e.lang, e.crisis, e.hard), []).append(i)
    fold = [0] * len(examples)
    rng = random.Random(SEED)
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for n, i in enumerate(members):
            fold[i] = n % folds
    return fold


def out_of_fold_scores(examples: Sequence[Example], folds: int = FOLDS) -> list[float]:
    """Each example's score by a model that never saw it."""
    fold = folds_of(examples, folds)
    scores = [0.0] * len(examples)
    for k in range(folds):
        model = train([e for e, f in zip(examples, fold, strict=True) if f != k])
        for i, e in enumerate(examples):
            if fold[i] == k:
                scores[i] = model.score(e.text, e.concepts)
    return scores


@dataclass(frozen=True, slots=True)
class Figures:
    crisis: int
    caught: int
    calm: int
    alarmed: int
    hard: int
    hard_alarmed: int

    @property
    def recall(self) -> float:
        return self.caught / self.crisis if self.crisis else 1.0

    @property
    def false_alarms(self) -> float:
        return self.alarmed / self.calm if self.calm else 0.0

    @property
    def hard_false_alarms(self) -> float:
        return self.hard_alarmed / self.hard if self.hard else 0.0

    def line(self, name: str) -> str:
        return (
            f"{name:4} recall {self.recall:.3f} ({self.caught}/{self.crisis})"
            f"  false alarms {self.false_alarms:.4f} ({self.alarmed}/{self.calm})"
            f"  on near misses {self.hard_false_alarms:.3f} ({self.hard_alarmed}/{self.hard})"
        )


def figures(examples: Sequence[Example], fired: Sequence[bool]) -> dict[str, Figures]:
    """Per language, and "all"."""
    out = {}
    for lang in ("all", *LANGUAGES):
        pairs = [(e, f) for e, f in zip(examples, fired, strict=True) if lang in ("all", e.lang)]
        out[lang] = Figures(
            crisis=sum(e.crisis for e, _ in pairs),
            caught=sum(e.crisis and f for e, f in pairs),
            calm=sum(not e.crisis for e, _ in pairs),
            alarmed=sum(not e.crisis and f for e, f in pairs),
            hard=sum(e.hard for e, _ in pairs),
            hard_alarmed=sum(e.hard and f for e, f in pairs),
        )
    return out


def choose_threshold(examples: Sequence[Example], scores: Sequence[float]) -> float:
    """The lowest threshold that keeps false alarms within budget in every language,
    on all negatives and on near misses alike."""

    def within_budget(threshold: float) -> bool:
        table = figures(examples, [s >= threshold for s in scores])
        return all(
            t.false_alarms <= MAX_FALSE_ALARMS and t.hard_false_alarms <= MAX_FALSE_ALARMS
            for t in table.values()
        )

    # Raising the threshold only lowers false alarms: bisect the negatives' scores.
    candidates = sorted(
        {round(s, 4) + 0.0001 for e, s in zip(examples, scores, strict=True) if not e.crisis}
    )
    low, high = 0, len(candidates) - 1
    while low < high:
        middle = (low + high) // 2
        if within_budget(candidates[middle]):
            high = middle
        else:
            low = middle + 1
    return round(candidates[low], 4)


def build(root: Path, screen: CrisisScreen) -> tuple[TextModel, Header, list[str]]:
    """Train on everything, with the threshold cross-validation chose; the notes are
    the cross-validated figures (the model alone, and with rules and combos)."""
    examples = read_examples(root, screen.analyse)
    scores = out_of_fold_scores(examples)
    threshold = choose_threshold(examples, scores)
    alone = figures(examples, [s >= threshold for s in scores])
    rules = [screen.screen(e.raw).crisis for e in examples]
    combined = figures(examples, [r or s >= threshold for r, s in zip(rules, scores, strict=True)])
    model = train(examples)
    model.threshold = threshold
    header = Header(threshold, model.bias, fingerprint(examples))
    notes = [
        "The crisis screen's model: generated by `python -m bot train-screen`; do not edit.",
        f"{len(examples)} training texts; {FOLDS}-fold cross-validation, threshold {threshold}",
        "model alone, out of fold:",
        *(alone[lang].line(lang) for lang in alone),
        "with rules and combos (tuned on these very texts, so recall is no estimate):",
        *(combined[lang].line(lang) for lang in combined),
    ]
    return model, header, notes


def main(root: Path, safety: Path) -> str:
    screen = CrisisScreen.from_dir(safety)
    screen.model = None
    model, header, notes = build(root, screen)
    write_model(safety / MODEL_FILE, model, header, notes)
    return "\n".join([*notes, f"wrote {safety / MODEL_FILE} ({len(model.weights)} weights)"])
