"""The embedded store: documents as files in a folder, named by their IPFS CID, no daemon.

Layout: ``<root>/<two characters of the CID>/<CID>``, one file per CID holding the document's bytes
(the fan-out takes the next-to-last two characters, as Kubo's flatfs does, because a CID's first
characters are the same for every document). Writes go to a temporary file in the same folder, are
fsynced and renamed over the final name, so a crash leaves either the whole document or nothing;
concurrent adds of the same bytes write the same file and are harmless. Every read recomputes the
CID, so bytes altered on disk are refused instead of served.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import InvalidInput, NotFound
from . import Storage, StorageCorrupted, StoreStat, check_cid, check_cid_version, default_root
from .unixfs import cid_of


def _fsync_dir(path: Path) -> None:
    """Makes a rename or unlink in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmbeddedStore(Storage):
    """A content-addressed folder of documents; the data outlives the process.

    @param root the folder (created on first add); default ``$ELICENSE_STORAGE`` or ``~/.elicense/storage``
    """

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.location = str(self.root)
        self.index_path = self.root / "ownership.sqlite3"  # not a two-character shard: pins() skips it

    def _path(self, cid: str) -> Path:
        return self.root / cid[-3:-1] / cid

    def add(self, data: bytes, cid_version: int = 0) -> str:
        """Stores ``data`` and returns its CID (as `ipfs add` would); adding it again changes nothing.

        @param data the document's bytes
        @param cid_version 0 (``Qm...``) or 1 (``bafk``/``bafy...``)
        @return the CID
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(f"a document must be bytes, not {type(data).__name__}")
        cid = cid_of(data, check_cid_version(cid_version))
        path = self._path(cid)
        if self._holds(path, data):
            return cid
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{cid}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return cid

    @staticmethod
    def _holds(path: Path, data: bytes) -> bool:
        # a damaged copy under the same name is replaced by the good bytes rather than trusted
        try:
            return path.stat().st_size == len(data) and path.read_bytes() == data
        except FileNotFoundError:
            return False

    def get(self, cid: str) -> bytes:
        """The document stored under ``cid``, re-verified against it.

        @return the bytes
        @throws NotFound when the store does not hold ``cid``
        @throws StorageCorrupted when the file on disk no longer hashes to ``cid``
        """
        cid = check_cid(cid)
        path = self._path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"document {cid} is not in the store at {self.root}") from None
        if cid_of(data, 0 if cid.startswith("Qm") else 1) != cid:
            raise StorageCorrupted(f"document {cid} in the store at {self.root} was altered on disk: "
                                   f"its bytes no longer match the CID ({path})")
        return data

    def has(self, cid: str) -> bool:
        return self._path(check_cid(cid)).is_file()

    def remove(self, cid: str) -> None:
        """Erases ``cid``: its file is unlinked and the removal made durable; a later get raises NotFound.

        The file system may keep the freed blocks until they are reused; documents are sealed
        envelopes, so what could linger is ciphertext (erasing every reader's key finishes the job).
        """
        path = self._path(check_cid(cid))
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def pins(self) -> Iterator[str]:
        """Every CID in the store (in no particular order)."""
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if shard.is_dir() and len(shard.name) == 2:
                for path in shard.iterdir():
                    if not path.name.startswith(".") and path.is_file():
                        yield path.name

    def stat(self) -> StoreStat:
        count = size = 0
        for cid in self.pins():
            try:
                size += self._path(cid).stat().st_size
            except FileNotFoundError:  # removed meanwhile
                continue
            count += 1
        return StoreStat(count, size)

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.root)!r})"
