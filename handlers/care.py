"""Care and support: therapists near the person, the hub's programmes and money for therapy.

Everything shown comes from `resources.yaml`; when the hub knows nothing for a
place it says so and offers the nearest useful option instead of guessing.
"""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.intents import THRESHOLD
from bot.messages import Button
from bot.resources import CareEntry, MusicOrg, Program

router = Router()

CARE_COUNTRY = "care_country"


def _org_line(org: MusicOrg) -> str:
    reach = " · ".join(x for x in (org.website, org.phone, org.email) if x)
    return f"• {org.name}: {reach}" if reach else f"• {org.name}"


def _orgs_for(ctx: Context, therapy_funding: bool = False) -> list[MusicOrg]:
    """The country's music organisations one may show first (not low-confidence ones)."""
    return [
        org
        for org in ctx.services.resources.music_orgs
        if org.country == ctx.user.country
        and org.confidence != "low"
        and (org.therapy_funding or not therapy_funding)
    ]


# -- care near the person ----------------------------------------------------------


def _entry_lines(ctx: Context, entry: CareEntry) -> str:
    area = f" {ctx.t('care_area', area=entry.area)}" if entry.area else ""
    return f"{_org_line(entry.org)}{area}\n  {entry.what[ctx.lang]}"


def _care_text(ctx: Context, code: str, near: str) -> str:
    """The care listing for a country; entries for the area the person named come first."""
    services = ctx.services
    country = services.resources.countries[code]
    entries = sorted(
        services.resources.care.get(code, ()), key=lambda e: not (near and near in e.area_aliases)
    )
    lines = [ctx.t("care_header", country=country.name(ctx.lang))]
    for kind, title in (("therapist", "care_therapist"), ("low_cost", "care_low_cost")):
        chosen = [e for e in entries if kind in e.kinds]
        if chosen:
            lines += ["", ctx.t(title), *(_entry_lines(ctx, e) for e in chosen)]
    shown = {e.org.name for e in entries}
    more = [o for o in _orgs_for(ctx) if o.name not in shown]
    if more:
        lines += ["", ctx.t("care_more_orgs"), *(_org_line(o) for o in more)]
    lines += ["", ctx.t("care_generic")]
    return "\n".join(lines)


def _nothing_text(ctx: Context, code: str) -> str:
    resources = ctx.services.resources
    lines = [ctx.t("care_nothing", country=resources.countries[code].name(ctx.lang))]
    lines += [
        ctx.t("care_directory", name=line.name, url=line.url or line.chat_url or line.phone)
        for line in resources.international
    ]
    lines.append(ctx.t("care_case_manager", hub=resources.hub.name))
    return "\n".join(lines)


def _show_care(ctx: Context, near: str = "") -> None:
    code = ctx.user.country
    assert code is not None
    has_care = code in ctx.services.resources.care or _orgs_for(ctx)
    ctx.say(
        _care_text(ctx, code, near) if has_care else _nothing_text(ctx, code),
        ctx.intent_button("therapy_access"),
        ctx.intent_button("grants"),
        ctx.intent_button("talk_to_human"),
        ctx.intent_button("crisis_lines"),
    )


def _area_named(ctx: Context) -> tuple[str, str] | None:
    """(country, area alias) for a city or region the message names, if the hub lists one."""
    words = f" {ctx.norm} "
    for code, entries in ctx.services.resources.care.items():
        for entry in entries:
            for alias in entry.area_aliases:
                if f" {alias} " in words:
                    return code, alias
    return None


def _ask_country(ctx: Context) -> None:
    resources = ctx.services.resources
    codes = resources.ask_country.get(ctx.lang) or resources.ask_country["en"]
    ctx.start_flow(CARE_COUNTRY)
    ctx.say(
        ctx.t("care_ask_country"),
        *(Button(resources.countries[c].name(ctx.lang), f"care:{c}") for c in codes),
    )


@router.intent("find_care")
async def find_care(ctx: Context) -> None:
    area = _area_named(ctx)
    mentioned = ctx.services.countries.mentioned(ctx.norm)
    if area:
        ctx.user.country = area[0]
    elif mentioned:
        ctx.user.country = mentioned
    if ctx.user.country is None:
        _ask_country(ctx)
        return
    _show_care(ctx, area[1] if area else "")


