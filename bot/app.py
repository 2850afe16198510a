"""Building a running engine from configuration: the one place that wires it."""

from __future__ import annotations

from bot.config import Paths, data_dir
from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig
from bot.handoff.email import EmailChannel
from bot.pseudonym import Pseudonymizer, load_secret
from bot.store.sqlite import SQLiteStore


async def open_engine(paths: Paths, services: Services | None = None) -> Engine:
    """Load data (unless given), open the store, and return a ready engine with the
    staff channels this process can reach by itself (email); adapters add theirs."""
    services = services or Services.load(paths)
    store = await SQLiteStore.open(paths.db)
    handoff = HandoffConfig.from_env()
    engine = Engine(services, store, Pseudonymizer(load_secret(data_dir())), handoff)
    if handoff.smtp is not None:
        engine.outbox.add_channel(EmailChannel(handoff.smtp))
        if handoff.oncall_to:
            engine.outbox.add_channel(
                EmailChannel(handoff.smtp, name="oncall", to=handoff.oncall_to), oncall=True
            )
    return engine
