"""The engine's only vocabulary: what comes in, what goes out.

Adapters (console, Telegram, Discord) translate platform updates into an
`Inbound` and render `Reply` objects back. Nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or button press from a person."""

    platform: str
    user_id: str
    """The platform's id for the person; the engine turns it into a pseudonym at once."""
    chat_id: str
    text: str = ""
    payload: str | None = None
    """The payload of a pressed button, instead of text."""
    locale: str | None = None
    """The platform's language hint ("pt-BR", "de"), if any."""
    country: str | None = None
    """A country hint from the adapter's configuration (ISO code), if any."""
    private: bool = True
    """False in group chats and public channels: crisis replies then go privately."""
    display_name: str | None = None
    """Only used when the person consents to share it with a case manager."""


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    private: bool = False
    """Send to the person privately even if the message came from a public chat."""


@dataclass(slots=True)
class Response:
    """What the engine decided for one inbound message."""

    replies: list[Reply] = field(default_factory=list)
    lang: str = "en"
    intent: str | None = None
    crisis: bool = False
    rule: str | None = None
    """The crisis rule that fired, for reviewers; never the message text."""
