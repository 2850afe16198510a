"""Everyday struggles of music life: guide tips one at a time, and paced exercises.

Tips and exercise steps come from `guide.yaml` (bot.guide). The tips of each
topic a person has seen this round live in their lasting `memory` (a round
shows every tip once, and never the last one first, so no tip comes twice in
a row, whatever they did in between); the exercise step they are on lives in
`flow_data` of the WELLBEING flow. Typed messages are never trapped: anything other than "next"
or "stop" leaves the exercise and is answered as usual.
"""

from __future__ import annotations

import random
from typing import Any

from bot.dispatch import Context, Router
from bot.guide import EXERCISES, TOPICS
from bot.messages import Button
from bot.textnorm import normalize

router = Router()

WELLBEING = "wellbeing"
CALMING = frozenset({"stage_fright", "anxiety", "sleep"})
"""Topics whose tips also offer the exercises."""
_rng = random.Random()


def _data(ctx: Context) -> dict[str, Any]:
    return ctx.user.flow_data if ctx.user.flow == WELLBEING else {}


def _seen(ctx: Context, topic: str, count: int) -> list[int]:
    """Indices of this topic's tips shown this round, last shown at the end."""
    seen = ctx.user.memory.get("tips", {})
    raw = seen.get(topic, []) if isinstance(seen, dict) else []
    return [i for i in raw if isinstance(i, int) and 0 <= i < count]


def _keep(
    ctx: Context, topic: str | None = None, seen: list[int] | None = None, **extra: Any
) -> None:
    """Stay in the WELLBEING flow and remember the tips shown; `extra` is the exercise, if any."""
    if topic is not None:
        kept = ctx.user.memory.get("tips")
        tips = dict(kept) if isinstance(kept, dict) else {}
        tips[topic] = seen or []
        ctx.user.memory["tips"] = tips
    ctx.start_flow(WELLBEING, **extra)


def pick_tip(count: int, seen: list[int], rng: random.Random = _rng) -> list[int]:
    """`seen` plus the next tip: unseen this round, or a new round not starting with the last."""
    unseen = [i for i in range(count) if i not in seen]
    if unseen:
        return [*seen, rng.choice(unseen)]
    return [rng.choice([i for i in range(count) if i != seen[-1]])]


def _show_tip(ctx: Context, topic: str) -> None:
    tips = ctx.services.guide.tips[topic][ctx.lang]
    before = _seen(ctx, topic, len(tips))
    seen = pick_tip(len(tips), before)
    _keep(ctx, topic, seen)
    tip = tips[seen[-1]]
    buttons = [
        ctx.button("wb_btn_another_tip", f"tip:{topic}"),
        ctx.button("wb_btn_something_else", "tip:"),
        ctx.button("wb_btn_talk_to_someone", "intent:talk_to_human"),
    ]
    if topic in CALMING:
        buttons.insert(2, ctx.button("intent_breathing", "exercise:"))
    ctx.say(f"{ctx.t(f'wb_intro_{topic}')}\n\n{tip}" if not before else tip, *buttons)


@router.intent(*TOPICS)
async def topic(ctx: Context) -> None:
    assert ctx.match is not None
    _show_tip(ctx, ctx.match.intent)


@router.payload("tip")
async def tip_button(ctx: Context) -> None:
    """`tip:<topic>` shows a tip; `tip:` alone offers the topics."""
    if ctx.arg in TOPICS:
        _show_tip(ctx, ctx.arg)
        return
    _keep(ctx)
    ctx.say(
        ctx.t("wb_topics_ask"),
        *(ctx.button(f"intent_{t}", f"tip:{t}") for t in TOPICS),
        ctx.intent_button("menu"),
    )


# -- exercises -------------------------------------------------------------------


def _exercise_menu(ctx: Context, key: str = "wb_exercises_ask") -> None:
    exercises = ctx.services.guide.exercises
    ctx.say(
        ctx.t(key),
        *(Button(exercises[name][ctx.lang].title, f"exercise:{name}") for name in EXERCISES),
        ctx.intent_button("menu"),
    )


def _show_step(ctx: Context, name: str, index: int) -> None:
    exercise = ctx.services.guide.exercises[name][ctx.lang]
    total = len(exercise.steps)
    text = ctx.t("wb_step", n=index + 1, total=total, text=exercise.steps[index])
    if index == 0:
        text = f"{exercise.title}\n{ctx.t('wb_exercise_how')}\n\n{text}"
    if index + 1 < total:
        _keep(ctx, exercise=name, step=index)
        ctx.say(
            text,
            ctx.button("wb_btn_next", f"step:{name}.{index + 1}"),
            ctx.button("wb_btn_stop", "step:stop"),
        )
        return
    _keep(ctx)
    ctx.say(text)
    ctx.say(
        ctx.t("wb_exercise_done"),
        ctx.button("wb_btn_again", f"exercise:{name}"),
        ctx.button("wb_btn_other_exercise", "exercise:"),
        ctx.button("wb_btn_talk_to_someone", "intent:talk_to_human"),
        ctx.intent_button("menu"),
    )


def _stop(ctx: Context) -> None:
    _keep(ctx)
    ctx.say(
        ctx.t("wb_exercise_stopped"),
        ctx.button("wb_btn_other_exercise", "exercise:"),
        ctx.button("wb_btn_talk_to_someone", "intent:talk_to_human"),
        ctx.intent_button("menu"),
    )


def _running(ctx: Context) -> tuple[str, int] | None:
    """The exercise in progress and the step shown last, if any."""
    data = _data(ctx)
    name, step = data.get("exercise"), data.get("step")
    if name not in EXERCISES or not isinstance(step, int):
        return None
    last = len(ctx.services.guide.exercises[name][ctx.lang].steps) - 1
    return (name, step) if 0 <= step < last else None


@router.intent("breathing")
async def breathing(ctx: Context) -> None:
    _exercise_menu(ctx)


@router.payload("exercise")
async def exercise_button(ctx: Context) -> None:
    """`exercise:<name>` starts one; `exercise:` alone offers them all."""
    if ctx.arg in EXERCISES:
        _show_step(ctx, ctx.arg, 0)
    else:
        _exercise_menu(ctx)


@router.payload("step")
async def step_button(ctx: Context) -> None:
    """`step:<name>.<n>` shows step n of the running exercise (a double tap shows it again)."""
    running = _running(ctx)
    if ctx.arg == "stop":
        if running:
            _stop(ctx)
        else:
            _exercise_menu(ctx)
        return
    name, _, number = ctx.arg.partition(".")
    if running is None or running[0] != name or not number.isdigit():
        _exercise_menu(ctx, "wb_exercise_ended")
        return
    current = running[1]
    _show_step(ctx, name, int(number) if int(number) in (current, current + 1) else current)


def _words(ctx: Context, key: str) -> set[str]:
    """A comma-separated word list of every language: people type "ok" and "stop" anywhere."""
    texts = ctx.services.texts
    return {
        normalize(w) for lang in ctx.services.languages for w in texts.get(lang, key).split(",")
    }


@router.flow(WELLBEING)
async def typed(ctx: Context) -> bool:
    running = _running(ctx)
    if running is None:
        return False
    name, step = running
    if ctx.norm in _words(ctx, "wb_words_stop"):
        _stop(ctx)
        return True
    if ctx.norm in _words(ctx, "wb_words_next"):
        _show_step(ctx, name, step + 1)
        return True
    _keep(ctx)
    return False
