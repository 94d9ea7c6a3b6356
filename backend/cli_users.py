"""``python -m backend users ...`` (also ``ventanilla-users``): staff accounts from the terminal.

    python -m backend users create maria --role editor --role reviewer --name "María Pérez"
    python -m backend users reset-password maria
    python -m backend users disable maria
    python -m backend users enable maria
    python -m backend users list

Passwords are read from a hidden prompt (twice) or, when stdin is not a terminal, from its
first line, never from the command line (shell history, process list). Every change is
audited with the actor ``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.orm import sessionmaker

from backend.accounts import service as accounts
from backend.accounts.roles import Role, UnknownRole, parse_roles
from backend.db import create_schema, make_engine
from backend.settings import BackendSettings


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Contraseña nueva: ")
    if getpass.getpass("Repítala: ") != first:
        raise SystemExit("Error: las contraseñas no coinciden.")
    return first


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:120]
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend users", description="Cuentas del personal de la consola.")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="crea una cuenta (la contraseña se pide aparte)")
    create.add_argument("username")
    create.add_argument(
        "--role", action="append", required=True, help=f"rol ({', '.join(r.value for r in Role)}); repetible"
    )
    create.add_argument("--name", default="", help="nombre y apellido que se muestra")
    for name, text in (
        ("reset-password", "cambia la contraseña y cierra todas sus sesiones"),
        ("disable", "desactiva la cuenta y cierra todas sus sesiones"),
        ("enable", "reactiva la cuenta"),
    ):
        sub.add_parser(name, help=text).add_argument("username")
    sub.add_parser("list", help="lista las cuentas")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = BackendSettings()
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    actor = _actor()
    try:
        with sessionmaker(engine, expire_on_commit=False)() as session:
            if args.command == "list":
                for user in accounts.list_users(session):
                    state = "activa" if user.active else "desactivada"
                    print(f"{user.username}\t{','.join(sorted(user.roles))}\t{state}\t{user.display_name}")
                return 0
            if args.command == "create":
                roles = parse_roles(args.role)
                accounts.create_user(
                    session,
                    username=args.username,
                    display_name=args.name,
                    password=_read_password(),
                    roles=roles,
                    actor=actor,
                    min_length=settings.password_min_length,
                )
                session.commit()
                print(f"Cuenta '{accounts.normalize_username(args.username)}' creada.", file=sys.stderr)
                return 0
            found = accounts.get_by_username(session, args.username)
            if found is None:
                print(f"Error: no existe el usuario '{args.username}'.", file=sys.stderr)
                return 1
            user = found
            if args.command == "reset-password":
                ended = accounts.set_password(
                    session,
                    user=user,
                    new_password=_read_password(),
                    actor=actor,
                    min_length=settings.password_min_length,
                    reason="reset",
                )
                message = f"Contraseña cambiada; se cerraron {ended} sesiones."
            else:
                accounts.set_active(session, user=user, active=args.command == "enable", actor=actor)
                message = (
                    "Cuenta reactivada."
                    if args.command == "enable"
                    else "Cuenta desactivada; sus sesiones se cerraron."
                )
            session.commit()
            print(message, file=sys.stderr)
            return 0
    except (accounts.AccountError, UnknownRole) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
