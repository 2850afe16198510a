"""What the bot keeps about a person, showing it all (/export) and deleting it (/forget)."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.store.models import PersonalData, Reminder

router = Router()


@router.intent("privacy")
async def privacy(ctx: Context) -> None:
    resources = ctx.services.resources
    ctx.say(
        ctx.t(
            "priv_policy",
            hub=resources.hub.name,
            checkin_days=resources.privacy.checkin_days,
            case_days=resources.privacy.case_days,
        ),
        ctx.button("btn_priv_export", "export:me"),
        ctx.button("btn_priv_forget", "forget:ask"),
        ctx.intent_button("menu"),
    )


def _reminder_line(ctx: Context, reminder: Reminder | None) -> str:
    if reminder is None:
        return ctx.t("priv_export_no_reminder")
    if reminder.weekday is None:
        return ctx.t("priv_export_reminder_daily", time=reminder.local_time, zone=reminder.tz)
    day = ctx.t(f"ci_day_{reminder.weekday}")
    return ctx.t("priv_export_reminder_weekly", day=day, time=reminder.local_time, zone=reminder.tz)


def export_text(ctx: Context, data: PersonalData) -> str:
    """Everything in `data`, readable; dates as the store keeps them (UTC)."""
    unknown = ctx.t("priv_unknown")
    user = data.user
    country = ctx.services.country(user.country if user else None)
    lang = ctx.services.texts.get(user.lang, "language_name") if user and user.lang else unknown
    lines = [
        ctx.t("priv_export_title"),
        ctx.t(
            "priv_export_settings",
            language=lang,
            country=country.name(ctx.lang) if country else unknown,
        ),
    ]
    if data.checkins:
        lines.append(ctx.t("priv_export_checkins", count=len(data.checkins)))
        for c in data.checkins:
            note = f" · {c.note}" if c.note else ""
            lines.append(f"• {c.at:%Y-%m-%d %H:%M} UTC · {c.score}/5{note}")
    else:
        lines.append(ctx.t("priv_export_no_checkins"))
    lines.append(_reminder_line(ctx, data.reminder))
    if data.cases:
        lines.append(ctx.t("priv_export_cases", count=len(data.cases)))
        for case in data.cases:
            status = ctx.t(f"priv_status_{case.status}")
            opened, closed = case.created_at[:10], (case.closed_at or "")[:10]
            key = "priv_export_case_closed" if closed else "priv_export_case"
            lines.append(ctx.t(key, status=status, opened=opened, closed=closed))
    else:
        lines.append(ctx.t("priv_export_no_cases"))
    return "\n".join(lines)


@router.payload("export")
async def export(ctx: Context) -> None:
    data = await ctx.store.personal_data(ctx.user.key)
    ctx.say(export_text(ctx, data), ctx.button("btn_priv_forget", "forget:ask"), private=True)


@router.payload("forget")
async def forget(ctx: Context) -> None:
    if ctx.arg == "yes":
        await ctx.store.forget_user(ctx.user.key)
        ctx.forget = True
        ctx.say(ctx.t("priv_forgotten"))
    elif ctx.arg == "no":
        ctx.say(ctx.t("priv_kept"), ctx.intent_button("menu"))
    else:
        ctx.say(
            ctx.t("priv_forget_ask", case_days=ctx.services.resources.privacy.case_days),
            ctx.button("btn_priv_forget_yes", "forget:yes"),
            ctx.button("btn_priv_forget_no", "forget:no"),
        )
