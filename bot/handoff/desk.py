"""Every action on a case, for the person and for staff, with its checks.

The desk writes each change together with the notices that announce it (the
outbox), so staff channels and the person hear of it even after a crash.
Staff-facing texts are English; person-facing ones come from `texts/handoff`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.handoff.channel import NoticeKind
from bot.handoff.config import HandoffConfig
from bot.handoff.hours import expected_reply, is_open, next_opening
from bot.handoff.models import (
    Case,
    CaseMessage,
    Contact,
    Priority,
    StaffActor,
    StaffMember,
    Status,
)
from bot.handoff.outbox_models import PERSON, OutboxItem, person_body
from bot.messages import Button, Reply
from bot.safety.reply import lines_text

if TYPE_CHECKING:
    from bot.resources import Resources
    from bot.store import Store
    from bot.texts import Texts

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
MAX_TEXT = 2000


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """A dedupe tag for an event at this moment (the same event twice collapses)."""
    return str(int(moment.timestamp()))


def new_case_id() -> str:
    """96 random bits: a case cannot be found by guessing or counting. The letter in
    front keeps an id from starting with "-", which the `cases` CLI (and any
    command line) would take for an option."""
    return f"c{secrets.token_urlsafe(12)}"


class Refused(Exception):
    """A staff action that is not allowed; str() is a short reason for the staff member."""


class Blocked(Exception):
    """The person may not open a case until `until` (crisis replies are unaffected)."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


def summary(case: Case, hub_zone: str = "UTC") -> str:
    """What staff see of a case: only what the person agreed to share."""
    contact = {
        Contact.CHAT: f"here in the chat ({case.platform})",
        Contact.EMAIL: f"email: {case.contact_detail}",
        Contact.PHONE: f"phone: {case.contact_detail}",
    }[case.contact]
    lines = [
        f"Case {case.id} · {'CRISIS' if case.priority is Priority.CRISIS else 'normal'}"
        f" priority · {case.status.value}",
        f"Language: {case.lang} · Country: {case.country or 'not given'}"
        f" · Platform: {case.platform}",
        f"Contact: {contact}",
        f"Name: {case.display_name or 'not shared'}",
        f"Note: {case.note or '(none)'}",
        f"Opened: {case.created_at:%Y-%m-%d %H:%M} UTC",
    ]
    if case.priority is Priority.CRISIS:
        lines.append("Opened after a crisis reply: the person was shown crisis lines.")
    return "\n".join(lines)


def when_text(moment: dt.datetime, zone: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} ({zone})"


