"""``gridwatch generate-city``: write a city directory of any size for tests and benchmarks."""

from __future__ import annotations

import argparse
import time

HELP = "generate a city directory (grids, devices, workers, departments) deterministically"
DESCRIPTION = """\
Generate a city directory (INTERFACES §3) on real-looking Chongqing coordinates.

  gridwatch generate-city out/town                       one town, 20 grids, 360 devices
  gridwatch generate-city out/city --districts 38 --towns 27 --grids 58 \\
      --devices wearable=8,smoke=6,river_gauge=1,meter=2 one million devices
"""


def _per_grid(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, sep, num = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{part!r}: expected KIND=COUNT")
        try:
            out[kind.strip()] = float(num)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: {num!r} is not a number") from None
    return out


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", help="directory to write (created; existing files are overwritten)")
    p.add_argument("--districts", type=int, default=1)
    p.add_argument("--towns", type=int, default=1, help="towns per district")
    p.add_argument("--grids", type=int, default=20, help="grids per town")
    p.add_argument("--devices", type=_per_grid, default=None, metavar="KIND=N,...",
                   help="mean devices per grid by kind (default wearable=8,smoke=6,river_gauge=1,meter=3)")
    p.add_argument("--workers", type=int, default=1, help="grid workers per grid (plus one supervisor per town)")
    p.add_argument("--seed", type=int, default=0)


def execute(args: argparse.Namespace) -> int:
    from simulators.citygen import generate_city

    start = time.perf_counter()
    try:
        out = generate_city(args.out, districts=args.districts, towns_per_district=args.towns,
                            grids_per_town=args.grids, devices_per_grid=args.devices,
                            workers_per_grid=args.workers, seed=args.seed)
    except ValueError as exc:
        print(f"gridwatch generate-city: {exc}")
        return 2
    print(f"wrote {out} in {time.perf_counter() - start:.1f} s")
    return 0
