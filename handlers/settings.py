"""Language: the person's own setting."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.messages import Button

router = Router()

CHOOSE_LANGUAGE = "choose_language"


def _set_language(ctx: Context, code: str) -> None:
    ctx.user.lang, ctx.user.lang_source = code, "chosen"
    ctx.lang = code
    ctx.say(ctx.t("language_set"), ctx.intent_button("menu"))


def _language_buttons(ctx: Context) -> None:
    services = ctx.services
    ctx.say(
        ctx.t("language_ask"),
        *(
            Button(services.texts.get(code, "language_name"), f"lang:{code}")
            for code in services.languages
        ),
    )


@router.intent("language")
async def language(ctx: Context) -> None:
    named = ctx.services.language_named(ctx.norm)
    if named:
        _set_language(ctx, named)
        return
    ctx.start_flow(CHOOSE_LANGUAGE)
    _language_buttons(ctx)


@router.payload("lang")
async def language_chosen(ctx: Context) -> None:
    if ctx.arg in ctx.services.languages:
        ctx.end_flow()
        _set_language(ctx, ctx.arg)
    else:
        _language_buttons(ctx)


@router.flow(CHOOSE_LANGUAGE)
async def language_typed(ctx: Context) -> bool:
    named = ctx.services.language_named(ctx.norm)
    ctx.end_flow()
    if named:
        _set_language(ctx, named)
        return True
    return False
