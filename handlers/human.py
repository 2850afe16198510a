"""Reaching a person at the hub: consent first, then one case, then back to the bot.

Nothing is shared before the person has read exactly what a case manager
will see and said yes; declining leaves them with self-help and crisis lines.
"""

from __future__ import annotations

import re

from bot.dispatch import Context, Router
from bot.handoff.desk import Blocked, duration_text, when_text
from bot.handoff.models import Contact, Priority, Status
from bot.messages import Button
from bot.store import StoreError

router = Router()

CONSENT = "handoff_consent"
DETAIL = "handoff_detail"
NOTE = "handoff_note"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[a-zA-Z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,24}$")
FEEDBACK = ("good", "ok", "bad", "skip")


def _crisis_lines(ctx: Context) -> str:
    return ctx.desk.crisis_lines(ctx.lang, ctx.user.country)


def _self_help(ctx: Context) -> tuple[Button, ...]:
    return (
        ctx.intent_button("crisis_lines"),
        ctx.intent_button("breathing"),
        ctx.intent_button("menu"),
    )


def _unavailable(ctx: Context) -> None:
    """The case queue cannot be reached: say so, and give the lines anyway."""
    ctx.say(
        ctx.t("handoff_unavailable", email=ctx.services.resources.hub.email)
        + "\n"
        + _crisis_lines(ctx),
        *_self_help(ctx),
    )


async def offer_person(ctx: Context, origin: str) -> None:
    """Say what would be shared and ask; or tell the state of the case they have."""
    try:
        case = await ctx.desk.active_case(ctx.user.key)
    except StoreError:
        _unavailable(ctx)
        return
    if case is not None:
        key = "handoff_already_claimed" if case.status is Status.CLAIMED else "handoff_already_open"
        ctx.say(ctx.t(key, ref=case.id[:6]), ctx.button("btn_cancel_request", "case:end"))
        return
    country = ctx.services.country(ctx.user.country)
    ctx.start_flow(CONSENT, origin=origin)
    buttons = [ctx.button("btn_consent_yes", "handoff:yes")]
    name = ctx.inbound.display_name
    if name:
        buttons.append(Button(ctx.t("btn_consent_name", name=name[:40]), "handoff:name"))
    buttons.append(ctx.button("btn_consent_no", "handoff:no"))
    ctx.say(
        ctx.t(
            "handoff_consent",
            hub=ctx.services.resources.hub.name,
            language=ctx.services.texts.get(ctx.lang, "language_name"),
            country=country.name(ctx.lang) if country else ctx.t("handoff_country_unknown"),
        ),
        *buttons,
    )


@router.intent("talk_to_human")
async def talk_to_human(ctx: Context) -> None:
    await offer_person(ctx, "request")


@router.payload("human")
async def human_button(ctx: Context) -> None:
    """`human:crisis` comes from a crisis reply: the case is opened with crisis priority."""
    await offer_person(ctx, "crisis" if ctx.arg == "crisis" else "request")


@router.payload("handoff")
async def handoff_step(ctx: Context) -> None:
    await _step(ctx, ctx.arg)


async def _step(ctx: Context, step: str) -> None:
    data = ctx.user.flow_data if ctx.user.flow in (CONSENT, DETAIL, NOTE) else None
    if data is None:
        ctx.say(
            ctx.t("stale_button"), ctx.intent_button("talk_to_human"), ctx.intent_button("menu")
        )
        return
    if step == "no" or step == "cancel":
        ctx.end_flow()
        ctx.say(ctx.t("handoff_declined"), *_self_help(ctx))
    elif step in ("yes", "name"):
        data["share_name"] = step == "name"
        ctx.user.flow = CONSENT
        ctx.say(
            ctx.t("handoff_how_contact"),
            ctx.button("btn_contact_chat", "handoff:chat"),
            ctx.button("btn_contact_email", "handoff:email"),
            ctx.button("btn_contact_phone", "handoff:phone"),
            ctx.button("btn_cancel", "handoff:cancel"),
        )
    elif step == "chat":
        data["contact"] = Contact.CHAT.value
        _ask_note(ctx)
    elif step in ("email", "phone"):
        data["contact"] = step
        ctx.user.flow = DETAIL
        ctx.say(ctx.t(f"handoff_ask_{step}"), ctx.button("btn_cancel", "handoff:cancel"))
    elif step == "skip" and ctx.user.flow == NOTE:
        await _open(ctx, note=None)
    else:
        ctx.say(ctx.t("stale_button"), ctx.intent_button("talk_to_human"))


