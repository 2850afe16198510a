"""Pseudonymous user keys: a keyed hash of platform + platform id.

The store and the logs only ever see the key, never the platform id. The
secret comes from MUSICBOT_PSEUDONYM_KEY, or is generated once and kept in the
data directory (readable by the owner only), so keys stay stable across runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def load_secret(data_dir: Path) -> bytes:
    env = os.environ.get("MUSICBOT_PSEUDONYM_KEY")
    if env:
        return env.encode()
    path = data_dir / "pseudonym.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret


class Pseudonymizer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def key(self, platform: str, platform_id: str) -> str:
        message = f"{platform}:{platform_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]
