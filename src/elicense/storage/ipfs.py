"""The IPFS backend: a node's HTTP RPC API (Kubo, or an IPFS Cluster's IPFS proxy) via ipfshttpclient.

Documents are added pinned, with the import settings spelt out on every call (256 KiB chunks,
balanced DAG, CID version, raw leaves for CIDv1) so a node whose ``Import.*`` configuration differs
cannot silently produce another CID than the one recorded on chain; the CID the node returns is
checked against the one computed locally, and every read is re-verified.

Reads, pin checks and the checks after an erase ask the node to stay offline (``offline=true``)
and to give up after a short server-side timeout, so a document this node does not hold makes the
call fail quickly instead of the node searching the network for it.

ipfshttpclient 0.7 is used without its ``connect()``: that function refuses daemons newer than
0.8, while the RPC endpoints used here have been stable since.
"""

from __future__ import annotations

import io
import math
import re
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

import ipfshttpclient
from ipfshttpclient import exceptions as ipfs_errors

from ..errors import ElicenseError, InvalidInput, NodeUnreachable, NotFound
from . import Storage, StorageCorrupted, StoreStat, check_cid, check_cid_version, default_root
from .unixfs import CHUNK_SIZE, cid_of, normalize_cid

DEFAULT_API = "/ip4/127.0.0.1/tcp/5001/http"


def api_multiaddr(api: str) -> str:
    """``api`` as the multiaddr ipfshttpclient expects; accepts ``http://host:port`` URLs too."""
    if api.startswith(("http://", "https://")):
        url = urllib.parse.urlsplit(api)
        if not url.hostname or not url.port:
            raise InvalidInput(f"the IPFS API address {api!r} needs a host and a port")
        try:
            import ipaddress

            proto = "ip6" if ipaddress.ip_address(url.hostname).version == 6 else "ip4"
        except ValueError:
            proto = "dns"
        return f"/{proto}/{url.hostname}/tcp/{url.port}/{url.scheme}"
    if not api.rstrip("/").endswith(("/http", "/https")):
        api = api.rstrip("/") + "/http"
    return api


