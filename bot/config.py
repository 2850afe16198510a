"""Where things live: data files, the database, secrets.

Every location can be changed by an environment variable (and the database by
the `--db` flag), so a hub can run several bots from one checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "music-care-bot"
PROJECT_ROOT = Path(os.environ.get("MUSICBOT_HOME", Path(__file__).resolve().parent.parent))
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "pt")
"""Every user-visible text exists in each of these; `check` enforces it."""


def data_dir() -> Path:
    return Path(os.environ.get("MUSICBOT_DATA_DIR") or user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True, slots=True)
class Paths:
    resources: Path
    intents: Path
    safety: Path
    texts: Path
    db: Path
    guide: Path = PROJECT_ROOT / "guide.yaml"

    @classmethod
    def from_env(cls, db: str | None = None, resources: str | None = None) -> Paths:
        return cls(
            resources=Path(
                resources or os.environ.get("MUSICBOT_RESOURCES") or PROJECT_ROOT / "resources.yaml"
            ),
            intents=PROJECT_ROOT / "intents",
            safety=PROJECT_ROOT / "safety",
            texts=PROJECT_ROOT / "texts",
            db=Path(db or os.environ.get("MUSICBOT_DB") or data_dir() / "bot.sqlite3"),
            guide=Path(os.environ.get("MUSICBOT_GUIDE") or PROJECT_ROOT / "guide.yaml"),
        )
