"""City generation: a 1,000,000-device, ~60,000-grid city, and loading it back.

Target: generation in under a minute. Also prints how long ``core.city.load_city``
takes on the result (the service does that at start-up).

    .venv/bin/python benchmarks/citygen.py            # 1,000,000 devices, 59,508 grids
    .venv/bin/python benchmarks/citygen.py --quick    # 100,000 devices
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.city import load_city
from simulators.citygen import generate_city

PER_GRID = {"wearable": 8, "smoke": 6, "river_gauge": 1, "meter": 1.805}  # 16.8 devices per grid


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a tenth of the size")
    p.add_argument("--no-load", action="store_true", help="skip timing load_city")
    args = p.parse_args()
    districts, towns, grids = (38, 27, 58) if not args.quick else (12, 9, 55)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = generate_city(Path(tmp) / "city", districts=districts, towns_per_district=towns, grids_per_town=grids,
                            devices_per_grid=PER_GRID, seed=1)
        gen = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        print(f"generated {districts} districts x {towns} towns x {grids} grids in {gen:.1f} s ({size:.0f} MB)")
        if not args.no_load:
            t0 = time.perf_counter()
            city = load_city(out)
            print(f"load_city: {city.describe()} in {time.perf_counter() - t0:.1f} s")
    print(f"target < 60 s: {'met' if gen < 60 else 'MISSED'} (2-core machine shared with other engineers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
