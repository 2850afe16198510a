"""Family mode: a relative, partner or friend learning how to support someone in music.

A short conversation rather than a page of advice: each answer is one section
of the guide's family content, with buttons to the others. "They're in danger
now" always goes straight to the crisis lines, and getting help ends with the
hub's case managers.
"""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.messages import Button

router = Router()

CHOICES = ("support", "say", "signs", "get_help")
"""The sections a person can pick; "say" also shows what not to say."""


def _points(ctx: Context, section: str) -> str:
    return "\n".join(f"• {p}" for p in ctx.services.guide.family[section][ctx.lang])


def _section_text(ctx: Context, section: str) -> str:
    text = f"{ctx.t(f'fam_heading_{section}')}\n{_points(ctx, section)}"
    if section == "say":
        text += f"\n\n{ctx.t('fam_heading_not_say')}\n{_points(ctx, 'not_say')}"
    if section == "get_help":
        hub = ctx.services.resources.hub
        text += "\n\n" + ctx.t("fam_hub_contact", hub=hub.name, email=hub.email)
    return text


def _show(ctx: Context, section: str) -> None:
    buttons: list[Button] = [
        ctx.button(f"fam_btn_{other}", f"family:{other}") for other in CHOICES if other != section
    ]
    buttons.append(ctx.button("fam_btn_danger", "intent:crisis_lines"))
    if section == "get_help":
        buttons.append(ctx.intent_button("talk_to_human"))
    ctx.say(_section_text(ctx, section), *buttons)


@router.intent("family")
async def family(ctx: Context) -> None:
    _show(ctx, "support")


@router.payload("family")
async def family_button(ctx: Context) -> None:
    _show(ctx, ctx.arg if ctx.arg in CHOICES else "support")
