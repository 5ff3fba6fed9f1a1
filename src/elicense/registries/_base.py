from __future__ import annotations

from eth_account.messages import encode_typed_data
from eth_utils import keccak
from web3.logs import DISCARD

EIP712_DOMAIN = [
    {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"},
]


def typed_digest(message: dict) -> bytes:
    """The EIP-712 digest of typed data, as the contracts' _hashTypedDataV4 computes it."""
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


class Wrapper:
    """A deployed contract on a :class:`elicense.chain.Chain`."""

    name = ""

    def __init__(self, chain, address: str):
        self.chain = chain
        self.address = address
        self.contract = chain.contract(self.name, address)

    def events(self, result, event: str) -> list:
        """Decoded ``event`` logs of this contract in a transaction's result."""
        handler = getattr(self.contract.events, event)()
        receipt = {"logs": list(result.logs)}
        return [e for e in handler.process_receipt(receipt, errors=DISCARD) if e["address"] == self.address]

    def typed_data(self, domain_name: str, primary: str, fields: list[dict], message: dict) -> dict:
        """EIP-712 typed data bound to this contract on this chain (domain version "1")."""
        return {
            "types": {"EIP712Domain": EIP712_DOMAIN, primary: fields},
            "primaryType": primary,
            "domain": {"name": domain_name, "version": "1", "chainId": self.chain.chain_id,
                       "verifyingContract": self.address},
            "message": message,
        }
