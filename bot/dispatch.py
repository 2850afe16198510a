"""How handlers plug in: routers of intent, button and flow handlers.

Each module in `handlers/` owns one `Router` (like a discord.py cog or an
aiogram router); `handlers.build_registry()` merges them. A new intent is YAML
examples plus one `@router.intent("id")` function: nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.messages import Button, Inbound, Reply
from bot.store.models import UserState

if TYPE_CHECKING:
    from bot.engine import Services
    from bot.handoff.desk import Desk
    from bot.intents import Match

Handler = Callable[["Context"], Awaitable[None]]
FlowHandler = Callable[["Context"], Awaitable[bool]]
"""Returns False to let the message go on to intent matching (a `ctx.match` it
set is reused rather than computed again)."""


@dataclass(slots=True)
class Context:
    """One turn: who, in what language, and the replies being built."""

    inbound: Inbound
    user: UserState
    lang: str
    services: Services
    desk: Desk
    norm: str = ""
    """The message, normalised (see bot.textnorm); empty for a button press."""
    match: Match | None = None
    arg: str = ""
    """The part after "prefix:" of a button payload."""
    replies: list[Reply] = field(default_factory=list)

    def t(self, key: str, **values: object) -> str:
        return self.services.texts.get(self.lang, key, **values)

    def button(self, key: str, payload: str) -> Button:
        return Button(self.t(key), payload)

    def intent_button(self, intent: str) -> Button:
        """A button that runs an intent directly; its label is the `intent_<id>` text."""
        return Button(self.t(f"intent_{intent}"), f"intent:{intent}")

    def say(self, text: str, *buttons: Button, private: bool = False) -> None:
        self.replies.append(Reply(text, tuple(buttons), private))

    def start_flow(self, name: str, **data: Any) -> None:
        self.user.flow, self.user.flow_data = name, dict(data)

    def end_flow(self) -> None:
        self.user.flow, self.user.flow_data = None, {}


class Router:
    def __init__(self) -> None:
        self.intents: dict[str, Handler] = {}
        self.payloads: dict[str, Handler] = {}
        self.flows: dict[str, FlowHandler] = {}

    def intent(self, *intent_ids: str) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            for intent_id in intent_ids:
                self.intents[intent_id] = func
            return func

        return register

    def payload(self, prefix: str) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            self.payloads[prefix] = func
            return func

        return register

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        def register(func: FlowHandler) -> FlowHandler:
            self.flows[name] = func
            return func

        return register


class Registry(Router):
    """All routers merged; a name registered twice is a programming error."""

    def include(self, router: Router) -> None:
        _merge(self.intents, router.intents)
        _merge(self.payloads, router.payloads)
        _merge(self.flows, router.flows)


def _merge(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    clash = mine.keys() & theirs.keys()
    if clash:
        raise ValueError(f"registered twice: {sorted(clash)}")
    mine.update(theirs)
