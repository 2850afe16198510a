"""Care near the person and the hub's programmes, as conversations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.resources import parse_resources
from tests.conftest import TestBot


async def test_care_asks_the_country_then_lists_sourced_options(testbot: TestBot) -> None:
    await testbot.send("how do i find a therapist")
    assert testbot.last.intent == "find_care"
    assert "Which country" in testbot.text
    await testbot.press("Ireland")
    assert "Care in Ireland" in testbot.text
    assert "Minding Creative Minds: 1800 814 244" in testbot.text
    assert "Free or low-cost" in testbot.text
    assert "intent:talk_to_human" in testbot.payloads


async def test_typed_country_in_french_gets_french_descriptions(engine: Engine) -> None:
    bot = TestBot(engine, locale="fr")
    await bot.send(payload="intent:find_care")
    await bot.send("France")
    assert "Collectif CURA: https://www.cura-music.org" in bot.text
    assert "annuaire national de psychologues" in bot.text


async def test_a_city_the_hub_lists_comes_first(testbot: TestBot) -> None:
    await testbot.send("i need a therapist in austin")
    assert "Care in United States" in testbot.text
    low_cost = testbot.text.split("Free or low-cost:")[1]
    assert low_cost.index("SIMS Foundation") < low_cost.index("MusiCares")
    assert "(Austin / Central Texas only)" in testbot.text


async def test_honest_when_the_hub_has_nothing_for_a_place(engine: Engine) -> None:
    bot = TestBot(engine, locale="es", country="PE")
    await bot.send(payload="intent:find_care")
    assert "Todavía no tengo recursos de apoyo para Perú" in bot.text
    assert "https://findahelpline.com" in bot.text
    assert "gestora de casos" in bot.text
    assert {"intent:talk_to_human", "intent:crisis_lines"} <= set(bot.payloads)


async def test_therapy_eligibility_ends_in_how_to_apply(testbot: TestBot) -> None:
    await testbot.send(payload="intent:therapy_access")
    assert "(1/3)" in testbot.text and "(example)" in testbot.text
    for _ in range(3):
        await testbot.press("Yes")
    assert "To apply" in testbot.text and "care@example.org" in testbot.text
    assert "intent:talk_to_human" in testbot.payloads


async def test_needing_help_today_is_sent_to_the_crisis_lines(engine: Engine) -> None:
    bot = TestBot(engine, locale="de")
    await bot.send(payload="intent:therapy_access")
    await bot.press("Ja")
    await bot.press("Nein")
    assert "warte bitte nicht" in bot.text
    assert "intent:crisis_lines" in bot.payloads


async def test_grant_lists_the_countrys_sourced_funds_in_portuguese(engine: Engine) -> None:
    bot = TestBot(engine, locale="pt", country="US")
    await bot.send(payload="intent:grants")
    await bot.press("Sim")
    await bot.press("Sim")
    assert "Você pode pedir o auxílio" in bot.text
    assert "MusiCares" in bot.text and "Porter's Call" not in bot.text, "low-confidence left out"


async def test_programs_menu_leads_to_a_programme(testbot: TestBot) -> None:
    await testbot.send("do you have studio residencies")
    assert testbot.last.intent == "programs"
    await testbot.press("Studio residency")
    await testbot.press("No")
    assert "Wellness events might suit you better" in testbot.text
    assert "intent:programs" in testbot.payloads


async def test_donate_points_to_the_hubs_donation_page(testbot: TestBot) -> None:
    await testbot.send("how can i donate")
    assert "https://example.org/music-care/donate" in testbot.text


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("  - org: Collectif CURA\n", "  - org: Collectif Nowhere\n", "no music_orgs entry"),
        ("    kinds: [therapist]\n", "    kinds: [spa]\n", "'spa' is not one of"),
        ("  case_days: 730", "  case_days: 0", "privacy.case_days"),
        ("    need: yes\n", "    need: maybe\n", "must be yes or no"),
    ],
)
def test_care_programs_and_privacy_are_validated(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    source = Path(__file__).parent.parent / "resources.yaml"
    broken = tmp_path / "resources.yaml"
    broken.write_text(source.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    resources, problems = parse_resources(broken)
    assert resources is None
    assert any(problem in str(p) for p in problems), [str(p) for p in problems]
