"""Schema versions, applied in order; PRAGMA user_version records the last one.

Append a new entry for every change; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        key TEXT PRIMARY KEY,
        lang TEXT,
        lang_source TEXT,
        country TEXT,
        flow TEXT,
        flow_data TEXT NOT NULL DEFAULT '{}',
        introduced INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    """,
)
