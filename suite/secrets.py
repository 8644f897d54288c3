"""Secrets through the OS keyring, and only through it.

Database passwords, card master keys and the licence signing key are stored as keyring
entries under one service name (``[keyring] service``). A site may name a backend class
explicitly: ``keyrings.alt.file.PlaintextKeyring`` on a kiosk with no desktop keyring (a
root-only file); the tests use that file backend in a temporary folder.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import importlib
import os
import secrets as _random
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import keyring
import keyring.backend
import keyring.errors

from suite.errors import SecretMissing
from suite.i18n import _


_CREATING = threading.Lock()  # first-use key creation, for every store of this process


@dataclass
class SecretStore:
    service: str
    backend: keyring.backend.KeyringBackend

    @classmethod
    def from_settings(cls, service: str, backend_path: str = "", file: str = "") -> "SecretStore":
        if backend_path:
            module_name, _dot, class_name = backend_path.rpartition(".")
            backend = getattr(importlib.import_module(module_name), class_name)()
            if file and hasattr(backend, "file_path"):
                # keyrings.alt file backends: keep the file where the site says
                backend.file_path = file
        else:
            backend = keyring.get_keyring()
        return cls(service=service, backend=backend)

    def get(self, name: str) -> str | None:
        try:
            return self.backend.get_password(self.service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretMissing(_("The keyring cannot be read ({reason}).").format(reason=exc)) from exc

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SecretMissing(_("Secret {name!r} is not in the keyring (service {service!r}).").format(
                name=name, service=self.service))
        return value

    def set(self, name: str, value: str) -> None:
        try:
            self.backend.set_password(self.service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretMissing(_("The keyring cannot be written ({reason}).").format(reason=exc)) from exc

    def delete(self, name: str) -> None:
        try:
            self.backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            pass

    def get_or_create_key(self, name: str, size: int = 32) -> bytes:
        """A random binary key kept base64 in the keyring, created on first use. Creating it is
        serialised (threads of this process, and processes sharing a keyring file), so two
        first users never make two keys, nor write a file keyring at the same time."""
        value = self.get(name)
        if value is None:
            with _CREATING, self._file_lock():
                value = self.get(name)
                if value is None:
                    value = base64.b64encode(_random.token_bytes(size)).decode()
                    self.set(name, value)
        return base64.b64decode(value)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive lock beside a file keyring (``<file>.lock``); nothing for the OS keyring."""
        path = getattr(self.backend, "file_path", None)
        if not isinstance(path, str) or not path:
            yield
            return
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path + ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
