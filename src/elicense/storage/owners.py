"""Who stored which file: the ownership index kept beside a store (docs/security.md, attack 1).

CIDs are public (they are in the contracts' events), so anyone can deploy a genuine copy of a
contract and point a record or an asset at someone else's file. What protects that file is not the
chain but this index: every file is claimed, when it is stored, by the (chain, contract, subject or
asset) that stored it. A gateway serves a file only under an owner; a clean-up removes a file only
once no other owner claims it; an erasure and the supervisor's audit enumerate a subject's files
from here (drafts and unsigned uploads included), not only from the CIDs the chain names.

One SQLite file per store (the embedded store's folder, or a local file for an IPFS node), so the
CLI and the server share it; 0600 like a keystore.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address

_SCHEMA = """CREATE TABLE IF NOT EXISTS claims (
    cid TEXT NOT NULL, chain_id INTEGER NOT NULL, contract TEXT NOT NULL, owner TEXT NOT NULL,
    kind TEXT NOT NULL, stored_at INTEGER NOT NULL, PRIMARY KEY (cid, chain_id, contract, owner))"""


@dataclass(frozen=True)
class Owner:
    """A record (``subject:0x…``) or an asset (``asset:7``) of one contract on one chain."""

    chain_id: int
    contract: str
    key: str

    @classmethod
    def subject(cls, chain_id: int, contract: str, subject: str) -> "Owner":
        return cls(int(chain_id), to_checksum_address(contract), "subject:" + to_checksum_address(subject))

    @classmethod
    def asset(cls, chain_id: int, contract: str, asset_id: int) -> "Owner":
        return cls(int(chain_id), to_checksum_address(contract), f"asset:{int(asset_id)}")

    @classmethod
    def attachment(cls) -> "Owner":
        """A licence attachment (attachments.py): the holder's, not a personal-data record's."""
        return cls(0, "0x" + "00" * 20, "licence-attachment")

    def __str__(self) -> str:
        return f"{self.key} of {self.contract} on chain {self.chain_id}"


@dataclass(frozen=True)
class Claim:
    cid: str
    owner: Owner
    kind: str  # draft, upload (not yet on chain), file (recorded), asset
    stored_at: int


class Ownership:
    """The claims of one store. Thread-safe; several processes may share the file (SQLite locks it)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not self.path.exists()
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            if fresh:
                os.chmod(self.path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")  # one fsync per commit batch, readers never blocked
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        return self._db

    def _rows(self, sql: str, args: tuple) -> list[Claim]:
        with self._lock:
            rows = self._conn().execute(sql, args).fetchall()
        return [Claim(cid, Owner(chain, contract, owner), kind, at) for cid, chain, contract, owner, kind, at in rows]

    def claim(self, cid: str, owner: Owner, kind: str) -> None:
        """Records that ``owner`` stored ``cid``; claiming again only updates the kind."""
        with self._lock:
            self._conn().execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cid, chain_id, contract, owner) "
                "DO UPDATE SET kind = excluded.kind",
                (cid, owner.chain_id, owner.contract, owner.key, kind, int(time.time())))

    def owners(self, cid: str) -> list[Claim]:
        return self._rows("SELECT * FROM claims WHERE cid = ?", (cid,))

    def owns(self, owner: Owner, cid: str) -> bool:
        return any(c.owner == owner for c in self.owners(cid))

    def claims(self, owner: Owner) -> list[Claim]:
        """Every file ``owner`` stored and has not released, oldest first."""
        return self._rows("SELECT * FROM claims WHERE chain_id = ? AND contract = ? AND owner = ? ORDER BY stored_at",
                          (owner.chain_id, owner.contract, owner.key))

    def release(self, owner: Owner, cid: str) -> list[Claim]:
        """Drops ``owner``'s claim on ``cid``; returns the claims of other owners that remain."""
        with self._lock:
            self._conn().execute("DELETE FROM claims WHERE cid = ? AND chain_id = ? AND contract = ? AND owner = ?",
                                 (cid, owner.chain_id, owner.contract, owner.key))
        return self.owners(cid)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
