from __future__ import annotations

from dataclasses import dataclass

from .. import types
from ..chain import TxResult
from ._base import Wrapper

AGENCY_STATUS = ["unknown", "active", "suspended"]
PROPOSAL_KINDS = ["add-agency", "suspend-agency", "reinstate-agency", "add-authority", "remove-authority"]

# Bit 0 of an agency's set is no certificate type: governance sets it for a civil registry, the only
# kind of agency that may close a holder's record (LicenseRegistry.CIVIL_REGISTRY).
CIVIL_REGISTRY = 0
CIVIL_REGISTRY_NAME = "civil-registry"


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    parent: str
    status: str
    cert_types: tuple[str, ...]
    signers: tuple[str, ...]
    created_at: int


@dataclass(frozen=True)
class ProposalOutcome:
    proposal_id: int
    executed: bool
    approvals: int
    needed: int
    tx: TxResult


def types_mask(cert_types) -> int:
    """The bit set of certificate types (names or numbers) and "civil-registry" (bit 0)."""
    mask = 0
    for t in cert_types:
        mask |= 1 << (CIVIL_REGISTRY if t == CIVIL_REGISTRY_NAME else types.cert_type(t))
    return mask


class IssuerRegistry(Wrapper):
    name = "IssuerRegistry"

    # proposals ------------------------------------------------------------------
    def propose_add_agency(self, account, code: str, name: str, signers, cert_types, parent: str | None = None):
        fn = self.contract.functions.proposeAddAgency(
            types.org_code(code), name, [types.address(s, "signer address") for s in signers],
            types_mask(cert_types), types.org_code(parent) if parent else b"\0" * 32,
        )
        return self._outcome(self.chain.send(fn, account))

    def propose_suspend(self, account, code: str):
        return self._outcome(self.chain.send(self.contract.functions.proposeSuspendAgency(types.org_code(code)), account))

    def propose_reinstate(self, account, code: str):
        return self._outcome(self.chain.send(self.contract.functions.proposeReinstateAgency(types.org_code(code)), account))

    def propose_add_authority(self, account, address: str):
        fn = self.contract.functions.proposeAddAuthority(types.address(address))
        return self._outcome(self.chain.send(fn, account))

    def propose_remove_authority(self, account, address: str):
        fn = self.contract.functions.proposeRemoveAuthority(types.address(address))
        return self._outcome(self.chain.send(fn, account))

    def approve(self, account, proposal_id: int) -> ProposalOutcome:
        return self._outcome(self.chain.send(self.contract.functions.approve(int(proposal_id)), account))

    def _outcome(self, tx: TxResult) -> ProposalOutcome:
        approved = self.events(tx, "ProposalApproved")[-1]["args"]
        executed = bool(self.events(tx, "ProposalExecuted"))
        return ProposalOutcome(approved["id"], executed, approved["approvals"], approved["needed"], tx)

    # views ----------------------------------------------------------------------
    def agency(self, code: str) -> Agency | None:
        raw = self.chain.call(self.contract.functions.agency(types.org_code(code)))
        return _agency(raw)

    def agencies(self) -> list[Agency]:
        count = self.chain.call(self.contract.functions.agencyCount())
        codes = [self.chain.call(self.contract.functions.agencyCodeAt(i)) for i in range(count)]
        return [_agency(self.chain.call(self.contract.functions.agency(c))) for c in codes]

    def codes_with_type(self, cert_type: int, from_block: int = 0) -> list[str]:
        """The codes of every agency ever accredited for ``cert_type``, read from one log query."""
        logs = self.contract.events.AgencyAdded().get_logs(from_block=from_block)
        return [types.code_text(e["args"]["code"]) for e in logs if e["args"]["certTypes"] >> cert_type & 1]

    def agency_of_signer(self, signer: str) -> str | None:
        raw = self.chain.call(self.contract.functions.agencyOfSigner(types.address(signer)))
        return types.code_text(raw) or None

    def is_accredited(self, code: str, cert_type: int) -> bool:
        return self.chain.call(self.contract.functions.isAccredited(types.org_code(code), cert_type))

    def was_accredited_at_block(self, code: str, cert_type: int, block: int) -> bool:
        return self.chain.call(self.contract.functions.wasAccreditedAtBlock(types.org_code(code), cert_type, block))

    def was_accredited_at_time(self, code: str, cert_type: int, timestamp: int) -> bool:
        return self.chain.call(self.contract.functions.wasAccreditedAtTime(types.org_code(code), cert_type, timestamp))

    def authorities(self) -> list[str]:
        return list(self.chain.call(self.contract.functions.authorities()))

    def quorum(self) -> int:
        return self.chain.call(self.contract.functions.quorum())

    def proposal(self, proposal_id: int) -> dict:
        kind, executed, approvals, created, epoch, proposer, code, account, _ = self.chain.call(
            self.contract.functions.proposal(int(proposal_id))
        )
        return {
            "id": int(proposal_id), "kind": PROPOSAL_KINDS[kind], "executed": executed, "approvals": approvals,
            "proposer": proposer, "code": types.code_text(code), "account": account, "epoch": epoch, "created_at": created,
        }


def _agency(raw) -> Agency | None:
    code, parent, name, status, mask, created, signers = raw
    if status == 0:
        return None
    names = ((CIVIL_REGISTRY_NAME,) if mask & 1 else ()) + tuple(
        types.CERT_TYPE_NAMES.get(t, str(t)) for t in range(1, 256) if mask >> t & 1)
    return Agency(types.code_text(code), name, types.code_text(parent), AGENCY_STATUS[status], names, tuple(signers), created)
