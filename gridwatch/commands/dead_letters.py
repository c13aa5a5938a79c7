"""``gridwatch dead-letters``: read the rejected messages the service kept."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from gridwatch.options import settings_from_args

HELP = "list rejected messages (with reasons and raw payloads) from the dead-letter store"
DESCRIPTION = """\
Rejected telemetry is kept, newest first, in <data-dir>/dead_letters.sqlite (bounded;
the oldest rows make room). Readable while the service runs.

  gridwatch dead-letters                        the 20 newest, with counts per reason
  gridwatch dead-letters --reason out_of_range  only one reason
  gridwatch dead-letters --show 42              one message in full (detail and payload)

Reasons: see `gridwatch dead-letters --reasons`.
"""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", dest="data_dir", default=None, help="the service's data directory")
    p.add_argument("--config", default=None, help="TOML settings file (for data_dir)")
    p.add_argument("--reason", default=None, help="only rows with this reason")
    p.add_argument("--limit", type=int, default=20, help="rows to list (default 20)")
    p.add_argument("--show", type=int, default=None, metavar="ID", help="print one row in full")
    p.add_argument("--reasons", action="store_true", help="list the reasons and what they mean")


def execute(args: argparse.Namespace) -> int:
    from ingest.dead_letters import DeadLetterStore
    from ingest.reasons import ALL_REASONS, describe

    if args.reasons:
        for r in ALL_REASONS:
            print(f"{r:16} {describe(r)}")
        return 0
    if args.reason and args.reason not in ALL_REASONS:
        print(f"gridwatch dead-letters: unknown reason {args.reason!r}; see --reasons", file=sys.stderr)
        return 2
    settings = settings_from_args(args, ("data_dir",))
    path = settings.data_dir / "dead_letters.sqlite"
    if not path.is_file():
        print(f"no dead letters: {path} does not exist (nothing rejected yet, or another --data-dir)")
        return 0
    store = DeadLetterStore(path, readonly=True)
    try:
        if args.show is not None:
            letter = store.get(args.show)
            if letter is None:
                print(f"gridwatch dead-letters: no row {args.show}", file=sys.stderr)
                return 1
            _print_full(letter)
            return 0
        counts = store.counts()
        print("kept per reason: " + (", ".join(f"{r} {n}" for r, n in counts.items()) or "none"))
        for d in store.query(args.reason, args.limit):
            readings = f"{d.rejected_readings} readings" if d.rejected_readings else "whole message"
            print(f"{d.id:>8}  {_time(d.received_ms)}  {','.join(d.reasons):24} {readings:14} {d.topic}")
            print(f"{'':10}{d.detail[:160]}")
    finally:
        store.close()
    return 0


def _time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _print_full(d) -> None:
    print(f"id        {d.id}")
    print(f"received  {_time(d.received_ms)}")
    print(f"topic     {d.topic}")
    print(f"reasons   {', '.join(d.reasons)}")
    print(f"rejected  {d.rejected_readings or 'the whole message'}")
    print(f"detail    {d.detail}")
    cut = f" (first {len(d.payload)} of {d.payload_bytes} bytes)" if d.payload_bytes != len(d.payload) else ""
    print(f"payload{cut}:")
    print(d.payload.decode("utf-8", "backslashreplace"))
