"""Which staff channels a hub uses, from the environment (secrets never live in the repo)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    to: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False


@dataclass(frozen=True, slots=True)
class HandoffConfig:
    staff_channels: tuple[str, ...] = ()
    """Every case notice is queued for each of these (delivered by whichever
    running process has that channel): "telegram", "discord", "email"."""
    oncall_channels: tuple[str, ...] = ()
    """Crisis cases unclaimed too long also go here ("oncall")."""
    smtp: SmtpSettings | None = None
    oncall_to: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HandoffConfig:
        """MUSICBOT_STAFF_CHANNELS lists channels explicitly; otherwise each
        configured one counts (SMTP, TELEGRAM_STAFF_CHAT_ID, DISCORD_STAFF_CHANNEL_ID)."""
        env = dict(os.environ) if env is None else env
        smtp = None
        if env.get("MUSICBOT_SMTP_HOST") and env.get("MUSICBOT_CASES_EMAIL"):
            smtp = SmtpSettings(
                host=env["MUSICBOT_SMTP_HOST"],
                port=int(env.get("MUSICBOT_SMTP_PORT", "587")),
                sender=env.get("MUSICBOT_SMTP_FROM", "bot@localhost"),
                to=env["MUSICBOT_CASES_EMAIL"],
                username=env.get("MUSICBOT_SMTP_USER"),
                password=env.get("MUSICBOT_SMTP_PASSWORD"),
                starttls=env.get("MUSICBOT_SMTP_STARTTLS", "1") != "0",
            )
        explicit = env.get("MUSICBOT_STAFF_CHANNELS")
        if explicit is not None:
            channels = tuple(c.strip() for c in explicit.split(",") if c.strip())
        else:
            found = {
                "email": smtp is not None,
                "telegram": bool(env.get("TELEGRAM_STAFF_CHAT_ID")),
                "discord": bool(env.get("DISCORD_STAFF_CHANNEL_ID")),
            }
            channels = tuple(name for name, on in found.items() if on)
        oncall_to = env.get("MUSICBOT_ONCALL_EMAIL")
        oncall = ("oncall",) if oncall_to and smtp is not None else ()
        return cls(channels, oncall, smtp, oncall_to)
