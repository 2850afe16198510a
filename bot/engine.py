"""The engine: one inbound message in, replies out.

Order of a turn, and why:
1. The crisis screen runs first, on every message, before any lock, store
   call or handler: a person in crisis is never queued behind anything.
2. A crisis reply is built from memory; the store is asked for the person's
   country and language with a short timeout, and remembering the follow-up
   happens in the background. A broken store cannot stop it.
3. Other turns are serialised per person, load state, pick the language,
   run a flow in progress or match an intent, and save state.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bot.answers import Answers, load_answers
from bot.config import LANGUAGES, Paths
from bot.dispatch import Context, Registry
from bot.guide import Guide, load_guide
from bot.handoff.config import HandoffConfig
from bot.handoff.desk import Desk
from bot.handoff.models import Case, Contact, Status
from bot.handoff.outbox import OutboxWorker
from bot.intents import THRESHOLD, IntentMatcher, Match, load_intents
from bot.language import LanguageDetector, from_locale, load_language_names, region_of
from bot.messages import Button, Inbound, Reply, Response
from bot.pseudonym import Pseudonymizer
from bot.reminders import ReminderWorker
from bot.resources import Country, Resources, load_resources
from bot.safety.reply import CountryFinder, crisis_replies, lines_text
from bot.safety.screen import NO_CRISIS, CrisisScreen, Level, Verdict
from bot.store import Store
from bot.store.models import UserState
from bot.textnorm import clean_input, normalize
from bot.texts import Texts

log = logging.getLogger(__name__)

CRISIS_STORE_TIMEOUT = 0.3
"""Seconds the crisis path waits for the person's saved country before going without."""
STORE_TIMEOUT = 3.0
_PAYLOAD = re.compile(r"^[a-z_]{1,24}(?::[A-Za-z0-9_.\-]{0,40})?$")


@dataclass(frozen=True, slots=True)
class Services:
    """Everything loaded once at start-up and shared, read-only, by every turn."""

    resources: Resources
    texts: Texts
    screen: CrisisScreen
    matcher: IntentMatcher
    detector: LanguageDetector
    countries: CountryFinder
    registry: Registry
    language_names: dict[str, str]
    """Normalised names of languages ("espanol", "spanish", "allemand") -> code."""
    answers: Answers
    guide: Guide
    languages: tuple[str, ...] = LANGUAGES

    @classmethod
    def load(cls, paths: Paths) -> Services:
        """Load and validate all data; raises DataError listing every problem."""
        from handlers import build_registry

        intents = load_intents(paths.intents, LANGUAGES)
        matcher = IntentMatcher(intents)
        resources = load_resources(paths.resources)
        answers = load_answers(paths.intents / "answers.yaml")
        return cls(
            resources=resources,
            texts=Texts.load(paths.texts, LANGUAGES),
            screen=CrisisScreen.from_dir(paths.safety, known_words=matcher.vocabulary),
            matcher=matcher,
            detector=LanguageDetector(((e.lang, e.text) for e in intents.examples), LANGUAGES),
            countries=CountryFinder(resources, not_names=answers.by_text),
            registry=build_registry(),
            language_names=load_language_names(paths.intents / "language_names.yaml"),
            answers=answers,
            guide=load_guide(paths.guide),
        )

    def country(self, code: str | None) -> Country | None:
        return self.resources.country(code)

    def country_hint(self, inbound: Inbound) -> str | None:
        """The adapter's country, else the locale's region ("pt-BR"), when we know it."""
        for code in (inbound.country, region_of(inbound.locale)):
            if code and code.upper() in self.resources.countries:
                return code.upper()
        return None

    def language_named(self, norm_text: str) -> str | None:
        """The one supported language a message names ("en espanol por favor"), if any."""
        named = {self.language_names[w] for w in norm_text.split() if w in self.language_names}
        return named.pop() if len(named) == 1 else None

    def language_of(self, state: UserState | None, inbound: Inbound, norm_text: str) -> str:
        """Explicit choice, then platform locale, then the message, then what we knew.
        A bare answer ("ja", "si", "no") keeps the language we knew: "ja" reads as
        Portuguese "já" to the detector, and a German "ja" was answered in Portuguese."""
        known = state.lang if state is not None else None
        if state is not None and state.lang_source == "chosen" and known:
            return known
        answered = known is not None and self.answers.of(norm_text) is not None
        return (
            from_locale(inbound.locale, self.languages)
            or (known if answered else None)
            or self.detector.detect(norm_text)
            or known
            or "en"
        )