def duration_text(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


class Desk:
    def __init__(
        self,
        store: Store,
        texts: Texts,
        resources: Resources,
        config: HandoffConfig | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """Texts and resources, not all of `Services`: the desk needs no crisis screen
        or intents, so `run_cases` can open it alone."""
        self.store = store
        self.texts = texts
        self.resources = resources
        self.config = config or HandoffConfig()
        self.clock = clock
        self.queued: Callable[[], None] = lambda: None
        """Called after notices were written, to wake the outbox worker."""

    # -- notices -----------------------------------------------------------------

    def _staff(
        self, case: Case, kind: NoticeKind, text: str, tag: str, skip: str | None = None
    ) -> list[OutboxItem]:
        channels = self.config.oncall_channels if kind is NoticeKind.ONCALL else ()
        channels = channels or self.config.staff_channels
        return [
            OutboxItem(
                channel=name,
                kind=kind.value,
                dedupe=f"{case.id}:{name}:{tag}",
                body={"text": text},
                case_id=case.id,
            )
            for name in channels
            if name != skip
        ]

    def _to_person(self, case: Case, tag: str, replies: Sequence[Reply]) -> list[OutboxItem]:
        if case.address is None:
            return []
        return [
            OutboxItem(
                channel=PERSON + case.platform,
                kind="person",
                dedupe=f"{case.id}:person:{tag}",
                body=person_body(case.address, replies),
                case_id=case.id,
            )
        ]

    def _t(self, case: Case, key: str, **values: object) -> str:
        return self.texts.get(case.lang, key, **values)

    def _end_button(self, case: Case) -> Button:
        return Button(self._t(case, "btn_end_case"), "case:end")

    def crisis_lines(self, lang: str, country: str | None) -> str:
        resources = self.resources
        return lines_text(resources.country(country), resources, lang, self.texts)

    # -- the person ----------------------------------------------------------------

    async def open_case(
        self,
        *,
        user_key: str,
        platform: str,
        address: str | None,
        lang: str,
        country: str | None,
        priority: Priority,
        contact: Contact,
        contact_detail: str | None = None,
        display_name: str | None = None,
        note: str | None = None,
    ) -> tuple[Case, bool]:
        """Open a case unless the person has one (returned with False); Blocked if blocked."""
        now = self.clock()
        until = await self.store.blocked_until(user_key, now)
        if until is not None:
            raise Blocked(until)
        case = Case(
            id=new_case_id(),
            user_key=user_key,
            platform=platform,
            address=address,
            status=Status.OPEN,
            priority=priority,
            lang=lang,
            country=country,
            contact=contact,
            contact_detail=contact_detail,
            display_name=display_name,
            note=(note or "")[:500] or None,
            created_at=now,
            announced_at=now,
        )
        notices = self._staff(case, NoticeKind.OPENED, summary(case), "opened")
        stored, created = await self.store.create_case(case, notices)
        self.queued()
        if created:
            log.info("case opened: case=%s priority=%s", case.id[:6], priority.value)
        return stored, created

    async def active_case(self, user_key: str) -> Case | None:
        return await self.store.active_case(user_key)

    async def relay_from_person(self, case: Case, text: str) -> None:
        """The person's words, to the case managers' thread (they agreed when opening)."""
        now = self.clock()
        text = text[:MAX_TEXT]
        tag = f"p{secrets.token_hex(6)}"
        notices = self._staff(case, NoticeKind.PERSON, f"Person: {text}", tag)
        await self.store.add_case_message(case.id, CaseMessage(now, "person", text), notices)
        self.queued()

    async def end_by_person(self, user_key: str) -> Case | None:
        case = await self.store.active_case(user_key)
        if case is None:
            return None
        return await self._close(case, "The person ended the conversation.", by_person=True)

    async def record_feedback(self, user_key: str, answer: str) -> bool:
        case = await self.store.last_closed_case(user_key)
        if case is None or case.feedback is not None:
            return False
        case.feedback = answer
        return await self.store.update_case(case, Status.CLOSED)

    async def note_crisis(self, user_key: str, text: str) -> None:
        """A crisis message from someone with a case: raise its priority; relay the
        words only into a conversation the person is already having with staff."""
        case = await self.store.active_case(user_key)
        if case is None:
            return
        if case.status is Status.CLAIMED:
            await self.relay_from_person(case, text)
        if case.priority is not Priority.CRISIS:
            expected = case.status
            case.priority = Priority.CRISIS
            note = "The person's latest message triggered the crisis screen; priority raised."
            tag = f"crisis{secrets.token_hex(4)}"
            await self.store.update_case(
                case, expected, self._staff(case, NoticeKind.PERSON, note, tag)
            )
            self.queued()

    def waiting(self) -> tuple[bool, dt.datetime, dt.datetime]:
        """(open now, when the team is next at work, latest expected reply)."""
        hours = self.resources.hub.handoff
        now = self.clock()
        return is_open(hours, now), next_opening(hours, now), expected_reply(hours, now)

    # -- staff -----------------------------------------------------------------------

    async def _member(self, actor: StaffActor) -> StaffMember:
        member = await self.store.get_staff(actor.id)
        if member is not None:
            return member
        if actor.verified:
            return StaffMember(actor.id, actor.name, anonymous=True)
        log.warning("staff action refused: not staff")
        raise Refused("You are not on this hub's staff list.")

    async def _case(self, case_id: str) -> Case:
        case = await self.store.get_case(case_id) if case_id.isascii() else None
        if case is None:
            raise Refused("No such case.")
        return case

    async def claim(self, case_id: str, actor: StaffActor) -> Case:
        member = await self._member(actor)
        case = await self._case(case_id)
        if case.status is not Status.OPEN:
            holder = f" by {case.assignee}" if case.assignee else ""
            raise Refused(f"Case {case.id} is already {case.status.value}{holder}.")
        case.status, case.assignee, case.claimed_at = Status.CLAIMED, member.name, self.clock()
        shown = self._t(case, "case_manager") if member.anonymous else member.name
        to_person = Reply(
            self._t(case, "handoff_claimed_person", name=shown), (self._end_button(case),)
        )
        notices = [
            *self._staff(case, NoticeKind.CLAIMED, f"Claimed by {member.name}.", "claimed"),
            *self._to_person(case, f"claimed{stamp(self.clock())}", [to_person]),
        ]
        if not await self.store.update_case(case, Status.OPEN, notices):
            raise Refused(f"Case {case.id} was just claimed by someone else.")
        self.queued()
        log.info("case claimed: case=%s", case.id[:6])
        return case

    async def staff_reply(self, case_id: str, actor: StaffActor, text: str) -> None:
        member = await self._member(actor)
        case = await self._case(case_id)
        if case.status is not Status.CLAIMED:
            raise Refused(f"Case {case.id} is {case.status.value}: claim it before replying.")
        if case.contact is not Contact.CHAT:
            raise Refused(f"The person asked to be reached by {case.contact.value}, not here.")
        if case.address is None:
            raise Refused("The person cannot be reached through the bot for this case.")
        text = text.strip()[:MAX_TEXT]
        if not text:
            raise Refused("Nothing to send.")
        shown = self._t(case, "case_manager") if member.anonymous else member.name
        tag = f"s{secrets.token_hex(6)}"
        notices = [
            *self._to_person(
                case,
                tag,
                [
                    Reply(
                        self._t(case, "handoff_staff_says", name=shown, text=text),
                        (self._end_button(case),),
                    )
                ],
            ),
            *self._staff(
                case, NoticeKind.STAFF, f"{member.name}: {text}", tag, skip=actor.id.split(":")[0]
            ),
        ]
        message = CaseMessage(self.clock(), "staff", text, member.id)
        await self.store.add_case_message(case.id, message, notices)
        self.queued()

    async def close(self, case_id: str, actor: StaffActor) -> Case:
        member = await self._member(actor)
        case = await self._case(case_id)
        if case.status is Status.CLOSED:
            raise Refused(f"Case {case.id} is already closed.")
        return await self._close(case, f"Closed by {member.name}.", by_person=False)

    async def _close(self, case: Case, staff_text: str, by_person: bool) -> Case:
        expected = case.status
        case.status, case.closed_at = Status.CLOSED, self.clock()
        tag = f"closed{stamp(case.closed_at)}"
        person: list[OutboxItem] = []
        if not by_person:
            question = Reply(
                self._t(case, "handoff_closed_person"),
                tuple(
                    Button(self._t(case, f"feedback_{answer}"), f"feedback:{answer}")
                    for answer in ("good", "ok", "bad", "skip")
                ),
            )
            person = self._to_person(case, tag, [question])
        notices = [*self._staff(case, NoticeKind.CLOSED, staff_text, tag), *person]
        case.address = None  # nothing more will be relayed
        if not await self.store.update_case(case, expected, notices):
            raise Refused(f"Case {case.id} changed meanwhile; look again.")
        self.queued()
        log.info("case closed: case=%s", case.id[:6])
        return case

    async def reopen(self, case_id: str, actor: StaffActor) -> Case:
        member = await self._member(actor)
        case = await self._case(case_id)
        if case.status is not Status.CLOSED:
            raise Refused(f"Case {case.id} is not closed.")
        case.status, case.assignee, case.claimed_at, case.closed_at = Status.OPEN, None, None, None
        case.announced_at = self.clock()
        text = f"Reopened by {member.name}.\n{summary(case)}"
        notices = self._staff(case, NoticeKind.REOPENED, text, f"reopened{stamp(self.clock())}")
        if not await self.store.update_case(case, Status.CLOSED, notices):
            raise Refused("The person has another open case; it cannot be reopened.")
        self.queued()
        return case

    async def show(self, case_id: str, actor: StaffActor) -> tuple[Case, list[CaseMessage]]:
        await self._member(actor)
        case = await self._case(case_id)
        return case, await self.store.case_messages(case.id)

    async def list_cases(self, actor: StaffActor, include_closed: bool = False) -> list[Case]:
        await self._member(actor)
        return await self.store.list_cases(include_closed)

    async def block(self, case_id: str, actor: StaffActor, hours: float, reason: str) -> None:
        member = await self._member(actor)
        case = await self._case(case_id)
        if not reason.strip() or not 0 < hours <= 24 * 365:
            raise Refused("A block needs a reason and a duration between 0 and 365 days.")
        until = self.clock() + dt.timedelta(hours=hours)
        await self.store.block(case.user_key, until, reason.strip()[:300], member.id)
        log.info("person blocked: case=%s hours=%s", case.id[:6], hours)

    async def case_for_thread(self, channel: str, thread: str) -> str | None:
        return await self.store.case_for_thread(channel, thread)

    # -- waiting well ----------------------------------------------------------------

    async def sweep(self) -> int:
        """Delete closed cases past the hub's retention period, re-announce cases
        waiting past the target, and send crisis cases waiting too long to on-call;
        returns how many notices were queued."""
        hours = self.resources.hub.handoff
        now = self.clock()
        keep = dt.timedelta(days=self.resources.privacy.case_days)
        if await self.store.purge_cases(now - keep):
            log.info("closed cases past the retention period deleted")
        queued = 0
        for case in await self.store.list_cases():
            if case.status is not Status.OPEN:
                continue
            notices: list[OutboxItem] = []
            oncall_after = dt.timedelta(minutes=hours.crisis_oncall_minutes)
            if (
                case.priority is Priority.CRISIS
                and case.oncall_at is None
                and now - case.created_at >= oncall_after
                and self.config.oncall_channels
            ):
                case.oncall_at = now
                text = f"ON-CALL: crisis case unclaimed for {hours.crisis_oncall_minutes} min.\n"
                notices += self._staff(case, NoticeKind.ONCALL, text + summary(case), "oncall")
            last = case.announced_at or case.created_at
            if is_open(hours, now) and now - last >= dt.timedelta(minutes=hours.target_minutes):
                first = last == case.created_at
                case.announced_at = now
                tag = f"reannounce{stamp(now)}"
                waited = int((now - case.created_at).total_seconds() // 60)
                text = f"Still unclaimed after {waited} min.\n{summary(case)}"
                notices += self._staff(case, NoticeKind.REANNOUNCE, text, tag)
                if first:
                    notices += self._to_person(case, "late", [self._still_waiting(case)])
            if notices and await self.store.update_case(case, Status.OPEN, notices):
                queued += len(notices)
        if queued:
            self.queued()
        return queued

    def _still_waiting(self, case: Case) -> Reply:
        hours = self.resources.hub.handoff
        latest = expected_reply(hours, self.clock())
        text = self._t(
            case,
            "handoff_still_waiting",
            when=when_text(latest, hours.timezone),
            lines=self.crisis_lines(case.lang, case.country),
        )
        return Reply(text, (Button(self._t(case, "btn_cancel_request"), "case:end"),))

    def describe(self, case: Case) -> dict[str, Any]:
        """A case for the terminal and exports: never the person's key or address."""
        return {
            "id": case.id,
            "status": case.status.value,
            "priority": case.priority.value,
            "assignee": case.assignee,
            "summary": summary(case),
        }