class IpfsStore(Storage):
    """Documents pinned on an IPFS node, reached through its HTTP RPC API.

    @param api the node's API address: a multiaddr (``/ip4/127.0.0.1/tcp/5001``) or ``http://host:port``
    @param timeout seconds to wait for the node on any call (adding large documents included)
    @param read_timeout seconds the node may spend looking for a block before a read or check fails
    @param offline True (default): only what the node holds counts, it never asks its peers;
           False: reads may be fetched from the IPFS network (a production node, not the tests)
    """

    def __init__(self, api: str = DEFAULT_API, *, timeout: float = 60.0, read_timeout: float = 3.0,
                 offline: bool = True, index: Path | str | None = None):
        self.location = api
        # the node cannot hold it (a copy in MFS would keep erased blocks alive): a local file per node address
        named = re.sub(r"[^A-Za-z0-9.]+", "_", api_multiaddr(api) if isinstance(api, str) else str(api)).strip("_")
        self.index_path = Path(index) if index is not None else default_root().parent / "ipfs-index" / f"{named}.sqlite3"
        self.offline = offline
        self._read_timeout = read_timeout
        try:
            self._client = ipfshttpclient.Client(api_multiaddr(api), timeout=timeout)
        except ipfs_errors.AddressError:
            raise InvalidInput(f"{api!r} is not an IPFS API address (expected e.g. /ip4/127.0.0.1/tcp/5001)") from None

    # ------------------------------------------------------------------ plumbing

    def _call(self, what: str, fn, *args, missing: str | None = None, **kwargs):
        """Runs one RPC call and turns transport failures into one-line ElicenseErrors.

        @param missing when given, the node's refusal or running out of time means the content is not
               there: NotFound with this message is raised instead
        """
        try:
            with warnings.catch_warnings():
                # urllib3 2 warns about a keyword ipfshttpclient 0.7 still passes; it changes nothing
                warnings.filterwarnings("ignore", "The 'strict' parameter", FutureWarning)
                return fn(*args, **kwargs)
        except ipfs_errors.ConnectionError:
            raise NodeUnreachable(f"the IPFS node at {self.location} does not answer (is its daemon running?)") \
                from None
        except (ipfs_errors.TimeoutError, ipfs_errors.ErrorResponse) as exc:
            if missing:
                raise NotFound(missing) from None
            if isinstance(exc, ipfs_errors.TimeoutError):
                raise NodeUnreachable(f"the IPFS node at {self.location} did not answer {what} in time") from None
            raise  # the node's refusal: the caller knows what it means
        except ipfs_errors.Error as exc:
            raise ElicenseError(f"the IPFS node at {self.location} failed on {what}: {exc}") from None

    def _local(self) -> dict:
        """Options for calls that must not reach beyond this node: offline, with a server-side timeout
        (the node stops looking) shorter than the client's (so the node's answer arrives first)."""
        return {
            "offline": self.offline,
            "opts": {"timeout": f"{max(1, math.ceil(self._read_timeout))}s"},
            "timeout": self._read_timeout + 10,
        }

    # ------------------------------------------------------------------ the interface

    def add(self, data: bytes, cid_version: int = 0) -> str:
        """Adds and pins ``data`` on the node.

        @param data the document's bytes
        @param cid_version 0 (``Qm...``) or 1 (``bafk``/``bafy...``, raw leaves, as ``ipfs add --cid-version=1``)
        @return the CID (the one `ipfs add` with Kubo's defaults prints)
        @throws StorageCorrupted when the node, configured otherwise, returns another CID
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(f"a document must be bytes, not {type(data).__name__}")
        version = check_cid_version(cid_version)
        expected = cid_of(data, version)
        try:
            # CIDv1 in base32 as Kubo prints it (js-ipfs would answer base58btc, and refuses the option for v0)
            result = self._call("an add of the document", self._client.add, io.BytesIO(bytes(data)), pin=True,
                                cid_version=version, raw_leaves=version == 1, chunker=f"size-{CHUNK_SIZE}",
                                trickle=False, opts={"cid-base": "base32"} if version else {})
        except ipfs_errors.ErrorResponse as exc:
            raise ElicenseError(f"the IPFS node at {self.location} refused the document: {exc}") from None
        got = normalize_cid(result["Hash"])
        if got != expected:
            self._unpin(got)
            raise StorageCorrupted(f"the IPFS node at {self.location} stored the document as {got}, not {expected}: "
                                   "its import settings differ from Kubo's defaults")
        return got

    def get(self, cid: str) -> bytes:
        """The document ``cid``, read from the node and re-verified against the CID.

        @throws NotFound when the node does not hold it (offline: it does not search the network)
        @throws StorageCorrupted when the bytes served do not hash to ``cid``
        """
        cid = check_cid(cid)
        # the node refusing, or still looking when its timeout ends, both mean it does not hold the blocks
        data = self._call(f"a read of {cid}", self._client.cat, cid, **self._local(),
                          missing=f"document {cid} is not held by the IPFS node at {self.location}")
        if cid_of(data, 0 if cid.startswith("Qm") else 1) != cid:
            raise StorageCorrupted(f"the IPFS node at {self.location} served bytes for {cid} that do not match it")
        return data

    def has(self, cid: str) -> bool:
        """Whether the node pins ``cid`` (recursively); asks the pin set only, never the network."""
        cid = check_cid(cid)
        try:
            self._call(f"a pin check of {cid}", self._client.pin.ls, cid, type="recursive", **self._local())
        except ipfs_errors.ErrorResponse as exc:
            if "not pinned" in str(exc):
                return False
            raise ElicenseError(f"the IPFS node at {self.location} could not check {cid}: {exc}") from None
        return True

    def _unpin(self, cid: str) -> None:
        try:
            self._call(f"an unpin of {cid}", self._client.pin.rm, cid, recursive=True)
        except ipfs_errors.ErrorResponse as exc:
            if "not pinned" not in str(exc):
                raise ElicenseError(f"the IPFS node at {self.location} could not unpin {cid}: {exc}") from None

    def remove(self, cid: str) -> None:
        """Erases ``cid`` from the node: unpins it, then garbage-collects the repository so its blocks
        are deleted (unless another pin still needs them). Removing an absent CID only collects garbage.

        Copies other nodes fetched earlier are out of reach; with ``offline=True`` and no peers that is
        nobody, and documents are sealed envelopes in any case.
        """
        cid = check_cid(cid)
        self._unpin(cid)
        try:
            self._call("a garbage collection", self._client.repo.gc, quiet=True)
        except ipfs_errors.ErrorResponse as exc:
            raise ElicenseError(f"the IPFS node at {self.location} could not collect garbage: {exc}") from None

    def pins(self) -> Iterator[str]:
        """Every CID the node pins recursively (the node's own pins, such as a fresh repository's
        readme, included)."""
        try:
            result = self._call("a pin listing", self._client.pin.ls, type="recursive")
        except ipfs_errors.ErrorResponse as exc:
            raise ElicenseError(f"the IPFS node at {self.location} could not list its pins: {exc}") from None
        for key in result["Keys"]:
            try:
                yield normalize_cid(key)
            except ValueError:  # a CID in an encoding this module does not produce: report it as is
                yield key

    def stat(self) -> StoreStat:
        """The number of recursive pins and the sum of their sizes (file sizes, as ``ipfs files stat``)."""
        count = size = 0
        for cid in list(self.pins()):
            try:
                info = self._call(f"a stat of {cid}", self._client.files.stat, f"/ipfs/{cid}", **self._local())
            except ipfs_errors.ErrorResponse:
                continue  # unpinned meanwhile
            count += 1
            size += int(info["Size"])
        return StoreStat(count, size)

    def close(self) -> None:
        self._client.close()
        if getattr(self, "_ownership", None) is not None:
            self._ownership.close()

    def __enter__(self) -> "IpfsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"IpfsStore({self.location!r})"
