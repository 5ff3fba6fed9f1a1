"""Batch issuance: thousands of licences in one transaction under one Merkle root.

Each licence is a leaf (holder, data hash, validity, hash of its ciphertext) of an OpenZeppelin
standard Merkle tree. The chain keeps the batch as (issuing agency, root), with the count and the
SHA-256 of the *bundle*: the tree (OpenZeppelin's standard-v1 dump, so their tools read it) with every
ciphertext. The bundle goes to the content-addressed store, where holders fetch their licence,
its ciphertext and their proof; the hashes on chain make any other copy detectable.

``issue_csv`` issues a CSV file in chunks with a write-ahead progress file next to it: a chunk is
recorded as *built* (root and bundle stored) before its transaction is sent and as *issued* after,
so an interrupted run resumes without issuing any row twice or losing one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from eth_utils import keccak

from . import crypto, types
from .anchoring import BATCH_LEAF
from .errors import Conflict, InvalidInput, NotFound
from .licence import LicenceDocument, canonical
from .merkle import StandardMerkleTree

BUNDLE_FORMAT = "elicense-batch/1"
DEFAULT_CHUNK = 1000


@dataclass(frozen=True)
class BatchRow:
    holder: str
    fields: dict
    valid_from: int | None = None
    valid_until: int = types.FOREVER


@dataclass(frozen=True)
class BatchEntry:
    """One holder's share of a bundle: what they need to decrypt, claim and present their licence."""

    index: int
    holder: str
    data_hash: bytes
    valid_from: int
    valid_until: int
    ciphertext_hash: bytes
    ciphertext: bytes
    proof: list[bytes]

    @property
    def leaf(self) -> tuple:
        return (self.holder, self.data_hash, self.valid_from, self.valid_until, self.ciphertext_hash)


