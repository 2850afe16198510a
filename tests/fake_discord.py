"""A fake Discord (gateway websocket + REST API) on 127.0.0.1, for driving discord.py for real.

The bot gets `connector=fake.connector()`: an aiohttp connector whose resolver
sends discord.com and gateway.discord.gg to this server (TLS, a throw-away
certificate) and refuses every other host. No library code is patched, so
discord.py's own HTTP, rate-limit, gateway and view code carry everything.

One server, one guild ("Studio Cats") with a general channel and a staff
channel, and invented users. Tests inject gateway events (a DM, a mention, a
slash command, a button click) and read what the bot sent from `sent`.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

TOKEN = "fake-token"
BOT_ID = 1000
GUILD_ID = 2000
GENERAL_ID = 2001
STAFF_CHANNEL_ID = 2002
STAFF_ROLE_ID = 2100
ADMIN_ROLE_ID = 2101
BOT_ROLE_ID = 2102
SEND = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 6) | (1 << 35) | (1 << 38)
"""View, send, read history, react, create threads, send in threads."""
ADMIN = 1 << 3
STAMP = "2026-11-25T10:00:00.000000+00:00"
HOSTS = {"discord.com", "gateway.discord.gg"}


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT = user(BOT_ID, "carebot", bot=True)
ANA = user(3001, "ana")
"""A musician with open DMs."""
BEN = user(3002, "ben")
"""A musician whose DMs are closed to the bot."""
CARA = user(3003, "cara")
"""A case manager: has the staff role."""
DORA = user(3004, "dora")
"""The server's administrator."""
ROLES = {3001: [], 3002: [], 3003: [STAFF_ROLE_ID], 3004: [ADMIN_ROLE_ID]}


