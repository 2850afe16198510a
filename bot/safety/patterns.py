"""Rule and concept patterns as the screen runs them: in the text's normal form,
matching whole words only, one top-level alternative at a time. Compiled once:
validating a file compiles every alternative, and the screen's index then needs
the very same."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from itertools import pairwise

from bot.textnorm import squeeze


def normalize_pattern(pattern: str) -> str:
    """Give patterns the text's normal form: lower case, no accents, squeezed letters."""
    stripped = unicodedata.normalize("NFKD", pattern.casefold())
    return squeeze("".join(ch for ch in stripped if not unicodedata.combining(ch)))


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A pattern's compiled form; re.error when it is not a valid regex."""
    return re.compile(f"(?:{normalize_pattern(pattern)})(?![a-z0-9])")


def problem_with(pattern: str) -> str | None:
    """What is wrong with a rule or concept pattern, or None."""
    if "\\b" in pattern or "(?P<" in pattern:
        return "no \\b or named groups"
    try:
        for alternative in alternatives(pattern):
            compiled(alternative)
    except re.error as exc:
        return f"bad pattern: {exc.msg}"
    return None


def alternatives(pattern: str) -> list[str]:
    """The pattern's top-level alternatives, in order: "a|b|c", or the same in one
    group around the whole, "(?:a|b|c)". The screen indexes and tries each on its
    own, since one vague alternative would otherwise have the whole rule tried at
    every word; tried in order, they find what the whole finds, as a regex tries
    its alternatives in that order too."""
    while _wraps_all(pattern):
        pattern = pattern[3:-1]
    cuts = [at for at, char, depth in _syntax(pattern) if char == "|" and depth == 0]
    return [pattern[start + 1 : end] for start, end in pairwise([-1, *cuts, len(pattern)])]


def _wraps_all(pattern: str) -> bool:
    """Whether the pattern is one non-capturing group, "(?:...)", and nothing else."""
    closed = (at for at, char, depth in _syntax(pattern) if char == ")" and depth == 0)
    return pattern.startswith("(?:") and next(closed, None) == len(pattern) - 1


_TOKEN = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[()|]", re.DOTALL)
"""An escape, a character class ("[^]a]": a "]" first is a member), or a group
or alternation mark: read in C, since every pattern is read at each start."""
_DEPTH = {"(": 1, ")": -1, "|": 0}


def _syntax(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(position, character, group depth after it) of each "(", ")" and "|" that is
    syntax: not escaped, not in a character class. (An unclosed "[" is left for
    compiling to report.)"""
    depth = 0
    for token in _TOKEN.finditer(pattern):
        change = _DEPTH.get(token.group())
        if change is not None:
            depth += change
            yield token.start(), token.group(), depth
