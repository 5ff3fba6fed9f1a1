"""Issue 12, attacks 4, 5, 8 and 9 (inspectors), each run as the attack: raw transactions from the
attacker's own account against the degree registry (type 3).

World (conftest): EDU-UNI (signers uni, uni2) and EDU-OTH (signer other) are both accredited for
degrees, so each can attack the other; CIV-REG holds only the civil-registry capability (bit 0);
`inspector` is authorised by EDU-UNI. Every refusal is asserted with its custom error and arguments,
every allowed path with its effect on chain.
"""

import pytest
from brownie import chain, web3
from eth_account import Account
from eth_utils import keccak

from conftest import CIVIL_REGISTRY, OTHER_UNI, UNIVERSITY, public_key
from elicense.merkle import StandardMerkleTree
from helpers import (
    BATCH_LEAF,
    CLOSE_DEATH,
    DEGREE,
    ZERO32,
    CheckResult,
    Presentation,
    Role,
    Status,
    address_of,
    assert_event,
    data_hash,
    latest_timestamp,
    licence_id,
    plain,
    refused,
)

YEAR = 365 * 24 * 3600
BUNDLE = keccak(text="sha-256 of the batch bundle")
EVIDENCE = keccak(text="death certificate 2026/77")


@pytest.fixture
def uni(signers):
    return signers["uni"]


@pytest.fixture
def attacker(signers):
    """A signer of EDU-OTH: accredited for degrees, like the victim agency EDU-UNI."""
    return signers["other"]


def leaves_for(holders, tag):
    now = latest_timestamp()
    return [
        (address_of(holders[i % len(holders)]), data_hash(f"{tag} {i}"), now - 60, now + YEAR, keccak(text=f"ct {tag} {i}"))
        for i in range(5)
    ]


@pytest.fixture
def batch(licenses, uni, holder, other_holder):
    """Five licences for two holders, issued by EDU-UNI as one batch; none claimed yet."""
    tree = StandardMerkleTree(leaves_for([holder, other_holder], "attacked batch"), BATCH_LEAF)
    tx = licenses.issueBatch(tree.root, 5, BUNDLE, {"from": uni})
    return tree, tx


def present(licenses, holder, lid):
    return Presentation(licenses, holder, lid)


def check(licenses, inspector, holder, agency, dhash, presentation):
    return licenses.check(holder, agency, dhash, presentation.struct, presentation.signature, {"from": inspector})


# ---------------------------------------------------------------- raw transactions with a tip


def send_raw(account, to, data, tip_gwei):
    """Signs and sends a type-2 transaction from `account`'s own key with `tip_gwei` priority fee."""
    base = web3.eth.get_block("latest").baseFeePerGas or 0
    tip = web3.to_wei(tip_gwei, "gwei")
    tx = {
        "type": 2,
        "chainId": chain.id,
        "to": address_of(to),
        "data": data,
        "nonce": web3.eth.get_transaction_count(account.address, "pending"),
        "gas": 400_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 2 * base + tip,
    }
    signed = Account.sign_transaction(tx, account.private_key)
    return web3.eth.send_raw_transaction(signed.raw_transaction)


def mine_together(*sends):
    """Sends each (account, to, data, tip) into one pending pool and mines them in a single block
    (Anvil orders by tip, as a block builder would); returns their receipts in send order."""
    assert "error" not in web3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [send_raw(*s) for s in sends]
        assert "error" not in web3.provider.make_request("evm_mine", [])
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    receipts = [web3.eth.get_transaction_receipt(h) for h in hashes]
    assert len({r.blockNumber for r in receipts}) == 1
    return receipts


# ---------------------------------------------------------------- 4. batch-leaf hijack


