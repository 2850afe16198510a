"""Kill the bot at every step of an escalation, restart it, count cases and emails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.handoff.config import SmtpSettings
from bot.store.sqlite import SQLiteStore
from tests.conftest import Inbox

ROOT = Path(__file__).resolve().parent.parent


def run(env: dict[str, str], crash_at: str, *args: str) -> int:
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_escalation", *args],
        cwd=ROOT,
        env={**env, "CRASH_AT": crash_at},
        capture_output=True,
        timeout=60,
    ).returncode


@pytest.mark.parametrize("crash_at", ["after_case", "in_send", "after_send", ""])
async def test_killed_at_any_step_nothing_is_lost_or_doubled(
    crash_at: str, tmp_path: Path, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    env = {
        **os.environ,
        "MUSICBOT_DATA_DIR": str(tmp_path),
        "MUSICBOT_DB": str(tmp_path / "bot.sqlite3"),
        "MUSICBOT_SMTP_HOST": "127.0.0.1",
        "MUSICBOT_SMTP_PORT": str(settings.port),
        "MUSICBOT_SMTP_STARTTLS": "0",
        "MUSICBOT_CASES_EMAIL": "cases@hub.example",
        "MUSICBOT_STAFF_CHANNELS": "email",
    }
    first = await asyncio.to_thread(run, env, crash_at, "open")
    assert first == (9 if crash_at else 0)
    assert await asyncio.to_thread(run, env, "") == 0  # restart: deliver what is pending
    assert await asyncio.to_thread(run, env, "") == 0  # and again: nothing more to send

    store = await SQLiteStore.open(tmp_path / "bot.sqlite3")
    try:
        assert len(await store.list_cases()) == 1
        assert await store.outbox_counts() == {"sent": 1}
    finally:
        await store.close()
    ids = {message["Message-ID"] for message in inbox.messages}
    assert len(ids) == 1  # one notification, whatever the crash
    expected_copies = 2 if crash_at == "after_send" else 1
    assert len(inbox.messages) == expected_copies