class Engine:
    def __init__(
        self,
        services: Services,
        store: Store,
        pseudonyms: Pseudonymizer,
        handoff: HandoffConfig | None = None,
    ) -> None:
        self.services = services
        self.store = store
        self.pseudonyms = pseudonyms
        self.desk = Desk(store, services.texts, services.resources, handoff)
        self.outbox = OutboxWorker(
            store, sweep=self.desk.sweep, staff_channels=self.desk.config.staff_channels
        )
        self.desk.queued = self.outbox.wake
        self.reminders = ReminderWorker(
            store,
            services.texts,
            self.outbox.messengers,
            services.resources.privacy.checkin_days,
        )
        self._reminding: asyncio.Task[None] | None = None
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._background: set[asyncio.Task[None]] = set()
        self._pending_save: dict[str, asyncio.Task[None]] = {}
        """A crisis turn's save, which the person's next turn waits for."""

    async def handle(self, inbound: Inbound) -> Response:
        key = self.pseudonyms.key(inbound.platform, inbound.user_id)
        text = clean_input(inbound.text) if inbound.payload is None else ""
        verdict = self.services.screen.screen(text) if text else NO_CRISIS
        if verdict.crisis:
            return await self._crisis_turn(inbound, key, text, verdict)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            return await self._turn(inbound, key, text, verdict)

    async def start(self) -> None:
        """Start background work once adapters added their channels and messengers:
        delivery of staff notices and relayed messages, and check-in reminders."""
        self.outbox.start()
        if self._reminding is None:
            self._reminding = asyncio.get_running_loop().create_task(self.reminders.run())

    async def drain(self) -> None:
        """Wait for background saves (crisis follow-ups) to finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def aclose(self) -> None:
        await self.outbox.stop()
        if self._reminding is not None:
            self._reminding.cancel()
            await asyncio.gather(self._reminding, return_exceptions=True)
        await self.drain()
        await self.store.close()

    # -- crisis -----------------------------------------------------------------

    async def _crisis_turn(
        self, inbound: Inbound, key: str, text: str, verdict: Verdict
    ) -> Response:
        state = await self._load(key, CRISIS_STORE_TIMEOUT)
        services = self.services
        lang = services.language_of(state, inbound, normalize(text))
        code = (state.country if state else None) or services.country_hint(inbound)
        try:
            replies = crisis_replies(
                services.country(code), services.resources, services.texts, lang
            )
        except Exception:  # a bad entry must not cost the person the numbers
            log.exception("crisis reply for %s failed; sending the general one", code)
            replies = [
                Reply(
                    services.texts.get(lang, "crisis_intro")
                    + "\n"
                    + services.texts.get(lang, "crisis_emergency_unknown")
                )
            ]
        if not inbound.private:
            note = Reply(services.texts.get(lang, "crisis_public_note"))
            replies = [note, *(Reply(r.text, r.buttons, private=True) for r in replies)]
        log.warning("crisis reply sent: rule=%s user=%s", verdict.rule, key[:8])
        remembered = state or UserState(key=key, lang=lang, lang_source="detected")
        remembered.introduced = True
        remembered.flow, remembered.flow_data = "crisis_followup", {}
        remembered.country = remembered.country or code
        saving = self._pending_save[key] = self._in_background(self._save(remembered))
        saving.add_done_callback(lambda task: self._forget_pending(key, task))
        self._in_background(self._tell_case(key, text))
        return Response(replies, lang, intent=None, crisis=True, rule=verdict.rule)

    # -- everything else ---------------------------------------------------------

    async def _turn(self, inbound: Inbound, key: str, text: str, verdict: Verdict) -> Response:
        norm = normalize(text)
        pending = self._pending_save.pop(key, None)
        if pending is not None and not pending.done():
            await asyncio.wait({pending}, timeout=STORE_TIMEOUT)
        loaded = await self._load(key, STORE_TIMEOUT)
        state = loaded or UserState(key=key)
        lang = self.services.language_of(loaded, inbound, norm)
        if state.lang_source != "chosen":
            state.lang = lang
            state.lang_source = "locale" if from_locale(inbound.locale, LANGUAGES) else "detected"
        if state.country is None:
            state.country = self.services.country_hint(inbound)
        ctx = Context(
            inbound=inbound,
            user=state,
            lang=lang,
            services=self.services,
            desk=self.desk,
            store=self.store,
            norm=norm,
        )
        if not state.introduced:
            ctx.say(ctx.t("intro"))
            state.introduced = True
        try:
            await self._dispatch(ctx, inbound, text, norm)
        except Exception:
            log.exception("handler failed: user=%s", key[:8])
            ctx.say(ctx.t("error_sorry"), *self._fallback_buttons(ctx))
        if verdict.level is Level.CHECK:
            country = self.services.country(state.country)
            lines = lines_text(country, self.services.resources, lang, self.services.texts)
            ctx.say(
                ctx.t("gentle_check") + "\n" + lines,
                ctx.button("btn_talk_to_person", "human:check"),
            )
        if not ctx.forget:
            await self._save(state)
        intent = ctx.match.intent if ctx.match else None
        return Response(ctx.replies, ctx.lang, intent=intent, rule=verdict.rule)

    async def _dispatch(self, ctx: Context, inbound: Inbound, text: str, norm: str) -> None:
        registry = self.services.registry
        if inbound.payload is not None:
            await self._payload(ctx, inbound.payload)
            return
        case = await self._active_case(ctx.user.key)
        if case is not None and case.status is Status.CLAIMED and case.contact is Contact.CHAT:
            await self.desk.relay_from_person(case, text)  # the case manager answers, not the bot
            return
        if not norm:
            key = "only_symbols" if text.strip() else "empty_message"
            ctx.say(ctx.t(key), *self._fallback_buttons(ctx))
            return
        flow = registry.flows.get(ctx.user.flow or "")
        if flow is not None and await flow(ctx):
            return
        if ctx.user.flow and flow is None:
            ctx.end_flow()
        ctx.match = ctx.match or self.services.matcher.classify(norm)
        await self.answer_match(ctx)

    async def answer_match(self, ctx: Context) -> None:
        """Run the matched intent's handler; below the threshold or tied, ask instead."""
        match = ctx.match
        assert match is not None
        handler = self.services.registry.intents.get(match.intent)
        if match.confidence < THRESHOLD or handler is None:
            ctx.say(ctx.t("not_understood"), *self._fallback_buttons(ctx))
        elif match.ambiguous and match.runner_up:
            ctx.say(
                ctx.t("which_one"),
                ctx.intent_button(match.intent),
                ctx.intent_button(match.runner_up),
                ctx.intent_button("menu"),
            )
        else:
            await handler(ctx)

    async def _payload(self, ctx: Context, payload: str) -> None:
        registry = self.services.registry
        prefix, _, arg = payload.partition(":")
        if _PAYLOAD.match(payload) and prefix == "intent" and arg in registry.intents:
            ctx.end_flow()
            ctx.match = Match(arg, 1.0)
            await registry.intents[arg](ctx)
        elif _PAYLOAD.match(payload) and prefix in registry.payloads:
            ctx.arg = arg
            await registry.payloads[prefix](ctx)
        else:
            ctx.say(ctx.t("stale_button"), *self._fallback_buttons(ctx))

    @staticmethod
    def _fallback_buttons(ctx: Context) -> tuple[Button, ...]:
        return tuple(ctx.intent_button(i) for i in ("menu", "talk_to_human", "crisis_lines"))

    # -- store, never fatal ------------------------------------------------------

    async def _active_case(self, key: str) -> Case | None:
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                return await self.desk.active_case(key)
        except Exception as exc:  # without the case table the bot still answers
            log.error("case lookup failed (%s): user=%s", type(exc).__name__, key[:8])
            return None

    async def _tell_case(self, key: str, text: str) -> None:
        """After a crisis reply: a case the person has gets its priority raised."""
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                await self.desk.note_crisis(key, text)
        except Exception as exc:
            log.error("case update after crisis failed (%s): user=%s", type(exc).__name__, key[:8])

    async def _load(self, key: str, wait: float) -> UserState | None:
        try:
            async with asyncio.timeout(wait):  # no task per call, unlike wait_for
                return await self.store.get_user(key)
        except Exception as exc:  # the conversation goes on without saved state
            log.error("store read failed (%s): user=%s", type(exc).__name__, key[:8])
            return None

    async def _save(self, state: UserState) -> None:
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                await self.store.save_user(state)
        except Exception as exc:
            log.error("store write failed (%s): user=%s", type(exc).__name__, state.key[:8])

    def _forget_pending(self, key: str, task: asyncio.Task[None]) -> None:
        if self._pending_save.get(key) is task:
            del self._pending_save[key]

    def _in_background(self, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
