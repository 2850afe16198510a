"""Care and support: therapists, the hub's programmes, money for therapy, families."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.resources import MusicOrg

router = Router()


def _org_line(org: MusicOrg) -> str:
    reach = " · ".join(x for x in (org.website, org.phone, org.email) if x)
    return f"• {org.name}: {reach}" if reach else f"• {org.name}"


def _orgs_for(ctx: Context, therapy_funding: bool = False) -> list[MusicOrg]:
    country = ctx.user.country
    return [
        org
        for org in ctx.services.resources.music_orgs
        if org.country in (country, "INT") and (org.therapy_funding or not therapy_funding)
    ]


@router.intent("find_care")
async def find_care(ctx: Context) -> None:
    country = ctx.services.country(ctx.user.country)
    if country is None:
        ctx.say(ctx.t("find_care_no_country"), ctx.button("btn_set_country", "country:ask"))
        return
    orgs = _orgs_for(ctx)
    lines = [ctx.t("find_care", country=country.name(ctx.lang))]
    if orgs:
        lines += [ctx.t("music_orgs_here"), *(_org_line(o) for o in orgs)]
    else:
        lines.append(ctx.t("no_music_orgs_here"))
    ctx.say("\n".join(lines), ctx.intent_button("therapy_access"), ctx.intent_button("grants"))


@router.intent("therapy_access")
async def therapy_access(ctx: Context) -> None:
    hub = ctx.services.resources.hub
    ctx.say(
        ctx.t("therapy_access", hub=hub.name, email=hub.email),
        ctx.intent_button("grants"),
        ctx.intent_button("talk_to_human"),
    )


@router.intent("grants")
async def grants(ctx: Context) -> None:
    orgs = _orgs_for(ctx, therapy_funding=True)
    lines = [ctx.t("grants", hub=ctx.services.resources.hub.name)]
    lines += [_org_line(o) for o in orgs]
    ctx.say("\n".join(lines), ctx.intent_button("talk_to_human"), ctx.intent_button("menu"))


@router.intent("programs")
async def programs(ctx: Context) -> None:
    ctx.say(ctx.t("programs", hub=ctx.services.resources.hub.name), ctx.intent_button("menu"))


@router.intent("donate")
async def donate(ctx: Context) -> None:
    hub = ctx.services.resources.hub
    ctx.say(ctx.t("donate", hub=hub.name, website=hub.website or hub.email))
