"""`python -m bot check`: validate every data file and report all problems at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.answers import load_answers
from bot.config import LANGUAGES, Paths
from bot.guide import load_guide
from bot.intents import load_intents
from bot.language import load_language_names
from bot.resources import parse_resources
from bot.safety.screen import CrisisScreen
from bot.texts import Texts
from bot.yamlfile import DataError, Problem


def _collect(problems: list[Problem], load: Callable[[], Any]) -> Any:
    try:
        return load()
    except DataError as exc:
        problems.extend(exc.problems)
        return None


def check(paths: Paths) -> list[Problem]:
    """Every error and warning in the bot's data; empty when all is well."""
    from handlers import build_registry

    problems: list[Problem] = []
    intents = _collect(problems, lambda: load_intents(paths.intents, LANGUAGES))
    texts = _collect(problems, lambda: Texts.load(paths.texts, LANGUAGES))
    _collect(problems, lambda: CrisisScreen.from_dir(paths.safety))
    _collect(problems, lambda: load_language_names(paths.intents / "language_names.yaml"))
    _collect(problems, lambda: load_answers(paths.intents / "answers.yaml"))
    _collect(problems, lambda: load_guide(paths.guide))
    for lang in LANGUAGES:
        if not (paths.safety / f"{lang}.yaml").exists():
            problems.append(Problem(paths.safety / f"{lang}.yaml", 0, "(file)", "missing"))
    _, resource_problems = parse_resources(paths.resources)
    problems += resource_problems
    registry = build_registry()
    if intents is not None:
        for intent in intents.intents:
            if intent not in registry.intents:
                problems.append(
                    Problem(paths.intents, 0, intent, "no handler: add @router.intent in handlers/")
                )
            if texts is not None and not texts.has(f"intent_{intent}"):
                problems.append(Problem(paths.texts / "en.yaml", 0, f"intent_{intent}", "missing"))
        for intent in sorted(registry.intents.keys() - set(intents.intents)):
            problems.append(Problem(paths.intents, 0, intent, "handler without examples"))
    return problems


def report(problems: list[Problem]) -> tuple[str, int]:
    errors = [p for p in problems if not p.warning]
    lines = [str(p) for p in problems]
    lines.append(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    return "\n".join(lines), (1 if errors else 0)