@dataclass
class Bundle:
    chain_id: int
    registry: str
    cert_type: int
    agency: str
    tree: StandardMerkleTree
    ciphertexts: list[bytes]
    _by_holder: dict = field(default_factory=dict, repr=False)
    _by_data: dict = field(default_factory=dict, repr=False)

    @property
    def root(self) -> bytes:
        return self.tree.root

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": BUNDLE_FORMAT, "chainId": self.chain_id, "registry": self.registry, "certType": self.cert_type,
            "agency": self.agency, "root": "0x" + self.root.hex(), "tree": self.tree.dump(),
            "ciphertexts": [base64.b64encode(c).decode() for c in self.ciphertexts],
        }, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Bundle":
        try:
            data = json.loads(raw)
            if data.get("format") != BUNDLE_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            tree = StandardMerkleTree.load(data["tree"])
            bundle = cls(int(data["chainId"]), types.address(data["registry"]), int(data["certType"]), str(data["agency"]),
                         tree, [base64.b64decode(c) for c in data["ciphertexts"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not an elicense batch bundle: {exc}") from None
        if "0x" + bundle.root.hex() != data["root"] or len(bundle.ciphertexts) != len(tree):
            raise InvalidInput("the batch bundle is inconsistent (root or ciphertext count)")
        return bundle

    def entries_for(self, holder: str) -> list[BatchEntry]:
        if not self._by_holder:
            for i, value in enumerate(self.tree.values()):
                self._by_holder.setdefault(value[0], []).append(i)
        return [self.entry(i) for i in self._by_holder.get(holder, [])]

    def entry_for_data(self, data_hash: bytes) -> BatchEntry | None:
        if not self._by_data:
            self._by_data.update({bytes(v[1]): i for i, v in enumerate(self.tree.values())})
        index = self._by_data.get(bytes(data_hash))
        return None if index is None else self.entry(index)

    def entry(self, index: int) -> BatchEntry:
        holder, data_hash, valid_from, valid_until, ciphertext_hash = self.tree.value(index)
        ciphertext = self.ciphertexts[index]
        if keccak(ciphertext) != bytes(ciphertext_hash):
            raise InvalidInput(f"ciphertext {index} of the bundle does not match its leaf")
        return BatchEntry(index, holder, bytes(data_hash), valid_from, valid_until, bytes(ciphertext_hash), ciphertext,
                          self.tree.proof(index))


def build(registry, org_code: str, rows: list[BatchRow], public_keys: dict[str, bytes], now: int) -> Bundle:
    """Encrypts every licence to its holder and builds the tree (nothing is sent)."""
    leaves, ciphertexts = [], []
    for row in rows:
        valid_from = now if row.valid_from is None else row.valid_from
        document = LicenceDocument.new(registry.cert_type, org_code, row.holder, row.fields, valid_from, row.valid_until)
        ciphertext = crypto.encrypt(public_keys[row.holder], document.to_bytes())
        leaves.append((row.holder, document.data_hash, valid_from, row.valid_until, keccak(ciphertext)))
        ciphertexts.append(ciphertext)
    tree = StandardMerkleTree(leaves, BATCH_LEAF)
    return Bundle(registry.chain.chain_id, registry.address, registry.cert_type, org_code, tree, ciphertexts)


def store_bundle(store, registry, org_code: str, rows: list[BatchRow], public_keys: dict[str, bytes],
                 now: int) -> tuple[bytes, bytes]:
    """Builds the batch and puts its bundle in the store: (root, bundle hash), ready to send."""
    bundle = build(registry, org_code, rows, public_keys, now)
    return bundle.root, store.put(bundle.to_bytes())


def batch_args(batch: dict) -> tuple[bytes, bytes, tuple, list[bytes]]:
    """(agency, root, leaf, proof) for the contract from the form kept in licences and presentations:
    {"agency": organisation code, "root", "leaf", "proof"} (hex)."""
    try:
        holder, data_hash, valid_from, valid_until, ciphertext_hash = batch["leaf"]
        proof = list(batch["proof"])
        agency, root = batch["agency"], batch["root"]
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("malformed batch reference: it needs an agency, a root, a five-part leaf and a proof "
                           "list") from None
    for value, what in ((valid_from, "valid-from"), (valid_until, "valid-until")):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
            raise InvalidInput(f"malformed batch leaf: its {what} {str(value)[:40]!r} is not unix seconds")
    leaf = (types.address(holder, "leaf holder"), types.bytes32(data_hash, "leaf data hash"), valid_from, valid_until,
            types.bytes32(ciphertext_hash, "leaf ciphertext hash"))
    return (types.org_code(agency), types.bytes32(root, "batch root"), leaf,
            [types.bytes32(p, "proof node") for p in proof])


def check_rows(rows: list[BatchRow], public_keys: dict[str, bytes], now: int) -> None:
    """Refuses the whole set, naming every bad row, before anything is built or sent."""
    problems = []
    for number, row in enumerate(rows, 1):
        if row.holder not in public_keys:
            problems.append(f"row {number}: {row.holder} is not a registered holder")
        start = now if row.valid_from is None else row.valid_from
        if row.valid_until <= start or row.valid_until <= now:
            problems.append(f"row {number}: valid-until must be after valid-from and in the future")
        if not row.fields:
            problems.append(f"row {number}: no licence fields")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InvalidInput("; ".join(problems[:10]) + more)


# ------------------------------------------------------------------ CSV

def read_csv(path: Path, parse_time: Callable[[str], int]) -> list[BatchRow]:
    """Rows of a CSV file (see :func:`parse_csv`)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return parse_csv(handle, parse_time, str(path))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def parse_csv(lines, parse_time: Callable[[str], int], where: str = "the CSV") -> list[BatchRow]:
    """Rows of a CSV with a ``holder`` column, optional ``valid_from``/``valid_until`` columns, and
    every other column a licence field (empty cells are left out). ``lines``: a file or a list of lines."""
    try:
        reader = csv.DictReader(_without_bom(lines))
        if not reader.fieldnames or "holder" not in reader.fieldnames:
            raise InvalidInput(f"{where} needs a header row with a 'holder' column")
        rows = []
        for number, record in enumerate(reader, 1):
            if None in record:
                raise InvalidInput(f"{where} row {number}: more cells than header columns")
            try:
                holder = types.address((record.get("holder") or "").strip(), "holder address")
                start = record.get("valid_from") or None
                end = record.get("valid_until") or None
                fields = {k: v for k, v in record.items()
                          if k not in ("holder", "valid_from", "valid_until") and v not in (None, "")}
                for name in fields:
                    if not 0 < len(name) <= 64:
                        raise InvalidInput(f"the column name {name[:40]!r} is not a field name (1 to 64 characters)")
                canonical(fields)  # text UTF-8 can encode (no lone surrogate)
                rows.append(BatchRow(holder, fields, parse_time(start) if start else None,
                                     parse_time(end) if end else types.FOREVER))
            except InvalidInput as exc:
                raise InvalidInput(f"{where} row {number}: {exc.user_message}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{where} is not a UTF-8 CSV file: {exc}") from None
    if not rows:
        raise InvalidInput(f"{where} has no licence rows")
    return rows


def _without_bom(lines):
    """The lines, the first without the byte-order mark spreadsheets put before the header."""
    lines = iter(lines)
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from lines


@dataclass
class Progress:
    """The write-ahead record of a CSV issuance, next to the CSV."""

    path: Path
    data: dict

    @classmethod
    def open(cls, csv_path: Path, digest: str, cert_type: int, agency: str, chunk: int, registry: str) -> "Progress":
        path = csv_path.with_name(csv_path.name + ".progress.json")
        fresh = {"csv_sha256": digest, "cert_type": cert_type, "agency": agency, "chunk": chunk, "registry": registry,
                 "chunks": {}}
        if path.exists():
            try:
                data = json.loads(path.read_text())
                data["chunks"]
            except (OSError, ValueError, KeyError, TypeError):
                raise Conflict(f"{path} is damaged; nothing in it can be trusted: check the batches on chain for this "
                               f"CSV before deleting it and issuing again") from None
            same = {k: data.get(k) for k in ("csv_sha256", "cert_type", "agency", "chunk", "registry")}
            if same != {k: fresh[k] for k in same}:
                raise Conflict(f"{path} records an interrupted run with other settings or another version of the CSV; "
                               f"finish it with the same file and options, or delete {path.name} to start over")
            return cls(path, data)
        return cls(path, fresh)

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.replace(self.path)  # atomic: the record is either the old or the new one

    def chunk(self, index: int) -> dict | None:
        return self.data["chunks"].get(str(index))

    def mark(self, index: int, **values) -> None:
        self.data["chunks"].setdefault(str(index), {}).update(values)
        self.save()


@dataclass(frozen=True)
class CsvResult:
    rows: int
    batches: int
    issued_now: int
    resumed: int
    gas_used: int
    progress_file: str
    roots: list[str]


def issue_csv(client, path: Path | str, cert_type, org_code: str, chunk: int = DEFAULT_CHUNK,
              progress: Callable[[int], None] | None = None, stop_after: int | None = None) -> CsvResult:
    """Issues every row of ``path`` in batches of ``chunk``; resumable (see the module docstring).
    ``stop_after`` stops after that many batches were sent (used to test interruption)."""
    path = Path(path)
    if chunk < 1:
        raise InvalidInput("the batch size must be at least 1")
    rows = read_csv(path, types.parse_time)
    registry = client.licences(cert_type)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    record = Progress.open(path, digest, registry.cert_type, org_code, chunk, registry.address)
    issued_now = resumed = gas = sent = 0
    pending = [i for i in range(0, len(rows), chunk) if (record.chunk(i // chunk) or {}).get("status") != "issued"]
    if not pending:
        if progress:
            progress(len(rows))
        return CsvResult(len(rows), -(-len(rows) // chunk), 0, 0, 0, str(record.path), _roots(record))
    client.check_batch_issuer(registry, org_code)
    keys = client.holder_keys()
    now = registry.chain.timestamp()
    check_rows(rows, keys, now)
    if progress:
        progress(len(rows) - sum(min(chunk, len(rows) - i) for i in pending))
    for start in pending:
        index = start // chunk
        part = rows[start:start + chunk]
        state = record.chunk(index)
        if state and state.get("status") == "built":
            root = bytes.fromhex(state["root"][2:])
            bundle_hash = bytes.fromhex(state["bundle"][2:])
            if registry.batch(org_code, root) is not None:  # the transaction landed before the interruption
                record.mark(index, status="issued")
                resumed += len(part)
                if progress:
                    progress(len(part))
                continue
        else:
            root, bundle_hash = store_bundle(client.store, registry, org_code, part, keys, now)
            record.mark(index, rows=[start, start + len(part)], root="0x" + root.hex(), bundle="0x" + bundle_hash.hex(),
                        status="built")
        tx = registry.issue_batch(client._signer(), root, len(part), bundle_hash)
        record.mark(index, status="issued", tx=tx.tx_hash, block=tx.block_number, gas=tx.gas_used)
        issued_now += len(part)
        gas += tx.gas_used
        sent += 1
        if progress:
            progress(len(part))
        if stop_after is not None and sent >= stop_after:
            break
    return CsvResult(len(rows), -(-len(rows) // chunk), issued_now, resumed, gas, str(record.path), _roots(record))


def _roots(record: Progress) -> list[str]:
    return [c["root"] for _, c in sorted(record.data["chunks"].items(), key=lambda kv: int(kv[0])) if "root" in c]


def require_bundle(store, bundle_hash: bytes) -> Bundle:
    try:
        return Bundle.from_bytes(store.get(bundle_hash))
    except NotFound:
        raise NotFound(f"the batch bundle 0x{bundle_hash.hex()} is not in the store at {store.root}; "
                       f"fetch it from the issuing agency") from None


# ------------------------------------------------------------------ sealed rows (built in the agency's browser)

@dataclass(frozen=True)
class SealedRow:
    """A batch licence built and encrypted to its holder elsewhere (the agency's browser): its leaf
    and ciphertext, no field value."""

    holder: str
    data_hash: bytes
    valid_from: int
    valid_until: int
    ciphertext: bytes


def store_sealed_bundle(store, registry, org_code: str, rows: list[SealedRow]) -> tuple[bytes, bytes]:
    """:func:`store_bundle` for rows sealed elsewhere: the same tree and bundle, from their leaves."""
    leaves = [(r.holder, r.data_hash, r.valid_from, r.valid_until, keccak(r.ciphertext)) for r in rows]
    bundle = Bundle(registry.chain.chain_id, registry.address, registry.cert_type, org_code,
                    StandardMerkleTree(leaves, BATCH_LEAF), [r.ciphertext for r in rows])
    return bundle.root, store.put(bundle.to_bytes())
