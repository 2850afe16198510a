"""Everyday struggles of music life and a breathing exercise."""

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
