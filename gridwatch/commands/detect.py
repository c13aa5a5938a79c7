"""``gridwatch detect``: score one device's exported series offline (INTERFACES §4)."""

from __future__ import annotations

import argparse
import csv
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import numpy as np

HELP = "score one device's series (timestamp,value CSV) with the detectors, offline"
DESCRIPTION = """\
Score one device's series with the same detectors `gridwatch run` uses, for engineers
tuning them on exported data. Reads IN.csv with a header `timestamp,value`
(timestamp: ISO 8601, e.g. 2024-11-22T08:00:10+08:00, or epoch milliseconds; a time
without offset is in the configured time zone, Asia/Shanghai by default; an empty
value is a missing reading) and writes OUT.csv with one row per input row, in the same
order: timestamp,value,anomaly_score,severity. The score is in [0, 1]; severity is the
highest alert firing on the device after that row (red, orange, yellow, blue) or empty.
Each row's output depends only on the rows before it. Extra columns named like other
fields of the kind (e.g. temperature,co next to smoke) are fed to the detectors too.

examples:
  gridwatch detect --kind wearable --field heart_rate hr.csv -o scored.csv
  gridwatch detect --kind river_gauge --field level --param warning_level=4.5 gauge.csv -o out.csv
  gridwatch detect --kind generic --field value any_series.csv -o out.csv
"""

KINDS_HELP = "wearable, smoke, river_gauge, meter, or generic (any numeric series)"


class InputError(ValueError):
    """A problem in the input file, with its line number."""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="IN.csv", type=Path, help="series to score: timestamp,value")
    p.add_argument("-o", "--output", metavar="OUT.csv", type=Path, required=True, help="where to write the scores")
    p.add_argument("--kind", required=True, help=KINDS_HELP)
    p.add_argument("--field", default="value", help="the field the values are, e.g. heart_rate, level, power_kw")
    p.add_argument("--detector", metavar="NAME", help="run only this detector (default: every one reading FIELD)")
    p.add_argument("--param", metavar="NAME=VALUE", action="append", default=[],
                   help="per-device parameter as in devices.csv, e.g. warning_level=4.5 (repeatable)")
    p.add_argument("--detectors-config", metavar="FILE", type=Path,
                   help="detector configuration TOML (default: the built-in detectors/default_config.toml)")


def execute(args: argparse.Namespace) -> int:
    from core.kinds import FIELDS
    from core.severity import Severity
    from detectors.config import DetectorConfigError, load_detector_config
    from detectors.offline import score_series

    try:
        config = load_detector_config(args.detectors_config)
        params = _params(args.param)
        stamps, ts, raw, values, extra = read_series(args.input, ZoneInfo(config.timezone))
        others = {k: v for k, v in extra.items() if k in FIELDS.get(args.kind, {}) and k != args.field}
        score, sev = score_series(args.kind, args.field, ts, values, config, args.detector, params, others)
    except (InputError, DetectorConfigError) as exc:
        print(f"gridwatch detect: {exc}", file=sys.stderr)
        return 2
    try:
        with args.output.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["timestamp", "value", "anomaly_score", "severity"])
            for stamp, text, s, v in zip(stamps, raw, score.tolist(), sev.tolist(), strict=True):
                w.writerow([stamp, text, f"{s:.4f}", str(Severity(v)) if v else ""])
    except OSError as exc:
        print(f"gridwatch detect: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    fired = int((sev >= 1).sum())
    print(f"scored {len(ts)} rows -> {args.output} ({fired} rows with an alert firing)", file=sys.stderr)
    return 0


def _params(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise InputError(f"--param {item!r}: expected NAME=NUMBER, e.g. warning_level=4.5")
    return out


def read_series(path: Path, tz: ZoneInfo) -> tuple[list[str], np.ndarray, list[str], np.ndarray,
                                                    dict[str, np.ndarray]]:
    """Parse ``timestamp,value[,field...]`` into (stamps, ts ms, raw values, floats, other columns).

    ``InputError`` names the line of the first bad row.
    """
    import numpy as np

    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with fh:
        rows = csv.reader(fh)
        header = [h.strip().lower() for h in next(rows, [])]
        if "timestamp" not in header or "value" not in header:
            raise InputError(f"{path} line 1: header must name the columns timestamp,value (got {','.join(header)!r})")
        it, iv = header.index("timestamp"), header.index("value")
        other = [i for i in range(len(header)) if i not in (it, iv)]
        stamps, ts, raw, vals, more = [], [], [], [], []
        for line, row in enumerate(rows, start=2):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            where = f"{path} line {line}"
            if len(row) != len(header):
                raise InputError(f"{where}: expected {len(header)} fields, got {len(row)}")
            stamps.append(row[it])
            ts.append(parse_time(row[it].strip(), tz, where))
            raw.append(row[iv])
            vals.append(parse_value(row[iv].strip(), where))
            more.append([parse_value(row[i].strip(), f"{where}, column {header[i]}") for i in other])
    extra = {header[i]: np.array([m[k] for m in more], np.float64) for k, i in enumerate(other)}
    return stamps, np.array(ts, np.int64), raw, np.array(vals, np.float64), extra


def parse_time(text: str, tz: ZoneInfo, where: str) -> int:
    """Epoch milliseconds from epoch ms digits or ISO 8601 (naive = configured zone)."""
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: timestamp {text!r} is neither ISO 8601 nor epoch milliseconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp() * 1000)


def parse_value(text: str, where: str) -> float:
    if text == "" or text.lower() in ("nan", "null", "none"):
        return float("nan")
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"{where}: value {text!r} is not a number") from None
    return x if math.isfinite(x) else float("nan")
