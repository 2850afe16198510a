"""`resources.yaml`: the hub's facts, validated strictly at start-up.

A wrong crisis number is worse than none, so a line without sources or a check
date is an error, not a default; every problem names file, line and field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import LANGUAGES
from bot.textnorm import normalize
from bot.yamlfile import DataError, LineDict, LineList, Problem, line_of, load

CONFIDENCE_ORDER = {"high": 0, "medium": 1, "low": 2}
STALE_AFTER = dt.timedelta(days=365)
_PHONE = re.compile(r"^[0-9+*#()\- ./A-Za-z]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class CrisisLine:
    name: str
    confidence: str
    sources: tuple[str, ...]
    checked: dt.date
    phone: str | None = None
    sms: str | None = None
    chat_url: str | None = None
    url: str | None = None
    hours: str | None = None
    languages: tuple[str, ...] = ()
    audience: str | None = None
    notes: str | None = None
    cost: str | None = None


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    names: dict[str, str]
    aliases: tuple[str, ...]
    emergency: str
    emergency_sources: tuple[str, ...]
    checked: dt.date
    lines: tuple[CrisisLine, ...]
    emergency_notes: str | None = None

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.code


@dataclass(frozen=True, slots=True)
class MusicOrg:
    name: str
    country: str
    services: str
    confidence: str
    sources: tuple[str, ...]
    checked: dt.date
    website: str | None = None
    phone: str | None = None
    email: str | None = None
    eligibility: str | None = None
    therapy_funding: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """When case managers work, and how fast the hub promises to answer."""

    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Working weekdays, Monday = 0."""
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    target_minutes: int = 240
    """The response time promised during office hours; past it the case is re-announced."""
    crisis_oncall_minutes: int = 15
    """A crisis-originated case unclaimed this long also goes to the on-call route."""


@dataclass(frozen=True, slots=True)
class Hub:
    name: str
    email: str
    website: str | None = None
    phone: str | None = None
    handoff: Handoff = field(default_factory=Handoff)
    donate: str | None = None


@dataclass(frozen=True, slots=True)
class Resources:
    hub: Hub
    international: tuple[CrisisLine, ...]
    countries: dict[str, Country]
    ask_country: dict[str, tuple[str, ...]]
    music_orgs: tuple[MusicOrg, ...]
    care: dict[str, tuple[CareEntry, ...]]
    programs: dict[str, Program]
    privacy: Privacy
    warnings: tuple[Problem, ...] = field(default=())

    def country(self, code: str | None) -> Country | None:
        return self.countries.get(code) if code else None


