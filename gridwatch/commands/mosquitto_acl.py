"""``gridwatch mosquitto-acl``: Mosquitto password and ACL files from a city directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "generate Mosquitto password + ACL files from a city (each device may publish only its own topic)"
DESCRIPTION = """\
Write <out>/acl, <out>/passwd (Mosquitto 2 PBKDF2-SHA512 hashes) and <out>/passwords.csv
(clear text, mode 0600: provision the devices from it, then keep it safe) for every
device, gateway, grid worker and department of a city, plus the gridwatch service user.

  gridwatch mosquitto-acl --city city/ --out deploy/mosquitto/auth
  gridwatch mosquitto-acl --city city/ --out deploy/mosquitto/auth \\
      --passwords deploy/mosquitto/auth/passwords.csv       keep existing passwords

Gateways come from a `gateway_id` column of devices.csv and from --gateway.
The service's password: GRIDWATCH_MQTT_PASSWORD (passwords.csv has it).
"""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--city", required=True, help="city directory (INTERFACES §3)")
    p.add_argument("--out", required=True, help="directory for acl, passwd and passwords.csv")
    p.add_argument("--passwords", default=None, help="CSV with username,password columns: keep these passwords")
    p.add_argument("--gateway", action="append", default=[], metavar="ID", help="a gateway id (repeatable)")
    p.add_argument("--service-user", default="gridwatch", help="the MQTT user gridwatch connects as")


def execute(args: argparse.Namespace) -> int:
    from core.city import ID_PATTERN, CityError, load_city
    from ingest.mosquitto_auth import city_users, read_passwords, write_files

    bad = [g for g in args.gateway if not ID_PATTERN.fullmatch(g)]
    if bad:
        print(f"gridwatch mosquitto-acl: not a gateway id: {', '.join(bad)}", file=sys.stderr)
        return 2
    try:
        city = load_city(args.city)
        users = city_users(city, args.gateway, args.service_user)
        known = read_passwords(Path(args.passwords)) if args.passwords else {}
    except (CityError, ValueError, OSError, KeyError) as exc:
        print(f"gridwatch mosquitto-acl: {exc}", file=sys.stderr)
        return 2
    counts = write_files(users, Path(args.out), known)
    print(f"wrote {args.out}/acl, passwd, passwords.csv (0600): " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0
