"""Crisis lines on request, the country question, and the gentle follow-up.

The crisis reply itself is sent by the engine before any handler runs; this
module handles what comes after it and people asking for a number.
"""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.intents import THRESHOLD
from bot.safety.reply import country_question, lines_text
from handlers.human import offer_person

router = Router()

FOLLOWUP = "crisis_followup"
ASK_COUNTRY = "ask_country"
_NOT_MOVING_ON = frozenset({"greet", "thanks", "out_of_scope", "crisis_lines"})
"""Intents that do not mean the person has moved on from a crisis."""
ASKED = "asked"
"""In the follow-up's data: "safe" once "are you safe?" was asked. Before that the
open question is the crisis reply's own: would you like a person?"""


def _ask_country(ctx: Context) -> None:
    services = ctx.services
    ctx.replies.append(country_question(services.resources, services.texts, ctx.lang))


def _show_lines(ctx: Context) -> None:
    services = ctx.services
    country = services.country(ctx.user.country)
    text = lines_text(country, services.resources, ctx.lang, services.texts)
    if country is None:
        ctx.say(text)
        _ask_country(ctx)
        return
    ctx.say(
        ctx.t("lines_for_country", country=country.name(ctx.lang)) + "\n" + text,
        ctx.button("btn_other_country", "country:ask"),
        ctx.intent_button("talk_to_human"),
    )


def _ask_if_safe(ctx: Context) -> None:
    ctx.user.flow_data[ASKED] = "safe"
    ctx.say(
        ctx.t("followup_are_you_safe"),
        ctx.button("btn_safe_yes", "safe:yes"),
        ctx.button("btn_safe_no", "safe:no"),
        ctx.button("btn_talk_to_person", "human:crisis"),
    )


@router.intent("crisis_lines")
async def crisis_lines(ctx: Context) -> None:
    mentioned = ctx.services.countries.mentioned(ctx.norm)
    if mentioned:
        ctx.user.country = mentioned
    if ctx.user.country is None and ctx.user.flow != FOLLOWUP:
        ctx.start_flow(ASK_COUNTRY)
    _show_lines(ctx)


@router.payload("country")
async def country_chosen(ctx: Context) -> None:
    if ctx.arg in ctx.services.resources.countries:
        ctx.user.country = ctx.arg
        if ctx.user.flow == ASK_COUNTRY:
            ctx.end_flow()
        _show_lines(ctx)
    else:
        if ctx.user.flow != FOLLOWUP:
            ctx.start_flow(ASK_COUNTRY)
        _ask_country(ctx)


@router.flow(ASK_COUNTRY)
async def country_typed(ctx: Context) -> bool:
    """A country's name; a "no" declines to say (the lines shown already work from
    anywhere); anything else the person clearly moved on to leaves the question."""
    answer = ctx.services.answers.of(ctx.norm)
    if answer is False:
        ctx.end_flow()
        ctx.say(ctx.t("country_skipped"))
        return True
    if answer:
        _ask_country(ctx)
        return True
    code = ctx.services.countries.find(ctx.norm)
    if code:
        ctx.user.country = code
        ctx.end_flow()
        _show_lines(ctx)
        return True
    match = ctx.match = ctx.services.matcher.classify(ctx.norm)
    if match.confidence >= THRESHOLD and match.intent not in _NOT_MOVING_ON:
        ctx.end_flow()
        return False
    ctx.say(ctx.t("country_not_found"))
    _ask_country(ctx)
    return True


@router.flow(FOLLOWUP)
async def followup(ctx: Context) -> bool:
    """Stay gently with the person until they move on to something else. A typed
    yes or no answers the last question asked: would you like a person, then are
    you safe. Unsure what a "no" declines, the bot asks whether they are safe."""
    answer = ctx.services.answers.of(ctx.norm)
    if answer is not None:
        if ctx.user.flow_data.get(ASKED) == "safe":
            _answer_safe(ctx, safe=answer)
        elif answer:
            await offer_person(ctx, "crisis")
        else:
            ctx.say(ctx.t("followup_here_with_you"))
            _ask_if_safe(ctx)
        return True
    code = ctx.services.countries.find(ctx.norm)
    if code:
        ctx.user.country = code
        _show_lines(ctx)
        _ask_if_safe(ctx)
        return True
    match = ctx.match = ctx.services.matcher.classify(ctx.norm)
    understood = match.confidence >= THRESHOLD
    if understood and match.intent not in _NOT_MOVING_ON:
        ctx.end_flow()
        return False
    if understood and not match.ambiguous and match.intent == "crisis_lines":
        _show_lines(ctx)
    else:
        ctx.say(ctx.t("followup_here_with_you"))
    _ask_if_safe(ctx)
    return True


@router.payload("safe")
async def safe_answer(ctx: Context) -> None:
    _answer_safe(ctx, safe=ctx.arg == "yes")


def _answer_safe(ctx: Context, safe: bool) -> None:
    if safe:
        ctx.end_flow()
        ctx.say(
            ctx.t("safe_yes"),
            ctx.intent_button("breathing"),
            ctx.intent_button("talk_to_human"),
            ctx.intent_button("menu"),
        )
        return
    country = ctx.services.country(ctx.user.country)
    services = ctx.services
    ctx.say(
        ctx.t("safe_no") + "\n" + lines_text(country, services.resources, ctx.lang, services.texts),
        ctx.button("btn_talk_to_person", "human:crisis"),
    )
