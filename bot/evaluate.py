"""`python -m bot eval`: how well the bot understands labelled messages.

Label format: `../shared/eval/LABELS.md`. An item's `intent` lists every
acceptable id (null: any); `crisis` true must fire, false must not, null
either. Per-intent scores count a prediction inside the acceptable list as
that intent, otherwise the item's first listed intent is the truth.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.classify import classify_text
from bot.engine import Services


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    lang: str
    intents: tuple[str, ...] | None
    crisis: bool | None
    source: str


@dataclass(slots=True)
class Tally:
    intent_total: int = 0
    intent_right: int = 0
    crisis_total: int = 0
    crisis_caught: int = 0
    calm_total: int = 0
    calm_alarmed: int = 0

    def add(self, item: Item, intent_ok: bool | None, fired: bool) -> None:
        if intent_ok is not None:
            self.intent_total += 1
            self.intent_right += intent_ok
        if item.crisis is True:
            self.crisis_total += 1
            self.crisis_caught += fired
        elif item.crisis is False:
            self.calm_total += 1
            self.calm_alarmed += fired

    def figures(self) -> dict[str, Any]:
        return {
            "items_with_intent": self.intent_total,
            "accuracy": _ratio(self.intent_right, self.intent_total),
            "crisis_items": self.crisis_total,
            "crisis_recall": _ratio(self.crisis_caught, self.crisis_total),
            "non_crisis_items": self.calm_total,
            "false_crisis_rate": _ratio(self.calm_alarmed, self.calm_total),
        }


@dataclass(slots=True)
class Report:
    overall: Tally = field(default_factory=Tally)
    by_lang: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """(truth, predicted) for items with intent labels."""
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.overall.figures(),
            "by_language": {lang: t.figures() for lang, t in sorted(self.by_lang.items())},
            "by_intent": per_intent(self.pairs),
            "misses": self.misses,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def read_items(path: Path) -> list[Item]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                intents = raw.get("intent")
                items.append(
                    Item(
                        text=str(raw["text"]),
                        lang=str(raw.get("lang") or "en"),
                        intents=tuple(intents) if intents else None,
                        crisis=raw.get("crisis"),
                        source=f"{path.name}:{number}",
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: bad labelled item ({exc})") from None
    return items


def evaluate(services: Services, items: list[Item]) -> Report:
    report = Report()
    for item in items:
        got = classify_text(services, item.text, item.lang)
        fired = bool(got["crisis"])
        intent_ok = None if item.intents is None else got["intent"] in item.intents
        report.overall.add(item, intent_ok, fired)
        report.by_lang[item.lang].add(item, intent_ok, fired)
        if item.intents is not None:
            truth = got["intent"] if intent_ok else item.intents[0]
            report.pairs.append((truth, got["intent"]))
        crisis_wrong = item.crisis is not None and fired != item.crisis
        if intent_ok is False or crisis_wrong:
            report.misses.append(
                {
                    "source": item.source,
                    "text": item.text,
                    "lang": item.lang,
                    "expected_intent": list(item.intents) if item.intents else None,
                    "got_intent": got["intent"],
                    "confidence": got["confidence"],
                    "expected_crisis": item.crisis,
                    "got_crisis": fired,
                    "rule": got["rule"],
                }
            )
    return report


def per_intent(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float | int]]:
    truth_n = Counter(t for t, _ in pairs)
    pred_n = Counter(p for _, p in pairs)
    right = Counter(t for t, p in pairs if t == p)
    out: dict[str, dict[str, float | int]] = {}
    for intent in sorted(truth_n.keys() | pred_n.keys()):
        precision = right[intent] / pred_n[intent] if pred_n[intent] else 0.0
        recall = right[intent] / truth_n[intent] if truth_n[intent] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[intent] = {
            "support": truth_n[intent],
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
        }
    return out


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def format_report(report: dict[str, Any], show_misses: int = 40) -> str:
    lines = []
    head = f"{'':8}{'items':>7}{'accuracy':>10}{'crisis':>8}{'recall':>8}{'calm':>6}{'false+':>8}"
    lines.append(head)
    rows = [("all", report), *report["by_language"].items()]
    for name, fig in rows:
        lines.append(
            f"{name:8}{fig['items_with_intent']:>7}{_fmt(fig['accuracy']):>10}"
            f"{fig['crisis_items']:>8}{_fmt(fig['crisis_recall']):>8}"
            f"{fig['non_crisis_items']:>6}{_fmt(fig['false_crisis_rate']):>8}"
        )
    if report["by_intent"]:
        lines.append("")
        lines.append(f"{'intent':16}{'n':>5}{'prec':>7}{'rec':>7}{'f1':>7}")
        for intent, fig in report["by_intent"].items():
            lines.append(
                f"{intent:16}{fig['support']:>5}{fig['precision']:>7.3f}"
                f"{fig['recall']:>7.3f}{fig['f1']:>7.3f}"
            )
    misses = report["misses"]
    if misses:
        lines.append("")
        lines.append(f"misses ({len(misses)}, first {min(show_misses, len(misses))}):")
        for miss in misses[:show_misses]:
            want = miss["expected_intent"] or "-"
            lines.append(
                f"  {miss['source']} [{miss['lang']}] {miss['text'][:70]!r} "
                f"intent {want}->{miss['got_intent']} ({miss['confidence']:.2f}) "
                f"crisis {miss['expected_crisis']}->{miss['got_crisis']}"
            )
    return "\n".join(lines)
