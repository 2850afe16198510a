"""Text normalisation shared by the crisis screen and the intent matcher.

Both sides of every comparison (people's messages, YAML examples and crisis
patterns) go through the same function, so that "Kiiill", "kill" and "kil"
meet, "café" meets "cafe", and "don't" meets "dont".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_INPUT_CHARS = 2000
"""Longest text that reaches matching; the rest is cut (documented in README)."""

# Deleted rather than turned into a space, so that "don't"/"dont" and
# "su*cide"/"sucide" meet.
_JOINERS = "'’‘`´*\u200b\u200c\u200d\u2060\ufeff"
_JOINS = re.compile(f"[{re.escape(_JOINERS)}]")
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)
"""Letters that Unicode does not decompose into a base letter plus accent: without
this "cœur" would lose its "œ" and become "c ur"."""
_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")
"""The accents Latin letters decompose into (U+034F, a joiner, is not an accent):
removed in C, so that only text in other scripts needs the slower look at each
character's combining class."""
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1+")
_LEET_MAP = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_CHARS = f"[{re.escape(''.join(_LEET_MAP))}]"
_LEET = re.compile(f"(?<=[a-z]){_LEET_CHARS}(?=[a-z])")
_HAS_LEET = re.compile(_LEET_CHARS)
"""Most texts have none of these: one quick look spares the slower lookaround scan."""


def clean_input(text: str) -> str:
    """Cap the length and drop control and direction characters from raw input."""
    text = text[:MAX_INPUT_CHARS]
    if text.isprintable():  # no character of any "C" category: nothing to drop
        return text.strip()
    return "".join(
        ch if not unicodedata.category(ch).startswith("C") else " " for ch in text
    ).strip()


def squeeze(text: str) -> str:
    """Collapse runs of one letter ("sooo" -> "so", "kill" -> "kil")."""
    return _REPEATS.sub(_first_group, text)


def _first_group(found: re.Match[str]) -> str:
    """A function, not the template r"\\1": `re.sub` looks a template up and wraps it
    on every call, which costs more than the substitution on most texts."""
    return found.group(1)


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Lower-case, strip accents and emoji, undo leetspeak inside words ("k1ll"),
    delete apostrophes, squeeze repeats."""
    text = _JOINS.sub("", text.casefold())
    if not text.isascii():  # ASCII has no accents to strip
        text = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_LIGATURES)))
        if not text.isascii():
            text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if _HAS_LEET.search(text):
        text = _LEET.sub(lambda m: _LEET_MAP[m.group()], text)
    text = _NON_WORD.sub(" ", text)
    return squeeze(text).strip()


def tokens(text: str) -> list[str]:
    """Tokens of an already normalised text."""
    return text.split()
