"""Guide tips and exercises, as a person meets them, in more than one language."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest

from bot.check import check
from bot.config import LANGUAGES, Paths
from bot.engine import Engine, Services
from bot.guide import EXERCISES, MIN_TIPS, TOPICS, parse_guide
from handlers.wellbeing import pick_tip
from tests.conftest import TestBot


def _tip_shown(services: Services, topic: str, lang: str, text: str) -> int:
    """Which of the topic's tips the reply ends with (each reply holds exactly one)."""
    tips = services.guide.tips[topic][lang]
    shown = [i for i, tip in enumerate(tips) if text.endswith(tip)]
    assert len(shown) == 1, text
    return shown[0]


@pytest.mark.parametrize(
    ("locale", "message", "topic"),
    [("en", "i cant sleep at night lately", "sleep"), ("es", "no puedo dormir", "sleep")],
)
async def test_tips_rotate_and_never_repeat_twice_in_a_row(
    engine: Engine, services: Services, locale: str, message: str, topic: str
) -> None:
    bot = TestBot(engine, locale=locale)
    await bot.send(message)
    assert bot.last.intent == topic
    intro = services.texts.get(locale, f"wb_intro_{topic}")
    assert intro in bot.text, "the first tip of a topic comes with a word of welcome"
    shown = [_tip_shown(services, topic, locale, bot.text)]
    another = services.texts.get(locale, "wb_btn_another_tip")
    for _ in range(30):
        await bot.press(another)
        assert intro not in bot.text
        shown.append(_tip_shown(services, topic, locale, bot.text))
    count = len(services.guide.tips[topic][locale])
    assert all(a != b for a, b in itertools.pairwise(shown)), shown
    assert sorted(shown[:count]) == list(range(count)), "a round shows every tip once"


async def test_tip_memory_survives_the_topic_menu(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="de")
    await bot.send("ich kann nicht schlafen")
    last = _tip_shown(services, "sleep", "de", bot.text)
    for _ in range(12):
        await bot.press("Etwas anderes")
        assert len([p for p in bot.payloads if p.startswith("tip:")]) == len(TOPICS)
        await bot.press("Schlaf")
        now = _tip_shown(services, "sleep", "de", bot.text)
        assert now != last
        last = now


async def test_tip_buttons_lead_on(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="en")
    await bot.send(payload="intent:stage_fright")
    assert {"tip:stage_fright", "tip:", "intent:talk_to_human", "exercise:"} <= set(bot.payloads)
    await bot.press("Something else")
    assert "What would you like a tip about?" in bot.text
    await bot.press("Loneliness")
    _tip_shown(services, "loneliness", "en", bot.text)
    assert "exercise:" not in bot.payloads, "exercises are offered where they fit"
    await bot.press("Talk to someone")
    assert bot.last.intent == "talk_to_human"
    assert "exactly what they will see" in bot.text  # consent before any handoff


async def test_tip_memory_survives_other_conversations(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="pt")
    await bot.send("não consigo dormir na turnê")
    last = _tip_shown(services, "sleep", "pt", bot.text)
    for _ in range(12):
        await bot.send(payload="intent:menu")  # leaves any flow
        await bot.send(payload="intent:crisis_lines")  # starts another one
        await bot.send(payload="tip:sleep")
        now = _tip_shown(services, "sleep", "pt", bot.text)
        assert now != last
        last = now


def test_pick_tip_starts_a_new_round_without_the_last_tip() -> None:
    rng = random.Random(7)
    seen: list[int] = []
    for _ in range(200):
        before = seen[-1] if seen else None
        seen = pick_tip(3, seen, rng)
        assert seen[-1] != before
        assert len(seen) == len(set(seen)) <= 3


async def _start(bot: TestBot, services: Services, lang: str, name: str) -> None:
    await bot.press(services.guide.exercises[name][lang].title)


@pytest.mark.parametrize(("locale", "ask"), [("en", "breathing exercise please"), ("de", None)])
async def test_every_exercise_steps_to_the_end(
    engine: Engine, services: Services, locale: str, ask: str | None
) -> None:
    bot = TestBot(engine, locale=locale)
    next_label = services.texts.get(locale, "wb_btn_next")
    for name in EXERCISES:
        await (bot.send(ask) if ask else bot.send(payload="intent:breathing"))
        assert [p for p in bot.payloads if p.startswith("exercise:")] == [
            f"exercise:{n}" for n in EXERCISES
        ]
        await _start(bot, services, locale, name)
        steps = services.guide.exercises[name][locale].steps
        for number, step in enumerate(steps, start=1):
            assert f"{number}/{len(steps)} · {step}" in bot.text
            if number < len(steps):
                await bot.press(next_label)
        assert services.texts.get(locale, "wb_exercise_done") in bot.text
        assert next_label not in [b.label for b in bot.buttons]


async def test_an_exercise_stops_at_any_step(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="en")
    await bot.send(payload="exercise:grounding_54321")
    await bot.press("Next")
    old_next = next(p for p in bot.payloads if p.startswith("step:grounding"))
    await bot.press("Stop")
    assert "we've stopped" in bot.text
    await bot.send(payload=old_next)
    assert "That exercise has ended" in bot.text, "an old Next button does not restart it"


