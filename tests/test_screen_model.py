"""The crisis screen's learned third signal (bot/safety/model.py, training.py).

The paraphrases below were written for these tests, not taken from the labelled
sets (a test checks that); the slang is the screen's own list plus a few more.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Paths
from bot.engine import Services
from bot.evaluate import read_items
from bot.safety.model import MODEL_FILE, TextModel, read_model, write_model
from bot.safety.screen import CrisisScreen, Level
from bot.safety.training import (
    ALWAYS_TRAINED,
    CORPUS,
    CRISIS_SETS,
    FOLDS,
    HARD_WEIGHT,
    INTENT_SETS,
    MAX_SCALE,
    MIN_SCALE,
    Example,
    choose_threshold,
    figures,
    fingerprint,
    group_sources,
    input_scales,
    out_of_fold_scores,
    read_examples,
    train,
    within_budget,
)
from bot.textnorm import normalize
from bot.yamlfile import DataError
from tests.conftest import TestBot
from tests.test_screen import SLANG_AND_NEAR_MISSES

PARAPHRASES = {
    "en": [
        "dont see the point in waking up anymore honestly",
        "thinking the world is better off without my sorry self",
        "i want to stop being alive",
    ],
    "es": [
        "no quiero seguir aqui, ya no aguanto mas nada",
        "ya no le encuentro sentido a seguir vivo",
        "me tomé todas las pastillas del bote",
    ],
    "fr": [
        "je veux plus être là, je veux que tout s'arrête",
        "la vie n'a plus aucun sens, je veux partir pour de bon",
        "j'ai avalé toute la boîte de somnifères",
    ],
    "de": [
        "ich hab die ganze packung schlaftabletten genommen",
        "das leben hat keinen sinn mehr, ich will weg für immer",
        "hab mir nach dem gig wieder die arme aufgeritzt",
    ],
    "pt": [
        "tô pensando em acabar com tudo depois do show",
        "a vida perdeu o sentido, quero sumir pra sempre",
        "me cortei de novo depois do show",
    ],
}
ONLY_THE_MODEL = [
    "dont see the point in waking up anymore honestly",
    "i want to stop being alive",
    "no quiero seguir aqui, ya no aguanto mas nada",
]
"""Wordings no phrase rule or combo catches today: the model is what answers them."""
MORE_SLANG = [
    "my voice is shot after three nights in a row",
    "that snare sound is to die for",
    "the bridge of this song kills me every time",
    "me muero de ganas de tocar en mexico",
    "je suis mort de rire pendant la balance",
    "der drop ist der hammer, ich sterbe",
    "morri de rir na passagem de som",
]


@pytest.fixture(scope="module")
def examples(services: Services) -> list[Example]:
    return read_examples(PROJECT_ROOT, services.screen.analyse)


def model_of(services: Services) -> TextModel:
    assert services.screen.model is not None, f"safety/{MODEL_FILE} is missing"
    return services.screen.model


def model_fires(services: Services, text: str) -> bool:
    return model_of(services).fires(*services.screen.analyse(normalize(text)))


@pytest.mark.parametrize(
    "text", [text for texts in PARAPHRASES.values() for text in texts], ids=str
)
def test_the_model_alone_catches_unseen_paraphrases(services: Services, text: str) -> None:
    assert model_fires(services, text)
    assert services.screen.screen(text).crisis


def test_the_paraphrases_are_not_training_texts(
    services: Services, examples: list[Example]
) -> None:
    seen = {e.text for e in examples}
    for texts in PARAPHRASES.values():
        for text in texts:
            assert services.screen.analyse(normalize(text))[0] not in seen, text


@pytest.mark.parametrize("text", ONLY_THE_MODEL)
def test_where_rules_are_silent_the_model_answers_and_explains(
    services: Services, text: str
) -> None:
    verdict = services.screen.screen(text)
    assert verdict.crisis and verdict.rule == "model"
    why = services.screen.explain(text)
    assert why and all(weight > 0 for _, weight in why)


async def test_a_model_verdict_gets_the_crisis_reply_and_its_words_stay_out_of_logs(
    testbot: TestBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await testbot.send("dont see the point in waking up anymore honestly")
    assert response.crisis and response.rule == "model"
    assert "findahelpline.com" in testbot.text
    assert "waking" not in caplog.text and "point" not in caplog.text


@pytest.mark.parametrize("text", SLANG_AND_NEAR_MISSES + MORE_SLANG)
def test_the_model_stays_silent_on_slang(services: Services, text: str) -> None:
    assert not model_fires(services, text)


def test_negated_mentions_are_blanked_before_the_model(services: Services) -> None:
    assert services.screen.screen("im not suicidal just tired").level is Level.CHECK


def test_committed_weights_match_the_training_data(paths: Paths, examples: list[Example]) -> None:
    header = read_model(paths.safety / MODEL_FILE)[1]
    assert header.fingerprint == fingerprint(examples), (
        "training data or blanking rules changed: run `python -m bot train-screen`"
    )


def test_training_never_reads_held_out_sets() -> None:
    read = [*(PROJECT_ROOT / "eval").glob(CRISIS_SETS), *(PROJECT_ROOT / "eval").glob(INTENT_SETS)]
    assert read and not any("heldout" in path.name for path in read)


def test_the_corpus_holds_no_held_out_text() -> None:
    """Corpus writers never saw the held-out sets, but the same short message can be
    written twice by chance: such lines are left out of the corpus."""
    held = {
        normalize(item.text)
        for path in (PROJECT_ROOT / "eval").glob("*heldout*.jsonl")
        for item in read_items(path)
    }
    corpus = [
        normalize(json.loads(line)["text"])
        for path in (PROJECT_ROOT / "safety").glob(CORPUS)
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert held and len(corpus) > 5000
    assert not held & set(corpus)


def test_training_is_deterministic(examples: list[Example]) -> None:
    sample = examples[::20]
    first, second = train(sample), train(sample)
    assert first.weights == second.weights and first.bias == second.bias
    assert any(e.crisis for e in sample) and first.weights


def test_cross_validation_scores_each_source_unseen_and_reports_each_fold(
    examples: list[Example],
) -> None:
    sources = sorted({e.source for e in examples} - {ALWAYS_TRAINED})[:4]
    sample = [e for e in examples[::10] if e.source in sources]
    told: list[str] = []
    scored = out_of_fold_scores(sample, told.append, folds=3)
    assert sorted(e.raw for e, _ in scored) == sorted(e.raw for e in sample)
    groups = group_sources(sample, folds=3)
    assert len(told) == 3 and all(
        line.startswith(f"fold {n}/3: ") for n, line in enumerate(told, 1)
    )
    held_out = groups[0]
    unseen = train([e for e in sample if e.source not in held_out])
    first = next(e for e in sample if e.source in held_out)
    assert {e.raw: s for e, s in scored}[first.raw] == unseen.score(first.text, first.concepts)


def test_folds_keep_each_source_whole_and_about_the_same_size(examples: list[Example]) -> None:
    groups = group_sources(examples)
    sources = [s for group in groups for s in group]
    assert sorted(sources) == sorted({e.source for e in examples} - {ALWAYS_TRAINED})
    sizes = [sum(e.source in group for e in examples) for group in groups]
    assert len(groups) == FOLDS and max(sizes) < 1.2 * min(sizes)


def test_features_telling_the_classes_apart_get_the_larger_input_scale() -> None:
    # (calm texts, crisis texts) holding each feature
    even, crisis_leaning, crisis_only, calm_only = input_scales(
        [(50, 50), (10, 40), (0, 60), (90, 0)]
    )
    assert even == pytest.approx(MIN_SCALE, abs=0.01)
    assert MIN_SCALE < crisis_leaning < crisis_only <= MAX_SCALE
    assert calm_only > crisis_leaning  # telling either way: calm evidence counts too


def test_weights_survive_the_file(tmp_path: Path, services: Services) -> None:
    """Loading speed is measured by `bench`, which prints the load time, not asserted here."""
    model = model_of(services)
    header = read_model(PROJECT_ROOT / "safety" / MODEL_FILE)[1]
    write_model(tmp_path / MODEL_FILE, model, header, ["note"])
    again, again_header = read_model(tmp_path / MODEL_FILE)
    assert again_header == header and again.weights == model.weights
    text, concepts = services.screen.analyse("i want to stop being alive")
    assert again.score(text, concepts) == model.score(text, concepts)


def test_a_broken_weights_file_names_its_line(tmp_path: Path, paths: Paths) -> None:
    for path in paths.safety.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / MODEL_FILE).write_text(
        "threshold\t1.0\nbias\t0\nfingerprint\tx\n\nw=die\tlots\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as caught:
        CrisisScreen.from_dir(tmp_path)
    assert [(p.path.name, p.line) for p in caught.value.problems] == [(MODEL_FILE, 5)]


def test_the_threshold_is_the_lowest_within_budget_pooled_and_per_language() -> None:
    examples, scores = [], []
    for lang, shift in (("en", 0.0), ("de", 0.5)):
        for n in range(100):
            examples.append(Example("", "x", (), lang, False, n % 2 == 0))
            scores.append(n / 100 + shift)
        for n in range(10):
            examples.append(Example("", "y", (), lang, True, True))
            scores.append(0.5 + n / 10)
    twins = [Example("", "z", (), "en", False, True, twin=True) for _ in range(50)]
    threshold = choose_threshold(examples + twins, scores + [2.0] * len(twins))
    assert threshold == choose_threshold(examples, scores)  # twins are outside the budget
    table = figures(examples, [s >= threshold for s in scores])
    assert within_budget(table)
    # One language may pass the pooled budget, up to its own looser one.
    assert table["de"].alarmed == 3
    assert table["all"].alarmed == 3
    lower = max(s for e, s in zip(examples, scores, strict=True) if s < threshold and not e.crisis)
    assert not within_budget(figures(examples, [s >= lower for s in scores]))


def test_only_a_calm_line_can_be_a_twin(tmp_path: Path) -> None:
    """A twin leaves the false-alarm budget; a crisis line marked as one would
    silently leave the recall the threshold is chosen for."""
    corpus = tmp_path / "safety" / "corpus"
    corpus.mkdir(parents=True)
    line = {"text": "is the lake deep enough, asking for me", "lang": "en"}
    line |= {"crisis": True, "kind": "means", "twin": True}
    (corpus / "en.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"en\.jsonl:1: twin is true only on a calm line"):
        read_examples(tmp_path, lambda text: (text, []))


def test_a_twin_counts_as_a_plain_calm_line() -> None:
    """At the near-miss weight, twins taught the model to distrust the words they
    share with crisis lines, and it missed crisis lines it had caught."""
    near_miss = Example("", "the lake is deep", (), "en", False, True)
    assert near_miss.weight == HARD_WEIGHT
    assert replace(near_miss, twin=True).weight == 1.0
    assert replace(near_miss, hard=False).weight == 1.0
