"""The crisis screen's mechanics, on small invented rule sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.config import Paths
from bot.engine import Services
from bot.safety.concepts import Combo, Concepts
from bot.safety.patterns import compiled
from bot.safety.screen import (
    _WORD,
    DEAD_ENDING,
    TRIED_EVERYWHERE,
    CrisisScreen,
    Level,
    Rule,
    _needed_words,
    _parse,
)
from bot.textnorm import normalize
from bot.yamlfile import DataError, Problem, load


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


def test_ligatures_are_spelled_out_not_dropped() -> None:
    assert normalize("J'ai le cœur en miettes, Æsop, Søren") == "jai le coeur en mietes aesop soren"
    assert screen("ma soeur veut mourir").screen("Ma sœur veut mourir").crisis


def test_accents_go_whatever_the_script_and_however_they_were_typed() -> None:
    # precomposed, typed as a letter plus a combining accent, an accent from
    # outside the Latin block, and a joiner that is no accent (it splits words)
    assert normalize("Ça me tue, j'ai tué le mix") == "ca me tue jai tue le mix"
    assert normalize("nao aguento mais, ja\u0301 chega") == "nao aguento mais ja chega"
    assert normalize("mo\u20d7rir") == "morir"
    assert normalize("mo\u034frir") == "mo rir"
    assert normalize("Кровь mo\u0301rir") == "morir"


# ------------------------------------------------------------ concept combos


def combo_screen(*combos: Combo) -> CrisisScreen:
    """Two tiny languages that share concept names but not words."""
    en = Concepts(
        Path("en.yaml"),
        "en",
        {"ROPE": ["rope"], "TIME": ["tonight"], "RIGGING": ["backdrop"]},
        {},
    )
    xx = Concepts(
        Path("xx.yaml"), "xx", {"ROPE": ["soga"], "TIME": ["hoy"], "RIGGING": ["telon"]}, {}
    )
    return CrisisScreen([], [], [], [], concepts=[en, xx], combos=list(combos))


ROPE_PLAN = Combo("rope_plan", "suicide", (frozenset({"ROPE"}), frozenset({"TIME"})), 4)


def test_a_combo_fires_when_its_concepts_meet_within_the_window() -> None:
    s = combo_screen(ROPE_PLAN)
    verdict = s.screen("a rope in the van. tonight")
    assert verdict.crisis and verdict.rule == "en_combo_rope_plan"
    assert verdict.category == "suicide"
    assert not s.screen("the rope is in the van with the amps and cables tonight").crisis
    assert not s.screen("tonight").crisis


def test_concepts_of_different_languages_do_not_combine() -> None:
    s = combo_screen(ROPE_PLAN)
    assert s.screen("soga hoy").rule == "xx_combo_rope_plan"
    assert not s.screen("rope hoy").crisis


def test_an_unless_concept_near_the_span_cancels_it() -> None:
    rigging = Combo(
        "rope_plan",
        "suicide",
        (frozenset({"ROPE"}), frozenset({"TIME"})),
        4,
        frozenset({"RIGGING"}),
    )
    s = combo_screen(rigging)
    assert not s.screen("rope for the backdrop tonight").crisis
    assert not s.screen("rope tonight for the backdrop").crisis
    assert s.screen("rope tonight. tomorrow we hang the big backdrop").crisis


def test_a_slot_can_take_either_concept() -> None:
    either = Combo("rope_any", "suicide", (frozenset({"ROPE"}), frozenset({"TIME", "RIGGING"})), 4)
    assert combo_screen(either).screen("rope and telon").crisis is False
    assert combo_screen(either).screen("rope and backdrop").crisis


def test_combos_run_after_idioms_are_blanked() -> None:
    s = CrisisScreen(
        safe=[Rule("s0", "rope a dope", None)],
        negated=[],
        rules=[],
        lexicon=[],
        concepts=[Concepts(Path("en.yaml"), "en", {"ROPE": ["rope"], "TIME": ["tonight"]}, {})],
        combos=[ROPE_PLAN],
    )
    assert not s.screen("rope a dope tonight").crisis


def write_rules(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def refused(directory: Path, lines: str) -> list[Problem]:
    """What loading an English rule file holding these lines refuses."""
    write_rules(directory, "en.yaml", f"lang: en\n{lines}")
    with pytest.raises(DataError) as caught:
        CrisisScreen.from_dir(directory)
    return caught.value.problems


def test_concept_data_errors_name_file_line_and_field(tmp_path: Path) -> None:
    write_rules(tmp_path, "en.yaml", "lang: en\nconcepts:\n  ROPE: ['rope']\n  time: ['x']\n")
    write_rules(tmp_path, "es.yaml", "lang: es\nconcepts:\n  ROPE: ['(soga']\n  UNUSED: ['x']\n")
    write_rules(
        tmp_path,
        "combos.yaml",
        "combos:\n  - id: rope_plan\n    category: suicide\n    all: [ROPE, TIME]\n"
        "  - id: Bad\n    category: nope\n    all: [ROPE]\n    window: 99\n",
    )
    with pytest.raises(DataError) as caught:
        CrisisScreen.from_dir(tmp_path)
    found = {(p.path.name, p.line, p.field) for p in caught.value.problems}
    assert ("en.yaml", 4, "concepts.time") in found  # not UPPER_CASE
    assert ("es.yaml", 3, "concepts.ROPE[0]") in found  # bad pattern
    assert ("es.yaml", 4, "concepts.UNUSED") in found  # no combo uses it
    assert ("combos.yaml", 2, "combos.rope_plan") in found  # TIME missing in a language
    assert {
        ("combos.yaml", 5, f"combos[1].{f}") for f in ("id", "category", "all", "window")
    } <= found


def test_a_rule_with_a_path_ending_in_a_space_is_refused(tmp_path: Path) -> None:
    """Without "off", the path ends in "me " and could never match "switch me for good"."""
    dead = "switch me (?:off)?(?= for good|$)"
    problems = refused(
        tmp_path, f"rules:\n  - id: en_off\n    category: suicide\n    pattern: '{dead}'\n"
    )
    assert [(p.line, p.field) for p in problems] == [(3, "rules[0].pattern")]
    mended = "switch me(?: off)?(?= for good|$)"
    s = CrisisScreen(safe=[], negated=[], rules=[Rule("en_off", mended, "suicide")], lexicon=[])
    assert s.screen("switch me for good").rule == "en_off"
    assert s.screen("just switch me off").rule == "en_off"


def test_a_pattern_spelling_out_what_normalised_text_never_holds_is_refused(
    tmp_path: Path,
) -> None:
    """Found in the rule files: "a&e" and "(?:and|&)" (the text has "a e"), an emoji,
    and a doubled backslash in single quotes, which made "(?:\\\\w+ ){0,3}" a literal
    backslash and quietly dropped the words it was there to allow."""
    stray = "(?:rushed|took) (?:him|her) to (?:\\\\w+ ){0,2}(?:a&e|hospital)"
    problems = refused(
        tmp_path, f"rules:\n  - id: en_ae\n    category: harm_others\n    pattern: '{stray}'\n"
    )
    assert [(p.line, p.field) for p in problems] == [(3, "rules[0].pattern")]
    assert "'&'" in problems[0].message and "'\\\\'" in problems[0].message
    mended = stray.replace("\\\\", "\\").replace("a&e", "a e")
    for pattern, fired in ((stray, None), (mended, "en_ae")):
        s = CrisisScreen([], [], [Rule("en_ae", pattern, "harm_others")], lexicon=[])
        assert s.screen("took her to the local A&E").rule == fired


def test_a_rule_tried_at_every_word_is_refused(tmp_path: Path) -> None:
    """A whole-text guard first and articles next: nothing tells the index where it can
    start or what it needs, so every message would pay for it at nearly every word."""
    owner = "(?:the|a|my|his|her|our|your|one)"
    slow = f"(?!.*how many){owner} ?(?:\\w+ )?(?:character|hero)(?: \\w+){{1,5}}"
    problems = refused(tmp_path, f"safe:\n  - id: en_safe_hero\n    pattern: '{slow}'\n")
    assert [(p.line, p.field) for p in problems] == [(3, "safe[0].pattern")]
    mended = f"{owner} (?:\\w+ )?(?:character|hero)(?!.*how many)(?: \\w+){{1,5}}"
    write_rules(
        tmp_path, "en.yaml", f"lang: en\nsafe:\n  - id: en_safe_hero\n    pattern: '{mended}'\n"
    )
    blanked, _ = CrisisScreen.from_dir(tmp_path).analyse("in the play my hero dies at the end")
    assert "hero" not in blanked and blanked.startswith("in the play")


def test_concept_terms_are_checked_as_rule_alternatives_are(tmp_path: Path) -> None:
    """Concept terms are indexed and tried like rules: a term no word places is tried
    at every word (a German one cost 2 us a message), and one ending in a space never
    matches (five such sat unnoticed in the rule files)."""
    write_rules(
        tmp_path,
        "en.yaml",
        "lang: en\nconcepts:\n  ROPE:\n    - rope\n    - '\\w+ropes'\n"
        "  TIME:\n    - tonight\n    - 'at (?!noon)'\n",
    )
    write_rules(
        tmp_path,
        "combos.yaml",
        "combos:\n  - id: rope_plan\n    category: suicide\n    all: [ROPE, TIME]\n",
    )
    with pytest.raises(DataError) as caught:
        CrisisScreen.from_dir(tmp_path)
    found = {(p.line, p.field, p.message) for p in caught.value.problems}
    assert found == {
        (5, "concepts.ROPE[1]", TRIED_EVERYWHERE),
        (8, "concepts.TIME[1]", DEAD_ENDING),
    }


def test_bench_can_see_what_each_rule_costs_and_the_screen_is_plain_again_after() -> None:
    rules = [Rule("en_die", "want to die", "suicide"), Rule("en_kms", "kms", "suicide")]
    s = CrisisScreen(
        safe=[Rule("en_safe_killed_it", "killed it", None)], negated=[], rules=rules, lexicon=[]
    )
    cost: dict[str, float] = {}
    with s.timed(cost):
        assert s.screen("we killed it and i want to die").rule == "en_die"
    assert set(cost) == {"en_safe_killed_it", "en_die"} and min(cost.values()) > 0
    before = dict(cost)
    assert s.screen("i want to die").rule == "en_die"
    assert cost == before


# ---------------------------------------------- the shipped data, as people write

COMBO_EXAMPLES = [
    ("crash_wish", "honestly wouldnt mind if the tour bus went off the road with me in it"),
    ("crash_wish", "si le camion se plante cette nuit, tant mieux"),
    ("crash_wish", "se a van capotar na estrada hoje, melhor pra mim"),
    ("better_without_me", "la banda estaria mejor sin mi"),
    ("better_without_me", "le groupe serait mieux sans moi, vraiment"),
    ("why_alive", "pa que sigo vivo"),
    ("why_alive", "wozu leb ich noch"),
    ("no_wake", "queria dormir na van e nao acordar mais"),
    ("no_wake", "ich mochte einschlafen und nie wieder aufwachen"),
    ("want_not_live", "ICH WILL NICH MEHR LEBEN"),
    ("means_question", "con cuantos rivotril ya no te despiertas"),
    ("means_question", "how many sleeping pills until you dont wake up"),
    ("fall_fatal", "de qual andar uma queda e fatal"),
    ("fall_fatal", "ab welchem stockwerk ist ein sturz todlich"),
    ("place_quick", "les rails derriere la salle, je veux que ce soit rapide"),
    ("place_quick", "the highest bridge near the venue, i want it quick"),
    ("way_painless", "gibts nen weg zu gehen ohne schmerzen"),
    ("way_painless", "tem como ir sem sofrer?"),
    ("rope_plan", "the rope is in my gear case. tonight after load out"),
    ("rope_plan", "compre la cuerda hoy, cuando se vayan todos lo hago"),
    ("height_plan", "ive decided. hotel roof after the last gig"),
    ("height_plan", "cest decide, le toit de lhotel apres la derniere date"),
    ("means_to_end", "er hat sich tabletten besorgt um schluss zu machen"),
    ("means_to_end", "my drummer bought pills to end it all"),
    ("pills_take_all", "je garde mes cachets, je les prends tous ce soir"),
    ("pills_take_all", "to guardando remedio faz semanas, hoje tomo tudo"),
    ("note_left", "ya deje una nota en el local, manana ya no voy a estar"),
    ("note_left", "deixei uma carta pro meu irmao, e amanha cedo"),
    ("gave_away", "gave all my guitars away today, wont need them"),
    ("gave_away", "jai revendu mon matos, je men vais pour de bon"),
    ("sorry_silent", "mon bassiste ma envoye pardon pour tout et repond plus"),
    ("sorry_silent", "unser sanger hat sorry fur alles geschrieben und geht nicht ran"),
    ("taken_amount", "took my whole month of antidepressants at once"),
    ("taken_amount", "hab alles geschluckt was in der reiseapotheke war"),
    ("taken_amount", "engoli tudo que tinha, remedio e bebida, to apagando"),
    ("od_on_purpose", "od'd on purpose i think"),
    ("urge_self_harm", "the urge to sh is so strong rn"),
    ("urge_self_harm", "tengo unas ganas horribles de cortarme"),
    ("hidden_cuts", "long sleeves on stage so nobody sees the fresh cuts"),
    ("hidden_cuts", "spiel nur mit schweissbandern damit keiner die schnitte sieht"),
    ("burn_self", "ich verbrenn mich mit dem feuerzeug nach jedem gig"),
    ("burn_self", "je me brule avec ma clope apres chaque concert"),
    ("third_self_harm", "mi novio se esta cortando en el bano del bus"),
    ("third_self_harm", "minha namorada ta se cortando no banheiro"),
    ("attack", "im going to smash the producers skull in when he walks in"),
    ("attack", "vou arrebentar a cabeca do produtor quando ele entrar"),
    ("run_over", "ich schwor ich fahr meinen ex uber den haufen"),
    ("run_over", "juro que atropello a mi ex con la furgo"),
    ("arson", "ce soir je fous le feu a lappart du manager avec lui dedans"),
    ("arson", "esta noche lo quemo vivo, ya tengo la gasolina"),
    ("weapon_revenge", "hab ein messer dabei, der manager wird heute bezahlen"),
    ("weapon_revenge", "got a knife in my jacket, the promoter is gonna pay"),
    ("know_where", "quero machucar o cara, sei onde ele mora"),
    ("know_where", "ich will ihm wehtun, ich weiss wo er wohnt"),
    ("threat_at_door", "mi ex esta aporreando la puerta gritando que me va a matar"),
    ("threat_at_door", "my ex is banging on my door saying hes going to kill me"),
    ("beating_now", "a la corista le esta pegando su novio ahora mismo"),
    ("beating_now", "her boyfriend is beating her in the car park right now"),
    ("waiting_armed", "des mecs nous attendent devant la salle avec des battes"),
    ("waiting_armed", "tem uns caras esperando a gente na saida com tacos"),
    ("dragged_held", "der typ hat mich in den lagerraum gezerrt und halt die tur zu"),
    ("dragged_held", "o seguranca me arrastou pro deposito e trancou a porta"),
]


@pytest.fixture(scope="module")
def combos_only(paths: Paths, tmp_path_factory: pytest.TempPathFactory) -> CrisisScreen:
    """The shipped safety data without its phrase rules: each combo must stand alone."""
    directory = tmp_path_factory.mktemp("combos_only")
    for path in paths.safety.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.pop("rules", None)
        (directory / path.name).write_text(yaml.safe_dump(data), encoding="utf-8")
    return CrisisScreen.from_dir(directory)


@pytest.mark.parametrize(("combo", "text"), COMBO_EXAMPLES)
def test_each_combo_catches_its_examples_on_its_own(
    services: Services, combos_only: CrisisScreen, combo: str, text: str
) -> None:
    assert services.screen.screen(text).crisis, text
    verdict = combos_only.screen(text)
    assert verdict.rule is not None and verdict.rule.endswith(f"_combo_{combo}"), verdict.rule


def test_every_shipped_combo_has_examples(paths: Paths) -> None:
    raw = load(paths.safety / "combos.yaml")
    assert {c["id"] for c in raw["combos"]} == {combo for combo, _ in COMBO_EXAMPLES}


SLANG_AND_NEAR_MISSES = [
    # the everyday language of music, in all five languages
    "we absolutely killed it tonight",
    "dying to play that venue next year",
    "crowd was dead in leeds",
    "gonna cut the track down to 3 min",
    "this tour is killing me lol, 14 shows in 15 days",
    "anoche la matamos en la sala",
    "esta gira me esta matando jajaja",
    "el publico de hoy estaba muerto",
    "je meurs denvie de jouer aux Vieilles Charrues",
    "cette tournee me tue mdr",
    "le real veut tuer le deuxieme refrain",
    "diese tour bringt mich um haha",
    "das publikum war heute tot",
    "essa turne ta me matando kkkk",
    "esse riff e de matar",
    # concept words without the crisis
    "we crashed at the promoters place after the show",
    "hope the van doesnt break down on the way to leeds",
    "i dont care if the van crashes our schedule",
    "need rope to tie down the backdrop tonight",
    "compre una cuerda nueva para la guitarra hoy",
    "comprei uma corda nova pro violao hoje",
    "i took all my meds this morning like the doc said",
    "tomei todos os meus remedios hoje de manha",
    "left a note for the sound guy about the monitors tomorrow",
    "gave my old pedals to a friend, need space",
    "sorry for everything yesterday, ill buy the first round",
    "the urge to write is so strong right now",
    "tengo ganas de cortarme el pelo antes de la gira",
    "im gonna smash this solo tonight",
    "gonna set the place on fire tonight with this new set",
    "on va mettre le feu a la salle ce soir",
    "le label va payer le studio ce soir",
    "das label wird uns freitag bezahlen",
    "the crowd was waiting for us outside the hotel",
    "i know where he lives, ill drop the gear off tomorrow",
    "i wanna sleep in tomorrow and not wake up till noon",
    "i dont want to live in london anymore",
    "ich will nicht mehr in berlin leben",
    "whats the tallest building in tokyo, we play there friday",
    "that drop is fatal, crowd lost it",
    # declining an offer or signing off: the answer to "would you like a person?"
    "goodbye",
    "thanks, see ya",
    "not now",
    "no thanks",
    "thats not what i asked",
    "nicht jetzt",
    "nein danke",
    "pas maintenant",
    "non merci",
    "ahora no",
    "no gracias",
    "agora nao",
    "nao obrigado",
]


@pytest.mark.parametrize("text", SLANG_AND_NEAR_MISSES)
def test_slang_and_near_misses_stay_calm(services: Services, text: str) -> None:
    assert not services.screen.screen(text).crisis, services.screen.screen(text).rule


@pytest.mark.parametrize(
    "text",
    [
        "as vozes dizem para eu me cortar",  # "eu me cortava" is past; this is not
        "je veux couper le son de ma vie pour toujours",  # not the mixing desk's "couper le son"
    ],
)
def test_idioms_and_past_forms_do_not_hide_a_crisis(services: Services, text: str) -> None:
    """Blanking runs before the crisis rules: a blanked crisis reaches only the model."""
    assert services.screen.analyse(normalize(text))[0] == normalize(text)
    assert services.screen.screen(text).crisis


def test_the_rule_index_never_loses_a_match(services: Services, paths: Paths) -> None:
    """The indexes (words a rule needs, first words, word beginnings, first letters)
    are derived from the regex parse tree; for the shipped rules they must find
    exactly what trying every rule at every word finds."""
    lines = [
        normalize(json.loads(line)["text"])
        for path in sorted(paths.safety.glob("corpus/*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    screen = services.screen
    for rules, texts in (
        (screen._safe, lines[::20]),
        (screen._negated, lines[::20]),
        (screen._crisis, lines[::20]),
        (screen._concepts, lines[::200]),
    ):
        whole = [(rule, compiled(rule.pattern)) for rule in rules.rules]
        for text in texts:
            tried = [
                [
                    (rule, found.end())
                    for rule, pattern in whole
                    if (found := pattern.match(text, at))
                ]
                for at in (word.start() for word in _WORD.finditer(text))
            ]
            assert {(n, rule.id) for n, rule in rules.every(text)} == {
                (n, rule.id) for n, found in enumerate(tried) for rule, _ in found
            }, text
            assert rules.blank(text) == _blank_with_first_matches(text, tried), text


def _blank_with_first_matches(text: str, tried: list[list[tuple[Rule, int]]]) -> str:
    """What blanking must give: at each word, left to right, the first rule that
    matches as a whole (the index tries a rule's alternatives one by one)."""
    pieces, last = [], 0
    for word, found in zip(_WORD.finditer(text), tried, strict=True):
        if found and word.start() >= last:
            pieces += [text[last : word.start()], " | "]
            last = max(found[0][1], word.start() + 1)
    return "".join(pieces) + text[last:] if pieces else text


@pytest.mark.parametrize(
    ("pattern", "needed"),
    [
        ("me (?:quiero|voy a) (?:matar|morir)", {"matar", "morir"}),
        ("su[i1]cid\\w*", {"suicid*", "su1cid*"}),
        ("(?:kil|end) (?:myself|me)", {"kil", "end"}),
        ("i (?:\\w+ ){0,3}want to die", {"want"}),
        ("(?:took|swallowed) (?:\\w+ )?pil\\w*", {"swallowed", "took"}),
        ("ich will (?:nicht mehr leben|sterben)", {"nicht", "sterben"}),
        ("(?:sui|su)cide", {"suicide", "sucide"}),
        ("\\w+ \\w+", None),
    ],
)
def test_a_rule_needs_the_words_its_pattern_spells_out(
    pattern: str, needed: set[str] | None
) -> None:
    parsed = _parse(pattern)
    assert parsed is not None
    assert _needed_words(parsed, True, True) == needed