class LoopbackResolver(AbstractResolver):
    """discord.com and the gateway are this machine; any other host does not exist."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in HOSTS:
            raise OSError(f"tests never reach the internet ({host})")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self.port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def make_certificate(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate from the openssl command line, for this run only."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=discord.com", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class Sent:
    """A message the bot created, wherever it went."""

    id: int
    channel_id: int | None
    """None for interaction answers (see `interaction`)."""
    content: str
    components: list[dict[str, Any]]
    ephemeral: bool = False
    interaction: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    """The message as the fake returned it."""
    request: dict[str, Any] = field(default_factory=dict)
    """What the bot asked for (content, components, message_reference...)."""

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.components for c in row.get("components", [])]

    def custom_id(self, label_part: str) -> str:
        for row in self.components:
            for button in row.get("components", []):
                if label_part.lower() in button.get("label", "").lower():
                    return str(button["custom_id"])
        raise AssertionError(f"no button {label_part!r} in {self.components}")


class FakeDiscord:
    def __init__(self, tls: ssl.SSLContext) -> None:
        self.tls = tls
        self.requests: list[Request] = []
        self.sent: list[Sent] = []
        self.identify: dict[str, Any] | None = None
        self.resumes = 0
        self.closed_dms: set[int] = {3002}
        self.fail_next: list[tuple[str, int, dict[str, Any], dict[str, str]]] = []
        """(path regex, status, body, headers) answered once instead of the real thing."""
        self.threads: dict[int, int] = {}
        """Thread id -> parent channel id."""
        self.dm_channels: dict[int, int] = {}
        """DM channel id -> user id."""
        self.commands: list[dict[str, Any]] = []
        self._ids = itertools.count(900_000)
        self._seq = itertools.count(1)
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def connector(self) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(resolver=LoopbackResolver(self.port), ssl=False)

    def new_id(self) -> int:
        return next(self._ids)

    # -- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None}))
            elif data["op"] == 2:
                if data["d"]["token"] != TOKEN:
                    await ws.close(code=4004)
                    break
                self.identify = data["d"]
                await self._ready(ws)
            elif data["op"] == 6:
                self.resumes += 1
                await self._dispatch_to(ws, "RESUMED", {})
        self._sockets.discard(ws)
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        ready = {
            "v": 10,
            "user": BOT,
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": "wss://gateway.discord.gg",
            "application": {"id": str(BOT_ID), "flags": 0},
            "private_channels": [],
        }
        await self._dispatch_to(ws, "READY", ready)
        await self._dispatch_to(ws, "GUILD_CREATE", self.guild())

    async def _dispatch_to(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        frame = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        await ws.send_str(json.dumps(frame))

    async def dispatch(self, event: str, data: Any) -> None:
        for ws in list(self._sockets):
            await self._dispatch_to(ws, event, data)

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7); it comes back with RESUME."""
        for ws in list(self._sockets):
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    # -- the world ------------------------------------------------------------------------

    @staticmethod
    def role(rid: int, name: str, permissions: int, position: int = 1) -> dict[str, Any]:
        return {
            "id": str(rid),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }

    @staticmethod
    def channel(cid: int, name: str) -> dict[str, Any]:
        return {
            "id": str(cid),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
        }

    def guild(self) -> dict[str, Any]:
        return {
            "id": str(GUILD_ID),
            "name": "Studio Cats",
            "icon": None,
            "owner_id": DORA["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                self.role(GUILD_ID, "@everyone", SEND, 0),
                self.role(STAFF_ROLE_ID, "care team", SEND),
                self.role(ADMIN_ROLE_ID, "admin", ADMIN),
                self.role(BOT_ROLE_ID, "carebot", SEND),
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "joined_at": STAMP,
            "large": False,
            "unavailable": False,
            "member_count": 5,
            "voice_states": [],
            "members": [self.member(BOT, [BOT_ROLE_ID])],
            "channels": [
                self.channel(GENERAL_ID, "general"),
                self.channel(STAFF_CHANNEL_ID, "care-team"),
            ],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    @staticmethod
    def member(who: dict[str, Any], roles: list[int] | None = None) -> dict[str, Any]:
        roles = ROLES.get(int(who["id"]), []) if roles is None else roles
        return {
            "user": who,
            "roles": [str(r) for r in roles],
            "joined_at": STAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def message(
        self,
        author: dict[str, Any],
        channel_id: int,
        content: str,
        *,
        guild: bool,
        mentions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.new_id()),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": STAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": list(mentions),
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }
        if guild:
            member = self.member(author)
            del member["user"]
            data["guild_id"] = str(GUILD_ID)
            data["member"] = member
        return data

    # -- what a person does --------------------------------------------------------------------

    def dm_channel_of(self, who: dict[str, Any]) -> int:
        for cid, uid in self.dm_channels.items():
            if uid == int(who["id"]):
                return cid
        cid = self.new_id()
        self.dm_channels[cid] = int(who["id"])
        return cid

    async def dm(self, who: dict[str, Any], text: str) -> dict[str, Any]:
        data = self.message(who, self.dm_channel_of(who), text, guild=False)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def say(
        self, who: dict[str, Any], text: str, channel_id: int = GENERAL_ID, mention: bool = False
    ) -> dict[str, Any]:
        """A message in a server channel (or thread), optionally mentioning the bot."""
        content = f"<@{BOT_ID}> {text}" if mention else text
        mentions = [BOT] if mention else []
        data = self.message(who, channel_id, content, guild=True, mentions=mentions)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    def _interaction(
        self, who: dict[str, Any], kind: int, data: dict[str, Any], guild: bool, locale: str
    ) -> dict[str, Any]:
        iid = self.new_id()
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(BOT_ID),
            "type": kind,
            "token": f"itoken{iid}",
            "version": 1,
            "data": data,
            "locale": locale,
            "app_permissions": str(SEND),
            "attachment_size_limit": 8 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID) if guild else "0"},
            "context": 0 if guild else 1,
        }
        if guild:
            member = self.member(who)
            is_admin = ADMIN_ROLE_ID in ROLES.get(int(who["id"]), [])
            member["permissions"] = str(SEND | (ADMIN if is_admin else 0))
            payload |= {
                "guild_id": str(GUILD_ID),
                "guild_locale": "en-US",
                "channel_id": str(GENERAL_ID),
                "channel": self.channel(GENERAL_ID, "general"),
                "member": member,
            }
        else:
            cid = self.dm_channel_of(who)
            payload |= {
                "channel_id": str(cid),
                "channel": {"id": str(cid), "type": 1, "recipients": [who]},
                "user": who,
            }
        return payload

    async def slash(
        self,
        who: dict[str, Any],
        name: str,
        *,
        guild: bool = True,
        options: list[dict[str, Any]] | None = None,
        resolved: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> int:
        """Run a slash command the bot registered; returns the interaction id."""
        command = next(c for c in self.commands if c["name"] == name)
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": options or [],
        }
        if resolved:
            data["resolved"] = resolved
        payload = self._interaction(who, 2, data, guild, locale)
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def click(
        self, who: dict[str, Any], message: Sent, custom_id: str, *, guild: bool = False
    ) -> int:
        """Press a button on a message the bot sent (must carry that custom id)."""
        assert custom_id in message.custom_ids, (custom_id, message.custom_ids)
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(who, 3, data, guild, "en-US")
        payload["message"] = message.payload
        if message.channel_id is not None and guild:
            cid = message.channel_id
            payload["channel_id"] = str(cid)
            in_thread = cid in self.threads
            payload["channel"] = self.thread(cid) if in_thread else self.channel(cid, "channel")
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    def thread(self, tid: int) -> dict[str, Any]:
        return {
            "id": str(tid),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(self.threads[tid]),
            "name": "case",
            "owner_id": str(BOT_ID),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": STAMP,
                "locked": False,
            },
            "member": {"id": str(tid), "user_id": str(BOT_ID), "join_timestamp": STAMP, "flags": 0},
        }

    # -- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == "application/json" else None
        if body is None and raw and "multipart" in request.content_type:
            body = _payload_json(raw)
        self.requests.append(Request(request.method, path, body))
        if request.headers.get("Authorization") not in (f"Bot {TOKEN}", None):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for i, (pattern, status, error, headers) in enumerate(self.fail_next):
            if re.fullmatch(pattern, f"{request.method} {path}"):
                del self.fail_next[i]
                return _json(error, status, headers)
        return await self._route(request.method, path, body or {})

    async def _route(self, method: str, path: str, body: dict[str, Any]) -> web.Response:
        route = f"{method} {path}"
        if route == "GET /users/@me":
            return _json(BOT)
        if route == "GET /oauth2/applications/@me":
            return _json(
                {
                    "id": str(BOT_ID),
                    "name": "carebot",
                    "description": "",
                    "icon": None,
                    "bot_public": False,
                    "bot_require_code_grant": False,
                    "owner": DORA,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        if m := re.fullmatch(r"PUT /applications/\d+/commands", route):
            self.commands = [
                dict(c, id=str(self.new_id()), application_id=str(BOT_ID), version="1")
                for c in body  # type: ignore[union-attr]
            ]
            return _json(self.commands)
        if route == "POST /users/@me/channels":
            cid = self.dm_channel_of({"id": body["recipient_id"]})
            who = user(int(body["recipient_id"]), "someone")
            return _json({"id": str(cid), "type": 1, "recipients": [who]})
        if m := re.fullmatch(r"POST /channels/(\d+)/messages", route):
            cid = int(m[1])
            if self.dm_channels.get(cid) in self.closed_dms:
                error = {"message": "Cannot send messages to this user", "code": 50007}
                return _json(error, 403)
            return _json(self._record(body, channel_id=cid).payload)
        if m := re.fullmatch(r"POST /channels/(\d+)/messages/(\d+)/threads", route):
            tid = int(m[2])
            self.threads[tid] = int(m[1])
            await self.dispatch("THREAD_CREATE", self.thread(tid) | {"newly_created": True})
            return _json(self.thread(tid), 201)
        if m := re.fullmatch(r"GET /channels/(\d+)", route):
            cid = int(m[1])
            if cid in self.threads:
                return _json(self.thread(cid))
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if re.fullmatch(r"PUT /channels/\d+/messages/\d+/reactions/.+/@me", route):
            return web.Response(status=204)
        if m := re.fullmatch(r"POST /interactions/(\d+)/([^/]+)/callback", route):
            return self._callback(int(m[1]), body)
        if m := re.fullmatch(r"POST /webhooks/\d+/itoken(\d+)", route):
            ephemeral = bool(int(body.get("flags", 0)) & 64)
            sent = self._record(body, interaction=int(m[1]), ephemeral=ephemeral)
            return _json(sent.payload)
        return _json({"message": f"fake: no route {route}", "code": 0}, 404)

    def _callback(self, iid: int, body: dict[str, Any]) -> web.Response:
        kind = int(body["type"])
        data = body.get("data") or {}
        ephemeral = bool(int(data.get("flags", 0)) & 64)
        interaction = {
            "id": str(iid),
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": ephemeral,
        }
        resource: dict[str, Any] = {"type": kind}
        if kind == 4:
            sent = self._record(data, interaction=iid, ephemeral=ephemeral)
            interaction["response_message_id"] = str(sent.id)
            resource["message"] = sent.payload
        return _json({"interaction": interaction, "resource": resource})

    def _record(
        self,
        body: dict[str, Any],
        *,
        channel_id: int | None = None,
        interaction: int | None = None,
        ephemeral: bool = False,
    ) -> Sent:
        mid = self.new_id()
        payload = self.message(
            BOT, channel_id or GENERAL_ID, body.get("content") or "", guild=False
        )
        payload |= {"id": str(mid), "components": body.get("components") or []}
        payload["flags"] = 64 if ephemeral else 0
        sent = Sent(
            id=mid,
            channel_id=channel_id,
            content=payload["content"],
            components=payload["components"],
            ephemeral=ephemeral,
            interaction=interaction,
            payload=payload,
            request=body,
        )
        self.sent.append(sent)
        return sent


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py wants exactly `application/json` (no charset) to parse a body."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _payload_json(raw: bytes) -> Any:
    match = re.search(rb'name="payload_json"\r\n(?:[^\r\n]*\r\n)*?\r\n(.*?)\r\n--', raw, re.S)
    return json.loads(match[1]) if match else None
