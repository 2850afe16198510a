"""The crisis reply, built only from data already in memory.

It takes no store and no network, so it can always be sent. Safe-messaging
practice: warm, direct, no judgement, a number to call now; never anything
about methods or means.
"""

from __future__ import annotations

from collections.abc import Collection

from rapidfuzz import fuzz, process

from bot.messages import Button, Reply
from bot.resources import Country, CrisisLine, Resources
from bot.textnorm import normalize
from bot.texts import Texts

MAX_LINES = 2
"""Lines shown at once: enough to choose, few enough to act on."""


def format_line(line: CrisisLine, lang: str, texts: Texts) -> str:
    ways = []
    if line.phone:
        ways.append(texts.get(lang, "line_call", number=line.phone))
    if line.sms:
        ways.append(texts.get(lang, "line_text", number=line.sms))
    if line.chat_url:
        ways.append(texts.get(lang, "line_chat", url=line.chat_url))
    elif line.url and not line.phone:
        ways.append(line.url)
    if line.hours:
        ways.append(texts.get(lang, "line_hours", hours=line.hours))
    return f"• {line.name}: " + " · ".join(ways)


def lines_text(country: Country | None, resources: Resources, lang: str, texts: Texts) -> str:
    """The lines to reach now: the country's (best first), else the international ones."""
    if country is None:
        shown = [format_line(line, lang, texts) for line in resources.international]
        return "\n".join([*shown, texts.get(lang, "crisis_emergency_unknown")])
    usable = [ln for ln in country.lines if ln.confidence != "low"] or list(country.lines)
    shown = [format_line(line, lang, texts) for line in usable[:MAX_LINES]]
    emergency = texts.get(
        lang, "crisis_emergency", number=country.emergency, country=country.name(lang)
    )
    return "\n".join([*shown, emergency])


def crisis_replies(
    country: Country | None, resources: Resources, texts: Texts, lang: str
) -> list[Reply]:
    body = "\n\n".join(
        [
            texts.get(lang, "crisis_intro"),
            lines_text(country, resources, lang, texts),
            texts.get(lang, "crisis_offer", hub=resources.hub.name),
        ]
    )
    buttons = (
        Button(texts.get(lang, "btn_talk_to_person"), "human:crisis"),
        Button(texts.get(lang, "btn_safe_now"), "safe:yes"),
    )
    replies = [Reply(body, buttons)]
    if country is None:
        replies.append(country_question(resources, texts, lang))
    return replies


def country_question(resources: Resources, texts: Texts, lang: str) -> Reply:
    codes = resources.ask_country.get(lang) or resources.ask_country.get("en", ())
    buttons = tuple(
        Button(resources.countries[c].name(lang), f"country:{c}")
        for c in codes
        if c in resources.countries
    )
    return Reply(texts.get(lang, "ask_country"), buttons)


class CountryFinder:
    """Free text ("UK", "Deutschland", "États-Unis") to a country code."""

    def __init__(self, resources: Resources, not_names: Collection[str] = ()) -> None:
        """`not_names`: whole messages that are never a country ("no" is an answer,
        not Norway)."""
        self._not_names = frozenset(not_names)
        self._names: dict[str, str] = {}
        for code, country in resources.countries.items():
            for name in (code, *country.aliases, *country.names.values()):
                key = normalize(name)
                if key:
                    self._names.setdefault(key, code)
        self._choices = list(self._names)
        self._in_text = {n for n in self._names if len(n) >= 3}
        """Names safe to spot inside a sentence (not "in", "no", "de", ...)."""

    def find(self, text: str) -> str | None:
        key = normalize(text)
        if not key or key in self._not_names:
            return None
        if key in self._names:
            return self._names[key]
        for prefix in ("in ", "im ", "en ", "no ", "na ", "em ", "au ", "aux ", "a "):
            if key.startswith(prefix) and key[len(prefix) :] in self._names:
                return self._names[key[len(prefix) :]]
        if len(key) < 4:
            return None
        found = process.extractOne(key, self._choices, scorer=fuzz.ratio, score_cutoff=85)
        return self._names[str(found[0])] if found else None

    def mentioned(self, norm_text: str) -> str | None:
        """A country named inside a normalised sentence ("line in new zealand")."""
        words = norm_text.split()
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                name = " ".join(words[start : start + size])
                if name in self._in_text:
                    return self._names[name]
        return None
