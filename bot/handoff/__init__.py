"""Escalation to human case managers: consent, one case queue, staff channels, relay.

- `models`: a case, what staff see of it, who acts as staff.
- `channel`: the interface a staff channel (Telegram group, Discord channel,
  email, terminal) implements.
- `desk`: every action on cases, with its permission checks.
- `outbox`: notifications written with the case, delivered and retried later.
"""
