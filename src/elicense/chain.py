"""One Web3 connection to one chain, and the single place where transactions are signed and sent.

Keys are local (eth-account) and transactions are signed here, so the same code runs against Anvil,
Ganache or a real network. Contract refusals surface as :mod:`elicense.revert` errors before any
transaction is sent (gas estimation runs the call first), so a refused action changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware

from hexbytes import HexBytes
from web3._utils.abi import map_abi_data
from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
from eth_utils.abi import get_abi_output_types

from . import artifacts
from .errors import ElicenseError, InvalidInput, NodeUnreachable, NotAllowed
from .revert import decode_error, explain


_SLOW = object()  # _fast_call's "use web3's path"


@dataclass(frozen=True)
class TxResult:
    """What every state-changing call returns: where the change landed and what it cost."""

    tx_hash: str
    block_number: int
    gas_used: int
    logs: tuple = ()


class SignatureRequired(Exception):
    """Raised by :class:`ExternalSigner` instead of signing: ``tx`` is the complete unsigned
    transaction (nonce, gas and fees filled in) for its owner to sign elsewhere, e.g. in a browser."""

    def __init__(self, tx: dict):
        super().__init__(f"transaction from {tx.get('from')} needs its owner's signature")
        self.tx = tx


class ExternalSigner:
    """An account whose key is not here (the REST API's users): every client operation runs as
    usual up to the signature, then stops with :class:`SignatureRequired`."""

    def __init__(self, address: str):
        self.address = address

    def sign_transaction(self, tx: dict):
        raise SignatureRequired(dict(tx, **{"from": self.address}))


def account_from_key(private_key: str | bytes) -> LocalAccount:
    try:
        return Account.from_key(private_key)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"malformed private key: {exc}") from None


class Chain:
    """A JSON-RPC endpoint with its chain id."""

    def __init__(self, url: str, *, timeout: float = 30.0, poa: bool = False):
        self.url = url
        # eth_chainId is asked once: web3's validation would ask it again before every eth_call.
        provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None,
                                cache_allowed_requests=True, cacheable_requests={"eth_chainId"})
        self.w3 = Web3(provider)
        if poa:
            self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        try:
            self.chain_id = self.w3.eth.chain_id
        except (requests.exceptions.RequestException, OSError) as exc:
            raise NodeUnreachable(f"no Ethereum node answers at {url} ({type(exc).__name__})") from None
        except (ValueError, Web3RPCError) as exc:
            raise NodeUnreachable(f"{url} is not a JSON-RPC Ethereum node: {exc}") from None
        self._nonces: dict[str, int] = {}
        self._contracts: dict[tuple[str, str], object] = {}

    # --------------------------------------------------------------- contracts

    def contract(self, name: str, address: str):
        """One web3 contract object per (name, address): building one parses the whole ABI."""
        key = (name, address)
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(address=address, abi=artifacts.load(name)["abi"])
        return self._contracts[key]

    def deploy(self, name: str, args: list, signer: LocalAccount):
        art = artifacts.load(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        result = self.send(factory.constructor(*args), signer)
        receipt = self.w3.eth.get_transaction_receipt(result.tx_hash)
        return self.contract(name, receipt["contractAddress"]), result

    def call(self, fn, **kwargs):
        """A read-only call, with contract refusals explained. Reads at the latest block go straight
        to the node and are decoded here: web3's call path costs several milliseconds a call, which
        is most of a verification; anything unusual (a refusal, a past block) takes web3's path."""
        if not kwargs:
            result = self._fast_call(fn)
            if result is not _SLOW:
                return result
        try:
            return fn.call(**kwargs)
        except ContractCustomError as exc:
            raise explain(exc.data) from None
        except (requests.exceptions.RequestException, OSError):
            raise NodeUnreachable(f"the node at {self.url} stopped answering") from None

    def timestamp(self, block: int | str = "latest") -> int:
        """A block's timestamp (the chain's clock): one request, without web3's block formatting."""
        tag = block if isinstance(block, str) else hex(block)
        response = self._request("eth_getBlockByNumber", [tag, False])
        if not isinstance(response.get("result"), dict):
            raise NodeUnreachable(f"the node at {self.url} has no block {block}")
        return int(response["result"]["timestamp"], 16)

    def _request(self, method: str, params: list) -> dict:
        """One raw JSON-RPC request, past web3's formatting (the read paths above are hot)."""
        try:
            response = self.w3.provider.make_request(method, params)
        except (requests.exceptions.RequestException, OSError):
            raise NodeUnreachable(f"the node at {self.url} stopped answering") from None
        return response if isinstance(response, dict) else {}

    def _fast_call(self, fn):
        response = self._request("eth_call", [{"to": fn.address, "data": fn._encode_transaction_data()}, "latest"])
        result = response.get("result")
        if "error" in response or not isinstance(result, str) or result in ("0x", ""):
            return _SLOW  # web3 turns the error into the custom error we explain
        types = get_abi_output_types(fn.abi)
        decoded = map_abi_data(BASE_RETURN_NORMALIZERS, types, self.w3.codec.decode(types, HexBytes(result)))
        return decoded[0] if len(decoded) == 1 else decoded

    # --------------------------------------------------------------- sending

    def send(self, fn, signer: LocalAccount, *, gas: int | None = None, value: int = 0) -> TxResult:
        """Signs and sends one contract call (or constructor), waits for its receipt."""
        tx_hash = self.submit(fn, signer, gas=gas, value=value)
        return self.wait(tx_hash)

    def submit(self, fn, signer: LocalAccount, *, gas: int | None = None, value: int = 0) -> str:
        """Signs and sends without waiting; nonces are tracked locally so many can be in flight."""
        params = {"from": signer.address, "value": value, "chainId": self.chain_id}
        try:
            if gas is None:
                params["gas"] = int(fn.estimate_gas(params) * 1.2) + 10_000
            else:
                params["gas"] = gas
            params["nonce"] = self._next_nonce(signer.address)
            tx = fn.build_transaction(params)
        except ContractCustomError as exc:
            raise explain(exc.data) from None
        except ContractLogicError as exc:
            data = exc.data.get("result") if isinstance(exc.data, dict) else exc.data  # Ganache nests it
            if isinstance(data, str) and decode_error(data) is not None:
                raise explain(data) from None
            raise ElicenseError(f"the contract refused the call: {exc.message or exc}") from None
        except (requests.exceptions.RequestException, OSError):
            raise NodeUnreachable(f"the node at {self.url} stopped answering") from None
        except Web3RPCError as exc:
            raise _rpc_error(exc, signer.address) from None
        try:
            signed = signer.sign_transaction(tx)
        except SignatureRequired:
            self.forget_nonce(signer.address)  # signed elsewhere, maybe never: ask the node next time
            raise
        return self._send_raw(signed.raw_transaction, signer.address)

    def send_raw(self, raw: bytes, sender: str) -> TxResult:
        """Broadcasts a transaction signed elsewhere and waits for its receipt."""
        return self.wait(self._send_raw(raw, sender))

    def transfer(self, signer: LocalAccount, to: str, value: int) -> TxResult:
        tx = {
            "from": signer.address, "to": to, "value": value, "gas": 21_000, "chainId": self.chain_id,
            "nonce": self._next_nonce(signer.address),
        }
        tx.update(self._fees())
        return self.wait(self._send_raw(signer.sign_transaction(tx).raw_transaction, signer.address))

    def wait(self, tx_hash: str, timeout: float = 120.0) -> TxResult:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
        except TimeExhausted:
            raise NodeUnreachable(f"transaction {tx_hash} was not mined within {timeout:.0f}s") from None
        if receipt["status"] != 1:
            raise ElicenseError(f"transaction {tx_hash} reverted in block {receipt['blockNumber']}")
        return TxResult(tx_hash, receipt["blockNumber"], receipt["gasUsed"], tuple(receipt["logs"]))

    def _send_raw(self, raw: bytes, sender: str) -> str:
        try:
            return "0x" + self.w3.eth.send_raw_transaction(raw).hex().removeprefix("0x")
        except Web3RPCError as exc:
            self.forget_nonce(sender)  # resynchronise with the node on the next send
            raise _rpc_error(exc, sender) from None
        except (requests.exceptions.RequestException, OSError):
            self.forget_nonce(sender)
            raise NodeUnreachable(f"the node at {self.url} stopped answering") from None

    def forget_nonce(self, address: str) -> None:
        """The next send from ``address`` asks the node for its nonce again."""
        self._nonces.pop(address, None)

    def _next_nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = self.w3.eth.get_transaction_count(address, "pending")
        nonce = self._nonces[address]
        self._nonces[address] = nonce + 1
        return nonce

    def _fees(self) -> dict:
        block = self.w3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": self.w3.eth.gas_price}
        tip = self.w3.eth.max_priority_fee
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def balance(self, address: str) -> int:
        return self.w3.eth.get_balance(address)


def _rpc_error(exc: Web3RPCError, sender: str) -> ElicenseError:
    message = str(exc.message if hasattr(exc, "message") else exc)
    if "insufficient funds" in message.lower():
        return NotAllowed(f"account {sender} has not enough ether to pay for gas")
    if "nonce" in message.lower():
        return ElicenseError(f"the node refused the transaction from {sender}: {message}")
    return ElicenseError(f"the node refused the transaction: {message}")
