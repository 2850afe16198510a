"""`python -m bot classify`: a stable, stateless contract for scripts.

One JSON line in, exactly one JSON line out, in order. Nothing is written to
the database. Keys `intent`, `crisis`, `lang`, `confidence` are the contract;
others may be added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from bot.engine import Services
from bot.intents import THRESHOLD
from bot.safety.screen import Level
from bot.textnorm import clean_input, normalize


def classify_text(services: Services, text: str, lang: str | None = None) -> dict[str, Any]:
    cleaned = clean_input(text)
    norm = normalize(cleaned)
    verdict = services.screen.screen(cleaned)
    match = services.matcher.classify(norm)
    understood = match.confidence >= THRESHOLD
    return {
        "intent": match.intent if understood else "out_of_scope",
        "crisis": verdict.crisis,
        "lang": lang or services.detector.detect(norm) or "en",
        "confidence": match.confidence,
        "check": verdict.level is Level.CHECK,
        "rule": verdict.rule,
        "nearest": match.intent,
    }


def _parse(line: str, languages: tuple[str, ...]) -> tuple[str, str | None]:
    """(text, lang) from one input line; ValueError says what is wrong."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    lang = item.get("lang")
    if lang is not None and lang not in languages:
        raise ValueError(f'"lang" must be one of {", ".join(languages)} or absent')
    country = item.get("country")
    if country is not None and not isinstance(country, str):
        raise ValueError('"country" must be a string or absent')
    return text, lang


def classify_lines(services: Services, lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Yield (output JSON line, ok) for every input line, errors included."""
    for line in lines:
        try:
            text, lang = _parse(line, services.languages)
        except ValueError as exc:
            yield json.dumps({"error": str(exc)}, ensure_ascii=False), False
            continue
        yield json.dumps(classify_text(services, text, lang), ensure_ascii=False), True
