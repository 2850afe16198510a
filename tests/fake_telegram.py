"""A small fake Telegram Bot API on 127.0.0.1, for driving the real python-telegram-bot.

It records every call, serves injected updates through a long-polling
`getUpdates` (honouring `offset`, `limit` and `timeout`) and can fail the next
calls of a method with any status (429 with retry_after, 403, 400). Replies
carry the matching HTTP status, since the library picks its exception from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FREE_TEXT = frozenset(
    {"text", "caption", "name", "description", "title", "callback_query_id", "url", "secret_token"}
)
"""Parameters never decoded as JSON: a message "123" must stay a string."""

Params = dict[str, Any]
ADMIN_RIGHTS = (
    "can_be_edited",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass
class Call:
    method: str
    params: Params

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def callback_data(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    @property
    def labels(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    def button(self, label: str) -> str:
        """The callback data of the button whose label contains `label`."""
        markup = self.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if label.lower() in button["text"].lower() and "callback_data" in button:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label!r} in {self.labels}")


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    when: Callable[[Params], bool] | None = None


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    bot_id: int = 4242
    username: str = "CareTestBot"
    calls: list[Call] = field(default_factory=list)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    """getChat answers: chat id -> fields (type, title, is_forum)."""
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    """getChatMember answers: (chat id, user id) -> status; "left" otherwise."""
    webhook_url: str | None = None

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._topic_ids = itertools.count(500)
        self._query_ids = itertools.count(1)
        self._failures: dict[str, list[Failure]] = {}
        self._changed = asyncio.Condition()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ---------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._stopping = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The server root, as TELEGRAM_API_BASE_URL takes it."""
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
        when: Callable[[Params], bool] | None = None,
    ) -> None:
        """Fail the next `count` calls of `method` (those matching `when`)."""
        failures = self._failures.setdefault(method.lower(), [])
        failures += [Failure(status, description, retry_after, when) for _ in range(count)]

    def user(self, uid: int, first_name: str, language_code: str | None = "en") -> dict[str, Any]:
        person: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name}
        if language_code:
            person["language_code"] = language_code
        return person

    @staticmethod
    def private_chat(user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    def group(self, chat_id: int, title: str, forum: bool = False) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": title}
        if forum:
            chat["is_forum"] = True
        self.chats[chat_id] = chat
        return chat

    def message(
        self,
        chat: dict[str, Any],
        user: dict[str, Any],
        text: str | None = None,
        *,
        edited: bool = False,
        reply_to: dict[str, Any] | None = None,
        thread: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a message update; returns the message."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **extra,
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text, self.username)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        if edited:
            message["edit_date"] = int(time.time())
        self.push({"edited_message" if edited else "message": message})
        return message

    def press(self, user: dict[str, Any], sent: Call, data: str) -> str:
        """Queue a button press on a message the bot sent; returns the query id."""
        query_id = str(next(self._query_ids))
        message = sent.params["_result"]
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": "ci-1",
                    "data": data,
                    "message": message,
                }
            }
        )
        return query_id

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method.lower()]

    async def wait_for(
        self, method: str, where: Callable[[Call], bool] = lambda c: True, within: float = 5.0
    ) -> Call:
        """The first call (ever) of `method` matching `where`, waiting for it if need be."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for call in self.of(method):
                if where(call):
                    return call
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {method} call matched; calls: {[c.method for c in self.calls]}")

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no new call arrived for `quiet` seconds."""
        seen = -1
        while seen != len(self.calls):
            seen = len(self.calls)
            await asyncio.sleep(quiet)

    # -- the API ----------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"].lower()
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        failures = self._failures.get(method, [])
        for failure in failures:
            if failure.when is None or failure.when(params):
                failures.remove(failure)
                return _error(failure)
        answer = getattr(self, f"_api_{method}", None)
        if answer is None:
            return _reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        result = await answer(params)
        call.params["_result"] = result
        return _reply(200, {"ok": True, "result": result})

    async def _api_getme(self, params: Params) -> Any:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Care Bot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getupdates(self, params: Params) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout and not self._stopping:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._stopping),
                        timeout,
                    )
        return self._updates[:limit]

    async def _api_deletewebhook(self, params: Params) -> Any:
        self.webhook_url = None
        return True

    async def _api_setwebhook(self, params: Params) -> Any:
        self.webhook_url = params.get("url")
        return True

    async def _api_setmycommands(self, params: Params) -> Any:
        return True

    async def _api_answercallbackquery(self, params: Params) -> Any:
        return True

    async def _api_sendmessage(self, params: Params) -> Any:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id) or {
            "id": chat_id,
            "type": "private" if chat_id > 0 else "supergroup",
        }
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": await self._api_getme({}),
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        if params.get("message_thread_id"):
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        return message

    async def _api_editmessagetext(self, params: Params) -> Any:
        return await self._api_sendmessage(params)

    async def _api_editmessagereplymarkup(self, params: Params) -> Any:
        return await self._api_sendmessage({**params, "text": ""})

    async def _api_getchat(self, params: Params) -> Any:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id, {"id": chat_id, "type": "supergroup", "title": "?"})
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_createforumtopic(self, params: Params) -> Any:
        return {
            "message_thread_id": next(self._topic_ids),
            "name": params.get("name", ""),
            "icon_color": 7322096,
        }

    async def _api_closeforumtopic(self, params: Params) -> Any:
        return True

    async def _api_reopenforumtopic(self, params: Params) -> Any:
        return True

    async def _api_getchatmember(self, params: Params) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat_id, user_id), "left")
        user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status in ("administrator", "creator"):
            member["is_anonymous"] = False
        if status == "administrator":
            member.update(dict.fromkeys(ADMIN_RIGHTS, False))
        return member


def _entities(text: str, username: str) -> list[dict[str, Any]]:
    """bot_command and @mention entities, as Telegram adds them (offsets in UTF-16 units)."""
    entities = []
    if text.startswith("/"):
        length = len(text.split()[0])
        entities.append({"type": "bot_command", "offset": 0, "length": length})
    mention = f"@{username}"
    at = text.find(mention)
    if at >= 0:
        offset = len(text[:at].encode("utf-16-le")) // 2
        entities.append({"type": "mention", "offset": offset, "length": len(mention)})
    return entities


async def _params(request: web.Request) -> Params:
    raw: dict[str, Any]
    if request.content_type == "application/json":
        raw = await request.json()
        return dict(raw)
    form = await request.post() if request.method == "POST" else request.query
    raw = {k: v for k, v in form.items() if isinstance(v, str)}
    return {k: v if k in FREE_TEXT else _decode(v) for k, v in raw.items()}


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error(failure: Failure) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return _reply(failure.status, body)


def _reply(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
