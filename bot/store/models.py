"""Rows the store keeps. Only what features need: no message text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class UserState:
    key: str
    """Pseudonymous key (see bot.pseudonym); never a platform id."""
    lang: str | None = None
    lang_source: str | None = None
    """"chosen" (explicit), "locale" (platform) or "detected" (from the text)."""
    country: str | None = None
    flow: str | None = None
    """A conversation in progress (a follow-up, a question asked) or None."""
    flow_data: dict[str, Any] = field(default_factory=dict)
    introduced: bool = False
