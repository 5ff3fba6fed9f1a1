"""The client layer: the five e-licence APIs of seed 002 and the agency operations around them.

The CLI, the Brownie scripts, the tests and (later) the REST API all call these methods; nothing
above this layer talks to a contract directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from . import crypto, types
from .chain import Chain, TxResult
from .deployments import Deployment
from .errors import Conflict, ElicenseError, InvalidInput, NotAllowed, NotDeployed, NotFound
from .licence import LicenceDocument
from .registries import IdentityRegistry, IssuedLicence, IssuerRegistry, LicenceRegistry
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

    def decrypt(self, private_key) -> LicenceDocument:
        document = LicenceDocument.from_bytes(crypto.decrypt(private_key, self.ciphertext))
        if "0x" + document.data_hash.hex() != self.data_hash:
            raise ElicenseError("the decrypted licence does not match the hash issued on chain")
        return document


class Client:
    """One chain, its deployment, an optional signing account and a local wallet."""

    def __init__(self, chain: Chain, *, sender: LocalAccount | None = None, deployment: Deployment | None = None,
                 deployments_dir: Path | None = None, wallet: Wallet | None = None):
        self.chain = chain
        self.sender = sender
        self.deployments_dir = deployments_dir
        self.wallet = wallet or Wallet()
        self._deployment = deployment

    @classmethod
    def connect(cls, url: str = "http://127.0.0.1:8545", *, sender: LocalAccount | None = None, **kwargs) -> "Client":
        return cls(Chain(url), sender=sender, **kwargs)

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
        address = self.deployment.licence_registries.get(number)
        if address is None:
            raise NotDeployed(f"no {types.CERT_TYPE_NAMES[number]} registry is deployed on chain {self.chain.chain_id}")
        return LicenceRegistry(self.chain, address, number)

    def deploy_all(self, cert_types=None, authorities: list[str] | None = None, save: bool = True) -> Deployment:
        """Deploys the identity and issuer registries and one licence registry per certificate type."""
        signer = self._signer()
        identity, first = self.chain.deploy("IdentityRegistry", [], signer)
        issuers, _ = self.chain.deploy("IssuerRegistry", [authorities or [signer.address], identity.address], signer)
        registries = {}
        for t in cert_types or types.CERT_TYPES.values():
            number = types.cert_type(t)
            contract, _ = self.chain.deploy("LicenseRegistry", [number, identity.address, issuers.address], signer)
            registries[number] = contract.address
        genesis = "0x" + self.chain.w3.eth.get_block(0)["hash"].hex().removeprefix("0x")
        self._deployment = Deployment(
            self.chain.chain_id, genesis, identity.address, issuers.address, registries, first.block_number
        )
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
        if fund and self.sender is not None and self.chain.balance(account.address) < REGISTRATION_FUNDING // 2:
            self.chain.transfer(self.sender, account.address, REGISTRATION_FUNDING)
        public = crypto.public_key(account)
        tx = self.identities.register(account, role_number, public, commitment)
        # Stored only once registered, so a refused registration leaves no orphan keystore behind.
        keystore = str(self.wallet.save(name, account, password)) if password else None
        return RegisteredUser(
            name, account.address, role.lower(), "0x" + public.hex(), None if password else "0x" + account.key.hex(),
            keystore, tx.tx_hash, tx.block_number,
        )

    # ----------------------------------------------------------------- API 2: send certification

    def send_certification(self, holder: str, org_code: str, cert_type, fields: dict, *, valid_from: int | None = None,
                           valid_until: int = types.FOREVER) -> IssuedLicence:
        """Issues a licence: the data is encrypted to the holder's registered key; the chain keeps its hash."""
        holder = types.address(holder, "holder address")
        registry = self.licences(cert_type)
        self._check_agency(org_code)
        document, ciphertext, valid_from = self._prepare(registry, holder, org_code, fields, valid_from, valid_until)
        return registry.issue(self._signer(), holder, document.data_hash, valid_from, valid_until, ciphertext)

    def renew(self, cert_type, previous_id: str, fields: dict, *, valid_from: int | None = None,
              valid_until: int = types.FOREVER) -> IssuedLicence:
        registry = self.licences(cert_type)
        info = self._licence_info(registry, previous_id)
        document, ciphertext, valid_from = self._prepare(registry, info.holder, info.agency, fields, valid_from, valid_until)
        return registry.renew(
            self._signer(), types.bytes32(previous_id, "licence id"), document.data_hash, valid_from, valid_until, ciphertext
        )

    def _prepare(self, registry, holder, org_code, fields, valid_from, valid_until):
        if valid_from is None:
            valid_from = self.chain.w3.eth.get_block("latest")["timestamp"]
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
        return self.licences(cert_type).suspend(self._signer(), types.bytes32(licence_id, "licence id"), reason)

    def reinstate(self, cert_type, licence_id: str) -> TxResult:
        return self.licences(cert_type).reinstate(self._signer(), types.bytes32(licence_id, "licence id"))

    def revoke(self, cert_type, licence_id: str, reason: int = 0) -> TxResult:
        return self.licences(cert_type).revoke(self._signer(), types.bytes32(licence_id, "licence id"), reason)

    def close_record(self, cert_type, holder: str, reason: str, evidence: bytes = b"\0" * 32) -> TxResult:
        if reason not in types.CLOSE_REASONS:
            raise InvalidInput(f"unknown reason {reason!r}; use one of {', '.join(types.CLOSE_REASONS)}")
        return self.licences(cert_type).close_record(
            self._signer(), types.address(holder, "holder address"), types.CLOSE_REASONS[reason], evidence
        )

    # ----------------------------------------------------------------- API 3: check

    def check(self, holder: str, org_code: str, presentation, *, record: bool = True):
        """Verifies a presented licence step by step and records the inspection on chain."""
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
        try:
            receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
        except Exception:
            raise NotFound(f"no transaction {tx_hash} on chain {self.chain.chain_id}") from None
        if receipt["blockNumber"] != block_number:
            raise NotFound(f"transaction {tx_hash} is in block {receipt['blockNumber']}, not {block_number}")
        tx = TxResult(tx_hash, receipt["blockNumber"], receipt["gasUsed"], tuple(receipt["logs"]))
        for number, address in self.deployment.licence_registries.items():
            registry = LicenceRegistry(self.chain, address, number)
            for event in registry.events(tx, "LicenseIssued"):
                issued = registry.issued_from_event(event)
                if issued.holder == holder:
                    return self._queried(registry, issued)
        raise NotFound(f"transaction {tx_hash} issued no licence to {holder}")

    def licences_of(self, holder: str) -> list[QueriedLicence]:
        """Every licence ever issued to ``holder``, over all certificate types, with current status."""
        holder = types.address(holder, "holder address")
        found = []
        for number, address in sorted(self.deployment.licence_registries.items()):
            registry = LicenceRegistry(self.chain, address, number)
            found += [self._queried(registry, issued) for issued in registry.issued_to(holder, self.deployment.block)]
        return found

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

    def find_issuance(self, registry: LicenceRegistry, licence_id: str) -> IssuedLicence:
        logs = registry.contract.events.LicenseIssued().get_logs(
            argument_filters={"licenceId": types.bytes32(licence_id)}, from_block=self.deployment.block
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
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        return presentation.create(
            registry, holder_account, licence.licence_id, licence.agency, document, fields,
            ttl or presentation.DEFAULT_TTL, now=max(now, int(time.time())),
        )

    # ----------------------------------------------------------------- helpers

    def _signer(self) -> LocalAccount:
        if self.sender is None:
            raise InvalidInput("this action needs a signing account: pass --account NAME (or --dev-account N)")
        return self.sender

    def with_sender(self, sender: LocalAccount) -> "Client":
        """The same chain and deployment, acting as another account."""
        return Client(self.chain, sender=sender, deployment=self._deployment, deployments_dir=self.deployments_dir,
                      wallet=self.wallet)