def test_another_agency_issuing_a_leaf_data_hash_does_not_hijack_the_batched_licence(
    licenses, uni, attacker, inspector, holder, batch
):
    tree, _ = batch
    leaf = tree.value(0)
    real_id = licence_id(licenses, leaf[1], UNIVERSITY)

    # The attack: EDU-OTH issues, as a single licence of its own, the data hash of an unclaimed leaf
    # (public in the holder's licence list), before anyone claims it.
    now = latest_timestamp()
    hijack = licenses.issue(leaf[0], leaf[1], now - 60, now + YEAR, b"attacker's ciphertext", {"from": attacker})
    copy_id = plain(hijack.return_value)

    # It made a licence of its own agency, with another id; the batched licence is untouched.
    assert copy_id == licence_id(licenses, leaf[1], OTHER_UNI) != real_id
    assert licenses.statusOf(real_id) == Status.NONE

    # The real agency's claim still lands, attributed to EDU-UNI.
    claimed = licenses.claim(UNIVERSITY, tree.root, leaf, tree.proof(0), {"from": uni})
    assert plain(claimed.return_value) == real_id
    assert_event(claimed, "LicenseClaimed", licenceId=real_id, holder=leaf[0], root=tree.root)
    assert plain(licenses.licence(real_id))[:2] == (leaf[0], UNIVERSITY)

    # The attacker cannot revoke (nor suspend) the real licence.
    with refused("LicenseNotIssuer", real_id, attacker):
        licenses.revoke(real_id, 1, {"from": attacker})
    with refused("LicenseNotIssuer", real_id, attacker):
        licenses.suspend(real_id, 1, {"from": attacker})
    # Revoking its own copy leaves the real licence active and verifying as EDU-UNI's.
    licenses.revoke(copy_id, 1, {"from": attacker})
    assert licenses.statusOf(real_id) == Status.ACTIVE
    presentation = present(licenses, holder, real_id)
    assert check(licenses, inspector, holder, UNIVERSITY, leaf[1], presentation).return_value == CheckResult.VALID


def test_holder_presentation_of_the_real_licence_never_verifies_as_the_hijackers(
    licenses, attacker, inspector, holder, batch
):
    tree, _ = batch
    leaf = tree.value(0)
    now = latest_timestamp()
    licenses.issue(leaf[0], leaf[1], now - 60, now + YEAR, b"attacker's ciphertext", {"from": attacker})
    presentation = present(licenses, holder, licence_id(licenses, leaf[1], UNIVERSITY))

    tx = licenses.checkBatched(
        holder, OTHER_UNI, UNIVERSITY, tree.root, leaf, tree.proof(0), presentation.struct, presentation.signature,
        {"from": inspector},
    )

    # The holder signed for EDU-UNI's licence: checked against EDU-OTH it is the wrong issuer.
    assert tx.return_value == CheckResult.WRONG_ISSUER


def test_claim_under_another_agency_that_never_committed_the_batch_is_refused(licenses, attacker, batch):
    tree, _ = batch

    with refused("LicenseBatchUnknown", OTHER_UNI, tree.root):
        licenses.claim(OTHER_UNI, tree.root, tree.value(0), tree.proof(0), {"from": attacker})


def test_check_batched_claims_only_from_the_batch_of_the_named_agency(licenses, inspector, holder, batch):
    """checkBatched naming EDU-OTH as the batch's agency finds no batch of EDU-OTH: nothing is claimed."""
    tree, _ = batch
    leaf = tree.value(0)
    presentation = present(licenses, holder, licence_id(licenses, leaf[1], OTHER_UNI))

    tx = licenses.checkBatched(
        holder, OTHER_UNI, OTHER_UNI, tree.root, leaf, tree.proof(0), presentation.struct, presentation.signature,
        {"from": inspector},
    )

    assert tx.return_value == CheckResult.UNKNOWN_LICENCE
    assert "LicenseClaimed" not in tx.events
    assert licenses.statusOf(licence_id(licenses, leaf[1], OTHER_UNI)) == Status.NONE


# ---------------------------------------------------------------- 5. batch-root front-running


def test_copied_batch_root_front_run_with_a_higher_tip_does_not_displace_the_real_batch(
    licenses, uni, attacker, inspector, holder, other_holder
):
    tree = StandardMerkleTree(leaves_for([holder, other_holder], "front-run batch"), BATCH_LEAF)
    data = licenses.issueBatch.encode_input(tree.root, 5, BUNDLE)

    # The real agency's transaction is pending; the attacker copies its calldata with a higher tip.
    real, copy = mine_together((uni, licenses, data, 1), (attacker, licenses, data, 50))

    assert copy.transactionIndex < real.transactionIndex  # the copy was mined first ...
    assert real.status == 1 and copy.status == 1  # ... and the real batch landed all the same
    assert plain(licenses.batch(UNIVERSITY, tree.root)) == (UNIVERSITY, 5, latest_timestamp(), real.blockNumber)
    assert plain(licenses.batch(OTHER_UNI, tree.root))[:2] == (OTHER_UNI, 5)

    # The batch's licences are EDU-UNI's: claimed from its batch, verifying as its own.
    leaf = tree.value(0)
    real_id = plain(licenses.claim(UNIVERSITY, tree.root, leaf, tree.proof(0), {"from": uni}).return_value)
    assert plain(licenses.licence(real_id))[:2] == (address_of(holder), UNIVERSITY)
    presentation = present(licenses, holder, real_id)
    assert check(licenses, inspector, holder, UNIVERSITY, leaf[1], presentation).return_value == CheckResult.VALID

    # The copier's claims make licences of its own, with other ids: they capture nothing.
    copy_id = plain(licenses.claim(OTHER_UNI, tree.root, leaf, tree.proof(0), {"from": attacker}).return_value)
    assert copy_id != real_id
    with refused("LicenseNotIssuer", real_id, attacker):
        licenses.revoke(real_id, 1, {"from": attacker})


