"""Mood check-ins: a 1-5 score, an optional word, two weeks at a glance, reminders.

The chart and the observation describe, never diagnose: a person sees their
own days, and a low score is met with support rather than a verdict.
"""

from __future__ import annotations

import datetime as dt
from statistics import fmean
from zoneinfo import ZoneInfo

from bot.dispatch import Context, Router
from bot.intents import THRESHOLD
from bot.messages import Button
from bot.reminders import MOODS, next_at, parse_time, zone_named, zone_of_country
from bot.store.models import Checkin, Reminder

router = Router()

DAYS = 14
BARS = "▁▂▃▄▅▆▇█"
GAP = "·"
NOTE_WORDS, NOTE_CHARS = 3, 40
"""A note is a word or two; anything longer is a message, not a note."""
NOTE_FLOW, TIME_FLOW, ZONE_FLOW = "checkin_note", "reminder_time", "reminder_zone"
TIMES = ("08:00", "12:30", "18:00", "21:00")
_NOT_A_NOTE = frozenset(
    {"menu", "talk_to_human", "crisis_lines", "checkin", "stop_reminders", "goodbye", "privacy"}
)
"""Intents that mean the person wants something else, not to label their day."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ask(ctx: Context) -> None:
    ctx.say(
        ctx.t("ci_ask"),
        *(ctx.button(f"ci_label_{m}", f"mood:{m}") for m in MOODS),
        ctx.button("btn_ci_remind", "remind:ask"),
    )


# -- the chart --------------------------------------------------------------------


def chart(checkins: list[Checkin], today: dt.date, zone: dt.tzinfo) -> str:
    """One bar per day, oldest first; a day's last score counts; `·` marks no check-in."""
    by_day = {c.at.astimezone(zone).date(): c.score for c in checkins}
    days = (today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS))
    return "".join(
        BARS[round((by_day[d] - 1) * (len(BARS) - 1) / 4)] if d in by_day else GAP for d in days
    )


def trend(scores: list[int]) -> str:
    """ "up", "down", "steady", or "few" with fewer than three days to go on."""
    if len(scores) < 3:
        return "few"
    half = len(scores) // 2
    change = fmean(scores[-half:]) - fmean(scores[:half])
    return "up" if change >= 0.5 else "down" if change <= -0.5 else "steady"


async def _zone(ctx: Context) -> dt.tzinfo:
    """The person's own zone when a reminder or their country tells us, else UTC."""
    reminder = await ctx.store.get_reminder(ctx.user.key)
    name = reminder.tz if reminder else zone_of_country(ctx.user.country)
    return ZoneInfo(name) if name else dt.UTC


async def _show_chart(ctx: Context) -> bool:
    """Say the last two weeks; False when there is nothing to show yet."""
    store = ctx.store
    now = _now()
    checkins = await store.checkins_since(ctx.user.key, now - dt.timedelta(days=DAYS))
    if not checkins:
        return False
    zone = await _zone(ctx)
    bars = chart(checkins, now.astimezone(zone).date(), zone)
    by_day = {c.at.astimezone(zone).date(): c.score for c in checkins}
    observation = ctx.t(f"ci_trend_{trend([by_day[d] for d in sorted(by_day)])}")
    ctx.say(ctx.t("ci_chart", chart=bars) + "\n" + observation)
    return True


# -- checking in --------------------------------------------------------------------


@router.intent("checkin")
async def checkin(ctx: Context) -> None:
    if not await _show_chart(ctx):
        ctx.say(ctx.t("ci_first"))
    _ask(ctx)


@router.payload("ci")
async def chart_button(ctx: Context) -> None:
    if not await _show_chart(ctx):
        ctx.say(ctx.t("ci_first"))
        _ask(ctx)
        return
    ctx.say(ctx.t("ci_chart_more"), ctx.button("btn_ci_remind", "remind:ask"))


@router.payload("mood")
async def mood(ctx: Context) -> None:
    if ctx.arg not in MOODS:
        _ask(ctx)
        return
    score = int(ctx.arg)
    checkin_id = await ctx.store.add_checkin(ctx.user.key, _now(), score)
    if score <= 2:
        ctx.say(
            ctx.t("ci_low"),
            ctx.intent_button("talk_to_human"),
            ctx.intent_button("breathing"),
            ctx.intent_button("crisis_lines"),
        )
    else:
        ctx.say(ctx.t(f"ci_ok_{score}"))
    ctx.start_flow(NOTE_FLOW, id=checkin_id)
    ctx.say(
        ctx.t("ci_note_ask"),
        ctx.button("btn_ci_skip", "note:skip"),
        ctx.button("btn_ci_chart", "ci:chart"),
    )


@router.payload("note")
async def note_skipped(ctx: Context) -> None:
    if ctx.user.flow == NOTE_FLOW:
        ctx.end_flow()
    ctx.say(ctx.t("ci_note_skipped"), ctx.button("btn_ci_chart", "ci:chart"))


