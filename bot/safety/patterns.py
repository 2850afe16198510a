"""Rule and concept patterns as the screen runs them: in the text's normal form,
matching whole words only. Compiled once: validating a file compiles every
pattern, and the screen's index then needs the very same."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from bot.textnorm import squeeze


def normalize_pattern(pattern: str) -> str:
    """Give patterns the text's normal form: lower case, no accents, squeezed letters."""
    stripped = unicodedata.normalize("NFKD", pattern.casefold())
    return squeeze("".join(ch for ch in stripped if not unicodedata.combining(ch)))


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A pattern's compiled form; re.error when it is not a valid regex."""
    return re.compile(f"(?:{normalize_pattern(pattern)})(?![a-z0-9])")
