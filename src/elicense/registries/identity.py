from __future__ import annotations

from dataclasses import dataclass

from .. import types
from ._base import Wrapper


@dataclass(frozen=True)
class Identity:
    address: str
    role: str
    public_key: bytes
    commitment: bytes
    registered_at: int


class IdentityRegistry(Wrapper):
    name = "IdentityRegistry"

    def register(self, account, role: int, public_key: bytes, commitment: bytes = b"\0" * 32):
        fn = self.contract.functions.register(role, public_key, commitment)
        return self.chain.send(fn, account)

    def update_commitment(self, account, commitment: bytes):
        return self.chain.send(self.contract.functions.updateCommitment(commitment), account)

    def public_key(self, address: str) -> bytes:
        return bytes(self.chain.call(self.contract.functions.publicKeyOf(address)))

    def role(self, address: str) -> str:
        return types.ROLE_NAMES.get(self.chain.call(self.contract.functions.roleOf(address)), "none")

    def identity(self, address: str) -> Identity | None:
        role, registered_at, commitment, x, y = self.chain.call(self.contract.functions.identityOf(address))
        if role == 0:
            return None
        return Identity(address, types.ROLE_NAMES[role], bytes(x) + bytes(y), bytes(commitment), registered_at)

    def count(self) -> int:
        return self.chain.call(self.contract.functions.identityCount())

    def registered(self, from_block: int = 0, role: int | None = None) -> dict[str, bytes]:
        """Every registered account (of ``role``) with its public key, from the logs in one request."""
        filters = {"role": role} if role is not None else {}
        logs = self.contract.events.IdentityRegistered().get_logs(from_block=from_block, argument_filters=filters)
        return {e["args"]["account"]: bytes(e["args"]["publicKey"]) for e in logs}