@router.flow(NOTE_FLOW)
async def note_typed(ctx: Context) -> bool:
    """A word or two labels the day; anything else goes on as a normal message.

    The engine has already screened it: a crisis word never reaches here.
    """
    text = ctx.inbound.text.strip()
    checkin_id = ctx.user.flow_data.get("id")
    ctx.end_flow()
    if len(text.split()) > NOTE_WORDS or len(text) > NOTE_CHARS or not isinstance(checkin_id, int):
        return False
    match = ctx.match = ctx.services.matcher.classify(ctx.norm)
    if match.confidence >= THRESHOLD and match.intent in _NOT_A_NOTE:
        return False
    await ctx.store.set_checkin_note(ctx.user.key, checkin_id, text)
    ctx.say(ctx.t("ci_note_saved", note=text), ctx.button("btn_ci_chart", "ci:chart"))
    return True


# -- reminders ---------------------------------------------------------------------


def _stop_button(ctx: Context) -> list[Button]:
    return [ctx.button("btn_ci_stop", "remind:stop")]


@router.payload("remind")
async def remind(ctx: Context) -> None:
    if ctx.arg == "stop":
        await stop_reminders(ctx)
    elif ctx.arg in ("daily", "weekly"):
        ctx.start_flow(TIME_FLOW, every=ctx.arg)
        ctx.say(
            ctx.t("ci_remind_time"), *(Button(t, f"remind_at:{t.replace(':', '')}") for t in TIMES)
        )
    else:
        current = await ctx.store.get_reminder(ctx.user.key)
        ctx.say(
            ctx.t("ci_remind_every"),
            ctx.button("btn_ci_daily", "remind:daily"),
            ctx.button("btn_ci_weekly", "remind:weekly"),
            *(_stop_button(ctx) if current else []),
        )


@router.payload("remind_at")
async def time_chosen(ctx: Context) -> None:
    chosen = parse_time(f"{ctx.arg[:2]}:{ctx.arg[2:]}")
    if ctx.user.flow != TIME_FLOW or chosen is None:
        await remind(ctx)
        return
    await _got_time(ctx, chosen)


@router.flow(TIME_FLOW)
async def time_typed(ctx: Context) -> bool:
    chosen = parse_time(ctx.inbound.text)
    if chosen is not None:
        await _got_time(ctx, chosen)
        return True
    if not any(ch.isdigit() for ch in ctx.inbound.text):
        ctx.end_flow()
        return False
    ctx.say(ctx.t("ci_time_unclear"))
    return True


async def _got_time(ctx: Context, chosen: str) -> None:
    every = str(ctx.user.flow_data.get("every", "daily"))
    zone = zone_of_country(ctx.user.country)
    if zone:
        await _save_reminder(ctx, every, chosen, zone)
        return
    ctx.start_flow(ZONE_FLOW, every=every, time=chosen)
    ctx.say(ctx.t("ci_remind_zone"))


@router.flow(ZONE_FLOW)
async def zone_typed(ctx: Context) -> bool:
    country = ctx.services.countries.find(ctx.norm) or ctx.services.countries.mentioned(ctx.norm)
    zone = zone_named(ctx.inbound.text, country)
    data = ctx.user.flow_data
    if zone:
        if country:
            ctx.user.country = ctx.user.country or country
        await _save_reminder(ctx, str(data.get("every")), str(data.get("time")), zone)
        return True
    match = ctx.match = ctx.services.matcher.classify(ctx.norm)
    if match.confidence >= THRESHOLD and match.intent != "out_of_scope" and not country:
        ctx.end_flow()
        return False
    ctx.say(ctx.t("ci_zone_unclear"), ctx.intent_button("menu"))
    return True


async def _save_reminder(ctx: Context, every: str, local_time: str, zone: str) -> None:
    ctx.end_flow()
    now = _now()
    weekday = now.astimezone(ZoneInfo(zone)).weekday() if every == "weekly" else None
    reminder = Reminder(
        user_key=ctx.user.key,
        platform=ctx.inbound.platform,
        chat_id=ctx.inbound.chat_id,
        lang=ctx.lang,
        every=every,
        local_time=local_time,
        tz=zone,
        weekday=weekday,
        next_at=next_at(local_time, zone, every, weekday, now),
    )
    await ctx.store.save_reminder(reminder)
    if weekday is None:
        text = ctx.t("ci_remind_set_daily", time=local_time, zone=zone)
    else:
        text = ctx.t(
            "ci_remind_set_weekly", day=ctx.t(f"ci_day_{weekday}"), time=local_time, zone=zone
        )
    ctx.say(text, *_stop_button(ctx))


@router.intent("stop_reminders")
async def stop_reminders(ctx: Context) -> None:
    if ctx.user.flow in (TIME_FLOW, ZONE_FLOW):
        ctx.end_flow()
    stopped = await ctx.store.delete_reminder(ctx.user.key)
    ctx.say(ctx.t("ci_stopped" if stopped else "ci_no_reminder"), ctx.intent_button("menu"))
