"""A case manager at a terminal: `python -m bot cases …` against the bot's database,
while the person's console chat (another process) receives the replies."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cases_cli import run_cases
from bot.cli import build_parser
from bot.config import PROJECT_ROOT, Paths
from bot.safety.screen import CrisisScreen

PERSON = ["talk to a person", "1", "1", "we just got off tour and I can't sleep"]


async def _bot(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MUSICBOT_DATA_DIR": str(tmp), "MUSICBOT_STAFF_CHANNELS": ""}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
    )


async def test_terminal_case_manager_claims_replies_and_closes(tmp_path: Path) -> None:
    assert (await _bot(tmp_path, "staff", "add", "console:alex", "--name", "Alex")).returncode == 0
    env = {**os.environ, "MUSICBOT_DATA_DIR": str(tmp_path), "MUSICBOT_STAFF_CHANNELS": ""}
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        "--lang",
        "en",
        cwd=PROJECT_ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert chat.stdin is not None and chat.stdout is not None
    seen = ""

    async def read_until(marker: str) -> None:
        """The first reply waits for the chat's start-up, which loads and indexes
        every rule: about 12 s on a quiet two-core machine, over 30 s on a busy one."""
        nonlocal seen
        assert chat.stdout is not None
        while marker not in seen:
            chunk = await asyncio.wait_for(chat.stdout.read(4096), 120)
            assert chunk, f"chat ended before {marker!r}:\n{seen}"
            seen += chunk.decode()

    try:
        for line in PERSON:
            chat.stdin.write(f"{line}\n".encode())
        await chat.stdin.drain()
        await read_until("your request is with the team")

        listed = await _bot(tmp_path, "cases", "--as", "console:alex", "list")
        assert listed.returncode == 0, listed.stderr
        case_id = listed.stdout.split()[0]
        assert "normal" in listed.stdout and "1 case(s)" in listed.stdout
        shown = await _bot(tmp_path, "cases", "--as", "console:alex", "show", case_id)
        assert "can't sleep" in shown.stdout and "Contact: here in the chat" in shown.stdout
        refused = await _bot(tmp_path, "cases", "--as", "console:eve", "claim", case_id)
        assert refused.returncode == 1 and "not on this hub's staff list" in refused.stdout

        assert (
            await _bot(tmp_path, "cases", "--as", "console:alex", "claim", case_id)
        ).returncode == 0
        await read_until("from the team is here now")
        reply = await _bot(
            tmp_path, "cases", "--as", "console:alex", "reply", case_id, "Hi,", "I'm", "here."
        )
        assert reply.returncode == 0
        await read_until("Case manager: Hi, I'm here.")

        chat.stdin.write(b"thank you, that helps\n")
        await chat.stdin.drain()
        await asyncio.sleep(0.5)
        shown = await _bot(tmp_path, "cases", "--as", "console:alex", "show", case_id)
        assert "person: thank you, that helps" in shown.stdout

        assert (
            await _bot(tmp_path, "cases", "--as", "console:alex", "close", case_id)
        ).returncode == 0
        await read_until("how did it go?")
        after = await _bot(tmp_path, "cases", "--as", "console:alex", "list", "--all")
        assert "closed" in after.stdout
    finally:
        chat.stdin.write(b"/quit\n")
        await chat.stdin.drain()
        await asyncio.wait_for(chat.wait(), 30)


async def test_case_commands_load_no_crisis_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A case manager's command reads texts and resources only: loading and indexing
    the crisis screen took 13 s a command, for nothing the desk uses."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the crisis screen was loaded")

    monkeypatch.setattr(CrisisScreen, "from_dir", refuse)
    args = build_parser().parse_args(["cases", "--as", "console:eve", "list"])
    paths = Paths.from_env(db=str(tmp_path / "bot.sqlite3"))
    assert await run_cases(paths, args) == 1
    assert "not on this hub's staff list" in capsys.readouterr().out


def test_console_maps_numbers_and_slash_commands_to_buttons() -> None:
    import io

    from bot.console import ConsoleChat
    from bot.messages import Button, Reply

    console = ConsoleChat(io.StringIO())
    console.render([Reply("pick", (Button("One", "intent:menu"), Button("Two", "case:end")))])
    assert console.inbound("2\n", "zoe", None, None).payload == "case:end"
    assert console.inbound("/crisis\n", "zoe", None, None).payload == "intent:crisis_lines"
    assert console.inbound("/start crisis", "zoe", None, None).payload == "intent:crisis_lines"
    unknown = console.inbound("/nope", "zoe", None, None)
    assert unknown.payload is None and unknown.text == "/nope"