@pytest.mark.parametrize(
    ("locale", "stop", "next_word"), [("en", "stop", "ok"), ("pt", "chega", "próximo")]
)
async def test_typing_next_or_stop_paces_the_exercise(
    engine: Engine, services: Services, locale: str, stop: str, next_word: str
) -> None:
    bot = TestBot(engine, locale=locale)
    await bot.send(payload="exercise:box_breathing")
    steps = services.guide.exercises["box_breathing"][locale].steps
    await bot.send(next_word)
    assert steps[1] in bot.text
    await bot.send(stop)
    assert bot.last.intent is None
    assert services.texts.get(locale, "wb_exercise_stopped") in bot.text


async def test_another_message_leaves_the_exercise(engine: Engine, services: Services) -> None:
    bot = TestBot(engine, locale="en")
    await bot.send(payload="exercise:breathing_478")
    await bot.send("i cant sleep at night lately")
    assert bot.last.intent == "sleep"
    _tip_shown(services, "sleep", "en", bot.text)
    await bot.send("ok")
    assert "2/6" not in bot.text, "the exercise is over; 'ok' no longer steps it"


async def test_a_double_tap_on_next_does_not_skip_a_step(
    engine: Engine, services: Services
) -> None:
    bot = TestBot(engine, locale="en")
    await bot.send(payload="exercise:box_breathing")
    tap = next(p for p in bot.payloads if p.startswith("step:"))
    await bot.send(payload=tap)
    await bot.send(payload=tap)
    assert "2/6" in bot.text


@pytest.mark.parametrize(
    ("locale", "crisis"), [("en", "i want to kill myself"), ("es", "quiero matarme")]
)
async def test_a_crisis_mid_exercise_gets_the_crisis_reply(
    engine: Engine, services: Services, locale: str, crisis: str
) -> None:
    bot = TestBot(engine, locale=locale, country="GB")
    await bot.send(payload="exercise:preshow_reset")
    await bot.press(services.texts.get(locale, "wb_btn_next"))
    old_next = next(p for p in bot.payloads if p.startswith("step:"))
    response = await bot.send(crisis)
    assert response.crisis
    assert services.texts.get(locale, "crisis_intro") in bot.text
    await engine.drain()
    await bot.send(payload=old_next)
    assert services.texts.get(locale, "wb_exercise_ended") in bot.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_enough_tips_for_every_topic(services: Services, lang: str) -> None:
    for topic in TOPICS:
        tips = services.guide.tips[topic][lang]
        assert len(tips) >= MIN_TIPS, topic
        assert len(set(tips)) == len(tips)
    for name in EXERCISES:
        assert len(services.guide.exercises[name][lang].steps) >= 3


def _broken(paths: Paths, tmp_path: Path, old: str, new: str) -> tuple[Paths, str]:
    text = paths.guide.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "guide.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dataclasses.replace(paths, guide=bad), bad.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_too_few_tips_names_file_line_and_field(paths: Paths, tmp_path: Path) -> None:
    first_es_sleep_tip = '      - "Intenta despertarte'
    broken, text = _broken(paths, tmp_path, first_es_sleep_tip, "      # removed\n#")
    problems = [str(p) for p in check(broken) if not p.warning]
    line = _line_of(text, "\nes:") + _line_of(text[text.index("\nes:") :], "    sleep:") - 1
    assert f"{broken.guide}:{line}: error: es.tips.sleep: needs at least 8 items, has 7" in problems


def test_every_guide_problem_is_reported_at_once(paths: Paths, tmp_path: Path) -> None:
    broken, _ = _broken(
        paths, tmp_path, "  exercises:\n    box_breathing:", "  exercises:\n    box_breath:"
    )
    broken2, _ = _broken(
        broken, tmp_path, '    tour:\n      - "Garde', '    tour:\n      - ""\n      - "Garde'
    )
    guide, problems = parse_guide(broken2.guide)
    assert guide is None
    by_field = {p.field: p for p in problems}
    assert "en.exercises.box_breath" in by_field
    assert by_field["en.exercises.box_breath"].message.startswith("unknown")
    assert "en.exercises.box_breathing" in by_field
    assert by_field["en.exercises.box_breathing"].message == "missing"
    empty = by_field["fr.tips.tour[0]"]
    fixed = broken2.guide.read_text(encoding="utf-8")
    assert empty.line == _line_of(fixed, '      - ""')
    assert str(empty).startswith(f"{broken2.guide}:{empty.line}: error: fr.tips.tour[0]:")


def test_a_language_missing_from_the_guide_is_an_error(paths: Paths, tmp_path: Path) -> None:
    broken, _ = _broken(paths, tmp_path, "\nde:\n", "\nxx:\n")
    fields = {p.field for p in check(broken) if not p.warning}
    assert {"de", "xx"} <= fields


def test_an_unreadable_guide_stops_start_up(paths: Paths, tmp_path: Path) -> None:
    from bot.yamlfile import DataError

    broken, _ = _broken(paths, tmp_path, "en:\n  tips:", "en:\n  tips: [")
    with pytest.raises(DataError, match=r"guide\.yaml"):
        Services.load(broken)
