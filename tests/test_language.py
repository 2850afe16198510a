"""Language: explicit choice, else platform locale, else the message; remembered."""

from __future__ import annotations

from bot.engine import Services
from bot.store.sqlite import SQLiteStore
from tests.conftest import TestBot, make_engine


async def test_detects_language_from_the_message(testbot: TestBot) -> None:
    await testbot.send("hola, necesito ayuda")
    assert testbot.last.lang == "es"
    await testbot.send("bonjour, j'ai besoin d'aide")
    assert testbot.last.lang == "fr"


async def test_locale_wins_over_detection(services: Services, store: SQLiteStore) -> None:
    bot = TestBot(make_engine(services, store), locale="de-AT")
    await bot.send("hello")
    assert bot.last.lang == "de"


async def test_explicit_choice_is_remembered(testbot: TestBot) -> None:
    await testbot.send("can we switch language")
    assert testbot.last.intent == "language"
    await testbot.press("Português")
    assert testbot.last.lang == "pt"
    await testbot.send("hello, I need help sleeping")
    assert testbot.last.lang == "pt"


async def test_naming_the_language_switches_at_once(testbot: TestBot) -> None:
    await testbot.send("en español por favor")
    assert testbot.last.lang == "es"
    await testbot.send("ok thanks")
    assert testbot.last.lang == "es"
