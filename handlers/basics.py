"""Greeting, the menu, thanks, goodbye, and what the bot cannot help with."""

from __future__ import annotations

from bot.dispatch import Context, Router

router = Router()

MENU = (
    "crisis_lines",
    "talk_to_human",
    "find_care",
    "therapy_access",
    "grants",
    "programs",
    "tour",
    "breathing",
    "checkin",
    "family",
    "language",
    "privacy",
)
"""The menu's choices, in order; labels are the `intent_<id>` texts."""


@router.intent("greet")
async def greet(ctx: Context) -> None:
    ctx.say(ctx.t("greet"), *(ctx.intent_button(i) for i in (*MENU[:4], "menu")))


@router.intent("menu")
async def menu(ctx: Context) -> None:
    ctx.say(ctx.t("menu"), *(ctx.intent_button(i) for i in MENU))


@router.intent("thanks")
async def thanks(ctx: Context) -> None:
    ctx.say(ctx.t("thanks"))


@router.intent("goodbye")
async def goodbye(ctx: Context) -> None:
    ctx.end_flow()
    ctx.say(ctx.t("goodbye"))


@router.intent("out_of_scope")
async def out_of_scope(ctx: Context) -> None:
    ctx.say(ctx.t("out_of_scope"), ctx.intent_button("menu"), ctx.intent_button("talk_to_human"))
