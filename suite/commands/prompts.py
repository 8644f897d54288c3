"""Reading secrets a command needs from the environment, standard input or a prompt."""

from __future__ import annotations

import getpass
import os
import sys

from suite.errors import InvalidInput, SuiteError
from suite.i18n import _


def new_password(username: str, env_var: str) -> str:
    """A new password: ``$env_var``, else one line of standard input, else asked twice."""
    password = os.environ.get(env_var)
    if password:
        return password
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
        if password:
            return password
        raise InvalidInput(_("Give the password for {user} on standard input or in {var}.").format(
            user=username, var=env_var))
    first = getpass.getpass(_("New password for {user}: ").format(user=username))
    if getpass.getpass(_("Repeat the password: ")) != first:
        raise InvalidInput(_("The two passwords differ."))
    return first


def check_failed(code: str, message: str, problems: list[dict[str, object]]) -> SuiteError:
    """The error a checking verb (ledger check, audit verify) exits 1 with, problems attached."""
    error = SuiteError(message)
    error.code = code
    error.details = {"problems": problems}
    return error
