"""The Telegram adapter through the real python-telegram-bot, against a loopback fake Bot API.

The application is driven by hand (initialize, post_init, start_polling, start)
because `run_polling` owns the event loop; `test_cli_*` runs the real command.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram.ext import AIORateLimiter

from bot.adapters.telegram import TelegramAdapter, TelegramSettings
from bot.adapters.telegram_send import RetryPolicy
from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig
from bot.handoff.models import StaffActor
from bot.pseudonym import Pseudonymizer
from bot.store.sqlite import SQLiteStore
from tests.fake_telegram import Call, FakeTelegram

ANA = 111001
BEN = 111002
GROUP = -100777
FAST = RetryPolicy(backoff=(0.05, 0.1, 0.2), crisis_backoff=(0.05, 0.1))


def no_throttle() -> AIORateLimiter:
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=2)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTelegram]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # httpx honours proxy variables
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta, no warning
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def start(
    fake: FakeTelegram,
    engine: Engine,
    limiter: AIORateLimiter | None = None,
    staff_chat: int | None = None,
) -> TelegramAdapter:
    async def ready() -> Engine:
        return engine

    settings = TelegramSettings(fake.token, fake.base_url, staff_chat_id=staff_chat)
    adapter = TelegramAdapter(settings, ready, limiter=limiter or no_throttle(), policy=FAST)
    app = adapter.app
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0)
    await app.start()
    return adapter


async def stop(adapter: TelegramAdapter) -> None:
    app = adapter.app
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    await adapter.engine.outbox.stop()


@pytest.fixture
async def bot(fake: FakeTelegram, engine: Engine) -> AsyncIterator[TelegramAdapter]:
    adapter = await start(fake, engine)
    yield adapter
    await stop(adapter)


def to(chat: int, *words: str) -> Any:
    """A sendMessage to `chat` whose text holds all `words`."""
    return lambda c: c.chat_id == chat and all(w in c.text for w in words)


def sent_to(fake: FakeTelegram, chat: int) -> list[Call]:
    return [c for c in fake.of("sendMessage") if c.chat_id == chat]


async def test_from_start_through_a_crisis(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    commands = fake.of("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "en", "es", "fr", "de", "pt"}
    german = next(c for c in commands if c.params.get("language_code") == "de")
    assert {"command": "crisis", "description": "Krisentelefone in deinem Land"} in (
        german.params["commands"]
    )

    ana = fake.user(ANA, "Ana", "en-GB")
    fake.message(fake.private_chat(ana), ana, "/start")
    await fake.wait_for("sendMessage", to(ANA, "automated assistant"))
    menu = await fake.wait_for("sendMessage", to(ANA, "what I can help with"))
    assert "Crisis lines" in menu.labels and len(menu.labels) == 12

    fake.message(fake.private_chat(ana), ana, "I want to end my life")
    crisis = await fake.wait_for("sendMessage", to(ANA, "Samaritans", "116 123", "999"))
    assert crisis.callback_data, "crisis lines come with buttons"
    assert crisis.labels and all(d.count("|") == 1 for d in crisis.callback_data)


async def test_deep_link_and_button_press(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    ana = fake.user(ANA, "Ana", "en-GB")
    fake.message(fake.private_chat(ana), ana, "/start crisis")
    lines = await fake.wait_for("sendMessage", to(ANA, "Samaritans"))
    menu_button = lines.button("talk to a person")
    query = fake.press(ana, lines, menu_button)
    await fake.wait_for("answerCallbackQuery", lambda c: c.params["callback_query_id"] == query)
    await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA and c is not lines and c.labels)


async def test_forged_or_copied_button_is_refused_kindly(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana, ben = fake.user(ANA, "Ana"), fake.user(BEN, "Ben", "de")
    fake.message(fake.private_chat(ana), ana, "/help")
    menu = await fake.wait_for("sendMessage", to(ANA, "what I can help with"))
    fake.press(ana, menu, "intent:grants|0123456789")
    refused = await fake.wait_for("sendMessage", to(ANA, "doesn't work any more"))
    assert "Menu" in refused.labels
    # Ben replays Ana's genuine button data in his own chat: bound to her chat, so refused.
    fake.message(fake.private_chat(ben), ben, "/help")
    ben_menu = await fake.wait_for("sendMessage", lambda c: c.chat_id == BEN and c.labels)
    fake.press(ben, ben_menu, menu.button("paying for therapy"))
    await fake.wait_for("sendMessage", to(BEN, "funktioniert nicht mehr"))
    await fake.settle(0.2)
    assert len(sent_to(fake, ANA)) == len(sent_to(fake, BEN)) == 3  # intro, menu, refusal


async def test_stickers_voice_and_locations_get_a_kind_reply(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = fake.user(ANA, "Ana", "es")
    chat = fake.private_chat(ana)
    sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular"}
    fake.message(
        chat,
        ana,
        sticker={**sticker, "width": 512, "height": 512, "is_animated": False, "is_video": False},
    )
    reply = await fake.wait_for("sendMessage", to(ANA, "sticker"))
    assert "Menú" in reply.labels
    fake.message(chat, ana, voice={"file_id": "v1", "file_unique_id": "u2", "duration": 3})
    await fake.wait_for("sendMessage", to(ANA, "mensajes de voz"))
    fake.message(chat, ana, location={"latitude": 52.5, "longitude": 13.4})
    await fake.wait_for("sendMessage", to(ANA, "ubicaciones"))


async def test_edits_and_captions_still_pass_the_crisis_screen(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = fake.user(ANA, "Ana", "en-GB")
    chat = fake.private_chat(ana)
    fake.message(chat, ana, "I feel so burned out", edited=True)
    await fake.wait_for("sendMessage", to(ANA, "changed your message"))
    photo = [{"file_id": "p1", "file_unique_id": "u3", "width": 90, "height": 90}]
    fake.message(chat, ana, photo=photo, caption="I want to end my life")
    await fake.wait_for("sendMessage", to(ANA, "Samaritans"))


async def test_groups_answer_only_when_addressed(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    group = fake.group(GROUP, "Band chat")
    ana = fake.user(ANA, "Ana", "en-GB")
    fake.message(group, ana, "hello everyone, rehearsal at 8")
    await fake.settle(0.3)
    assert not fake.of("sendMessage")
    fake.message(group, ana, "@CareTestBot hello")
    await fake.wait_for("sendMessage", lambda c: c.chat_id == GROUP)
    assert not sent_to(fake, ANA)


async def test_crisis_in_a_group_goes_privately(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    group = fake.group(GROUP, "Band chat")
    ana = fake.user(ANA, "Ana", "en-GB")
    fake.message(group, ana, "@CareTestBot I want to kill myself")
    await fake.wait_for("sendMessage", to(ANA, "Samaritans"))
    note = await fake.wait_for("sendMessage", to(GROUP, "private message"))
    assert fake.calls.index(note) > fake.calls.index(sent_to(fake, ANA)[0])
    for call in sent_to(fake, GROUP):
        assert "Samaritans" not in call.text and "116 123" not in call.text


async def test_crisis_in_a_group_when_the_person_cannot_be_reached(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    group = fake.group(GROUP, "Band chat")
    ana = fake.user(ANA, "Ana", "en-GB")
    reply_to_bot = {
        "message_id": 5,
        "date": int(time.time()),
        "chat": group,
        "from": {"id": fake.bot_id, "is_bot": True, "first_name": "Care Bot"},
        "text": "Hi!",
    }
    fake.fail_next(
        "sendMessage",
        403,
        "Forbidden: bot can't initiate conversation with a user",
        when=lambda p: int(p["chat_id"]) == ANA,
    )
    fake.message(group, ana, "i want to kill myself", reply_to=reply_to_bot)
    note = await fake.wait_for("sendMessage", to(GROUP, "open a chat with me"))
    link = note.params["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link == "https://t.me/CareTestBot?start=crisis"
    await fake.settle(0.2)
    assert [c.text for c in sent_to(fake, GROUP)] == [note.text]


async def test_flood_limit_is_waited_out_and_retried(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = fake.user(ANA, "Ana")
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    began = time.monotonic()
    fake.message(fake.private_chat(ana), ana, "/privacy")
    await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA and "_result" in c.params)
    assert time.monotonic() - began >= 1.0
    attempts = sent_to(fake, ANA)
    assert len(attempts) >= 2 and attempts[0].text == attempts[1].text


async def test_network_errors_are_retried_with_backoff(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = fake.user(ANA, "Ana")
    fake.fail_next("sendMessage", 502, "Bad Gateway", count=2)
    fake.message(fake.private_chat(ana), ana, "/privacy")
    await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA and "_result" in c.params)
    assert len(sent_to(fake, ANA)) >= 3


async def test_a_reply_that_keeps_failing_is_kept_and_sent_later(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = fake.user(ANA, "Ana")
    fake.fail_next("sendMessage", 502, "Bad Gateway", count=4)  # more than the adapter retries
    fake.message(fake.private_chat(ana), ana, "/privacy")
    await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == ANA and "_result" in c.params, within=15
    )
    for _ in range(100):  # delivered by the outbox, which then marks it sent
        if await bot.engine.store.outbox_counts() == {"sent": 1}:
            break
        await asyncio.sleep(0.05)
    assert await bot.engine.store.outbox_counts() == {"sent": 1}


async def test_a_blocked_bot_is_handled_and_logged_without_ids_or_words(
    fake: FakeTelegram, bot: TelegramAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    ana, ben = fake.user(ANA, "Ana"), fake.user(BEN, "Ben")
    fake.fail_next(
        "sendMessage",
        403,
        "Forbidden: bot was blocked by the user",
        count=5,
        when=lambda p: int(p["chat_id"]) == ANA,
    )
    with caplog.at_level(logging.INFO):
        fake.message(fake.private_chat(ana), ana, "my secret words about burnout")
        await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA)
        await fake.settle(0.2)
        fake.message(fake.private_chat(ben), ben, "/help")
        await fake.wait_for("sendMessage", lambda c: c.chat_id == BEN and "_result" in c.params)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "Forbidden" in ours
    assert str(ANA) not in ours and "secret words" not in ours and fake.token not in ours


async def test_crisis_replies_are_not_queued_behind_throttled_sends(
    fake: FakeTelegram, engine: Engine
) -> None:
    slow = AIORateLimiter(overall_max_rate=1, overall_time_period=2, group_max_rate=0)
    adapter = await start(fake, engine, limiter=slow)
    try:
        ana, ben = fake.user(ANA, "Ana"), fake.user(BEN, "Ben", "en-GB")
        fake.message(fake.private_chat(ana), ana, "/help")  # two replies: one waits ~2 s
        await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA)
        began = time.monotonic()
        fake.message(fake.private_chat(ben), ben, "I want to end my life")
        crisis = await fake.wait_for("sendMessage", to(BEN, "Samaritans"))
        assert time.monotonic() - began < 1.0
        menu = await fake.wait_for("sendMessage", to(ANA, "what I can help with"))
        assert fake.calls.index(crisis) < fake.calls.index(menu)
    finally:
        await stop(adapter)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_checks_the_secret(fake: FakeTelegram, engine: Engine) -> None:
    async def ready() -> Engine:
        return engine

    settings = TelegramSettings(fake.token, fake.base_url, webhook_secret="s3cret-Token")
    adapter = TelegramAdapter(settings, ready, limiter=no_throttle(), policy=FAST)
    app, port = adapter.app, _free_port()
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    url = f"http://127.0.0.1:{port}/tg"
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="tg", webhook_url=url, secret_token="s3cret-Token"
    )
    await app.start()
    try:
        assert fake.webhook_url == url
        assert fake.of("setWebhook")[0].params["secret_token"] == "s3cret-Token"
        ana = fake.user(ANA, "Ana")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": fake.private_chat(ana),
                "from": ana,
                "text": "/privacy",
                "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
            },
        }
        async with aiohttp.ClientSession() as http:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            async with http.post(url, json=update, headers=wrong) as response:
                assert response.status == 403
            async with http.post(url, json=update) as response:
                assert response.status == 403
            await asyncio.sleep(0.2)
            assert not fake.of("sendMessage")
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}
            async with http.post(url, json=update, headers=right) as response:
                assert response.status == 200
        await fake.wait_for("sendMessage", lambda c: c.chat_id == ANA)
    finally:
        await stop(adapter)


# -- the handoff: a person asks for a person, staff work the case in their group ----------

STAFF = -100555
CARLA = 222001
MALLORY = 222009


@pytest.fixture
async def desk_engine(services: Services, store: SQLiteStore) -> AsyncIterator[Engine]:
    engine = Engine(
        services, store, Pseudonymizer(b"test-secret"), HandoffConfig(staff_channels=("telegram",))
    )
    yield engine
    await engine.drain()


async def ask_for_a_person(fake: FakeTelegram, ana: dict[str, Any]) -> None:
    """The consent flow, pressing the buttons the engine offers."""
    fake.message(fake.private_chat(ana), ana, "can I talk to a real person")
    steps = ("Yes, connect me", "Here in this chat", "Skip")
    for label in steps:
        offer = await fake.wait_for("sendMessage", lambda c, label=label: label in c.labels)
        fake.press(ana, offer, offer.button(label))
    await fake.wait_for("sendMessage", to(ANA, "your request is with the team"))


def in_topic(thread: int, *words: str) -> Any:
    return lambda c: c.params.get("message_thread_id") == thread and all(w in c.text for w in words)


async def test_handoff_in_a_forum_staff_group(fake: FakeTelegram, desk_engine: Engine) -> None:
    staff_room = fake.group(STAFF, "Case managers", forum=True)
    fake.members[(STAFF, CARLA)] = "member"
    adapter = await start(fake, desk_engine, staff_chat=STAFF)
    try:
        ana = fake.user(ANA, "Ana", "en-GB")
        carla, mallory = fake.user(CARLA, "Carla"), fake.user(MALLORY, "Mallory")
        await ask_for_a_person(fake, ana)

        topic = await fake.wait_for("createForumTopic")
        thread = int(topic.params["_result"]["message_thread_id"])
        opened = await fake.wait_for("sendMessage", in_topic(thread, "Case ", "Language: en"))
        assert opened.labels == ["Claim", "Close"]

        fake.press(mallory, opened, opened.button("Claim"))
        refused = await fake.wait_for("answerCallbackQuery", lambda c: "text" in c.params)
        assert "not on this hub's staff list" in refused.params["text"]

        fake.press(carla, opened, opened.button("Claim"))
        await fake.wait_for(
            "answerCallbackQuery", lambda c: "You claimed" in c.params.get("text", "")
        )
        await fake.wait_for("editMessageReplyMarkup")
        await fake.wait_for("sendMessage", to(ANA, "from the team is here now"))
        claimed = await fake.wait_for("sendMessage", in_topic(thread, "Claimed by Carla"))
        assert claimed.labels == ["Close"]

        fake.message(fake.private_chat(ana), ana, "thanks, the tour starts monday")
        await fake.wait_for("sendMessage", in_topic(thread, "Person: thanks, the tour starts"))

        fake.message(staff_room, carla, "Hi Ana, tell me about the tour", thread=thread)
        await fake.wait_for("sendMessage", to(ANA, "tell me about the tour"))

        fake.press(carla, claimed, claimed.button("Close"))
        await fake.wait_for("closeForumTopic", lambda c: c.params["message_thread_id"] == thread)
        await fake.wait_for(
            "sendMessage", lambda c: c.chat_id == ANA and "It helped" in str(c.labels)
        )

        case_id = await desk_engine.desk.case_for_thread("telegram", str(thread))
        assert case_id is not None
        await desk_engine.desk.reopen(case_id, StaffActor("telegram:222001", "Carla", True))
        await fake.wait_for("reopenForumTopic", lambda c: c.params["message_thread_id"] == thread)
        await fake.wait_for("sendMessage", in_topic(thread, "Reopened by Carla"))
    finally:
        await stop(adapter)


async def test_handoff_in_a_plain_staff_group(fake: FakeTelegram, desk_engine: Engine) -> None:
    staff_room = fake.group(STAFF, "Case managers")
    fake.members[(STAFF, CARLA)] = "administrator"
    adapter = await start(fake, desk_engine, staff_chat=STAFF)
    try:
        ana, carla = fake.user(ANA, "Ana", "en-GB"), fake.user(CARLA, "Carla")
        await ask_for_a_person(fake, ana)
        opened = await fake.wait_for("sendMessage", to(STAFF, "Case "))
        fake.press(carla, opened, opened.button("Claim"))
        claimed = await fake.wait_for("sendMessage", to(STAFF, "Claimed by Carla"))
        assert (
            claimed.params["reply_parameters"]["message_id"]
            == opened.params["_result"]["message_id"]
        )
        # Carla answers by replying to the later notice: its Close button names the case.
        fake.message(staff_room, carla, "Hello from Carla", reply_to=claimed.params["_result"])
        await fake.wait_for("sendMessage", to(ANA, "Hello from Carla"))
        fake.message(staff_room, carla, "just chatting among ourselves")
        await fake.settle(0.3)
        assert not [c for c in sent_to(fake, ANA) if "among ourselves" in c.text]
    finally:
        await stop(adapter)


# -- the real command ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(MUSICBOT_DATA_DIR=str(tmp_path), NO_PROXY="127.0.0.1,localhost", **extra)
    return env


async def test_cli_without_a_token_says_so(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "telegram",
        cwd=ROOT,
        env=bot_env(tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 2 and b"TELEGRAM_BOT_TOKEN" in err


async def test_cli_runs_long_polling_and_stops_cleanly(fake: FakeTelegram, tmp_path: Path) -> None:
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "telegram",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for("getUpdates", within=60)
        ana = fake.user(ANA, "Ana")
        fake.message(fake.private_chat(ana), ana, "/start")
        await fake.wait_for("sendMessage", to(ANA, "automated assistant"), within=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert fake.token.encode() not in err and str(ANA).encode() not in err


async def test_a_bad_request_is_not_retried_and_the_bot_goes_on(
    fake: FakeTelegram, bot: TelegramAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    ana = fake.user(ANA, "Ana")
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with caplog.at_level(logging.WARNING, logger="bot"):
        fake.message(fake.private_chat(ana), ana, "/privacy")
        await fake.wait_for("sendMessage")
        await fake.settle(0.3)
    assert len(sent_to(fake, ANA)) == 1  # not retried, and the rest of that turn not tried
    assert "BadRequest" in caplog.text and str(ANA) not in caplog.text
    fake.message(fake.private_chat(ana), ana, "/help")
    await fake.wait_for("sendMessage", to(ANA, "what I can help with"))