def _ask_note(ctx: Context) -> None:
    ctx.user.flow = NOTE
    ctx.say(
        ctx.t("handoff_ask_note"),
        ctx.button("btn_skip", "handoff:skip"),
        ctx.button("btn_cancel", "handoff:cancel"),
    )


@router.flow(DETAIL)
async def contact_detail(ctx: Context) -> bool:
    typed = ctx.inbound.text.strip()
    contact = ctx.user.flow_data.get("contact")
    pattern = _EMAIL if contact == "email" else _PHONE
    if not pattern.match(typed):
        ctx.say(ctx.t(f"handoff_bad_{contact}"), ctx.button("btn_cancel", "handoff:cancel"))
        return True
    ctx.user.flow_data["detail"] = typed
    _ask_note(ctx)
    return True


@router.flow(NOTE)
async def note_typed(ctx: Context) -> bool:
    await _open(ctx, note=ctx.inbound.text.strip())
    return True


@router.flow(CONSENT)
async def consent_typed(ctx: Context) -> bool:
    """Typing instead of pressing. A typed yes to what is shared is that consent (the
    name stays unshared: only its own button shares it); a typed no declines, or
    cancels at "how should we reach you?". Anything else: ask again, unless they
    clearly moved on."""
    answer = ctx.services.answers.of(ctx.norm)
    if answer is False or (answer and "share_name" not in ctx.user.flow_data):
        await _step(ctx, "yes" if answer else "no")
        return True
    if answer is None:
        match = ctx.match = ctx.services.matcher.classify(ctx.norm)
        if match.intent not in ("talk_to_human", "greet", "thanks", "out_of_scope"):
            ctx.end_flow()
            return False
    ctx.say(ctx.t("handoff_use_buttons"), ctx.button("btn_cancel", "handoff:cancel"))
    return True


async def _open(ctx: Context, note: str | None) -> None:
    data = ctx.user.flow_data
    ctx.end_flow()
    inbound = ctx.inbound
    try:
        case, created = await ctx.desk.open_case(
            user_key=ctx.user.key,
            platform=inbound.platform,
            address=inbound.chat_id if inbound.private else None,
            lang=ctx.lang,
            country=ctx.user.country,
            priority=Priority.CRISIS if data.get("origin") == "crisis" else Priority.NORMAL,
            contact=Contact(data.get("contact", "chat")),
            contact_detail=data.get("detail"),
            display_name=inbound.display_name if data.get("share_name") else None,
            note=note,
        )
    except Blocked as blocked:
        hub_zone = ctx.services.resources.hub.handoff.timezone
        ctx.say(
            ctx.t("handoff_blocked", until=when_text(blocked.until, hub_zone))
            + "\n"
            + _crisis_lines(ctx),
            *_self_help(ctx),
        )
        return
    except StoreError:
        _unavailable(ctx)
        return
    if not created:
        ctx.say(ctx.t("handoff_already_open", ref=case.id[:6]))
        return
    hours = ctx.services.resources.hub.handoff
    open_now, opens, latest = ctx.desk.waiting()
    if open_now:
        wait = ctx.t(
            "handoff_expect_open",
            target=duration_text(hours.target_minutes),
            when=when_text(latest, hours.timezone),
        )
    else:
        wait = ctx.t(
            "handoff_expect_closed",
            opens=when_text(opens, hours.timezone),
            when=when_text(latest, hours.timezone),
        )
    ctx.say(ctx.t("handoff_opened", ref=case.id[:6]) + "\n" + wait)
    ctx.say(
        ctx.t("handoff_meanwhile", lines=_crisis_lines(ctx)),
        ctx.button("btn_cancel_request", "case:end"),
        ctx.intent_button("breathing"),
        ctx.intent_button("menu"),
    )


@router.payload("case")
async def case_button(ctx: Context) -> None:
    """`case:end`: the person ends their conversation or withdraws their request."""
    if ctx.arg != "end":
        ctx.say(ctx.t("stale_button"), ctx.intent_button("menu"))
        return
    case = await ctx.desk.end_by_person(ctx.user.key)
    if case is None:
        ctx.say(ctx.t("handoff_none_open"), ctx.intent_button("menu"))
        return
    ctx.say(
        ctx.t("handoff_ended_person"),
        *(ctx.button(f"feedback_{answer}", f"feedback:{answer}") for answer in FEEDBACK),
    )


@router.payload("feedback")
async def feedback(ctx: Context) -> None:
    if ctx.arg in FEEDBACK and ctx.arg != "skip":
        await ctx.desk.record_feedback(ctx.user.key, ctx.arg)
    ctx.say(ctx.t("handoff_feedback_thanks"), ctx.intent_button("menu"))