class _Reader:
    """Reads typed fields out of YAML mappings, collecting every problem."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: Any, key: str | int | None, where: str, msg: str) -> None:
        self.problems.append(Problem(self.path, line_of(node, key), where, msg))

    def warn(self, node: Any, key: str | int | None, where: str, msg: str) -> None:
        self.problems.append(Problem(self.path, line_of(node, key), where, msg, warning=True))

    def mapping(
        self,
        node: Any,
        where: str,
        required: AbstractSet[str],
        optional: AbstractSet[str] = frozenset(),
    ) -> LineDict | None:
        if not isinstance(node, LineDict):
            self.problem(node, None, where, "must be a mapping")
            return None
        for key in node:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.problem(node, key, f"{where}.{key}", f"unknown field (allowed: {allowed})")
        for key in sorted(required - node.keys()):
            self.problem(node, None, f"{where}.{key}", "required field is missing")
        return node

    def text(self, node: LineDict, key: str, where: str, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None:
            if required and key in node:
                self.problem(node, key, f"{where}.{key}", "must not be empty")
            return None
        if isinstance(value, (dict, list, bool)):
            self.problem(node, key, f"{where}.{key}", "must be a text")
            return None
        text = str(value).strip()
        if not text:
            self.problem(node, key, f"{where}.{key}", "must not be empty")
            return None
        return text

    def texts(self, node: LineDict, key: str, where: str, min_items: int = 0) -> tuple[str, ...]:
        value = node.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, (str, int)) and str(v).strip() for v in value
        ):
            self.problem(node, key, f"{where}.{key}", "must be a list of texts")
            return ()
        if len(value) < min_items:
            self.problem(node, key, f"{where}.{key}", f"needs at least {min_items} item(s)")
        return tuple(str(v).strip() for v in value)

    def date(self, node: LineDict, key: str, where: str) -> dt.date:
        value = node.get(key)
        if isinstance(value, dt.date):
            if dt.date.today() - value > STALE_AFTER:
                self.warn(node, key, f"{where}.{key}", f"last checked {value}, over 12 months ago")
            return value
        self.problem(node, key, f"{where}.{key}", "must be a date like 2026-11-25")
        return dt.date.min

    def phone(self, node: LineDict, key: str, where: str, required: bool = False) -> str | None:
        value = self.text(node, key, where, required)
        if value is not None and (not _PHONE.match(value) or not re.search(r"\d", value)):
            self.problem(node, key, f"{where}.{key}", f"not a phone number: {value!r}")
        return value

    def url(self, node: LineDict, key: str, where: str) -> str | None:
        value = self.text(node, key, where, required=False)
        if value is not None and not value.startswith(("https://", "http://")):
            self.problem(node, key, f"{where}.{key}", f"not a web address: {value!r}")
        return value

    def confidence(self, node: LineDict, where: str) -> str:
        value = self.text(node, "confidence", where) or ""
        if value not in CONFIDENCE_ORDER:
            self.problem(node, "confidence", f"{where}.confidence", "must be high, medium or low")
        return value


_LINE_REQUIRED = {"name", "confidence", "sources", "checked"}
_LINE_OPTIONAL = {
    "phone",
    "sms",
    "chat_url",
    "url",
    "hours",
    "languages",
    "audience",
    "notes",
    "cost",
}


def _line(r: _Reader, node: Any, where: str) -> CrisisLine | None:
    m = r.mapping(node, where, _LINE_REQUIRED, _LINE_OPTIONAL)
    if m is None:
        return None
    line = CrisisLine(
        name=r.text(m, "name", where) or "",
        confidence=r.confidence(m, where),
        sources=r.texts(m, "sources", where, min_items=1),
        checked=r.date(m, "checked", where),
        phone=r.phone(m, "phone", where),
        sms=r.phone(m, "sms", where),
        chat_url=r.url(m, "chat_url", where),
        url=r.url(m, "url", where),
        hours=r.text(m, "hours", where, required=False),
        languages=r.texts(m, "languages", where),
        audience=r.text(m, "audience", where, required=False),
        notes=r.text(m, "notes", where, required=False),
        cost=r.text(m, "cost", where, required=False),
    )
    if not (line.phone or line.sms or line.chat_url or line.url):
        r.problem(m, None, where, "needs at least one of phone, sms, chat_url, url")
    return line


def _country(r: _Reader, code: str, node: Any, where: str) -> Country | None:
    m = r.mapping(
        node,
        where,
        {"names", "aliases", "emergency", "emergency_sources", "checked", "lines"},
        {"emergency_notes"},
    )
    if m is None:
        return None
    names_node = m.get("names")
    names: dict[str, str] = {}
    if isinstance(names_node, LineDict):
        names = {str(k): str(v) for k, v in names_node.items()}
        for lang in LANGUAGES:
            if not names.get(lang):
                r.problem(names_node, None, f"{where}.names.{lang}", "name missing")
    else:
        r.problem(m, "names", f"{where}.names", "must map language codes to names")
    lines_node = m.get("lines")
    lines: list[CrisisLine] = []
    if isinstance(lines_node, LineList):
        for i, item in enumerate(lines_node):
            line = _line(r, item, f"{where}.lines[{i}]")
            if line:
                lines.append(line)
    else:
        r.problem(m, "lines", f"{where}.lines", "must be a list (may be empty: [])")
    lines.sort(key=lambda ln: CONFIDENCE_ORDER.get(ln.confidence, 3))
    return Country(
        code=code,
        names=names,
        aliases=r.texts(m, "aliases", where),
        emergency=r.phone(m, "emergency", where, required=True) or "",
        emergency_notes=r.text(m, "emergency_notes", where, required=False),
        emergency_sources=r.texts(m, "emergency_sources", where, min_items=1),
        checked=r.date(m, "checked", where),
        lines=tuple(lines),
    )


def _org(r: _Reader, node: Any, where: str) -> MusicOrg | None:
    m = r.mapping(
        node,
        where,
        {"name", "country", "services", "confidence", "sources", "checked"},
        {"website", "phone", "email", "eligibility", "therapy_funding", "notes"},
    )
    if m is None:
        return None
    return MusicOrg(
        name=r.text(m, "name", where) or "",
        country=r.text(m, "country", where) or "",
        services=r.text(m, "services", where) or "",
        confidence=r.confidence(m, where),
        sources=r.texts(m, "sources", where, min_items=1),
        checked=r.date(m, "checked", where),
        website=r.url(m, "website", where),
        phone=r.text(m, "phone", where, required=False),
        email=r.text(m, "email", where, required=False),
        eligibility=r.text(m, "eligibility", where, required=False),
        therapy_funding=r.text(m, "therapy_funding", where, required=False),
        notes=r.text(m, "notes", where, required=False),
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _handoff(r: _Reader, node: Any) -> Handoff:
    where = "hub.handoff"
    keys = {"timezone", "days", "opens", "closes", "target_minutes", "crisis_oncall_minutes"}
    m = r.mapping(node, where, keys)
    if m is None:
        return Handoff()
    zone = r.text(m, "timezone", where) or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        r.problem(m, "timezone", f"{where}.timezone", f"unknown time zone {zone!r}")
    days = r.texts(m, "days", where, min_items=1)
    for day in days:
        if day not in _DAYS:
            r.problem(m, "days", f"{where}.days", f"{day!r} is not one of {', '.join(_DAYS)}")
    times: dict[str, dt.time] = {}
    for key in ("opens", "closes"):
        value = r.text(m, key, where) or ""
        try:
            times[key] = dt.time.fromisoformat(value)
        except ValueError:
            r.problem(m, key, f"{where}.{key}", f"must be a time like '09:00', not {value!r}")
            times[key] = dt.time(0, 0)
    numbers: dict[str, int] = {}
    for key in ("target_minutes", "crisis_oncall_minutes"):
        minutes = m.get(key)
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
            numbers[key] = minutes
        else:
            r.problem(m, key, f"{where}.{key}", "must be a whole number of minutes above 0")
            numbers[key] = 1
    return Handoff(
        timezone=zone,
        days=tuple(_DAYS.index(d) for d in days if d in _DAYS),
        opens=times["opens"],
        closes=times["closes"],
        target_minutes=numbers["target_minutes"],
        crisis_oncall_minutes=numbers["crisis_oncall_minutes"],
    )


def _hub(r: _Reader, node: Any) -> Hub:
    m = r.mapping(node, "hub", {"name", "email", "handoff"}, {"website", "phone", "donate"})
    if m is None:
        return Hub(name="", email="")
    return Hub(
        name=r.text(m, "name", "hub") or "",
        email=r.text(m, "email", "hub") or "",
        website=r.url(m, "website", "hub"),
        phone=r.phone(m, "phone", "hub"),
        handoff=_handoff(r, m.get("handoff")),
        donate=r.url(m, "donate", "hub"),
    )


def parse_resources(path: Path) -> tuple[Resources | None, list[Problem]]:
    """Validate the file; return what could be read and every problem found."""
    try:
        raw = load(path)
    except DataError as exc:
        return None, exc.problems
    r = _Reader(path)
    top = r.mapping(raw, "(top)", {"hub", "crisis", "music_orgs", "care", "programs", "privacy"})
    if top is None:
        return None, r.problems
    hub = _hub(r, top.get("hub"))
    crisis = r.mapping(top.get("crisis"), "crisis", {"international", "countries", "ask_country"})
    international: list[CrisisLine] = []
    countries: dict[str, Country] = {}
    ask_country: dict[str, tuple[str, ...]] = {}
    if crisis is not None:
        intl = crisis.get("international")
        if isinstance(intl, LineList) and intl:
            for i, item in enumerate(intl):
                line = _line(r, item, f"crisis.international[{i}]")
                if line:
                    international.append(line)
        else:
            r.problem(crisis, "international", "crisis.international", "needs at least one line")
        cnode = crisis.get("countries")
        if isinstance(cnode, LineDict):
            for code, item in cnode.items():
                where = f"crisis.countries.{code}"
                if not _COUNTRY.match(code):
                    r.problem(cnode, code, where, "country code must be 2 upper-case letters")
                country = _country(r, code, item, where)
                if country:
                    countries[code] = country
        else:
            r.problem(crisis, "countries", "crisis.countries", "must map country codes")
        anode = crisis.get("ask_country")
        if isinstance(anode, LineDict):
            for lang in LANGUAGES:
                codes = r.texts(anode, lang, f"crisis.ask_country.{lang}", min_items=1)
                for code in codes:
                    if code not in countries:
                        r.problem(anode, lang, f"crisis.ask_country.{lang}", f"unknown {code}")
                ask_country[lang] = codes
        else:
            r.problem(crisis, "ask_country", "crisis.ask_country", "must map languages to codes")
    _check_aliases(r, countries, crisis)
    orgs: list[MusicOrg] = []
    onode = top.get("music_orgs")
    if isinstance(onode, LineList):
        for i, item in enumerate(onode):
            org = _org(r, item, f"music_orgs[{i}]")
            if org:
                orgs.append(org)
    else:
        r.problem(top, "music_orgs", "music_orgs", "must be a list")
    care = _care(r, top.get("care"), countries, orgs)
    programs = _programs(r, top.get("programs"))
    privacy = _privacy(r, top.get("privacy"))
    errors = [p for p in r.problems if not p.warning]
    resources = None
    if not errors:
        resources = Resources(
            hub=hub,
            international=tuple(international),
            countries=countries,
            ask_country=ask_country,
            music_orgs=tuple(orgs),
            warnings=tuple(p for p in r.problems if p.warning),
            care=care,
            programs=programs,
            privacy=privacy,
        )
    return resources, r.problems


def _check_aliases(r: _Reader, countries: dict[str, Country], crisis: Any) -> None:
    seen: dict[str, str] = {}
    for code, country in countries.items():
        for alias in {normalize(a) for a in (*country.aliases, *country.names.values())}:
            other = seen.setdefault(alias, code)
            if other != code:
                r.problem(
                    crisis,
                    "countries",
                    f"crisis.countries.{code}.aliases",
                    f"{alias!r} also names {other}",
                )


def load_resources(path: Path) -> Resources:
    """Load or raise DataError listing every error (warnings do not stop the bot)."""
    resources, problems = parse_resources(path)
    if resources is None:
        raise DataError([p for p in problems if not p.warning])
    return resources


# -- care near the person, the hub's programmes, the privacy policy -----------

CARE_KINDS = ("therapist", "low_cost")
"""How to find a therapist there; free or low-cost options."""
PROGRAM_NEXT = ("find_care", "grants", "therapy_access", "programs", "crisis_lines")
"""Intents a programme question may send someone to when they do not qualify."""


@dataclass(frozen=True, slots=True)
class CareEntry:
    """A music organisation's care offer in one country, described per language."""

    org: MusicOrg
    kinds: tuple[str, ...]
    what: dict[str, str]
    sources: tuple[str, ...]
    checked: dt.date
    area: str | None = None
    """Set when it serves one city or region only ("Austin, Texas")."""
    area_aliases: tuple[str, ...] = ()
    """Normalised names of that area, to match a city the person mentions."""


