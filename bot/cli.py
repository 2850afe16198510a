"""Command line: `python -m bot <command>`. See README for each command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.config import LANGUAGES, Paths
from bot.store import StoreError
from bot.yamlfile import DataError


def _paths(args: argparse.Namespace) -> Paths:
    return Paths.from_env(db=getattr(args, "db", None), resources=args.resources)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.app import open_engine
    from bot.console import chat

    async def main() -> None:
        engine = await open_engine(_paths(args))
        try:
            await chat(engine, lang=args.lang, country=args.country)
        finally:
            await engine.aclose()

    asyncio.run(main())
    return 0


def cmd_discord(args: argparse.Namespace) -> int:
    from bot.adapters.discord import ConfigError, DiscordConfig, run

    try:
        config = DiscordConfig.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    asyncio.run(run(config, _paths(args)))
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.classify import classify_lines
    from bot.engine import Services

    services = Services.load(_paths(args))
    failed = False
    lines = (line.rstrip("\n") for line in sys.stdin)
    for out, ok in classify_lines(services, lines):
        sys.stdout.write(out + "\n")
        failed |= not ok
    sys.stdout.flush()
    return 2 if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.engine import Services
    from bot.evaluate import evaluate, format_report, read_items

    services = Services.load(_paths(args))
    items = [item for path in args.files for item in read_items(path)]
    report = evaluate(services, items).as_dict()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_report(report, args.misses))
    failures = []
    if args.min_accuracy is not None and (report["accuracy"] or 0) < args.min_accuracy:
        failures.append(f"accuracy {report['accuracy']} < {args.min_accuracy}")
    recall = report["crisis_recall"]
    if (
        args.min_crisis_recall is not None
        and recall is not None
        and recall < args.min_crisis_recall
    ):
        failures.append(f"crisis recall {recall} < {args.min_crisis_recall}")
    false_rate = report["false_crisis_rate"]
    if (
        args.max_false_crisis is not None
        and false_rate is not None
        and false_rate > args.max_false_crisis
    ):
        failures.append(f"false-crisis rate {false_rate} > {args.max_false_crisis}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import run

    print(run(_paths(args), args.messages, args.users))
    return 0


def cmd_train_screen(args: argparse.Namespace) -> int:
    from bot.config import PROJECT_ROOT
    from bot.safety.training import main

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    print(main(PROJECT_ROOT, _paths(args).safety, progress))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.check import check, report

    text, status = report(check(_paths(args)))
    print(text)
    return status


def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.adapters.telegram import TelegramSettings, run
    from bot.app import open_engine

    settings = TelegramSettings.from_env()
    if settings is None:
        print("Set TELEGRAM_BOT_TOKEN (from @BotFather) to run the Telegram bot.", file=sys.stderr)
        return 2
    if args.webhook_url and not settings.webhook_secret:
        print("Webhook mode needs TELEGRAM_WEBHOOK_SECRET (A-Z a-z 0-9 _ -).", file=sys.stderr)
        return 2
    paths = _paths(args)
    run(settings, lambda: open_engine(paths), args.webhook_url, args.listen, args.port, args.path)
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    from bot.cases_cli import run_cases, run_staff

    run = run_cases if args.command == "cases" else run_staff
    return asyncio.run(run(_paths(args), args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--resources", help="resources file (env MUSICBOT_RESOURCES)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--lang", choices=LANGUAGES, help="language to start in")
    chat.add_argument("--country", type=str.upper, help="ISO country code, e.g. GB")
    chat.add_argument("--db", help="SQLite file (env MUSICBOT_DB)")
    chat.set_defaults(func=cmd_chat)

    dc = sub.add_parser("discord", help="run the Discord bot (token in DISCORD_BOT_TOKEN)")
    dc.add_argument("--db", help="SQLite file (env MUSICBOT_DB)")
    dc.set_defaults(func=cmd_discord)

    classify = sub.add_parser("classify", help="JSON lines in, one JSON line out per input")
    classify.set_defaults(func=cmd_classify)

    ev = sub.add_parser("eval", help="score the bot on labelled JSON lines")
    ev.add_argument("files", nargs="+", type=Path)
    ev.add_argument("--json", action="store_true", help="machine-readable report")
    ev.add_argument("--misses", type=int, default=40, help="misses to list (default 40)")
    ev.add_argument("--min-accuracy", type=float)
    ev.add_argument("--min-crisis-recall", type=float)
    ev.add_argument("--max-false-crisis", type=float)
    ev.set_defaults(func=cmd_eval)

    bench = sub.add_parser("bench", help="print speed figures")
    bench.add_argument("--messages", type=int, default=20000)
    bench.add_argument("--users", type=int, default=50)
    bench.set_defaults(func=cmd_bench)

    tg = sub.add_parser("telegram", help="run the Telegram bot (token in TELEGRAM_BOT_TOKEN)")
    tg.add_argument("--webhook-url", help="public https URL for a webhook (default: long polling)")
    tg.add_argument("--listen", default="127.0.0.1", help="webhook listen address")
    tg.add_argument("--port", type=int, default=8443, help="webhook listen port")
    tg.add_argument("--path", default="telegram", help="webhook URL path")
    tg.add_argument("--db", help="SQLite file (env MUSICBOT_DB)")
    tg.set_defaults(func=cmd_telegram)

    train = sub.add_parser(
        "train-screen",
        help="retrain the crisis screen's model (safety/model.tsv) from the dev sets and corpus",
    )
    train.set_defaults(func=cmd_train_screen)

    chk = sub.add_parser(
        "check", help="validate intents, texts, safety rules, resources and the guide"
    )
    chk.set_defaults(func=cmd_check)

    from bot.cases_cli import add_parsers

    add_parsers(sub)
    sub.choices["cases"].set_defaults(func=cmd_cases)
    sub.choices["staff"].set_defaults(func=cmd_cases)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = logging.ERROR if args.command == "chat" else logging.WARNING
    logging.basicConfig(
        level=logging.INFO if args.verbose else quiet,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except DataError as exc:
        print(f"The bot's data has problems; fix them and start again:\n{exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"Database problem: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
