"""The client layer: the five e-licence APIs of seed 002 and the agency operations around them.

The CLI, the Brownie scripts, the tests and (later) the REST API all call these methods; nothing
above this layer talks to a contract directly.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields as dataclass_fields
from pathlib import Path

from eth_account.signers.local import LocalAccount

from . import crypto, types
from .chain import Chain, TxResult
from .deployments import Deployment
from .errors import Conflict, ElicenseError, InvalidInput, NodeUnreachable, NotAllowed, NotDeployed, NotFound
from .licence import LicenceDocument
from .registries.issuers import CIVIL_REGISTRY
from .registries import AnchorRegistry, IdentityRegistry, IssuedBatch, IssuedLicence, IssuerRegistry, LicenceRegistry, RegistryMirror
from .batch import batch_args
from .store import DocumentStore
from .storage import Storage
from .topology import Topology
from .wallet import Wallet

# Ether sent to a new account so it can pay for its own registration (local and test chains).
REGISTRATION_FUNDING = 10**16


@dataclass(frozen=True)
class RegisteredUser:
    name: str
    address: str
    role: str
    public_key: str
    private_key: str | None  # returned once when no keystore password was given
    keystore: str | None  # path of the encrypted keystore
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class QueriedLicence:
    """What query e-licence returns: the issuer's code and the data only the holder can decrypt."""

    agency: str
    cert_type: int
    licence_id: str
    holder: str
    ciphertext: bytes
    data_hash: str
    valid_from: int
    valid_until: int
    previous: str | None
    status: str
    tx_hash: str
    block_number: int
    batch: dict | None = None  # a batched licence: {"agency", "root", "leaf", "proof"}, what checkBatched needs

    def decrypt(self, private_key) -> LicenceDocument:
        document = LicenceDocument.from_bytes(crypto.decrypt(private_key, self.ciphertext))
        if "0x" + document.data_hash.hex() != self.data_hash:
            raise ElicenseError("the decrypted licence does not match the hash issued on chain")
        if document.agency != self.agency:  # another agency re-issued someone else's document as its own
            raise ElicenseError(f"the decrypted licence names agency {document.agency}, but {self.agency} issued it "
                                f"on chain: a copy, not a licence of {document.agency}")
        return document


@dataclass(frozen=True)
class AttachedLicence(IssuedLicence):
    """An issued (or renewed) licence with attachments: ``attachments`` maps each file name to its
    reference (:mod:`elicense.attachments`), which the agency keeps to read the file back later."""

    attachments: dict = field(default_factory=dict)


def _with_references(issued: IssuedLicence, refs: dict) -> IssuedLicence:
    if not refs:
        return issued
    values = {f.name: getattr(issued, f.name) for f in dataclass_fields(issued)}
    return AttachedLicence(**values, attachments={ref["name"]: ref for ref in refs.values()})


ECIES_OVERHEAD = 65 + 16 + 16  # ephemeral key, nonce, tag (crypto.encrypt): a shorter ciphertext is no licence


def _sealed(data_hash, ciphertext, valid_from, valid_until) -> tuple[bytes, bytes]:
    """Checks what a sealed issuance carries: a non-zero commitment, an ECIES-sized ciphertext, a validity."""
    data_hash = types.bytes32(data_hash, "data hash")
    if not any(data_hash):
        raise InvalidInput("the data hash is zero: it commits to nothing")
    if not isinstance(ciphertext, (bytes, bytearray)) or len(ciphertext) <= ECIES_OVERHEAD:
        raise InvalidInput(f"the ciphertext must be an ECIES ciphertext to the holder's key (more than "
                           f"{ECIES_OVERHEAD} bytes), got {len(ciphertext) if isinstance(ciphertext, (bytes, bytearray)) else ciphertext!r}")
    for name, value in (("valid-from", valid_from), ("valid-until", valid_until)):
        if not isinstance(value, int) or not 0 <= value <= types.FOREVER:
            raise InvalidInput(f"{name} must be a unix time between 0 and {types.FOREVER}, got {value!r}")
    return data_hash, bytes(ciphertext)


def _batch_ref(agency: str, root: str, entry) -> dict:
    """What a presentation of a batched licence carries, and checkBatched takes: the batch (its agency and
    root), the leaf and its proof (hex)."""
    return {"agency": agency, "root": root,
            "leaf": [entry.holder, "0x" + entry.data_hash.hex(), entry.valid_from, entry.valid_until,
                     "0x" + entry.ciphertext_hash.hex()],
            "proof": ["0x" + p.hex() for p in entry.proof]}


