"""Typed yes/no answers: data the bot reads, checked like the rest of its data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import load_answers
from bot.config import Paths
from bot.yamlfile import DataError


def test_answers_read_any_language_and_leave_the_rest(paths: Paths) -> None:
    answers = load_answers(paths.intents / "answers.yaml")
    assert answers.of("no") is False and answers.of("nao") is False
    assert answers.of("si") is True and answers.of("ja") is True
    assert answers.of("ok") is None  # an acknowledgement says nothing about safety
    assert answers.of("no thanks i want to talk about sleep") is None


def test_a_bare_yaml_no_or_a_word_on_both_sides_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text('yes_answers: ["yes", "oui"]\nno_answers: [no, "Oui"]\n', encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load_answers(path)
    messages = [problem.message for problem in raised.value.problems]
    assert any("quote it" in m for m in messages)
    assert any("both yes and no" in m for m in messages)