@dataclass(frozen=True, slots=True)
class Question:
    ask: dict[str, str]
    need: bool
    """The answer that lets the person go on."""
    otherwise: dict[str, str]
    otherwise_to: str | None = None


@dataclass(frozen=True, slots=True)
class Program:
    id: str
    name: dict[str, str]
    about: dict[str, str]
    questions: tuple[Question, ...]
    eligible: dict[str, str]
    example: bool
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class Privacy:
    checkin_days: int
    """Check-ins older than this are deleted."""
    case_days: int
    """Closed cases are kept this long, anonymised after /forget, then deleted."""


def _per_language(r: _Reader, node: LineDict, key: str, where: str) -> dict[str, str]:
    value = node.get(key)
    if not isinstance(value, LineDict):
        r.problem(node, key, f"{where}.{key}", "must map each language to a text")
        return {}
    for extra in sorted(value.keys() - set(LANGUAGES)):
        r.problem(value, extra, f"{where}.{key}.{extra}", "not a supported language")
    texts = {lang: str(value.get(lang) or "").strip() for lang in LANGUAGES}
    for lang, text in texts.items():
        if not text:
            r.problem(value, None, f"{where}.{key}.{lang}", "text missing")
    return texts


def _care(
    r: _Reader, node: Any, countries: dict[str, Country], orgs: list[MusicOrg]
) -> dict[str, tuple[CareEntry, ...]]:
    if not isinstance(node, LineDict):
        r.problem(node, None, "care", "must map country codes to lists")
        return {}
    care: dict[str, tuple[CareEntry, ...]] = {}
    for code, items in node.items():
        if code not in countries:
            r.problem(node, code, f"care.{code}", "not a country in crisis.countries")
        if not isinstance(items, LineList) or not items:
            r.problem(node, code, f"care.{code}", "must be a non-empty list")
            continue
        entries = (
            _care_entry(r, item, f"care.{code}[{i}]", code, orgs) for i, item in enumerate(items)
        )
        care[code] = tuple(e for e in entries if e)
    return care


