"""Family mode: a relative, partner or friend of someone in music, as they meet it."""

from __future__ import annotations

import pytest

from bot.engine import Engine, Services
from tests.conftest import TestBot


def _points(services: Services, section: str, lang: str) -> tuple[str, ...]:
    return services.guide.family[section][lang]


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "my partner is always on tour, how to support him"),
        ("pt", "meu pai é músico e bebe muito"),
    ],
)
async def test_family_conversation_walks_through_every_section(
    engine: Engine, services: Services, locale: str, message: str
) -> None:
    def t(key: str) -> str:
        return services.texts.get(locale, key)

    bot = TestBot(engine, locale=locale)
    await bot.send(message)
    assert bot.last.intent == "family"
    assert t("fam_heading_support") in bot.text
    assert all(point in bot.text for point in _points(services, "support", locale))
    assert {"family:say", "family:signs", "family:get_help", "intent:crisis_lines"} <= set(
        bot.payloads
    )

    await bot.press(t("fam_btn_say"))
    assert t("fam_heading_say") in bot.text and t("fam_heading_not_say") in bot.text
    assert all(p in bot.text for p in _points(services, "not_say", locale))
    assert "family:say" not in bot.payloads, "the section shown is not offered again"

    await bot.press(t("fam_btn_signs"))
    assert all(p in bot.text for p in _points(services, "signs", locale))

    await bot.press(t("fam_btn_get_help"))
    assert all(p in bot.text for p in _points(services, "get_help", locale))
    assert services.resources.hub.email in bot.text, "ends with the hub's case managers"
    assert "intent:talk_to_human" in bot.payloads

    await bot.press(t("fam_btn_support"))
    assert t("fam_heading_support") in bot.text


@pytest.mark.parametrize("locale", ["en", "de"])
async def test_they_are_in_danger_now_leads_to_the_crisis_lines(
    engine: Engine, services: Services, locale: str
) -> None:
    bot = TestBot(engine, locale=locale, country="DE")
    await bot.send(payload="intent:family")
    await bot.press(services.texts.get(locale, "fam_btn_danger"))
    assert bot.last.intent == "crisis_lines"
    germany = services.resources.countries["DE"]
    assert germany.name(locale) in bot.text
    assert germany.lines[0].name in bot.text


async def test_danger_without_a_known_country_asks_for_it(
    engine: Engine, services: Services
) -> None:
    bot = TestBot(engine, locale="es")
    await bot.send("mi pareja esta de gira y la noto rara")
    await bot.press("Está en peligro ahora")
    assert services.texts.get("es", "ask_country") in bot.text
    assert any(p.startswith("country:") for p in bot.payloads)


async def test_an_unknown_family_button_starts_over(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="en")
    await bot.send(payload="family:nonsense")
    assert services.texts.get("en", "fam_heading_support") in bot.text