def test_same_agency_replaying_its_batch_is_still_refused(licenses, uni, signers, batch):
    tree, _ = batch

    with refused("LicenseBatchExists", UNIVERSITY, tree.root):
        licenses.issueBatch(tree.root, 5, BUNDLE, {"from": signers["uni2"]})


# ---------------------------------------------------------------- 8. closing a record


@pytest.mark.parametrize("name", ["uni", "other"])
def test_ordinary_agency_cannot_close_a_holder_record(licenses, signers, uni, holder, name):
    now = latest_timestamp()
    issued = licenses.issue(holder, data_hash("victim licence"), now - 60, now + YEAR, b"ct", {"from": uni})
    lid = plain(issued.return_value)
    before = plain(licenses.holderRecord(holder))

    with refused("LicenseNotCivilRegistry", signers[name]):
        licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": signers[name]})

    assert plain(licenses.holderRecord(holder)) == before
    assert licenses.statusOf(lid) == Status.ACTIVE


def test_civil_registry_closes_a_holder_record(licenses, civil, uni, holder):
    now = latest_timestamp()
    lid = plain(licenses.issue(holder, data_hash("closed licence"), now - 60, now + YEAR, b"ct", {"from": uni}).return_value)

    tx = licenses.closeRecord(holder, CLOSE_DEATH, EVIDENCE, {"from": civil})

    assert plain(tx.events["RecordClosed"]["agency"]) == CIVIL_REGISTRY
    assert licenses.statusOf(lid) == Status.RECORD_CLOSED


def test_civil_registry_cannot_issue_licences(licenses, civil, holder):
    now = latest_timestamp()

    with refused("LicenseNotAccredited", civil, DEGREE):
        licenses.issue(holder, data_hash("x"), now - 60, now + YEAR, b"ct", {"from": civil})


# ---------------------------------------------------------------- 9. inspectors


@pytest.fixture
def issued(licenses, uni, holder):
    now = latest_timestamp()
    tx = licenses.issue(holder, data_hash("inspected licence"), now - 60, now + YEAR, b"ct", {"from": uni})
    return plain(tx.return_value), data_hash("inspected licence")


@pytest.fixture
def self_declared(keyed, identities):
    """An account that registered itself as an Inspector (its own raw transaction), authorised by nobody."""
    account = keyed("self-declared inspector")
    identities.register(int(Role.INSPECTOR), public_key(account), ZERO32, {"from": account})
    return account


def test_self_registered_inspector_cannot_write_to_the_access_log(licenses, self_declared, holder, issued):
    lid, dhash = issued
    presentation = present(licenses, holder, lid)
    before = plain(licenses.holderRecord(holder))

    with refused("LicenseNotInspector", self_declared):
        check(licenses, self_declared, holder, UNIVERSITY, dhash, presentation)

    assert plain(licenses.holderRecord(holder)) == before
    assert not licenses.presentationUsed(presentation.digest)


def test_self_registered_inspector_cannot_check_batched(licenses, self_declared, holder, batch):
    tree, _ = batch
    leaf = tree.value(0)
    presentation = present(licenses, holder, licence_id(licenses, leaf[1], UNIVERSITY))

    with refused("LicenseNotInspector", self_declared):
        licenses.checkBatched(
            holder, UNIVERSITY, UNIVERSITY, tree.root, leaf, tree.proof(0), presentation.struct,
            presentation.signature, {"from": self_declared},
        )
    assert licenses.statusOf(licence_id(licenses, leaf[1], UNIVERSITY)) == Status.NONE


def test_agency_authorises_an_inspector_and_answers_for_it(licenses, uni, self_declared, holder, issued):
    lid, dhash = issued

    tx = licenses.authoriseInspector(self_declared, {"from": uni})

    assert_event(tx, "InspectorAuthorised", inspector=self_declared, agency=UNIVERSITY)
    assert plain(licenses.inspectorAgency(self_declared)) == UNIVERSITY
    result = check(licenses, self_declared, holder, UNIVERSITY, dhash, present(licenses, holder, lid))
    assert result.return_value == CheckResult.VALID
    assert result.events["LicenseChecked"]["inspector"] == self_declared.address


