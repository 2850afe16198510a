"""Everything the bot says, per language, from `texts/<lang>.yaml` and
`texts/<feature>/<lang>.yaml` (one folder per feature, so features do not
share a file).

Handlers ask for a key; the catalogue fills `{placeholders}`. A key missing in
a language is a `check` error (and a failing test), never a crash at run time:
the English text stands in.
"""

from __future__ import annotations

import string
from pathlib import Path

from bot.yamlfile import DataError, LineDict, Problem, line_of, load_each

FALLBACK = "en"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self._catalogs = catalogs

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogs)

    def has(self, key: str) -> bool:
        return key in self._catalogs.get(FALLBACK, {})

    def get(self, lang: str, key: str, **values: object) -> str:
        template = self._catalogs.get(lang, {}).get(key) or self._catalogs[FALLBACK][key]
        return template.format(**values) if values else template

    @classmethod
    def load(cls, directory: Path, languages: tuple[str, ...]) -> Texts:
        """`<lang>.yaml` in `directory` and in each sub-folder (one per feature), merged."""
        catalogs: dict[str, dict[str, str]] = {lang: {} for lang in languages}
        problems: list[Problem] = []
        folders = [directory, *sorted(p for p in directory.iterdir() if p.is_dir())]
        for folder in folders:
            problems += _load_folder(folder, languages, catalogs)
        if problems:
            raise DataError(problems)
        return cls(catalogs)


def _load_folder(
    folder: Path, languages: tuple[str, ...], catalogs: dict[str, dict[str, str]]
) -> list[Problem]:
    """Add one folder's texts to `catalogs`; every language must have the same keys."""
    files, problems = load_each(folder, languages)
    own: dict[str, dict[str, str]] = {}
    lines: dict[str, LineDict] = {}
    for lang, raw in files.items():
        path = folder / f"{lang}.yaml"
        if not isinstance(raw, LineDict):
            problems.append(Problem(path, 0, "(top)", "must map keys to texts"))
            continue
        lines[lang] = raw
        own[lang] = {str(k): str(v).strip() for k, v in raw.items() if v is not None}
        for key, value in raw.items():
            if value is None or not str(value).strip():
                problems.append(Problem(path, line_of(raw, key), key, "empty text"))
            elif key in catalogs[lang]:
                problems.append(Problem(path, line_of(raw, key), key, "defined in another file"))
    base = own.get(FALLBACK, {})
    for lang, catalog in own.items():
        path = folder / f"{lang}.yaml"
        for key in sorted(base.keys() - catalog.keys()):
            problems.append(Problem(path, 0, key, f"missing (present in {FALLBACK}.yaml)"))
        for key in sorted(catalog.keys() - base.keys()):
            problems.append(
                Problem(path, line_of(lines[lang], key), key, f"not in {FALLBACK}.yaml")
            )
        for key in sorted(base.keys() & catalog.keys()):
            if _fields(base[key]) != _fields(catalog[key]):
                problems.append(
                    Problem(path, line_of(lines[lang], key), key, "placeholders differ from en")
                )
        catalogs[lang].update(catalog)
    return problems
