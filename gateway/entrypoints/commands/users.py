"""`gateway users add|passwd|disable|list`: the console's local users (docs/console.md).

Users live in the ``console_users`` table of the ledger's SQLite file, with argon2id
password hashes (gateway/storage/users.py). A password is read from the terminal twice
with hidden input, or as one line from standard input with ``--password-stdin``; it is
never printed, logged or passed on the command line.

Exit codes: 0 done; 2 refused (unknown user, name taken, password too short or not
confirmed, configuration not valid).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gateway.entrypoints.commands.options import ConfigOption, SpoolOption, load
from gateway.entrypoints.commands.output import shown, shown_lines

if TYPE_CHECKING:
    from gateway.storage.users import UserStore

__all__ = ["register", "users_app"]

console = Console()
errors = Console(stderr=True)

users_app = typer.Typer(
    help="Manage the web console's users (operator: read; supervisor: also act).", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="The user's name.")]
StdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password as one line from standard input.")
]


@contextmanager
def _store(config: Path | None, spool: Path | None) -> Iterator[UserStore]:
    from gateway.storage.ledger import Ledger
    from gateway.storage.users import UserStore

    settings = load(config, spool)
    with Ledger(settings.ledger_path()) as ledger:
        yield UserStore(ledger)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password (again): ")
    if first != second:
        errors.print("the two passwords differ: nothing changed")
        raise typer.Exit(2)
    return first


def _audit(config: Path | None, spool: Path | None, event: str, **fields: object) -> None:
    from gateway.reporting import audit

    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):
        os_user = None
    audit.configure(load(config, spool).audit_path(), console=False)
    audit.get_logger(by="gateway users", os_user=os_user).warning(event, **fields)


@users_app.command("add")
def add_command(
    name: NameArgument,
    role: Annotated[str, typer.Option("--role", help="operator (read, masked values) or supervisor (also actions).")],
    password_stdin: StdinOption = False,
    config: ConfigOption = None,
    spool: SpoolOption = None,
) -> None:
    """Add a user with a role; asks for the password (twice, hidden)."""
    from gateway.storage.users import UserError, UserStore

    try:
        UserStore.check_name(name)
        UserStore.check_role(role)
        password = _password(password_stdin)
        with _store(config, spool) as store:
            store.add(name, role, password)
    except UserError as error:
        errors.print(shown_lines(error))
        raise typer.Exit(2) from None
    _audit(config, spool, "console-user-added", target_user=name, role=role)
    console.print(f"user {shown(name)} added ({role})")


@users_app.command("passwd")
def passwd_command(
    name: NameArgument, password_stdin: StdinOption = False, config: ConfigOption = None, spool: SpoolOption = None
) -> None:
    """Set a user's password (also unlocks the account and ends its sessions)."""
    from gateway.storage.users import UserError

    try:
        with _store(config, spool) as store:
            if store.get(name) is None:
                raise UserError(f"no user {name!r} (see `gateway users list`)")
            store.set_password(name, _password(password_stdin))
    except UserError as error:
        errors.print(shown_lines(error))
        raise typer.Exit(2) from None
    _audit(config, spool, "console-user-password-changed", target_user=name)
    console.print(f"password of {shown(name)} changed")


@users_app.command("disable")
def disable_command(name: NameArgument, config: ConfigOption = None, spool: SpoolOption = None) -> None:
    """Disable a user: no more logins; open sessions end at once."""
    from gateway.storage.users import UserError

    try:
        with _store(config, spool) as store:
            store.disable(name)
    except UserError as error:
        errors.print(shown_lines(error))
        raise typer.Exit(2) from None
    _audit(config, spool, "console-user-disabled", target_user=name)
    console.print(f"user {shown(name)} disabled")


@users_app.command("list")
def list_command(config: ConfigOption = None, spool: SpoolOption = None) -> None:
    """List the users: role, whether disabled or locked, last login (never a password or hash)."""
    from rich.table import Table

    from gateway.entrypoints.console.views import jst_text
    from gateway.storage.users import utc_now

    with _store(config, spool) as store:
        users = store.list()
    now = utc_now()
    table = Table("user", "role", "state", "failed logins", "last login (JST)", "created (JST)")
    for user in users:
        state = (
            "disabled"
            if user.disabled
            else f"locked until {jst_text(user.locked_until)}"
            if user.locked_at(now)
            else "active"
        )
        table.add_row(
            shown(user.name),
            user.role,
            state,
            str(user.failed_logins),
            jst_text(user.last_login_at),
            jst_text(user.created_at),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `users add|passwd|disable|list` to the `gateway` command line."""
    app.add_typer(users_app, name="users")
