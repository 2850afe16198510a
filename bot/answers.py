"""Short typed answers to a yes/no question, in any of the five languages.

Buttons carry most answers, but people type them too, and a typed "no" to "Are
you safe right now?" must be read as no: it was once read as Norway's country
code, and the person got Norway's crisis lines instead of help now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.textnorm import normalize
from bot.yamlfile import DataError, LineDict, LineList, Problem, line_of, load

_KEYS = {"yes_answers": True, "no_answers": False}


@dataclass(frozen=True, slots=True)
class Answers:
    by_text: Mapping[str, bool]
    """Normalised answer -> True for yes, False for no."""

    def of(self, norm_text: str) -> bool | None:
        """The answer a whole (normalised) message gives, or None when it is no answer."""
        return self.by_text.get(norm_text)


def load_answers(path: Path) -> Answers:
    raw = load(path)
    problems: list[Problem] = []
    by_text: dict[str, bool] = {}
    if not isinstance(raw, LineDict):
        raise DataError([Problem(path, 0, "(top)", "must map yes_answers and no_answers")])
    for key, meaning in _KEYS.items():
        words = raw.get(key)
        if not isinstance(words, LineList) or not words:
            problems.append(Problem(path, line_of(raw, key), key, "must be a list of answers"))
            continue
        for index, word in enumerate(words):
            where = line_of(words, index)
            if not isinstance(word, str):
                problems.append(Problem(path, where, key, f"{word!r}: quote it (YAML read it)"))
            elif by_text.setdefault(normalize(word), meaning) is not meaning:
                problems.append(Problem(path, where, key, f"{word!r} is both yes and no"))
    if problems:
        raise DataError(problems)
    return Answers(by_text)
