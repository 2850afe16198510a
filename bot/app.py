"""Building a running engine from configuration: the one place that wires it."""

from __future__ import annotations

from bot.config import Paths, data_dir
from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig
from bot.pseudonym import Pseudonymizer, load_secret
from bot.store.sqlite import SQLiteStore


async def open_engine(paths: Paths, services: Services | None = None) -> Engine:
    """Load data (unless given), open the store, and return a ready engine."""
    services = services or Services.load(paths)
    store = await SQLiteStore.open(paths.db)
    pseudonyms = Pseudonymizer(load_secret(data_dir()))
    return Engine(services, store, pseudonyms, HandoffConfig.from_env())
