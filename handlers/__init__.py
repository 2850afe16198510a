"""Handlers, one module per intent group; each module exposes a `router`.

`build_registry` imports every module here, so adding a module is enough to
add its intents, buttons and flows.
"""

from __future__ import annotations

import importlib
import pkgutil

from bot.dispatch import Registry, Router


def build_registry() -> Registry:
    registry = Registry()
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, Router):
            registry.include(router)
    return registry
