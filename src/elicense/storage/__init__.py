"""Off-chain documents: one storage interface, two backends, both addressed by the CID `ipfs add` gives.

- :class:`~elicense.storage.embedded.EmbeddedStore` (the default): a folder on disk, no daemon; it
  survives restarts and re-verifies every read against the CID.
- :class:`~elicense.storage.ipfs.IpfsStore`: an IPFS node through its HTTP RPC API (a Kubo node,
  or an IPFS Cluster's IPFS proxy endpoint, which speaks the same API).

Both give the same CID for the same bytes (Kubo's defaults, see :mod:`elicense.storage.unixfs`), so
a document can move between them and the CID recorded on chain stays valid. What is stored is
meant to be a sealed envelope (:mod:`elicense.storage.envelope`): plaintext never leaves the client.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ElicenseError, InvalidInput
from .unixfs import cid_of, normalize_cid


class StorageCorrupted(ElicenseError):
    """Stored bytes no longer match their CID: the file on disk was altered or damaged."""

    code = "storage_corrupted"


@dataclass(frozen=True)
class StoreStat:
    """What a store holds: the number of stored (pinned) documents and the sum of their sizes in bytes."""

    count: int
    bytes: int


class Storage(ABC):
    """A content-addressed document store. Every method raises an :class:`ElicenseError` subclass
    (``NotFound``, ``InvalidInput``, ``NodeUnreachable``, :class:`StorageCorrupted`) on failure."""

    #: where the store lives (a folder or an API address), for messages
    location: str
    #: the SQLite file of the ownership index (storage/owners.py)
    index_path: Path

    @property
    def ownership(self):
        """Which (chain, contract, subject or asset) stored which file (:class:`~elicense.storage.owners.Ownership`)."""
        if getattr(self, "_ownership", None) is None:
            from .owners import Ownership

            self._ownership = Ownership(self.index_path)
        return self._ownership

    @abstractmethod
    def add(self, data: bytes, cid_version: int = 0) -> str:
        """Stores ``data`` (idempotent) and keeps it until :meth:`remove`.

        @param data the bytes (normally a sealed envelope)
        @param cid_version 0 (``Qm...``) or 1 (``bafk``/``bafy...``, raw leaves)
        @return the CID, equal to what `ipfs add` (with the same CID version) prints
        """

    @abstractmethod
    def get(self, cid: str) -> bytes:
        """The bytes stored under ``cid``; raises NotFound when they are not held here."""

    @abstractmethod
    def has(self, cid: str) -> bool:
        """Whether ``cid`` is stored (pinned) here. Never blocks on the network."""

    @abstractmethod
    def remove(self, cid: str) -> None:
        """Erases ``cid``: afterwards :meth:`get` raises NotFound. Removing an absent CID is a no-op."""

    @abstractmethod
    def pins(self) -> Iterator[str]:
        """The CIDs stored here."""

    @abstractmethod
    def stat(self) -> StoreStat:
        """How many documents are stored and their total size."""


def check_cid(cid: str) -> str:
    """The canonical text of ``cid``; raises InvalidInput with a sentence when it is not a CID."""
    try:
        return normalize_cid(cid)
    except (ValueError, TypeError, AttributeError, IndexError):
        raise InvalidInput(f"{cid!r} is not a CID (expected Qm... or a base32 bafy.../bafk...)") from None


def check_cid_version(cid_version: int) -> int:
    if cid_version not in (0, 1):
        raise InvalidInput(f"cid_version must be 0 or 1, not {cid_version!r}")
    return cid_version


def default_root() -> Path:
    """The embedded store's folder: ``$ELICENSE_STORAGE`` or ``~/.elicense/storage``."""
    return Path(os.environ.get("ELICENSE_STORAGE") or Path.home() / ".elicense" / "storage")


_MULTIADDR_PREFIXES = ("/ip4/", "/ip6/", "/dns/", "/dns4/", "/dns6/")


def open_store(location: str | os.PathLike | None = None) -> Storage:
    """The store at ``location``.

    @param location an IPFS RPC API address (a multiaddr such as ``/ip4/127.0.0.1/tcp/5001`` or a URL
           ``http://host:5001``) for :class:`IpfsStore`; a folder for :class:`EmbeddedStore`; None for
           ``$ELICENSE_IPFS_API`` when set, else the embedded store at :func:`default_root`
    @return a :class:`Storage`
    """
    if location is None:
        location = os.environ.get("ELICENSE_IPFS_API") or default_root()
    text = os.fspath(location)
    if text.startswith(_MULTIADDR_PREFIXES) or text.startswith(("http://", "https://")):
        from .ipfs import IpfsStore

        return IpfsStore(text)
    from .embedded import EmbeddedStore

    return EmbeddedStore(Path(text))


__all__ = ["Storage", "StoreStat", "StorageCorrupted", "open_store", "default_root", "cid_of", "check_cid"]
