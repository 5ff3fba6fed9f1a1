"""The inspection's disclosure commitment on chain does not tell which fields the holder showed.

An observer of the chain sees every `check` transaction: the licence id, the presentation's nonce and
the signed ``disclosure``. The field names of a licence type are few and public, so an unsalted hash
of the names shown is found by hashing each candidate set. The commitment now covers the nonce and
every field's salted leaf (presentation.disclosure_commitment), which never go on chain.
"""

from __future__ import annotations

from itertools import combinations

from eth_utils import keccak

from conftest import FIELDS
from elicense.licence import canonical, disclosed_names_hash


def recorded_disclosure(client, verdict) -> tuple[bytes, bytes, bytes]:
    """(disclosure, nonce, the whole calldata) of the recorded inspection, read back from the chain."""
    tx = client.chain.w3.eth.get_transaction(verdict.tx_hash)
    _, args = client.licences("degree").contract.decode_function_input(tx["input"])
    p = args["presentation"]
    p = p if isinstance(p, dict) else dict(zip(("licenceId", "disclosure", "notAfter", "nonce"), p))
    return bytes(p["disclosure"]), bytes(p["nonce"]), bytes(tx["input"])


def candidate_hashes(nonce: bytes) -> set[bytes]:
    """What an observer can compute for every subset of the (public) field names, with the nonce it sees."""
    names = sorted(FIELDS)
    found = set()
    for size in range(len(names) + 1):
        for subset in combinations(names, size):
            listed = canonical(sorted(subset))
            found |= {disclosed_names_hash(subset), keccak(nonce + listed), keccak(listed + nonce),
                      keccak(text=",".join(subset)), keccak(nonce + keccak(listed))}
    return found


def test_the_same_fields_shown_twice_leave_unrelated_commitments_no_guess_matches(client, inspector_client, issued):
    first = inspector_client.check(None, None, client.present_qr(issued.holder, issued.queried, ["degree"]))
    second = inspector_client.check(None, None, client.present_qr(issued.holder, issued.queried, ["degree"]))
    assert first.valid and second.valid, (first.steps, second.steps)

    one, nonce_one, calldata_one = recorded_disclosure(client, first)
    two, nonce_two, calldata_two = recorded_disclosure(client, second)
    assert one != two  # the same field set, two presentations: nothing links them

    for disclosure, nonce, calldata in ((one, nonce_one, calldata_one), (two, nonce_two, calldata_two)):
        guesses = candidate_hashes(nonce)
        assert disclosed_names_hash(["degree"]) in guesses  # the old, unsalted value is among the guesses
        assert disclosure not in guesses
        words = {calldata[i:i + 32] for i in range(4, len(calldata) - 31)}  # every 32-byte window of the call
        assert not words & guesses


def test_showing_other_fields_is_not_told_apart_either(client, inspector_client, issued):
    everything = inspector_client.check(None, None, client.present_qr(issued.holder, issued.queried))
    assert everything.valid, everything.steps
    disclosure, nonce, _ = recorded_disclosure(client, everything)
    assert disclosure not in candidate_hashes(nonce)