class Client:
    """A topology (one chain, or a main chain with side chains), an optional signing account and a
    local wallet. ``chain`` is the main chain: identities and issuers live there."""

    def __init__(self, chain: Chain | None = None, *, sender: LocalAccount | None = None,
                 deployment: Deployment | None = None, deployments_dir: Path | None = None,
                 wallet: Wallet | None = None, topology: Topology | None = None, anchor_timeout: float = 60.0,
                 store: DocumentStore | None = None, storage: Storage | None = None):
        if topology is not None:
            chain = topology.chain(topology.main)
            deployment = topology.entry(topology.main).deployment
        self.chain = chain
        self.sender = sender
        self.deployments_dir = deployments_dir
        self.wallet = wallet or Wallet()
        self._deployment = deployment
        self._topology = topology
        self.anchor_timeout = anchor_timeout  # how long to wait for the relayer to carry a fact over
        self.store = store or DocumentStore()
        self._storage = storage  # off-chain files (attachments); opened on first use, see `storage`
        self._cache: dict = {}  # main-chain log view and parsed bundles: they never change
        self.prover: LocalAccount | None = None  # pays for permissionless mirror proofs [the sender]

    @classmethod
    def connect(cls, url: str = "http://127.0.0.1:8545", *, sender: LocalAccount | None = None, **kwargs) -> "Client":
        return cls(Chain(url), sender=sender, **kwargs)

    @classmethod
    def from_topology(cls, topology: Topology | str | Path, *, sender: LocalAccount | None = None, **kwargs) -> "Client":
        if not isinstance(topology, Topology):
            topology = Topology.load(topology)
        return cls(sender=sender, topology=topology, **kwargs)

    @property
    def topology(self) -> Topology:
        """The chains in use; a single-chain deployment is the one-chain topology."""
        if self._topology is None:
            self._topology = Topology.single(self.chain.url, self.chain.chain_id, self.deployment)
            self._topology.adopt(self._topology.main, self.chain)
        return self._topology

    @property
    def storage(self) -> Storage:
        """Where attachments go: the one given, else :func:`elicense.storage.open_store` (opened on first use)."""
        if self._storage is None:
            from .storage import open_store

            self._storage = open_store()
        return self._storage

    # ----------------------------------------------------------------- deployment

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            self._deployment = Deployment.load(self.chain, self.deployments_dir)
        return self._deployment

    @property
    def identities(self) -> IdentityRegistry:
        return IdentityRegistry(self.chain, self.deployment.identity_registry)

    @property
    def issuers(self) -> IssuerRegistry:
        return IssuerRegistry(self.chain, self.deployment.issuer_registry)

    def licences(self, cert_type) -> LicenceRegistry:
        number = types.cert_type(cert_type)
        topology = self.topology
        name = topology.chain_of_type(number)
        address = topology.deployment(name).licence_registries.get(number) if name else None
        if address is None:
            where = "in this topology" if topology.is_split else f"on chain {self.chain.chain_id}"
            raise NotDeployed(f"no {types.CERT_TYPE_NAMES[number]} registry is deployed {where}")
        return LicenceRegistry(topology.chain(name), address, number)

    def agency_name(self, code: str) -> str | None:
        """An agency's registered name (names never change once registered: kept after the first read)."""
        names = self._cache.setdefault("agency-names", {})
        if code not in names:
            found = self.issuers.agency(code)
            if found is None:
                return None
            names[code] = found.name
        return names[code]

    def registries(self) -> list[LicenceRegistry]:
        """Every licence registry of the topology, by certificate type."""
        topology = self.topology
        found = []
        for name, entry in topology.chains.items():
            if entry.deployment is not None:
                for number, address in entry.deployment.licence_registries.items():
                    found.append(LicenceRegistry(topology.chain(name), address, number))
        return sorted(found, key=lambda r: r.cert_type)

    def registry_at(self, chain_id: int, address: str) -> LicenceRegistry | None:
        return next((r for r in self.registries() if r.chain.chain_id == chain_id and r.address == address), None)

    def chain_name(self, chain: Chain) -> str:
        return self.topology.name_of_chain_id(chain.chain_id)

    def from_block(self, registry: LicenceRegistry) -> int:
        return self.topology.deployment(self.chain_name(registry.chain)).block

    def on_main_chain(self, registry: LicenceRegistry) -> bool:
        return registry.chain.chain_id == self.chain.chain_id

    def deploy_all(self, cert_types=None, authorities: list[str] | None = None, save: bool = True) -> Deployment:
        """Single-chain topology: the identity and issuer registries and one licence registry per
        certificate type, all on this chain."""
        from .deploy import deploy_main

        self._deployment = deploy_main(self.chain, self._signer(), authorities, cert_types or types.CERT_TYPES.values(),
                                       anchor=False)
        self._topology = None
        if save:
            self._deployment.save(self.deployments_dir)
        return self._deployment

    # ----------------------------------------------------------------- API 1: register user

    def register_user(self, name: str, role: str, *, password: str | None = None, account: LocalAccount | None = None,
                      commitment: bytes = b"\0" * 32, fund: bool = True) -> RegisteredUser:
        """Creates a key pair (unless given), funds it for gas, registers it with its public key.

        With a password the private key is stored in the wallet as an encrypted keystore and not
        returned; without one it is returned once and never stored."""
        role_number = types.role(role)
        account = account or crypto.new_account()
        if self.identities.role(account.address) != "none":
            raise Conflict(f"{account.address} is already registered")
        if password:
            self.wallet.check_free(name)  # refuse a taken name before anything happens on chain
        if fund and self.sender is not None:
            self.fund(account.address)
        public = crypto.public_key(account)
        tx = self.identities.register(account, role_number, public, commitment)
        # Stored only once registered, so a refused registration leaves no orphan keystore behind.
        keystore = str(self.wallet.save(name, account, password)) if password else None
        return RegisteredUser(
            name, account.address, role.lower(), "0x" + public.hex(), None if password else "0x" + account.key.hex(),
            keystore, tx.tx_hash, tx.block_number,
        )

    def fund(self, address: str, amount: int = REGISTRATION_FUNDING) -> None:
        """Sends gas money to ``address`` on every chain of the topology where it has too little
        (local and test chains; on a real network accounts are funded by their owners)."""
        topology = self.topology
        for name in topology.chains:
            chain = topology.chain(name)
            if chain.balance(address) < amount // 2 and chain.balance(self._signer().address) > 2 * amount:
                chain.transfer(self._signer(), address, amount)

    # ----------------------------------------------------------------- API 2: send certification

    def send_certification(self, holder: str, org_code: str, cert_type, fields: dict, *, valid_from: int | None = None,
                           valid_until: int = types.FOREVER,
                           attachments: list[tuple[str, bytes, str]] | None = None) -> IssuedLicence:
        """Issues a licence: the data is encrypted to the holder's registered key; the chain keeps its hash.

        ``attachments`` (file name, bytes, media type) are sealed for the holder and the signer, put in
        :attr:`storage` and referenced by fields ``attachment:<name>`` (:mod:`elicense.attachments`);
        the result is then an :class:`AttachedLicence` carrying the references."""
        holder = types.address(holder, "holder address")
        registry = self.licences(cert_type)
        self._check_agency(org_code)
        with self._attached(holder, fields, attachments) as (fields, refs):
            document, ciphertext, valid_from = self._prepare(registry, holder, org_code, fields, valid_from,
                                                             valid_until)
            self.ensure_mirrored(registry, identities=[(holder, "holder")], accredited=self._signer().address)
            issued = registry.issue(self._signer(), holder, document.data_hash, valid_from, valid_until, ciphertext)
        return _with_references(issued, refs)

    def renew(self, cert_type, previous_id: str, fields: dict, *, valid_from: int | None = None,
              valid_until: int = types.FOREVER,
              attachments: list[tuple[str, bytes, str]] | None = None) -> IssuedLicence:
        """Issues the successor of ``previous_id`` to the same holder; ``attachments`` as in
        :meth:`send_certification` (to keep the old licence's files, pass its ``attachment:`` fields on)."""
        registry = self.licences(cert_type)
        self._claim_if_batched(cert_type, previous_id)  # a renewal marks the old licence: it must be stored
        info = self._licence_info(registry, previous_id)
        with self._attached(info.holder, fields, attachments) as (fields, refs):
            document, ciphertext, valid_from = self._prepare(registry, info.holder, info.agency, fields, valid_from,
                                                             valid_until)
            self.ensure_mirrored(registry, accredited=self._signer().address)
            issued = registry.renew(self._signer(), types.bytes32(previous_id, "licence id"), document.data_hash,
                                    valid_from, valid_until, ciphertext)
        return _with_references(issued, refs)

    def issue_sealed(self, holder: str, org_code: str, cert_type, data_hash, ciphertext: bytes, valid_from: int,
                     valid_until: int = types.FOREVER) -> IssuedLicence:
        """Issues a licence whose document was built and encrypted to the holder elsewhere (the agency's
        own browser): only its commitment and ciphertext pass through here, never a field value."""
        holder = types.address(holder, "holder address")
        data_hash, ciphertext = _sealed(data_hash, ciphertext, valid_from, valid_until)
        registry = self.licences(cert_type)
        self._check_agency(org_code)
        self.ensure_mirrored(registry, identities=[(holder, "holder")], accredited=self._signer().address)
        return registry.issue(self._signer(), holder, data_hash, valid_from, valid_until, ciphertext)

    def renew_sealed(self, cert_type, previous_id: str, data_hash, ciphertext: bytes, valid_from: int,
                     valid_until: int = types.FOREVER) -> IssuedLicence:
        """:meth:`renew` with a document built and encrypted elsewhere, as :meth:`issue_sealed`."""
        registry = self.licences(cert_type)
        data_hash, ciphertext = _sealed(data_hash, ciphertext, valid_from, valid_until)
        self._claim_if_batched(cert_type, previous_id)
        self._licence_info(registry, previous_id)
        self.ensure_mirrored(registry, accredited=self._signer().address)
        return registry.renew(self._signer(), types.bytes32(previous_id, "licence id"), data_hash, valid_from,
                              valid_until, ciphertext)

    def seal_attachments(self, holder: str, attachments, fields: dict | None = None) -> dict[str, dict]:
        """Seals each (file name, bytes, media type) for ``holder`` (its registered key) and the signer,
        stores it in :attr:`storage`; returns the licence fields to add, {``attachment:<name>``: reference}.
        Everything is checked before anything is stored (against ``fields`` too: no name twice)."""
        from . import attachments as att

        items = [tuple(item) for item in attachments or ()]
        if any(len(item) != 3 for item in items):
            raise InvalidInput("each attachment is (file name, bytes, media type)")
        att.check_fields(fields if isinstance(fields, dict) else {}, [name for name, _, _ in items])
        for name, data, media_type in items:
            att.check_media_type(media_type)
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise InvalidInput(f"the attachment {name!r} must be bytes, not {type(data).__name__}")
            att.check_size(name, len(data))
        if not items:
            return {}
        signer = self._signer()
        readers = {types.address(holder, "holder address"): self.query_public_key(holder),
                   signer.address: crypto.public_key(signer)}
        refs: dict[str, dict] = {}
        try:
            for name, data, media_type in items:
                refs[att.field_name(name)] = att.attach(self.storage, data, name, media_type, readers)
        except BaseException:
            self.discard_attachments(refs)
            raise
        return refs

    def discard_attachments(self, refs: dict) -> None:
        """Removes the stored files of ``refs`` (references, or fields holding them), best effort: for
        attachments whose licence was never issued."""
        for ref in refs.values():
            try:
                self.storage.remove(ref["cid"])
            except (ElicenseError, KeyError, TypeError):
                pass

    @contextmanager
    def _attached(self, holder: str, fields, attachments):
        """(fields with the attachments' references, the references). When the block is refused (the
        licence was not issued) the stored files are removed again; when its outcome is unknown (the
        node stopped answering, an interrupt: the transaction may still be mined) they are kept."""
        refs = self.seal_attachments(holder, attachments, fields)
        try:
            yield ({**fields, **refs} if refs and isinstance(fields, dict) else fields), refs
        except ElicenseError as exc:
            if not isinstance(exc, NodeUnreachable):
                self.discard_attachments(refs)
            raise

    def issue_batch(self, cert_type, org_code: str, rows) -> IssuedBatch:
        """Issues many licences in one transaction under one Merkle root; the bundle (tree and
        ciphertexts) goes to the document store. ``rows``: :class:`elicense.batch.BatchRow`s."""
        from .batch import check_rows, store_bundle

        registry = self.licences(cert_type)
        rows = list(rows)
        if not rows:
            raise InvalidInput("a batch needs at least one licence")
        self.check_batch_issuer(registry, org_code)
        keys = self.holder_keys()
        now = registry.chain.timestamp()
        check_rows(rows, keys, now)
        root, bundle_hash = store_bundle(self.store, registry, org_code, rows, keys, now)
        return registry.issue_batch(self._signer(), root, len(rows), bundle_hash)

    def issue_batch_sealed(self, cert_type, org_code: str, rows) -> IssuedBatch:
        """:meth:`issue_batch` for licences built and encrypted elsewhere (the agency's browser):
        ``rows`` are :class:`elicense.batch.SealedRow`s, leaves and ciphertexts without a field value."""
        from .batch import SealedRow, store_sealed_bundle

        registry = self.licences(cert_type)
        rows = list(rows)
        if not rows:
            raise InvalidInput("a batch needs at least one licence")
        self.check_batch_issuer(registry, org_code)
        keys, now, problems, seen = self.holder_keys(), registry.chain.timestamp(), [], set()
        checked = []
        for number, row in enumerate(rows, 1):
            try:
                data_hash, ciphertext = _sealed(row.data_hash, row.ciphertext, row.valid_from, row.valid_until)
            except InvalidInput as exc:
                problems.append(f"row {number}: {exc.user_message}")
                continue
            holder = types.address(row.holder, "holder address")
            if holder not in keys:
                problems.append(f"row {number}: {holder} is not a registered holder")
            if row.valid_until <= row.valid_from or row.valid_until <= now:
                problems.append(f"row {number}: valid-until must be after valid-from and in the future")
            if data_hash in seen:
                problems.append(f"row {number}: the same data hash as an earlier row")
            seen.add(data_hash)
            checked.append(SealedRow(holder, data_hash, row.valid_from, row.valid_until, ciphertext))
        if problems:
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            raise InvalidInput("; ".join(problems[:10]) + more)
        root, bundle_hash = store_sealed_bundle(self.store, registry, org_code, checked)
        return registry.issue_batch(self._signer(), root, len(checked), bundle_hash)

    def check_batch_issuer(self, registry: LicenceRegistry, org_code: str) -> None:
        """Refuses before anything is built or stored: a batch of a non-accredited agency would only
        leave an orphan bundle behind when the contract refuses it."""
        self._check_agency(org_code)
        if not self.issuers.is_accredited(org_code, registry.cert_type):
            raise NotAllowed(f"agency {org_code} is not accredited for {types.CERT_TYPE_NAMES[registry.cert_type]} "
                             f"(suspended, here or above it, or never for this type)")
        self.ensure_mirrored(registry, accredited=self._signer().address)

    def holder_keys(self) -> dict[str, bytes]:
        """Every registered holder's public key, read from the identity registry's logs at once."""
        return self.identities.registered(self.deployment.block, role=types.ROLES["holder"])

    def claim(self, licence: "QueriedLicence") -> TxResult | None:
        """Writes a batched licence to storage on its own (needed before a status change applies to
        it alone); nothing to do for a licence already there."""
        registry = self.licences(licence.cert_type)
        if licence.batch is None or registry.licence(types.bytes32(licence.licence_id)) is not None:
            return None
        holder = licence.holder
        self.ensure_mirrored(registry, identities=[(holder, "holder")])
        return registry.claim(self._signer(), *batch_args(licence.batch))

    def _prepare(self, registry, holder, org_code, fields, valid_from, valid_until):
        if valid_from is None:
            valid_from = registry.chain.timestamp()
        for name, value in (("valid-from", valid_from), ("valid-until", valid_until)):
            if not isinstance(value, int) or not 0 <= value <= types.FOREVER:
                raise InvalidInput(f"{name} must be a unix time between 0 and {types.FOREVER}, got {value!r}")
        public = self.query_public_key(holder)
        document = LicenceDocument.new(registry.cert_type, org_code, holder, fields, valid_from, valid_until)
        return document, crypto.encrypt(public, document.to_bytes()), valid_from

    def _check_agency(self, org_code: str) -> None:
        if self.issuers.agency(org_code) is None:
            raise NotFound(f"no agency has organisation code {org_code!r}")
        mine = self.issuers.agency_of_signer(self._signer().address)
        if mine != org_code:
            also = f" (it signs for {mine})" if mine else ""
            raise NotAllowed(f"{self._signer().address} is not a signing account of {org_code}{also}")

    def suspend(self, cert_type, licence_id: str, reason: int = 0) -> TxResult:
        self._claim_if_batched(cert_type, licence_id)
        return self.licences(cert_type).suspend(self._signer(), types.bytes32(licence_id, "licence id"), reason)

    def reinstate(self, cert_type, licence_id: str) -> TxResult:
        self.ensure_mirrored(self.licences(cert_type), accredited=self._signer().address)
        return self.licences(cert_type).reinstate(self._signer(), types.bytes32(licence_id, "licence id"))

    def revoke(self, cert_type, licence_id: str, reason: int = 0) -> TxResult:
        self._claim_if_batched(cert_type, licence_id)
        return self.licences(cert_type).revoke(self._signer(), types.bytes32(licence_id, "licence id"), reason)

    def _claim_if_batched(self, cert_type, licence_id: str) -> None:
        registry = self.licences(cert_type)
        wanted = types.bytes32(licence_id, "licence id")
        if registry.licence(wanted) is not None:
            return
        for issued, bundle in self._bundles(registry):
            for index, value in enumerate(bundle.tree.values()):
                if registry.licence_id_of(issued.agency, value[1]) == wanted:
                    self.claim(self._batched(registry, issued, bundle.entry(index)))
                    return
        # not batched either: the contract's own refusal (unknown licence) follows

    def close_record(self, cert_type, holder: str, reason: str, evidence: bytes = b"\0" * 32) -> TxResult:
        if reason not in types.CLOSE_REASONS:
            raise InvalidInput(f"unknown reason {reason!r}; use one of {', '.join(types.CLOSE_REASONS)}")
        self.ensure_mirrored(self.licences(cert_type), identities=[(holder, "holder")], accredited=self._signer().address,
                             capability=CIVIL_REGISTRY)
        return self.licences(cert_type).close_record(
            self._signer(), types.address(holder, "holder address"), types.CLOSE_REASONS[reason], evidence
        )

    def authorise_inspector(self, cert_type, inspector: str) -> TxResult:
        """The signer's agency authorises ``inspector`` (a registered inspector identity) to record
        inspections in the registry of ``cert_type``, and answers for it there."""
        inspector = types.address(inspector, "inspector address")
        registry = self.licences(cert_type)
        self.ensure_mirrored(registry, identities=[(inspector, "inspector")], accredited=self._signer().address)
        return registry.authorise_inspector(self._signer(), inspector)

    def deauthorise_inspector(self, cert_type, inspector: str) -> TxResult:
        """Withdraws an inspector the signer's agency authorised in the registry of ``cert_type``."""
        return self.licences(cert_type).deauthorise_inspector(self._signer(), types.address(inspector, "inspector address"))

    # ----------------------------------------------------------------- API 3: check

    def check(self, holder: str | None, org_code: str | None, presentation, *, record: bool = True):
        """Verifies a presented licence (QR text, JSON or object) step by step and records the
        inspection on chain. ``holder`` and ``org_code`` are what the inspector expects; None
        accepts whoever signed it and whichever agency issued it (both are shown in the verdict)."""
        from .verify import verify

        return verify(self, presentation, holder=holder, org_code=org_code, record=record)

    # ----------------------------------------------------------------- API 4: query public key

    def query_public_key(self, address: str) -> bytes:
        return self.identities.public_key(types.address(address))

    # ----------------------------------------------------------------- API 5: query e-licence

    def query_licence(self, holder: str, block_number: int, tx_hash: str) -> QueriedLicence:
        """The licence issued to ``holder`` by transaction ``tx_hash`` in block ``block_number``."""
        holder = types.address(holder, "holder address")
        tx_hash = "0x" + types.bytes32(tx_hash, "transaction hash").hex()
        receipts = {}
        for registry in self.registries():  # the transaction is on the chain of its registry
            chain = registry.chain
            if chain.chain_id not in receipts:
                try:
                    receipts[chain.chain_id] = chain.w3.eth.get_transaction_receipt(tx_hash)
                except Exception:
                    receipts[chain.chain_id] = None
            receipt = receipts[chain.chain_id]
            if receipt is None:
                continue
            if receipt["blockNumber"] != block_number:
                raise NotFound(f"transaction {tx_hash} is in block {receipt['blockNumber']}, not {block_number}")
            tx = TxResult(tx_hash, receipt["blockNumber"], receipt["gasUsed"], tuple(receipt["logs"]))
            for event in registry.events(tx, "LicenseIssued"):
                issued = registry.issued_from_event(event)
                if issued.holder == holder:
                    return self._queried(registry, issued)
            for event in registry.events(tx, "LicenseBatchIssued"):
                issued = registry.batch_from_event(event)
                entries = self.bundle(issued.bundle_hash).entries_for(holder)
                if entries:
                    return self._batched(registry, issued, entries[0])
        if not any(receipts.values()):
            ids = sorted(receipts)
            where = f"chain {ids[0]}" if len(ids) == 1 else "chains " + ", ".join(map(str, ids))
            raise NotFound(f"no transaction {tx_hash} on {where}")
        raise NotFound(f"transaction {tx_hash} issued no licence to {holder}")

    def licences_of(self, holder: str) -> list[QueriedLicence]:
        """Every licence ever issued to ``holder``, over all certificate types, with current status."""
        holder = types.address(holder, "holder address")
        found = []
        for registry in self.registries():
            found += [self._queried(registry, issued) for issued in registry.issued_to(holder, self.from_block(registry))]
            for issued, bundle in self._bundles(registry):
                found += [self._batched(registry, issued, entry) for entry in bundle.entries_for(holder)]
        return found

    def issued_by(self, org_code: str) -> list[QueriedLicence]:
        """Every licence an agency issued (single and batched, when the store has the bundle), with status."""
        found = []
        for registry in self.registries():
            singles, batches = registry.issued_by(org_code, self.from_block(registry))
            found += [self._queried(registry, issued) for issued in singles]
            for issued, bundle in self._stored(batches):
                found += [self._batched(registry, issued, bundle.entry(i)) for i in range(len(bundle.tree))]
        return sorted(found, key=lambda q: q.block_number, reverse=True)

    def bundle(self, bundle_hash: bytes):
        """A batch's parsed bundle from the store, parsed once (it is content-addressed)."""
        from .batch import require_bundle

        key = (str(self.store.root), bytes(bundle_hash))  # clients sharing a cache may read different stores
        cache = self._cache.setdefault("bundles", {})
        if key not in cache:
            cache[key] = require_bundle(self.store, bundle_hash)
        return cache[key]

    def _stored(self, batches):
        """(batch, bundle) for each of ``batches`` whose bundle the store holds and names the batch's own
        agency: another agency's copy of a batch root (with the original's bundle) is left out."""
        for issued in batches:
            if self.store.has(issued.bundle_hash):
                bundle = self.bundle(issued.bundle_hash)
                if bundle.agency == issued.agency:
                    yield issued, bundle

    def _bundles(self, registry: LicenceRegistry):
        return self._stored(registry.batches(self.from_block(registry)))

    def batch_entry(self, registry: LicenceRegistry, agency: str, root: str, data_hash: bytes) -> dict | None:
        """A batched licence's {"agency", "root", "leaf", "proof"} by its data hash, from the bundle of the
        batch ``agency`` issued under ``root``; None if there is no such batch or the leaf is not in it."""
        root = types.bytes32(root, "batch root")
        hashes = self._cache.setdefault("batch-roots", {})  # (registry, agency, root) -> bundle hash; never change
        key = (registry.chain.chain_id, registry.address, agency, root)
        if key not in hashes:
            info = registry.batch(agency, root)
            if info is None:
                return None
            logs = registry.contract.events.LicenseBatchIssued().get_logs(
                argument_filters={"root": root, "agency": types.org_code(agency)}, from_block=info.issued_block,
                to_block=info.issued_block)
            hashes[key] = registry.batch_from_event(logs[0]).bundle_hash
        if not self.store.has(hashes[key]):
            return None
        bundle = self.bundle(hashes[key])
        entry = bundle.entry_for_data(data_hash) if bundle.agency == agency else None
        return None if entry is None else _batch_ref(agency, "0x" + root.hex(), entry)

    def _batched(self, registry: LicenceRegistry, issued, entry) -> QueriedLicence:
        licence_id = "0x" + registry.licence_id_of(issued.agency, entry.data_hash).hex()
        info = registry.licence(types.bytes32(licence_id))
        status = info.status if info else registry.unclaimed_status(entry.holder, entry.valid_from, entry.valid_until)
        batch = _batch_ref(issued.agency, issued.root, entry)
        return QueriedLicence(
            issued.agency, registry.cert_type, licence_id, entry.holder, entry.ciphertext, "0x" + entry.data_hash.hex(),
            entry.valid_from, entry.valid_until, None, status, issued.tx_hash, issued.block_number, batch,
        )

    def _queried(self, registry: LicenceRegistry, issued: IssuedLicence) -> QueriedLicence:
        info = registry.licence(types.bytes32(issued.licence_id))
        return QueriedLicence(
            issued.agency, registry.cert_type, issued.licence_id, issued.holder, issued.ciphertext, issued.data_hash,
            issued.valid_from, issued.valid_until, issued.previous, info.status, issued.tx_hash, issued.block_number,
        )

    def _licence_info(self, registry: LicenceRegistry, licence_id: str):
        info = registry.licence(types.bytes32(licence_id, "licence id"))
        if info is None:
            raise NotFound(f"no licence {licence_id} in the {types.CERT_TYPE_NAMES[registry.cert_type]} registry")
        return info

    def find_issuance(self, registry: LicenceRegistry, licence_id: str, block: int | None = None) -> IssuedLicence:
        """The issuance event of a licence; ``block`` (from a QR code) saves searching the whole chain."""
        window = {"from_block": block, "to_block": block} if block is not None else {"from_block": self.from_block(registry)}
        logs = registry.contract.events.LicenseIssued().get_logs(
            argument_filters={"licenceId": types.bytes32(licence_id)}, **window
        )
        if not logs:
            raise NotFound(f"no issuance of licence {licence_id} in the {types.CERT_TYPE_NAMES[registry.cert_type]} registry")
        return registry.issued_from_event(logs[0])

    # ----------------------------------------------------------------- holder side

    def present(self, holder_account: LocalAccount, licence: QueriedLicence, fields: list[str] | None = None,
                ttl: int | None = None):
        """Decrypts the holder's licence and signs a fresh presentation of the chosen fields."""
        from . import presentation

        document = licence.decrypt(holder_account.key)
        registry = self.licences(licence.cert_type)
        now = registry.chain.timestamp()
        return presentation.create(
            registry, holder_account, licence.licence_id, licence.agency, document, fields,
            ttl or presentation.DEFAULT_TTL, now=max(now, int(time.time())), batch=licence.batch,
        )

    def present_qr(self, holder_account: LocalAccount, licence: QueriedLicence, fields: list[str] | None = None,
                   ttl: int | None = None) -> str:
        """The same presentation as the compact text a wallet shows as a QR code."""
        from . import qr

        return qr.encode(self.present(holder_account, licence, fields, ttl), issued_block=licence.block_number)

    def inspections(self, holder: str, *, offset: int = 0, limit: int | None = None):
        """The holder's inspection log over every registry, newest first, hash chains verified
        (:func:`elicense.inspections.inspection_log`)."""
        from .inspections import inspection_log

        return inspection_log(self, holder, offset=offset, limit=limit)

    def attachments_of(self, licence: QueriedLicence, private_key) -> dict[str, dict]:
        """The holder's view of a licence's attachments: {file name: reference}, from the decrypted licence."""
        from . import attachments as att

        return att.references(licence.decrypt(getattr(private_key, "key", private_key)).fields)

    def attachment(self, licence: QueriedLicence, name: str, private_key) -> bytes:
        """Holder: attachment ``name`` of ``licence``, fetched from :attr:`storage`, checked against the
        reference committed in the licence and decrypted with the holder's key."""
        from . import attachments as att

        document = licence.decrypt(getattr(private_key, "key", private_key))
        return att.fetch(self.storage, att.find(document, name), private_key)

    # ----------------------------------------------------------------- side chains

    def ensure_mirrored(self, registry: LicenceRegistry, identities=(), accredited: str | None = None,
                        capability: int | None = None) -> list[TxResult]:
        """On a side chain, proves to its RegistryMirror what the licence registry will ask: that
        each (address, role) in ``identities`` is registered on the main chain and that
        ``accredited`` signs for an agency accredited for the registry's type (or for ``capability``,
        e.g. CIVIL_REGISTRY, bit 0). Waits (up to ``anchor_timeout``) for the
        relayer when the fact is newer than the last main-chain checkpoint there. Nothing to do on
        the main chain itself, or for what is already proven."""
        if self.on_main_chain(registry):
            return []
        from .anchoring import SourceView

        name = self.chain_name(registry.chain)
        deployment = self.topology.deployment(name)
        mirror = RegistryMirror(registry.chain, deployment.registry_mirror)
        anchor = AnchorRegistry(registry.chain, deployment.anchor_registry)
        if "main" not in self._cache:
            self._cache["main"] = SourceView(self.chain, self.deployment)
        view = self._cache["main"]
        done = []
        for address, role in identities:
            if mirror.role(address) == role:
                continue
            registered = view.registration_block(address)
            if registered is None:
                raise NotFound(f"{address} is not a registered {role} on the main chain")
            checkpoint = self._wait_for_checkpoint(anchor, name, lambda c: c.block_number >= registered,
                                                   f"the registration of {address} (main-chain block {registered})")
            proof = view.identity_proof(checkpoint.block_number, address, types.ROLES[role])
            done.append(mirror.prove_identity(self.prover or self._signer(), address, types.ROLES[role], checkpoint.sequence, proof))
        wanted = registry.cert_type if capability is None else capability
        proven = mirror.accreditation(accredited) if accredited is not None else None
        if proven is not None and not (proven[3] and proven[1] >> wanted & 1):
            bit = 1 << wanted
            agency = self.issuers.agency_of_signer(accredited)
            if agency is None or not self.issuers.is_accredited(agency, wanted):
                what = types.CERT_TYPE_NAMES.get(wanted, "closing records (a civil registry)")
                raise NotAllowed(f"{accredited} does not sign for an agency accredited for {what} on the main chain")

            def covers(checkpoint) -> bool:
                found = view.accreditation_leaf(checkpoint.block_number, accredited)
                return found is not None and bool(found[0][2] & bit)

            checkpoint = self._wait_for_checkpoint(anchor, name, covers, f"the accreditation of {accredited}")
            (signer, agency_code, mask), proof = view.accreditation_leaf(checkpoint.block_number, accredited)
            done.append(mirror.prove_accreditation(self.prover or self._signer(), signer, agency_code, mask, proof))
        return done

    def _wait_for_checkpoint(self, anchor: AnchorRegistry, name: str, ready, what: str):
        deadline = time.monotonic() + self.anchor_timeout
        while True:
            checkpoint = anchor.latest(self.chain.chain_id)
            if checkpoint is not None and ready(checkpoint):
                return checkpoint
            if time.monotonic() > deadline:
                raise NotFound(f"no main-chain checkpoint on the {name} chain covers {what} yet; "
                               f"is `elicense relay` running?")
            time.sleep(0.2)

    # ----------------------------------------------------------------- helpers

    def _signer(self) -> LocalAccount:
        if self.sender is None:
            raise InvalidInput("this action needs a signing account: pass --account NAME (or --dev-account N)")
        return self.sender

    def with_sender(self, sender: LocalAccount) -> "Client":
        """The same chain and deployment, acting as another account."""
        other = Client(self.chain, sender=sender, deployment=self._deployment, deployments_dir=self.deployments_dir,
                       wallet=self.wallet, topology=self._topology, anchor_timeout=self.anchor_timeout,
                       store=self.store, storage=self._storage)
        other._cache = self._cache  # past logs and stored bundles are the same whoever reads them
        other.prover = self.prover
        return other

