"""The command line as scripts and people use it: real processes, real pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bot(
    *args: str, stdin: str = "", tmp: Path | None = None, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **env_vars)
    if tmp is not None:
        env["MUSICBOT_DATA_DIR"] = str(tmp)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_classify_contract_one_line_out_per_line_in(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "I'm so burned out"}),
        "not json at all",
        json.dumps({"text": "quiero morir", "lang": "es", "country": "ES"}),
        json.dumps({"text": 42}),
        json.dumps({"text": "we killed it tonight", "lang": "en"}),
        "",
    ]
    result = run_bot("classify", stdin="\n".join(lines) + "\n", tmp=tmp_path)
    assert result.returncode == 2, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["intent"] == "burnout" and out[0]["crisis"] is False
    assert 0 <= out[0]["confidence"] <= 1 and out[0]["lang"] == "en"
    assert "error" in out[1] and "error" in out[3] and "error" in out[5]
    assert out[2]["crisis"] is True and out[2]["lang"] == "es"
    assert out[4]["crisis"] is False
    assert not list(tmp_path.glob("*.sqlite3")), "classify is stateless"


def test_classify_exits_zero_when_all_lines_are_fine(tmp_path: Path) -> None:
    result = run_bot("classify", stdin='{"text": "hi"}\n', tmp=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["intent"] == "greet"


def test_eval_reports_and_enforces_bars(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        "\n".join(
            json.dumps(item)
            for item in [
                {"text": "hello", "lang": "en", "intent": ["greet"], "crisis": False},
                {"text": "I want to kill myself", "lang": "en", "intent": None, "crisis": True},
                {
                    "text": "what's the weather on saturday",
                    "lang": "en",
                    "intent": ["greet"],
                    "crisis": False,
                },
            ]
        )
    )
    result = run_bot("eval", str(labelled), "--json", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["crisis_recall"] == 1.0
    assert report["accuracy"] == 0.5
    assert report["by_language"]["en"]["items_with_intent"] == 2
    assert len(report["misses"]) == 1
    failing = run_bot("eval", str(labelled), "--min-accuracy", "0.9", tmp=tmp_path)
    assert failing.returncode == 1 and "accuracy" in failing.stderr


def test_check_passes_on_shipped_data(tmp_path: Path) -> None:
    result = run_bot("check", tmp=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


def test_check_fails_on_a_bad_resources_file(tmp_path: Path) -> None:
    bad = tmp_path / "resources.yaml"
    bad.write_text("hub: {name: x}\ncrisis: [\n")
    result = run_bot("--resources", str(bad), "check", tmp=tmp_path)
    assert result.returncode == 1
    assert f"{bad}:" in result.stdout


def test_chat_starts_with_a_bad_resources_file_refused(tmp_path: Path) -> None:
    bad = tmp_path / "resources.yaml"
    bad.write_text("hub:\n  name: x\n")
    result = run_bot("--resources", str(bad), "chat", stdin="hi\n", tmp=tmp_path)
    assert result.returncode == 2
    assert "resources.yaml" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("lang", ["en", "de"])
def test_console_chat_with_numbered_buttons(tmp_path: Path, lang: str) -> None:
    db = tmp_path / "chat.sqlite3"
    result = run_bot(
        "chat",
        "--lang",
        lang,
        "--country",
        "DE",
        "--db",
        str(db),
        stdin="hi\nmenu\n1\n/quit\n",
        tmp=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout
    assert "0800 111 0 111" in result.stdout  # pressing 1 (crisis lines) in Germany
    assert db.exists()
