"""What a rule helper's edits to safety/LANG.yaml do, before and after.

    python docs/rounds/roundcheck.py LANG ROUND.jsonl --save   # once, before editing
    python docs/rounds/roundcheck.py LANG ROUND.jsonl          # after each edit
    python docs/rounds/roundcheck.py LANG ROUND.jsonl --calm   # D's lines too

Rules and combos only (the model is switched off). Compared with the baseline:
  A. crisis training lines whose blanked text changed (a safe idiom touching a
     real crisis line: must be 0), in every language,
  B. crisis training lines the rules and combos caught and now miss (must be 0),
     in every language: every language's rules run on every message, and
     "me mato" is Portuguese and Spanish alike,
  C. the round's calm lines of LANG still fired, before -> now,
  D. calm training lines of LANG fired, before -> now,
  E. the round's crisis lines of LANG missed, before -> now, with their kind,
  F. rules that fire on a calm line now and on none before,
  G. calm training lines of other languages that LANG's own rules fire on.
With --calm, D and G list the lines, with the rule: what a near-miss pass
(narrowing rules that fire on calm wording) reads.
Texts are printed: the round is one the helper may read; never point it at a
round that is to measure the helper, or at eval/*heldout*.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.safety.screen import CrisisScreen  # noqa: E402
from bot.textnorm import normalize  # noqa: E402

State = dict[tuple[bool, str], tuple[bool, str, bool, str | None, str]]
"""(in the round, text) -> (crisis, blanked text, fired, rule, language)."""


def lines(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def measure(lang: str, round_file: Path) -> tuple[State, dict[str, str]]:
    screen = CrisisScreen.from_dir(ROOT / "safety")
    screen.model = None
    round_lines = lines(round_file)
    files = sorted((ROOT / "safety" / "corpus").glob("*.jsonl"))
    files += sorted((ROOT / "eval").glob("crisis_dev*.jsonl"))
    files = [f for f in files if lines(f)[:1] != round_lines[:1]]  # the round's corpus copy
    state: State = {}
    for in_round, item in [(False, item) for f in files for item in lines(f)] + [
        (True, item) for item in round_lines
    ]:
        if item.get("crisis") is None or (in_round and item.get("lang") != lang):
            continue
        text = str(item["text"])
        verdict = screen.screen(text)
        crisis, fired = bool(item["crisis"]), verdict.crisis
        # only A reads the blanked text, and only of crisis lines
        blanked = screen.analyse(normalize(text))[0] if crisis else ""
        if crisis or fired or item.get("lang") == lang:  # calm lines of others: only if fired
            state[(in_round, text)] = (crisis, blanked, fired, verdict.rule, str(item["lang"]))
    kinds = {str(item["text"]): str(item["kind"]) for item in round_lines}
    return state, kinds


def report(lang: str, base: State, now: State, kinds: dict[str, str], list_calm: bool) -> None:
    def fired(state: State, in_round: bool, crisis: bool) -> list[str]:
        return [
            k[1]
            for k, v in state.items()
            if k[0] == in_round and v[0] == crisis and v[2] and v[4] == lang
        ]

    def theirs(state: State) -> list[str]:
        """Calm lines of other languages that a rule or combo of LANG fires on."""
        return sorted(
            f"{v[4]} {v[3]} | {k[1]}"
            for k, v in state.items()
            if not k[0] and not v[0] and v[2] and v[4] != lang and str(v[3]).startswith(f"{lang}_")
        )

    changed = [k[1] for k, v in now.items() if v[0] and k in base and base[k][1] != v[1]]
    lost = [k[1] for k, v in now.items() if v[0] and k in base and base[k][2] and not v[2]]
    print(f"A. crisis lines whose blanking changed: {len(changed)}", *changed, sep="\n   ")
    print(f"B. crisis lines lost by rules/combos: {len(lost)}", *lost, sep="\n   ")
    calm = [f"{now[(True, t)][3]} | {t}" for t in fired(now, True, False)]
    print(f"C. round calm lines fired: {len(fired(base, True, False))} -> {len(calm)}")
    print(*calm, sep="\n   ")
    calm_before, calm_now = len(fired(base, False, False)), len(fired(now, False, False))
    print(f"D. calm training lines fired: {calm_before} -> {calm_now}")
    if list_calm:
        print(*sorted(f"{now[(False, t)][3]} | {t}" for t in fired(now, False, False)), sep="\n   ")
    missed = [k[1] for k, v in now.items() if k[0] and v[0] and not v[2]]
    before = sum(1 for k, v in base.items() if k[0] and v[0] and not v[2])
    print(f"E. round crisis lines missed: {before} -> {len(missed)}")
    print(*(f"{kinds.get(t, '?')} | {t}" for t in missed), sep="\n   ")
    new_rules = {v[3] for v in now.values() if not v[0] and v[2]} - {
        v[3] for v in base.values() if not v[0] and v[2]
    }
    print("F. rules newly firing on calm lines:", sorted(str(r) for r in new_rules))
    others, before_others = theirs(now), len(theirs(base))
    print(
        f"G. calm lines of other languages fired by {lang} rules: {before_others} -> {len(others)}"
    )
    if list_calm:
        print(*others, sep="\n   ")


def main() -> None:
    lang, round_file = sys.argv[1], Path(sys.argv[2])
    baseline = Path(f"/tmp/roundcheck_{lang}.pkl")
    state, kinds = measure(lang, round_file)
    if "--save" in sys.argv:
        baseline.write_bytes(pickle.dumps(state))
        print(f"baseline of {len(state)} lines saved to {baseline}")
    else:
        report(lang, pickle.loads(baseline.read_bytes()), state, kinds, "--calm" in sys.argv)


if __name__ == "__main__":
    main()
