"""`python -m bot cases …` and `python -m bot staff …`: the case queue at a terminal.

The terminal acts as the staff member named by `--as` (default: console:<login>),
who must be on the staff list; the running bot delivers what is queued here.
"""

from __future__ import annotations

import argparse
import getpass

from bot.config import LANGUAGES, Paths
from bot.handoff.config import HandoffConfig
from bot.handoff.desk import Desk, Refused, summary
from bot.handoff.models import StaffActor, StaffMember
from bot.resources import load_resources
from bot.store.sqlite import SQLiteStore
from bot.texts import Texts


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cases = sub.add_parser("cases", help="list, read, claim, answer and close cases")
    cases.add_argument("--as", dest="actor", help="staff id (default console:<login>)")
    cases.add_argument("--db", help="SQLite file (env MUSICBOT_DB)")
    actions = cases.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open and claimed cases, crisis first")
    listing.add_argument("--all", action="store_true", help="closed ones too")
    for name, text in (
        ("show", "a case and its consented transcript"),
        ("claim", "take a case"),
        ("close", "close a case"),
        ("reopen", "reopen a closed case"),
    ):
        actions.add_parser(name, help=text).add_argument("case_id")
    reply = actions.add_parser("reply", help="write to the person through the bot")
    reply.add_argument("case_id")
    reply.add_argument("text", nargs="+")
    block = actions.add_parser("block", help="stop a person opening cases for a time")
    block.add_argument("case_id")
    block.add_argument("--hours", type=float, required=True)
    block.add_argument("--reason", required=True)

    staff = sub.add_parser("staff", help="who may act on cases")
    staff.add_argument("--db", help="SQLite file (env MUSICBOT_DB)")
    staff_actions = staff.add_subparsers(dest="action", required=True)
    add = staff_actions.add_parser("add", help="add or update a staff member")
    add.add_argument("staff_id", help='platform-qualified id, e.g. "console:alex", "telegram:4711"')
    add.add_argument("--name", required=True)
    add.add_argument(
        "--named", action="store_true", help='replies show this name (default "Case manager")'
    )
    staff_actions.add_parser("list", help="the staff list")
    staff_actions.add_parser("remove", help="remove a staff member").add_argument("staff_id")


async def run_cases(paths: Paths, args: argparse.Namespace) -> int:
    """The desk alone, on the bot's store: no crisis screen or intents to load (13 s
    a command); the running bot's outbox delivers what the desk queues."""
    texts, resources = Texts.load(paths.texts, LANGUAGES), load_resources(paths.resources)
    store = await SQLiteStore.open(paths.db)
    try:
        return await _cases(Desk(store, texts, resources, HandoffConfig.from_env()), args)
    except Refused as refused:
        print(f"refused: {refused}")
        return 1
    finally:
        await store.close()


async def _cases(desk: Desk, args: argparse.Namespace) -> int:
    actor_id = args.actor or f"console:{getpass.getuser()}"
    actor = StaffActor(actor_id, actor_id.partition(":")[2] or actor_id)
    if args.action == "list":
        cases = await desk.list_cases(actor, include_closed=args.all)
        for case in cases:
            print(
                f"{case.id}  {case.priority.value:6}  {case.status.value:7}  {case.lang}"
                f"  {case.country or '--'}  {case.created_at:%Y-%m-%d %H:%M}"
                f"  {case.assignee or ''}"
            )
        print(f"{len(cases)} case(s)")
    elif args.action == "show":
        case, transcript = await desk.show(args.case_id, actor)
        print(summary(case))
        for message in transcript:
            print(f"  {message.at:%H:%M} {message.author}: {message.text}")
    elif args.action == "claim":
        case = await desk.claim(args.case_id, actor)
        print(f"claimed {case.id}")
    elif args.action == "reply":
        await desk.staff_reply(args.case_id, actor, " ".join(args.text))
        print("queued for the person")
    elif args.action == "close":
        case = await desk.close(args.case_id, actor)
        print(f"closed {case.id}")
    elif args.action == "reopen":
        case = await desk.reopen(args.case_id, actor)
        print(f"reopened {case.id}")
    elif args.action == "block":
        await desk.block(args.case_id, actor, args.hours, args.reason)
        print(f"blocked for {args.hours:g} h")
    return 0


async def run_staff(paths: Paths, args: argparse.Namespace) -> int:
    """The staff list lives in the store alone: no rules or intents to load (that
    took six seconds for a one-line change)."""
    store = await SQLiteStore.open(paths.db)
    try:
        if args.action == "add":
            await store.save_staff(StaffMember(args.staff_id, args.name, not args.named))
            print(f"{args.staff_id} is staff")
        elif args.action == "list":
            for member in await store.list_staff():
                shown = "named" if not member.anonymous else 'shown as "Case manager"'
                print(f"{member.id}  {member.name}  ({shown})")
        elif args.action == "remove":
            if not await store.remove_staff(args.staff_id):
                print(f"{args.staff_id} was not on the staff list")
                return 1
            print(f"{args.staff_id} removed")
        return 0
    finally:
        await store.close()
