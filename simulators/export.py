"""Write a scenario's readings to a file instead of publishing them (as fast as the disk allows).

The file is what ``gridwatch replay --file`` reads: CSV or JSON Lines (see
``simulators.replay.files``); the warm-up history comes first.
"""

from __future__ import annotations

from pathlib import Path

from simulators.replay.files import write_csv, write_jsonl
from simulators.world import World

CHUNK_S = 600.0


def export(world: World, path: Path, warmup_s: float = 0.0) -> int:
    """Readings of [start - warmup, end) into ``path`` (.csv or .jsonl); returns how many."""
    if world.end_s == float("inf"):
        raise ValueError("a scenario that runs until stopped cannot be exported; give --duration")
    path.parent.mkdir(parents=True, exist_ok=True)
    n, a = 0, world.start_s - warmup_s
    jsonl = path.suffix == ".jsonl"
    with path.open("wb" if jsonl else "w", **({} if jsonl else {"newline": "", "encoding": "utf-8"})) as fh:
        first = True
        while a < world.end_s:
            b = min(a + CHUNK_S, world.end_s)
            batches = world.window(a, b)
            n += write_jsonl(fh, batches, world.city) if jsonl else write_csv(fh, batches, world.city, header=first)
            first, a = False, b
    return n
