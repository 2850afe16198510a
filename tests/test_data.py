"""The data files: complete in every language, and clear errors when they are not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.check import check
from bot.config import LANGUAGES, Paths
from bot.resources import load_resources
from bot.texts import Texts
from bot.yamlfile import DataError


def test_shipped_data_passes_check(paths: Paths) -> None:
    errors = [p for p in check(paths) if not p.warning]
    assert errors == []


def test_every_text_exists_in_every_language(paths: Paths) -> None:
    texts = Texts.load(paths.texts, LANGUAGES)
    assert set(texts.languages) == set(LANGUAGES)


def test_a_missing_translation_fails(paths: Paths, tmp_path: Path) -> None:
    shutil.copytree(paths.texts, tmp_path / "texts")
    fr = tmp_path / "texts" / "fr.yaml"
    fr.write_text(
        "\n".join(line for line in fr.read_text().splitlines() if not line.startswith("greet:"))
    )
    with pytest.raises(DataError) as caught:
        Texts.load(tmp_path / "texts", LANGUAGES)
    assert "fr.yaml" in str(caught.value) and "greet" in str(caught.value)


def test_feature_folders_are_checked_like_the_main_catalogue(paths: Paths, tmp_path: Path) -> None:
    shutil.copytree(paths.texts, tmp_path / "texts")
    feature = tmp_path / "texts" / "zz_feature"
    feature.mkdir()
    for lang in LANGUAGES:
        (feature / f"{lang}.yaml").write_text("zz_hello: Hi {name}\ngreet: clash\n")
    (feature / "de.yaml").write_text("zz_hello: Hallo\ngreet: clash\n")
    with pytest.raises(DataError) as caught:
        Texts.load(tmp_path / "texts", LANGUAGES)
    message = str(caught.value)
    assert "zz_feature/de.yaml" in message and "placeholders differ" in message
    assert "greet: defined in another file" in message


def _broken_resources(paths: Paths, tmp_path: Path, old: str, new: str) -> Path:
    text = paths.resources.read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / "resources.yaml"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_bad_resources_name_file_line_and_field(paths: Paths, tmp_path: Path) -> None:
    bad = _broken_resources(paths, tmp_path, "    US:\n", "    US:\n      hotline: '123'\n")
    with pytest.raises(DataError) as caught:
        load_resources(bad)
    message = str(caught.value)
    line = bad.read_text().splitlines().index("      hotline: '123'") + 1
    assert f"{bad}:{line}:" in message
    assert "crisis.countries.US.hotline" in message


def test_a_line_without_sources_is_an_error(paths: Paths, tmp_path: Path) -> None:
    text = paths.resources.read_text(encoding="utf-8")
    start = text.index("sources:", text.index("    US:"))
    end = text.index("checked:", start)
    bad = tmp_path / "resources.yaml"
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_resources(bad)
    assert "sources: required field is missing" in str(caught.value)


def test_check_reports_every_problem_at_once(paths: Paths, tmp_path: Path) -> None:
    bad = _broken_resources(paths, tmp_path, "confidence: high", "confidence: sure")
    bad.write_text(bad.read_text().replace("checked: 2026", "checked: soon-2026", 1))
    broken = Paths(bad, paths.intents, paths.safety, paths.texts, tmp_path / "db")
    problems = [p for p in check(broken) if not p.warning]
    fields = {p.field.rsplit(".", 1)[-1] for p in problems}
    assert {"confidence", "checked"} <= fields


def test_entries_not_checked_for_a_year_are_warnings(paths: Paths, tmp_path: Path) -> None:
    text = paths.resources.read_text(encoding="utf-8")
    bad = tmp_path / "resources.yaml"
    bad.write_text(text.replace("checked: 2026-11-25", "checked: 2024-01-01", 1))
    broken = Paths(bad, paths.intents, paths.safety, paths.texts, tmp_path / "db")
    problems = check(broken)
    assert any(p.warning and "over 12 months" in p.message for p in problems)
    assert not [p for p in problems if not p.warning]
