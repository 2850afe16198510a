"""One pending delivery in the outbox: a staff notice or a message to a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages import Button, Reply

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


def person_body(chat_id: str, replies: Sequence[Reply]) -> dict[str, Any]:
    """An outbox body for replies to a person (JSON: buttons as [label, payload])."""
    return {
        "chat_id": chat_id,
        "replies": [
            {"text": r.text, "buttons": [[b.label, b.payload] for b in r.buttons]} for r in replies
        ],
    }


def person_replies(body: dict[str, Any]) -> list[Reply]:
    return [
        Reply(r["text"], tuple(Button(label, payload) for label, payload in r["buttons"]))
        for r in body["replies"]
    ]
