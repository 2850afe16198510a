"""The Discord adapter through the real discord.py, against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord import DiscordBot, intents
from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig
from bot.pseudonym import Pseudonymizer
from bot.store.sqlite import SQLiteStore
from tests.fake_discord import (
    ANA,
    BEN,
    CARA,
    DORA,
    GENERAL_ID,
    GUILD_ID,
    STAFF_CHANNEL_ID,
    STAFF_ROLE_ID,
    TOKEN,
    FakeDiscord,
    Sent,
    make_certificate,
)

CRISIS = "I want to end my life tonight"


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_certificate(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
async def fake(tls: Any) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(tls)
    await server.start()
    yield server
    await server.stop()


async def eventually(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)
    return result


async def start_bot(fake: FakeDiscord, engine: Engine, **options: Any) -> DiscordBot:
    bot = DiscordBot(engine, connector=fake.connector(), guild_ready_timeout=0.05, **options)
    task = asyncio.create_task(bot.start(TOKEN))
    bot.__dict__["_test_task"] = task
    await eventually(lambda: task.done() or bot.is_ready())
    if task.done():
        task.result()
    return bot


async def stop_bot(bot: DiscordBot) -> None:
    await bot.close()
    await bot.__dict__["_test_task"]
    await bot.engine.outbox.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[DiscordBot]:
    running = await start_bot(fake, engine)
    yield running
    await stop_bot(running)
    await engine.drain()


def dm_to(fake: FakeDiscord, who: dict[str, Any]) -> Callable[[], list[Sent]]:
    channel = fake.dm_channel_of(who)
    return lambda: [s for s in fake.sent if s.channel_id == channel]


def answers(fake: FakeDiscord, interaction: int) -> Callable[[], list[Sent]]:
    return lambda: [s for s in fake.sent if s.interaction == interaction]


async def test_login_asks_only_for_the_intents_it_needs(fake: FakeDiscord, bot: DiscordBot) -> None:
    assert fake.identify is not None
    granted = discord.Intents._from_value(fake.identify["intents"])
    assert granted == intents(message_content=False)
    assert not granted.message_content and not granted.members and not granted.presences
    names = {c["name"] for c in fake.commands}
    assert {"help", "crisis", "talk", "language", "country", "privacy", "forget"} <= names
    assert {"checkin", "setup-staff"} <= names
    crisis = next(c for c in fake.commands if c["name"] == "crisis")
    assert crisis["name_localizations"]["de"] == "krise"
    texts = bot.engine.services.texts
    assert crisis["description_localizations"]["pt-BR"] == texts.get("pt", "cmd_crisis")
    assert "en-US" not in crisis["description_localizations"]


async def test_dm_conversation(fake: FakeDiscord, bot: DiscordBot) -> None:
    await fake.dm(ANA, "hi")
    first = await eventually(dm_to(fake, ANA))
    assert "automated assistant" in first[0].content
    await fake.dm(ANA, "I am burned out from touring")
    await eventually(
        lambda: any("mcb:tip:burnout" in s.custom_ids for s in dm_to(fake, ANA)())
    )  # a burnout tip, with its "another tip" button


async def test_a_button_the_bot_sent_can_be_pressed(fake: FakeDiscord, bot: DiscordBot) -> None:
    await fake.dm(ANA, "hi")
    sent = await eventually(lambda: [s for s in dm_to(fake, ANA)() if s.components])
    message = sent[-1]
    custom_id = message.custom_ids[0]
    assert custom_id.startswith("mcb:intent:")
    iid = await fake.click(ANA, message, custom_id)
    answer = await eventually(answers(fake, iid))
    assert answer[0].content and not answer[0].ephemeral


async def test_slash_command_in_a_server_is_ephemeral(fake: FakeDiscord, bot: DiscordBot) -> None:
    iid = await fake.slash(ANA, "crisis")
    answer = await eventually(answers(fake, iid))
    assert all(s.ephemeral for s in answer)
    assert any(char.isdigit() for char in "".join(s.content for s in answer))
    dm_iid = await fake.slash(ANA, "privacy", guild=False)
    in_dm = await eventually(answers(fake, dm_iid))
    assert not in_dm[0].ephemeral


async def test_mention_in_a_channel_is_answered_there(fake: FakeDiscord, bot: DiscordBot) -> None:
    await fake.say(ANA, "hi", mention=True)
    posted = await eventually(lambda: [s for s in fake.sent if s.channel_id == GENERAL_ID])
    assert "automated assistant" in posted[0].content
    assert "message_reference" in posted[0].request
    await fake.say(ANA, "hi, nobody asked the bot")
    await asyncio.sleep(0.1)
    assert len([s for s in fake.sent if s.channel_id == GENERAL_ID]) == len(posted)


async def setup_staff(fake: FakeDiscord, who: dict[str, Any]) -> list[Sent]:
    options = [
        {"name": "channel", "type": 7, "value": str(STAFF_CHANNEL_ID)},
        {"name": "role", "type": 8, "value": str(STAFF_ROLE_ID)},
    ]
    resolved = {
        "channels": {
            str(STAFF_CHANNEL_ID): fake.channel(STAFF_CHANNEL_ID, "care-team")
            | {"permissions": "0"}
        },
        "roles": {str(STAFF_ROLE_ID): fake.role(STAFF_ROLE_ID, "care team", 0)},
    }
    iid = await fake.slash(who, "setup-staff", options=options, resolved=resolved)
    result: list[Sent] = await eventually(answers(fake, iid))
    return result


async def test_setup_staff_is_refused_to_a_non_admin(
    fake: FakeDiscord, bot: DiscordBot, engine: Engine
) -> None:
    answer = await setup_staff(fake, ANA)
    assert answer[0].ephemeral and "administrators" in answer[0].content
    assert await engine.store.get_setting("discord", str(GUILD_ID), "staff_channel") is None
    answer = await setup_staff(fake, DORA)
    assert answer[0].ephemeral and "Done" in answer[0].content
    saved = await engine.store.get_setting("discord", str(GUILD_ID), "staff_channel")
    assert saved == str(STAFF_CHANNEL_ID)


async def test_public_crisis_goes_private_and_alerts_staff(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    await setup_staff(fake, DORA)
    before = len(fake.sent)
    await fake.say(ANA, CRISIS, mention=True)
    await eventually(lambda: any(s.channel_id == STAFF_CHANNEL_ID for s in fake.sent))
    new = fake.sent[before:]
    dm = fake.dm_channel_of(ANA)
    where = [s.channel_id for s in new]
    assert where[0] == dm, "the crisis reply goes first, privately"
    assert where.index(GENERAL_ID) > max(i for i, c in enumerate(where) if c == dm)
    crisis_dm = "\n".join(s.content for s in new if s.channel_id == dm)
    assert "glad you told me" in crisis_dm
    public = [s for s in new if s.channel_id == GENERAL_ID]
    alert = [s for s in new if s.channel_id == STAFF_CHANNEL_ID]
    for message in public + alert:
        assert "end my life" not in message.content
        assert "message_reference" not in message.request
    assert f"<@{ANA['id']}>" in public[0].content
    assert f"<@&{STAFF_ROLE_ID}>" in alert[0].content
    assert f"/channels/{GUILD_ID}/{GENERAL_ID}/" in alert[0].content


async def test_closed_dms_are_explained_in_the_channel_without_crisis_text(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    await fake.say(BEN, CRISIS, mention=True)
    public = await eventually(lambda: [s for s in fake.sent if s.channel_id == GENERAL_ID])
    note = public[0].content
    assert f"<@{BEN['id']}>" in note and "direct messages are closed" in note
    assert "end my life" not in note and "glad you told me" not in note
    assert any(r.path == "/users/@me/channels" for r in fake.requests)


async def test_rate_limit_is_retried_and_nothing_is_lost(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    limit = {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
    fake.fail_next.append((r"POST /channels/\d+/messages", 429, limit, {"Via": "1.1 google"}))
    await fake.dm(ANA, "hi")
    sent = await eventually(dm_to(fake, ANA))
    assert "automated assistant" in sent[0].content
    assert not fake.fail_next


async def test_gateway_reconnect_resumes(fake: FakeDiscord, bot: DiscordBot) -> None:
    await fake.reconnect()
    await eventually(lambda: fake.resumes == 1)
    await fake.dm(ANA, "hi")
    assert await eventually(dm_to(fake, ANA))


def test_cli_without_a_token_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    assert main(["discord"]) == 2
    assert "DISCORD_BOT_TOKEN" in capsys.readouterr().err


@pytest.fixture
async def staff_bot(
    fake: FakeDiscord, services: Services, store: SQLiteStore
) -> AsyncIterator[DiscordBot]:
    handoff = HandoffConfig(staff_channels=("discord",))
    engine = Engine(services, store, Pseudonymizer(b"test-secret"), handoff)
    running = await start_bot(
        fake, engine, staff_channel_id=STAFF_CHANNEL_ID, staff_role_id=STAFF_ROLE_ID
    )
    yield running
    await stop_bot(running)
    await engine.drain()


def last_with(fake: FakeDiscord, label: str) -> Sent:
    for sent in reversed(fake.sent):
        if any(label.lower() in b.get("label", "").lower() for b in buttons_of(sent)):
            return sent
    raise AssertionError(f"no message with a {label!r} button")


def buttons_of(sent: Sent) -> list[dict[str, Any]]:
    return [b for row in sent.components for b in row.get("components", [])]


async def press(fake: FakeDiscord, who: dict[str, Any], label: str, guild: bool = False) -> Sent:
    message = last_with(fake, label)
    iid = await fake.click(who, message, message.custom_id(label), guild=guild)
    answer: list[Sent] = await eventually(answers(fake, iid))
    return answer[0]


async def test_handoff_claimed_in_a_staff_thread_with_relay_both_ways(
    fake: FakeDiscord, staff_bot: DiscordBot
) -> None:
    granted = discord.Intents._from_value(fake.identify["intents"] if fake.identify else 0)
    assert granted.message_content, "staff write in threads without mentioning the bot"
    await fake.dm(ANA, "can I talk to a real person")
    await eventually(lambda: any("exactly what they will see" in s.content for s in fake.sent))
    await press(fake, ANA, "Yes, connect me")
    await press(fake, ANA, "Here in this chat")
    await press(fake, ANA, "Skip")
    opened = await eventually(
        lambda: [s for s in fake.sent if s.channel_id == STAFF_CHANNEL_ID and s.components]
    )
    assert "rough" not in opened[0].content
    assert any(b["custom_id"].startswith("staff:claim:") for b in buttons_of(opened[0]))
    thread = await eventually(lambda: next(iter(fake.threads), None))

    refused = await press(fake, BEN, "Claim", guild=True)
    assert refused.ephemeral and "not on this hub's staff list" in refused.content

    claimed = await press(fake, CARA, "Claim", guild=True)
    assert claimed.ephemeral and "claimed" in claimed.content
    to_ana = dm_to(fake, ANA)
    await eventually(lambda: any("Case manager" in s.content for s in to_ana()))

    await fake.say(CARA, "Hi Ana, I'm Cara from the care team.", channel_id=thread)
    await eventually(lambda: any("I'm Cara from the care team" in s.content for s in to_ana()))
    assert any(r.method == "PUT" and "/reactions/" in r.path for r in fake.requests)

    await fake.dm(ANA, "thanks, the tour starts monday")
    in_thread = lambda: [s for s in fake.sent if s.channel_id == thread]  # noqa: E731
    await eventually(lambda: any("tour starts monday" in s.content for s in in_thread()))

    closed = await press(fake, CARA, "Close", guild=True)
    assert "closed" in closed.content
    await eventually(lambda: any("Closed by" in s.content for s in in_thread()))


async def test_unaddressed_crisis_is_answered_privately_when_the_bot_can_read_it(
    fake: FakeDiscord, staff_bot: DiscordBot
) -> None:
    await fake.say(ANA, "great gig last night, we killed it")
    await fake.say(ANA, CRISIS)
    public = await eventually(lambda: [s for s in fake.sent if s.channel_id == GENERAL_ID])
    crisis_dm = [s for s in dm_to(fake, ANA)() if "glad you told me" in s.content]
    assert crisis_dm and fake.sent.index(crisis_dm[0]) < fake.sent.index(public[0])
    assert len(public) == 1 and "end my life" not in public[0].content
    assert "message_reference" not in public[0].request


async def test_no_permission_in_the_channel_answers_by_dm(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    missing = {"message": "Missing Permissions", "code": 50013}
    fake.fail_next.append((rf"POST /channels/{GENERAL_ID}/messages", 403, missing, {}))
    await fake.say(ANA, "hi", mention=True)
    sent = await eventually(dm_to(fake, ANA))
    assert "permission to post there" in sent[0].content
    assert not [s for s in fake.sent if s.channel_id == GENERAL_ID]
