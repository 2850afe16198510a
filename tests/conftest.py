"""Shared fixtures: tests read like a conversation with the bot.

async def test_hello(testbot):
    await testbot.send("hi")
    assert "automated assistant" in testbot.text
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.config import Paths
from bot.engine import Engine, Services
from bot.handoff.config import SmtpSettings
from bot.messages import Button, Inbound, Response
from bot.pseudonym import Pseudonymizer
from bot.store import Store
from bot.store.sqlite import SQLiteStore


@pytest.fixture(scope="session")
def paths() -> Paths:
    return Paths.from_env()


@pytest.fixture(scope="session")
def services(paths: Paths) -> Services:
    return Services.load(paths)


class TestBot:
    """One person talking to the engine; keeps the last response for assertions."""

    __test__ = False

    def __init__(
        self,
        engine: Engine,
        user: str = "ana",
        platform: str = "console",
        locale: str | None = None,
        country: str | None = None,
        private: bool = True,
    ) -> None:
        self.engine = engine
        self.user, self.platform = user, platform
        self.locale, self.country, self.private = locale, country, private
        self.last = Response()

    async def send(self, text: str = "", payload: str | None = None) -> Response:
        inbound = Inbound(
            platform=self.platform,
            user_id=self.user,
            chat_id=f"chat-{self.user}",
            text=text,
            payload=payload,
            locale=self.locale,
            country=self.country,
            private=self.private,
        )
        self.last = await self.engine.handle(inbound)
        return self.last

    async def press(self, label: str) -> Response:
        """Press the button whose label contains `label` (case-insensitive)."""
        for button in self.buttons:
            if label.lower() in button.label.lower():
                return await self.send(payload=button.payload)
        raise AssertionError(f"no button {label!r} in {[b.label for b in self.buttons]}")

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last.replies)

    @property
    def buttons(self) -> list[Button]:
        return [button for reply in self.last.replies for button in reply.buttons]

    @property
    def payloads(self) -> list[str]:
        return [button.payload for button in self.buttons]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = await SQLiteStore.open(tmp_path / "bot.sqlite3")
    yield opened
    await opened.close()


def make_engine(services: Services, store: Store) -> Engine:
    return Engine(services, store, Pseudonymizer(b"test-secret"))


@pytest.fixture
async def engine(services: Services, store: SQLiteStore) -> AsyncIterator[Engine]:
    running = make_engine(services, store)
    yield running
    await running.drain()


@pytest.fixture
async def testbot(engine: Engine) -> TestBot:
    return TestBot(engine)


# -- a real SMTP server on 127.0.0.1 for the email staff channel --------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = SmtpSettings(
        "127.0.0.1", port, "bot@hub.example", "cases@hub.example", starttls=False
    )
    yield inbox, settings
    controller.stop()
