"""Case notices by email, for hubs whose case managers live in their inbox.

Each case is one email thread (References/In-Reply-To on the first notice's
Message-ID). The Message-ID comes from the notice key, so a notice retried
after a crash is the same email, which mail clients show once.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import EmailMessage

import aiosmtplib

from bot.handoff.channel import Notice, NoticeKind
from bot.handoff.config import SmtpSettings
from bot.handoff.models import Priority
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

_SUBJECTS = {
    NoticeKind.OPENED: "New case",
    NoticeKind.REANNOUNCE: "Still unclaimed",
    NoticeKind.ONCALL: "ON-CALL: crisis case unclaimed",
    NoticeKind.CLAIMED: "Claimed",
    NoticeKind.PERSON: "Message from the person",
    NoticeKind.STAFF: "Reply sent",
    NoticeKind.CLOSED: "Closed",
    NoticeKind.REOPENED: "Reopened",
}


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailChannel:
    def __init__(self, settings: SmtpSettings, name: str = "email", to: str | None = None) -> None:
        self.name = name
        self.settings = settings
        self.to = to or settings.to
        self.domain = settings.sender.rpartition("@")[2] or "localhost"

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        case = notice.case
        priority = "[CRISIS] " if case.priority is Priority.CRISIS else ""
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = self.to
        msg["Subject"] = f"{priority}Case {case.id}: {_SUBJECTS[notice.kind]}"
        msg["Message-ID"] = message_id(notice.key, self.domain)
        if thread:
            msg["In-Reply-To"] = thread
            msg["References"] = thread
        actions = " and ".join(notice.actions)
        footer = (
            f"\n\nTo {actions} this case: python -m bot cases {notice.actions[0]} {case.id}"
            if notice.actions
            else ""
        )
        msg.set_content(notice.text + footer)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.settings.host,
                port=self.settings.port,
                username=self.settings.username,
                password=self.settings.password,
                start_tls=self.settings.starttls,
                timeout=20,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("recipient refused", permanent=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}") from exc
        return thread or str(msg["Message-ID"])
