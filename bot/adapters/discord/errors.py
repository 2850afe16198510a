"""Discord failures as the outbox understands them: retry later, or give up."""

from __future__ import annotations

import aiohttp
import discord

from bot.outbound import DeliveryError

DELIVERY_FAILURES = (discord.DiscordException, aiohttp.ClientError, OSError)
"""What a send can raise: API errors and network errors."""


def delivery_error(exc: Exception) -> DeliveryError:
    """Closed DMs, missing access, a deleted channel or a bad request will not heal;
    rate limits, server and network errors may."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError("rate limited", retry_after=exc.retry_after)
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return DeliveryError(f"refused ({exc.status}, code {exc.code})", permanent=True)
    if isinstance(exc, discord.HTTPException):
        # a 4xx other than 429 is a request Discord will refuse again; a 5xx may pass later
        return DeliveryError(f"HTTP {exc.status}", permanent=400 <= exc.status < 500)
    return DeliveryError(type(exc).__name__)
