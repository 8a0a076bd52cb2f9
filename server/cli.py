"""The `lstm-complete` command: the trainer's subcommands, and `serve`."""

from __future__ import annotations

import argparse
import sys

from trainer import cli as trainer_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstm-complete",
        description="Private, local code completion from a character LSTM that learns your repository.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    trainer_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except trainer_cli.main_errors() as err:
        print(f"lstm-complete: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
