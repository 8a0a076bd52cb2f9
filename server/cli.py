"""The `lstm-complete` command: the trainer's subcommands, and `serve`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from functools import partial
from pathlib import Path

from trainer import cli as trainer_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstm-complete",
        description="Private, local code completion from an LSTM that learns your repository.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    trainer_cli.add_commands(sub)
    p = sub.add_parser("serve", help="run the language server (stdio unless --tcp)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    mode.add_argument("--tcp", action="store_true", help="listen for clients over TCP")
    p.add_argument("--host", default="127.0.0.1", help="address to bind with --tcp (loopback)")
    p.add_argument("--port", type=int, default=2087, help="port with --tcp; 0 picks a free one")
    p.add_argument("--model", type=Path, help="serve this model folder, whatever the settings say")
    p.add_argument(
        "--cold-start-minutes",
        type=float,
        default=3.0,
        help="training budget for a workspace that has no model yet",
    )
    p.add_argument(
        "--no-state-cache",
        action="store_true",
        help="re-read the whole prefix for every request (to measure what the cache saves)",
    )
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(run=run_serve)
    p = sub.add_parser(
        "index", help="build the match index of the Python files under PATH (the server runs it)"
    )
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--out", type=Path, required=True, help="the index folder")
    p.add_argument("--exclude", action="append", default=[], help="gitignore-style pattern")
    p.add_argument("--rebuild", action="store_true", help="even if the index there is current")
    p.add_argument(
        "--nice", type=int, default=0, help="lower this process's CPU priority by N (0 to 19)"
    )
    p.set_defaults(run=run_index)
    return parser


def run_index(args: argparse.Namespace) -> int:
    from trainer import index_file

    if args.nice:
        os.nice(args.nice)
    try:
        chars = index_file.build(args.path, args.exclude, args.out, args.rebuild)
    except index_file.IndexFileError as err:  # not the input's fault: a disk full, say
        print(f"lstm-complete: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"result": {"chars": chars}}), flush=True)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from .server import build
    from .transport import serve_tcp

    logging.basicConfig(level=args.log_level, stream=sys.stderr)
    make = partial(build, args.model, args.cold_start_minutes, not args.no_state_cache)
    if args.tcp:
        serve_tcp(args.host, args.port, make, lambda line: print(line, flush=True))
    else:
        server = make()
        try:
            server.start_io()
        finally:
            server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except trainer_cli.main_errors() as err:
        print(f"lstm-complete: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
