"""Which language a person writes in.

Order of trust: the person's explicit choice, then the platform's locale, then
the message itself. Detection learns word frequencies from the intent examples
(every language's own words), so it needs no extra data and no network.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.textnorm import normalize
from bot.yamlfile import DataError, LineDict, Problem, load

_MIN_MARGIN = 1.5
"""Log-likelihood lead the best language needs before we switch on detection alone."""


class LanguageDetector:
    def __init__(self, samples: Iterable[tuple[str, str]], languages: tuple[str, ...]) -> None:
        """`samples` are (lang, normalised text) pairs."""
        counts: dict[str, Counter[str]] = {lang: Counter() for lang in languages}
        for lang, text in samples:
            if lang in counts:
                counts[lang].update(text.split())
        self.languages = languages
        vocab = set().union(*counts.values()) if counts else set()
        self._unknown: dict[str, float] = {}
        self._logp: dict[str, dict[str, float]] = {}
        for lang, counter in counts.items():
            total = sum(counter.values()) + len(vocab) + 1
            self._unknown[lang] = math.log(1 / total)
            self._logp[lang] = {tok: math.log((c + 1) / total) for tok, c in counter.items()}

    def detect(self, text: str) -> str | None:
        """The language of normalised text, or None when the evidence is thin."""
        toks = text.split()
        if not toks:
            return None
        scores = {
            lang: sum(self._logp[lang].get(t, self._unknown[lang]) for t in toks)
            for lang in self.languages
        }
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if len(ranked) < 2:
            return ranked[0][0]
        if not any(t in self._logp[ranked[0][0]] for t in toks):
            return None
        if ranked[0][1] - ranked[1][1] < _MIN_MARGIN:
            return None
        return ranked[0][0]


def from_locale(locale: str | None, languages: tuple[str, ...]) -> str | None:
    """ "pt-BR" -> "pt" when supported."""
    if not locale:
        return None
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in languages else None


def region_of(locale: str | None) -> str | None:
    """ "pt-BR" -> "BR": a hint for the crisis lines when the country is unknown."""
    if not locale:
        return None
    parts = locale.replace("_", "-").split("-")
    if len(parts) >= 2 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    return None


def load_language_names(path: Path) -> dict[str, str]:
    """`code: [names...]` in YAML -> normalised name -> code."""
    raw = load(path)
    if not isinstance(raw, LineDict):
        raise DataError([Problem(path, 0, "(top)", "must map language codes to names")])
    return {normalize(str(name)): str(code) for code, names in raw.items() for name in names}