def _care_entry(
    r: _Reader, node: Any, where: str, code: str, orgs: list[MusicOrg]
) -> CareEntry | None:
    m = r.mapping(
        node, where, {"org", "kinds", "what", "sources", "checked"}, {"area", "area_aliases"}
    )
    if m is None:
        return None
    name = r.text(m, "org", where) or ""
    org = next((o for o in orgs if o.name == name and o.country == code), None)
    if org is None:
        r.problem(m, "org", f"{where}.org", f"no music_orgs entry {name!r} in {code}")
    kinds = r.texts(m, "kinds", where, min_items=1)
    for kind in kinds:
        if kind not in CARE_KINDS:
            r.problem(m, "kinds", f"{where}.kinds", f"{kind!r} is not one of {CARE_KINDS}")
    area = r.text(m, "area", where, required=False)
    aliases = tuple(normalize(a) for a in r.texts(m, "area_aliases", where))
    if bool(area) != bool(aliases):
        r.problem(m, None, where, "area and area_aliases go together")
    if org is None:
        return None
    return CareEntry(
        org=org,
        kinds=kinds,
        what=_per_language(r, m, "what", where),
        sources=r.texts(m, "sources", where, min_items=1),
        checked=r.date(m, "checked", where),
        area=area,
        area_aliases=aliases,
    )


