"""Run every benchmark in turn and print its figures (``make bench``).

Each benchmark is a standalone script a user can also run alone with ``--help``;
this runner passes ``--quick`` so the whole set finishes in minutes on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ["detectors.py", "detector_quality.py", "citygen.py", "replay.py", "alerts.py", "api.py", "ingest.py"]


def main() -> int:
    failed = []
    for name in ORDER:
        script = HERE / name
        if not script.exists():
            continue
        print(f"\n=== {name} ===", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, str(script), *(sys.argv[1:] or ["--quick"])])
        print(f"--- {name}: exit {rc} in {time.monotonic() - t0:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
