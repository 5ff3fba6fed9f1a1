"""Accounts on this device: encrypted keystores (Web3 Secret Storage v3) in one folder, by name."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from eth_account.signers.local import LocalAccount

from . import crypto
from .errors import Conflict, InvalidInput, KeystoreError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_dir() -> Path:
    return Path(os.environ.get("ELICENSE_KEYSTORE", Path.home() / ".elicense" / "keystore"))


class Wallet:
    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory or default_dir())

    def _path(self, name: str) -> Path:
        if not NAME.match(name or ""):
            raise InvalidInput(f"malformed account name {name!r}: letters, digits, '.', '_', '-' (at most 64)")
        return self.directory / f"{name}.json"

    def check_free(self, name: str) -> Path:
        path = self._path(name)
        if path.exists():
            raise Conflict(f"an account named {name!r} exists already in {self.directory}")
        return path

    def save(self, name: str, account: LocalAccount, password: str) -> Path:
        path = self.check_free(name)
        keystore = crypto.encrypt_keystore(account, password)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(keystore, out)
        return path

    def keystore(self, name: str) -> dict:
        path = self._path(name)
        if not path.exists():
            raise KeystoreError(f"no account named {name!r} in {self.directory}")
        try:
            return json.loads(path.read_text())
        except ValueError:
            raise KeystoreError(f"{path} is not a keystore file") from None

    def load(self, name: str, password: str) -> LocalAccount:
        return crypto.decrypt_keystore(self.keystore(name), password)

    def address(self, name: str) -> str:
        from eth_utils import to_checksum_address

        return to_checksum_address(self.keystore(name)["address"])

    def names(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))
