"""``gridwatch token issue|list|revoke``: API bearer tokens for people with a role."""

from __future__ import annotations

import argparse
import logging

HELP = "API tokens: issue one for a person with a role, list them, revoke one"
DESCRIPTION = """\
Every /api/v1 call needs `Authorization: Bearer <token>`. A token belongs to a person
with a role: admin (everything), dispatcher (one town: --town-id), worker (its own
orders: --worker-id), department (orders it was pulled into: --dept-id). The token is
printed once; only its SHA-256 is stored. GRIDWATCH_ADMIN_TOKEN also works as admin.

  gridwatch token issue --role dispatcher --town-id t-01 --name "Chen Jing"
  gridwatch token issue --role worker --worker-id w-001 --name "Liu Min"
  gridwatch token list
  gridwatch token revoke 7
"""
FLAGS = ("data_dir", "db", "log_level")


def configure(parser: argparse.ArgumentParser) -> None:
    from gridwatch.options import add_settings_flags

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    issue = sub.add_parser("issue", help="issue a token (printed once)")
    issue.add_argument("--role", required=True, choices=("admin", "dispatcher", "worker", "department"))
    issue.add_argument("--name", required=True, help="the person's name, shown in order timelines")
    scope = issue.add_mutually_exclusive_group()
    scope.add_argument("--worker-id", help="worker tokens: the worker (workers.csv)")
    scope.add_argument("--dept-id", help="department tokens: the department (departments.csv)")
    scope.add_argument("--town-id", help="dispatcher tokens: the town")
    issue.add_argument("--label", help="what the token is for, e.g. 'command-center screen 2'")
    sub.add_parser("list", help="list tokens (never the tokens themselves)")
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    for p in (issue, *sub.choices.values()):
        if not any(a.dest == "db" for a in p._actions):
            add_settings_flags(p, FLAGS)


def execute(args: argparse.Namespace) -> int:
    from alerts.db import make_engine, session_factory, upgrade
    from api.tokenstore import TokenStore
    from gridwatch.options import settings_from_args

    url = settings_from_args(args, FLAGS).db_url
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter is not the answer
    upgrade(url)
    engine = make_engine(url)
    try:
        return _ACTIONS[args.action](TokenStore(session_factory(engine)), args)
    finally:
        engine.dispose()


def _issue(store, args: argparse.Namespace) -> int:
    scope = args.worker_id or args.dept_id or args.town_id
    try:
        token_id, token = store.issue(args.role, args.name, scope, args.label)
    except ValueError as exc:
        print(f"gridwatch token: {exc}")
        return 2
    print(f"token {token_id} for {args.name} ({args.role}{' ' + scope if scope else ''}); shown only now:")
    print(token)
    return 0


def _list(store, args: argparse.Namespace) -> int:
    print(f"{'id':>4}  {'role':<10} {'scope':<14} {'name':<24} {'created':<20} state")
    for t in store.list():
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        created = f"{t.created_at:%Y-%m-%d %H:%M:%S}"
        print(f"{t.id:>4}  {t.role:<10} {t.scope or '-':<14} {t.name[:24]:<24} {created:<20} {state}")
    return 0


def _revoke(store, args: argparse.Namespace) -> int:
    info = store.revoke(args.token_id)
    if info is None:
        print(f"gridwatch token: no token {args.token_id}")
        return 1
    print(f"token {info.id} of {info.name} ({info.role}) revoked")
    return 0


_ACTIONS = {"issue": _issue, "list": _list, "revoke": _revoke}
