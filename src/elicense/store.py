"""Content-addressed storage for what is too large for a chain: batch bundles (and, later, documents).

A blob is named by its SHA-256, the same digest the chain records, so whatever serves it (this
folder, a web server, IPFS: a CIDv1 of raw SHA-256 is derived from the same 32 bytes) cannot hand
back anything else without being caught on read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import ElicenseError, NotFound


def default_root() -> Path:
    return Path(os.environ.get("ELICENSE_STORE", Path.home() / ".elicense" / "store"))


class DocumentStore:
    """A folder of blobs named by their SHA-256 (two-level fan-out, atomic writes)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else default_root()

    def _path(self, digest: bytes) -> Path:
        name = digest.hex()
        return self.root / name[:2] / name

    def put(self, data: bytes) -> bytes:
        digest = hashlib.sha256(data).digest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest

    def has(self, digest: bytes) -> bool:
        return self._path(digest).exists()

    def get(self, digest: bytes) -> bytes:
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no blob 0x{digest.hex()} in the store at {self.root}") from None
        if hashlib.sha256(data).digest() != digest:
            raise ElicenseError(f"the stored blob 0x{digest.hex()} is damaged (its SHA-256 differs)")
        return data