def _programs(r: _Reader, node: Any) -> dict[str, Program]:
    if not isinstance(node, LineList):
        r.problem(node, None, "programs", "must be a list")
        return {}
    programs: dict[str, Program] = {}
    for i, item in enumerate(node):
        where = f"programs[{i}]"
        m = r.mapping(
            item,
            where,
            {"id", "name", "about", "questions", "eligible", "example"},
            {"email", "website"},
        )
        if m is None:
            continue
        pid = r.text(m, "id", where) or ""
        if not re.fullmatch(r"[a-z_]{1,20}", pid) or pid in programs:
            r.problem(m, "id", f"{where}.id", "must be a new lower_case id")
        if not isinstance(m.get("example"), bool):
            r.problem(m, "example", f"{where}.example", "must be true or false")
        qnode = m.get("questions")
        questions: list[Question] = []
        if isinstance(qnode, LineList) and 1 <= len(qnode) <= 4:
            for j, q in enumerate(qnode):
                question = _question(r, q, f"{where}.questions[{j}]")
                if question:
                    questions.append(question)
        else:
            r.problem(m, "questions", f"{where}.questions", "needs 1 to 4 yes/no questions")
        programs[pid] = Program(
            id=pid,
            name=_per_language(r, m, "name", where),
            about=_per_language(r, m, "about", where),
            questions=tuple(questions),
            eligible=_per_language(r, m, "eligible", where),
            example=m.get("example") is True,
            email=r.text(m, "email", where, required=False),
            website=r.url(m, "website", where),
        )
    return programs


def _question(r: _Reader, node: Any, where: str) -> Question | None:
    m = r.mapping(node, where, {"ask", "need", "otherwise"}, {"otherwise_to"})
    if m is None:
        return None
    need = m.get("need")
    if not isinstance(need, bool):
        r.problem(m, "need", f"{where}.need", "must be yes or no")
    nxt = r.text(m, "otherwise_to", where, required=False)
    if nxt is not None and nxt not in PROGRAM_NEXT:
        r.problem(m, "otherwise_to", f"{where}.otherwise_to", f"must be one of {PROGRAM_NEXT}")
    return Question(
        ask=_per_language(r, m, "ask", where),
        need=need is True,
        otherwise=_per_language(r, m, "otherwise", where),
        otherwise_to=nxt,
    )


def _privacy(r: _Reader, node: Any) -> Privacy:
    m = r.mapping(node, "privacy", {"checkin_days", "case_days"})
    if m is None:
        return Privacy(1, 1)
    days: dict[str, int] = {}
    for key in ("checkin_days", "case_days"):
        value = m.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            r.problem(m, key, f"privacy.{key}", "must be a whole number of days, at least 1")
            value = 1
        days[key] = value
    return Privacy(**days)
