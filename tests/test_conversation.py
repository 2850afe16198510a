"""Conversations through the engine, as a person meets them."""

from __future__ import annotations

import pytest

from bot.textnorm import MAX_INPUT_CHARS
from tests.conftest import TestBot


async def test_first_contact_says_it_is_an_automated_assistant(testbot: TestBot) -> None:
    await testbot.send("hi")
    assert "automated assistant" in testbot.text
    assert "not a therapist" in testbot.text
    assert testbot.last.intent == "greet"
    await testbot.send("hello again")
    assert "automated assistant" not in testbot.text


async def test_menu_buttons_lead_somewhere(testbot: TestBot) -> None:
    await testbot.send("what can you do")
    assert testbot.last.intent == "menu"
    assert "intent:crisis_lines" in testbot.payloads
    await testbot.press("Breathing")
    await testbot.press("Box breathing")
    await testbot.press("Next")
    assert "breathe in" in testbot.text.lower()


async def test_unknown_message_never_dead_ends(testbot: TestBot) -> None:
    await testbot.send("qwzx vbnm plok")
    assert "not sure I understood" in testbot.text
    assert {"intent:menu", "intent:talk_to_human"} <= set(testbot.payloads)


async def test_stale_button_gets_a_kind_answer(testbot: TestBot) -> None:
    await testbot.send(payload="wizard:step9")
    assert "earlier conversation" in testbot.text
    assert "intent:menu" in testbot.payloads


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x07\x1b[31m",
        "🎸🎸🔥",
        "مرحبا كيف حالك",
        "\u202eollehs\u202c",
        "x" * 100_000,
        "burn out " * 20_000,
    ],
    ids=["empty", "whitespace", "control", "emoji", "rtl", "bidi", "100kB", "100kB-words"],
)
async def test_bad_input_gets_a_sensible_reply(testbot: TestBot, text: str) -> None:
    response = await testbot.send(text)
    assert response.replies, "every message gets a reply"
    assert all(reply.text for reply in response.replies)
    assert not response.crisis


async def test_input_is_capped_before_matching(testbot: TestBot) -> None:
    assert MAX_INPUT_CHARS == 2000
    await testbot.send("I feel so burned out " + "la " * 50_000)
    assert testbot.last.intent == "burnout"


async def test_topic_answers_offer_next_steps(testbot: TestBot) -> None:
    await testbot.send("i cant sleep at night lately")
    assert testbot.last.intent == "sleep"
    assert "intent:talk_to_human" in testbot.payloads


async def test_country_given_by_adapter_is_used(services, store) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_engine

    bot = TestBot(make_engine(services, store), country="GB")
    await bot.send(payload="intent:find_care")
    assert "United Kingdom" in bot.text
