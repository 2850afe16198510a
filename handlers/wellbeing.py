"""Everyday struggles of music life, a breathing exercise, and mood check-ins."""

from __future__ import annotations

from bot.dispatch import Context, Router

router = Router()

TOPICS = (
    "tour",
    "studio",
    "burnout",
    "stage_fright",
    "anxiety",
    "low_mood",
    "sleep",
    "substances",
    "fame_pressure",
    "loneliness",
)
MOODS = ("1", "2", "3", "4", "5")


@router.intent(*TOPICS)
async def topic(ctx: Context) -> None:
    assert ctx.match is not None
    ctx.say(
        ctx.t(f"topic_{ctx.match.intent}"),
        ctx.intent_button("breathing"),
        ctx.intent_button("talk_to_human"),
        ctx.intent_button("menu"),
    )


@router.intent("breathing")
async def breathing(ctx: Context) -> None:
    ctx.say(ctx.t("breathing_box"), ctx.intent_button("menu"))


@router.intent("checkin")
async def checkin(ctx: Context) -> None:
    ctx.say(ctx.t("checkin_ask"), *(ctx.button(f"mood_label_{m}", f"mood:{m}") for m in MOODS))


@router.payload("mood")
async def mood(ctx: Context) -> None:
    if ctx.arg not in MOODS:
        await checkin(ctx)
        return
    if int(ctx.arg) <= 2:
        ctx.say(
            ctx.t("mood_low"),
            ctx.intent_button("talk_to_human"),
            ctx.intent_button("breathing"),
            ctx.intent_button("crisis_lines"),
        )
    else:
        ctx.say(ctx.t(f"mood_{ctx.arg}"), ctx.intent_button("menu"))
