"""Reaching a person at the hub."""

from __future__ import annotations

from bot.dispatch import Context, Router

router = Router()


@router.intent("talk_to_human")
async def talk_to_human(ctx: Context) -> None:
    hub = ctx.services.resources.hub
    ctx.say(
        ctx.t("human_contact", hub=hub.name, email=hub.email),
        ctx.intent_button("crisis_lines"),
        ctx.intent_button("menu"),
    )


@router.payload("human")
async def human_button(ctx: Context) -> None:
    await talk_to_human(ctx)
