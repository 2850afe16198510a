"""What the matcher makes of how musicians really write: slang, gear talk, SMS French."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TestBot
from tests.test_cli import run_bot

FALLBACK = {"intent:menu", "intent:talk_to_human"}


@pytest.mark.parametrize(
    "text",
    [
        "we totally destroyed the stage in manchester, what a night",
        "cant wait to play the big stage at glastonbury next summer",
        "which overdrive pedal for a strat into a fender amp",
        "anoche reventamos la sala en valencia, qué locura",
        "on a fait un malheur au festival, le public en redemandait",
        "c'était malade le show à trois-rivières!!",
        "die menge hat heute durchgedreht, bester gig der tour",
        "o show em curitiba foi absurdo de bom",
    ],
)
async def test_music_slang_and_gear_talk_get_no_wellbeing_advice(
    testbot: TestBot, text: str
) -> None:
    await testbot.send(text)
    assert not testbot.last.crisis
    assert set(testbot.payloads) <= FALLBACK, (testbot.last.intent, testbot.payloads)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("chu vraiment brûlé, trop de shows pis la job en plus", "burnout"),
        ("jsais plus quoi ecrire, la page reste blanche", "studio"),
        ("vous faites quoi avec ce que je vous ecris ici", "privacy"),
        ("le refrain tombe à plat, comment je le rends plus fort", "studio"),
        ("ma grand-mere est partie cet hiver et elle me manque tellement", "low_mood"),
        ("a+", "goodbye"),
    ],
)
async def test_french_slang_quebecois_and_sms_spelling_are_understood(
    testbot: TestBot, text: str, intent: str
) -> None:
    await testbot.send(text)
    assert testbot.last.intent == intent


def test_the_same_message_gets_the_same_answer_in_every_process(tmp_path: Path) -> None:
    """Typo correction and scoring must not depend on Python's per-process hash seed."""
    texts = [
        "on part 2 mois en van au portugal, comment tenir le coup",
        "heard u do therapie for musicans, how does it wrk",
        "welche hotline gibts nachts in österreich für die crew",
        "mi hermano es DJ y lo veo fatal, no se como hablarle",
    ]
    stdin = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        done = run_bot("classify", stdin=stdin, tmp=tmp_path, PYTHONHASHSEED=seed)
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
