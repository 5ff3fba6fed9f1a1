from __future__ import annotations

from web3.logs import DISCARD


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