@router.payload("care")
async def care_country_chosen(ctx: Context) -> None:
    if ctx.arg not in ctx.services.resources.countries:
        _ask_country(ctx)
        return
    ctx.end_flow()
    ctx.user.country = ctx.arg
    _show_care(ctx)


@router.flow(CARE_COUNTRY)
async def care_country_typed(ctx: Context) -> bool:
    area = _area_named(ctx)
    code = area[0] if area else ctx.services.countries.find(ctx.norm)
    code = code or ctx.services.countries.mentioned(ctx.norm)
    if code:
        ctx.end_flow()
        ctx.user.country = code
        _show_care(ctx, area[1] if area else "")
        return True
    match = ctx.match = ctx.services.matcher.classify(ctx.norm)
    if match.confidence >= THRESHOLD and match.intent not in ("out_of_scope", "find_care"):
        ctx.end_flow()
        return False
    ctx.say(ctx.t("care_not_found"))
    _ask_country(ctx)
    return True


# -- programmes: a few yes/no questions, then the right next step ------------------


def _program_start(ctx: Context, program: Program) -> None:
    ctx.say(f"{program.name[ctx.lang]}\n{program.about[ctx.lang]}")
    _question(ctx, program, 0)


def _question(ctx: Context, program: Program, step: int) -> None:
    total = len(program.questions)
    ask = program.questions[step].ask[ctx.lang]
    ctx.say(
        f"({step + 1}/{total}) {ask}",
        ctx.button("btn_prog_yes", f"elig:{program.id}.{step}.y"),
        ctx.button("btn_prog_no", f"elig:{program.id}.{step}.n"),
    )


def _eligible(ctx: Context, program: Program) -> None:
    lines = [program.eligible[ctx.lang]]
    if program.email:
        lines.append(ctx.t("prog_contact_email", email=program.email))
    if program.website:
        lines.append(ctx.t("prog_contact_web", website=program.website))
    ctx.say("\n".join(lines), ctx.intent_button("talk_to_human"), ctx.intent_button("menu"))
    if program.id == "grant":
        _funds_here(ctx)


def _funds_here(ctx: Context) -> None:
    """Sourced funds for therapy costs in the person's country, beside the hub's own."""
    country = ctx.services.country(ctx.user.country)
    funds = _orgs_for(ctx, therapy_funding=True)
    if country and funds:
        lines = [ctx.t("prog_funds_here", country=country.name(ctx.lang))]
        ctx.say("\n".join(lines + [_org_line(o) for o in funds]))


@router.payload("elig")
async def eligibility_answer(ctx: Context) -> None:
    pid, _, rest = ctx.arg.partition(".")
    step_text, _, answer = rest.partition(".")
    program = ctx.services.resources.programs.get(pid)
    if program is None or not step_text.isdigit() or int(step_text) >= len(program.questions):
        await programs(ctx)
        return
    step = int(step_text)
    question = program.questions[step]
    if (answer == "y") != question.need:
        buttons = [ctx.intent_button(question.otherwise_to)] if question.otherwise_to else []
        ctx.say(question.otherwise[ctx.lang], *buttons, ctx.intent_button("talk_to_human"))
    elif step + 1 < len(program.questions):
        _question(ctx, program, step + 1)
    else:
        _eligible(ctx, program)


async def _start(ctx: Context, pid: str) -> None:
    program = ctx.services.resources.programs.get(pid)
    if program is None:  # a hub that does not run it: a person can still help
        await programs(ctx)
        return
    _program_start(ctx, program)


@router.intent("therapy_access")
async def therapy_access(ctx: Context) -> None:
    await _start(ctx, "therapy")


@router.intent("grants")
async def grants(ctx: Context) -> None:
    await _start(ctx, "grant")


@router.payload("prog")
async def program_chosen(ctx: Context) -> None:
    await _start(ctx, ctx.arg)


@router.intent("programs")
async def programs(ctx: Context) -> None:
    hub = ctx.services.resources.hub
    ctx.say(
        ctx.t("prog_menu", hub=hub.name),
        *(
            Button(p.name[ctx.lang], f"prog:{p.id}")
            for p in ctx.services.resources.programs.values()
        ),
        ctx.intent_button("talk_to_human"),
    )


@router.intent("donate")
async def donate(ctx: Context) -> None:
    hub = ctx.services.resources.hub
    ctx.say(ctx.t("donate", hub=hub.name, website=hub.donate or hub.website or hub.email))
