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
    # 2: escalation to case managers (bot.handoff)
    """
    CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        user_key TEXT NOT NULL,
        platform TEXT NOT NULL,
        address TEXT,
        status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'closed')),
        priority TEXT NOT NULL CHECK (priority IN ('crisis', 'normal')),
        lang TEXT NOT NULL,
        country TEXT,
        contact TEXT NOT NULL,
        contact_detail TEXT,
        display_name TEXT,
        note TEXT,
        assignee TEXT,
        created_at TEXT NOT NULL,
        claimed_at TEXT,
        closed_at TEXT,
        announced_at TEXT,
        oncall_at TEXT,
        feedback TEXT
    );
    CREATE UNIQUE INDEX cases_one_open_per_person ON cases (user_key) WHERE status != 'closed';
    CREATE INDEX cases_by_status ON cases (status, priority, created_at);
    CREATE TABLE case_messages (
        id INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        author TEXT NOT NULL CHECK (author IN ('person', 'staff', 'bot')),
        staff_id TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX case_messages_by_case ON case_messages (case_id, id);
    CREATE TABLE case_threads (
        case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        thread TEXT NOT NULL,
        PRIMARY KEY (case_id, channel)
    );
    CREATE INDEX case_threads_by_thread ON case_threads (channel, thread);
    CREATE TABLE staff (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        anonymous INTEGER NOT NULL DEFAULT 1,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE blocks (
        user_key TEXT PRIMARY KEY,
        until TEXT NOT NULL,
        reason TEXT NOT NULL,
        by TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        case_id TEXT REFERENCES cases (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        dedupe TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        locked_until TEXT,
        sent_at TEXT,
        failed_at TEXT,
        error TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_at);
    """,
    # 3: per-platform settings an adapter keeps (a Discord server's staff channel and role)
    """
    CREATE TABLE platform_settings (
        platform TEXT NOT NULL,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, scope, name)
    );
    """,
    # 4: mood check-ins and their reminders (handlers.checkin, bot.reminders)
    """
    CREATE TABLE checkins (
        id INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        at TEXT NOT NULL,
        score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        note TEXT
    );
    CREATE INDEX checkins_by_user ON checkins (user_key, at);
    CREATE INDEX checkins_by_age ON checkins (at);
    CREATE TABLE reminders (
        user_key TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        every TEXT NOT NULL CHECK (every IN ('daily', 'weekly')),
        local_time TEXT NOT NULL,
        tz TEXT NOT NULL,
        weekday INTEGER,
        next_at TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX reminders_due ON reminders (next_at);
    """,
    # 5: small per-person memory features keep across conversations (tips already seen)
    """
    ALTER TABLE users ADD COLUMN memory TEXT NOT NULL DEFAULT '{}';
    """,
    # 6: the outbox's "oldest pending item of this case and channel" is one index
    # lookup, not a scan of every pending item (delivery slowed as the queue grew)
    """
    CREATE INDEX outbox_pending ON outbox (channel, case_id, id)
        WHERE sent_at IS NULL AND failed_at IS NULL;
    """,
)
