"""The crisis screen's mechanics, on small invented rule sets."""

from __future__ import annotations

from bot.safety.screen import CrisisScreen, Level, Rule


def screen(*rules: str, safe: tuple[str, ...] = (), negated: tuple[str, ...] = ()) -> CrisisScreen:
    return CrisisScreen(
        safe=[Rule(f"s{i}", p, None) for i, p in enumerate(safe)],
        negated=[Rule(f"n{i}", p, None) for i, p in enumerate(negated)],
        rules=[Rule(f"r{i}", p, "suicide") for i, p in enumerate(rules)],
        lexicon=["suicidal"],
    )


def test_every_alternative_respects_word_boundaries() -> None:
    s = screen("svv|abc")
    assert s.screen("svv").crisis
    assert not s.screen("svp merci").crisis
    assert not s.screen("xsvv").crisis


def test_patterns_are_normalised_like_text() -> None:
    s = screen("me quiero morir", "tengo ganas de morír")
    assert s.screen("ME QUIEROOO MORIR!!!").rule == "r0"
    assert s.screen("tengo ganas de morir").rule == "r1"


def test_safe_idioms_are_blanked_but_do_not_hide_a_crisis() -> None:
    s = screen("kill myself", "(?:\\w+ ){0,2}killed it", safe=("killed it",))
    assert not s.screen("we killed it tonight").crisis
    assert s.screen("we killed it tonight and now i want to kill myself").crisis


def test_negated_mentions_get_a_check_and_name_the_rule() -> None:
    s = screen("suicidal", negated=("not suicidal",))
    verdict = s.screen("im not suicidal just tired")
    assert verdict.level is Level.CHECK and verdict.rule == "n0"
    assert s.screen("not suicidal? i am suicidal").crisis


def test_typos_are_corrected_only_towards_the_lexicon() -> None:
    s = screen("suicidal")
    assert s.screen("feeling suicidial").crisis
    assert s.screen("feeling sucidal").crisis
    assert not s.screen("feeling social").crisis


def test_leetspeak_inside_words_is_read() -> None:
    assert screen("kill myself").screen("k1ll mys3lf").crisis
