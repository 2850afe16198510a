"""One pending delivery in the outbox: a staff notice or a message to a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PERSON = "person:"
"""Channel prefix of deliveries to a person ("person:telegram"); the rest are staff channels."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    channel: str
    kind: str
    dedupe: str
    """Unique: enqueueing the same delivery twice (two processes, a retry) keeps one."""
    body: dict[str, Any]
    case_id: str | None = None
    id: int = 0
    attempts: int = 0