def test_authorising_again_by_the_same_agency_changes_nothing(licenses, signers, inspector):
    tx = licenses.authoriseInspector(inspector, {"from": signers["uni2"]})

    assert "InspectorAuthorised" not in tx.events
    assert plain(licenses.inspectorAgency(inspector)) == UNIVERSITY


def test_deauthorised_inspector_is_refused(licenses, signers, inspector, holder, issued):
    lid, dhash = issued
    assert check(licenses, inspector, holder, UNIVERSITY, dhash, present(licenses, holder, lid)).return_value == 0

    tx = licenses.deauthoriseInspector(inspector, {"from": signers["uni2"]})  # any signer of the agency

    assert_event(tx, "InspectorDeauthorised", inspector=inspector, agency=UNIVERSITY)
    assert plain(licenses.inspectorAgency(inspector)) == ZERO32
    with refused("LicenseNotInspector", inspector):
        check(licenses, inspector, holder, UNIVERSITY, dhash, present(licenses, holder, lid))


def test_another_agency_cannot_take_over_or_withdraw_an_inspector(licenses, attacker, inspector):
    with refused("LicenseInspectorTaken", inspector, UNIVERSITY):
        licenses.authoriseInspector(inspector, {"from": attacker})
    with refused("LicenseNotInspectorAgency", inspector, attacker):
        licenses.deauthoriseInspector(inspector, {"from": attacker})

    assert plain(licenses.inspectorAgency(inspector)) == UNIVERSITY


@pytest.mark.parametrize("who", ["stranger", "inspector", "health", "civil"])
def test_only_an_agency_accredited_for_the_type_authorises_inspectors(
    licenses, signers, stranger, inspector, civil, self_declared, who
):
    account = {"stranger": stranger, "inspector": inspector, "health": signers["health"], "civil": civil}[who]

    with refused("LicenseNotAccredited", account, DEGREE):
        licenses.authoriseInspector(self_declared, {"from": account})


def test_an_account_that_is_not_an_inspector_identity_cannot_be_authorised(licenses, uni, holder, stranger):
    with refused("LicenseInspectorNotRegistered", holder):
        licenses.authoriseInspector(holder, {"from": uni})
    with refused("LicenseInspectorNotRegistered", stranger):
        licenses.authoriseInspector(stranger, {"from": uni})


def test_withdrawing_an_inspector_nobody_authorised_is_refused(licenses, uni, self_declared):
    with refused("LicenseNotInspectorAgency", self_declared, uni):
        licenses.deauthoriseInspector(self_declared, {"from": uni})


def test_suspended_agency_still_withdraws_its_inspectors_but_cannot_authorise(
    licenses, enact, uni, inspector, self_declared
):
    enact("proposeSuspendAgency", UNIVERSITY)

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.authoriseInspector(self_declared, {"from": uni})
    licenses.deauthoriseInspector(inspector, {"from": uni})
    assert plain(licenses.inspectorAgency(inspector)) == ZERO32


# ---------------------------------------------------------------- gas


def test_gas_per_operation(licenses, uni, inspector, holder, other_holder, capsys):
    now = latest_timestamp()
    gas = {}
    ciphertext = bytes(300)
    gas["issue (first of the holder, 300-byte ciphertext)"] = licenses.issue(
        holder, data_hash("gas 1"), now - 60, now + YEAR, ciphertext, {"from": uni}).gas_used
    issued = licenses.issue(holder, data_hash("gas 2"), now - 60, now + YEAR, ciphertext, {"from": uni})
    gas["issue (300-byte ciphertext)"] = issued.gas_used
    tree = StandardMerkleTree(leaves_for([holder, other_holder], "gas batch"), BATCH_LEAF)
    gas["issueBatch"] = licenses.issueBatch(tree.root, 5, BUNDLE, {"from": uni}).gas_used
    gas["claim"] = licenses.claim(UNIVERSITY, tree.root, tree.value(0), tree.proof(0), {"from": uni}).gas_used
    presentation = present(licenses, holder, plain(issued.return_value))
    gas["check"] = check(licenses, inspector, holder, UNIVERSITY, data_hash("gas 2"), presentation).gas_used
    leaf = tree.value(1)
    presentation = present(licenses, other_holder, licence_id(licenses, leaf[1], UNIVERSITY))
    gas["checkBatched (claims on first inspection)"] = licenses.checkBatched(
        other_holder, UNIVERSITY, UNIVERSITY, tree.root, leaf, tree.proof(1), presentation.struct,
        presentation.signature, {"from": inspector}).gas_used
    with capsys.disabled():
        print("\nLicenseRegistry gas:", ", ".join(f"{k}: {v:,}" for k, v in gas.items()))
    assert gas["issue (300-byte ciphertext)"] <= 120_000
