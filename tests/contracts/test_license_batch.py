"""LicenseRegistry batches: issueBatch, claim and checkBatched (degree registry, type 3).

World (conftest): EDU-MIN above EDU-UNI (signers uni, uni2), EDU-OTH (signer other), HLT-AGY
(health only), real Identity and Issuer registries. A batch here is an OpenZeppelin standard tree
(elicense.merkle) over seven BatchLeafs (holder, dataHash, validFrom, validUntil, ciphertextHash)
for four registered holders; EDU-UNI issues its root. Licences of a batch are claimed into storage
by anyone with a proof, or on their first inspection, and are then licences like any other.
"""

from types import SimpleNamespace

import pytest
from brownie import chain
from eth_utils import keccak

from conftest import MINISTRY, OTHER_UNI, UNIVERSITY
from elicense.merkle import StandardMerkleTree, leaf_hash
from helpers import (
    BATCH_LEAF,
    CLOSE_DEATH,
    DEGREE,
    ZERO32,
    ZERO_ADDRESS,
    CheckResult,
    Presentation,
    RecordKind,
    Role,
    Status,
    access_entry,
    address_of,
    assert_event,
    data_hash,
    extend,
    latest_timestamp,
    licence_id,
    plain,
    record_entry,
    refused,
)

YEAR = 365 * 24 * 3600
BUNDLE = keccak(text="sha-256 of the batch bundle")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def batch_holders(holder, other_holder, keyed, enrol):
    """Four registered holders."""
    more = [enrol(keyed(f"batch holder {name}"), Role.HOLDER) for name in ("carol", "dave")]
    return [holder, other_holder] + more


@pytest.fixture(scope="module")
def unregistered(keyed):
    """A keyed account with no identity."""
    return keyed("batch unregistered")


@pytest.fixture
def uni(signers):
    return signers["uni"]


def make_leaf(owner, label, valid_from=None, valid_until=None):
    now = latest_timestamp()
    return (
        address_of(owner),
        data_hash(label),
        now - 60 if valid_from is None else valid_from,
        now + YEAR if valid_until is None else valid_until,
        keccak(text=f"ciphertext of {label}"),
    )


class Batch:
    """A batch's leaves and tree; `issue` puts its root on chain as the batch (signer's agency, root).
    Until then `agency` is EDU-UNI, the issuer the tests have in mind."""

    def __init__(self, leaves):
        self.leaves = list(leaves)
        self.tree = StandardMerkleTree(self.leaves, BATCH_LEAF)
        self.root = self.tree.root
        self.agency = UNIVERSITY
        self.tx = None

    def __len__(self):
        return len(self.leaves)

    def proof(self, index):
        return self.tree.proof(index)

    def issue(self, licenses, signer, bundle=BUNDLE):
        self.tx = licenses.issueBatch(self.root, len(self.leaves), bundle, {"from": signer})
        self.agency = plain(self.tx.events["LicenseBatchIssued"]["agency"])
        return self

    def licence(self, licenses, index):
        """What a holder keeps of leaf `index`: its id, data hash and holder."""
        leaf = self.leaves[index]
        return SimpleNamespace(
            index=index, leaf=leaf, id=licence_id(licenses, leaf[1], self.agency), data_hash=leaf[1], holder=leaf[0]
        )


def seven_leaves(batch_holders, tag="batch"):
    return [make_leaf(batch_holders[i % len(batch_holders)], f"{tag} licence {i}") for i in range(7)]


@pytest.fixture
def batch(licenses, uni, batch_holders):
    """Seven licences for the four holders, issued by EDU-UNI as one batch."""
    return Batch(seven_leaves(batch_holders)).issue(licenses, uni)


def claim(licenses, batch, index, sender):
    """Claims leaf `index` and checks return value, event and stored licence."""
    lic = batch.licence(licenses, index)
    holder, _, valid_from, valid_until, _ = lic.leaf

    tx = licenses.claim(batch.agency, batch.root, lic.leaf, batch.proof(index), {"from": sender})

    assert plain(tx.return_value) == lic.id
    assert_event(tx, "LicenseClaimed", licenceId=lic.id, holder=holder, root=batch.root)
    assert "LicenseIssued" not in tx.events
    assert plain(licenses.licence(lic.id))[:4] == (holder, UNIVERSITY, valid_from, valid_until)
    lic.tx = tx
    return lic


def heads(licenses, holder):
    record = plain(licenses.holderRecord(holder))
    return record[0], record[1]


def account_of(batch_holders, address):
    return next(h for h in batch_holders if h.address == address_of(address))


def check_batched(
    licenses, inspector, batch, index, expected, signer, holder=None, agency=UNIVERSITY, leaf=None, proof=None,
    presentation=None,
):
    """Runs checkBatched as call and transaction; checks verdict, LicenseChecked and the access-log head."""
    lic = batch.licence(licenses, index)
    leaf = lic.leaf if leaf is None else leaf
    proof = batch.proof(index) if proof is None else proof
    holder = signer if holder is None else holder
    presentation = presentation or Presentation(licenses, signer, licence_id(licenses, leaf[1], batch.agency))
    lid = presentation.licence  # the access log names the licence the holder signed for
    args = (
        holder, agency, batch.agency, batch.root, leaf, proof, presentation.struct, presentation.signature,
        {"from": inspector},
    )
    _, before = heads(licenses, holder)

    assert licenses.checkBatched.call(*args) == expected
    tx = licenses.checkBatched(*args)

    head = extend(before, access_entry(inspector, lid, expected, tx.block_number))
    assert tx.return_value == expected
    assert_event(
        tx, "LicenseChecked", holder=holder, licenceId=lid, inspector=inspector, result=expected, accessHead=head
    )
    assert heads(licenses, holder)[1] == head
    return SimpleNamespace(tx=tx, events=tx.events, presentation=presentation)


# ---------------------------------------------------------------- leaves


def test_batch_leaf_hash_is_the_standard_tree_leaf(licenses, batch):
    for index, leaf in enumerate(batch.leaves):
        assert plain(licenses.batchLeafHash(leaf)) == leaf_hash(BATCH_LEAF, leaf)
        assert plain(licenses.batchLeafHash(leaf)) == batch.tree.leaf(index)


def test_batch_leaf_hash_covers_every_field(licenses, batch_holders):
    base = make_leaf(batch_holders[0], "base", valid_from=10, valid_until=20)
    variants = [
        (address_of(batch_holders[1]),) + base[1:],
        base[:1] + (data_hash("other"),) + base[2:],
        base[:2] + (11,) + base[3:],
        base[:3] + (21,) + base[4:],
        base[:4] + (keccak(text="other ciphertext"),),
    ]

    hashes = {plain(licenses.batchLeafHash(leaf)) for leaf in [base] + variants}

    assert len(hashes) == 6


# ---------------------------------------------------------------- issueBatch


def test_accredited_signer_issues_a_batch(licenses, uni, batch_holders):
    batch = Batch(seven_leaves(batch_holders))

    tx = licenses.issueBatch(batch.root, 7, BUNDLE, {"from": uni})

    assert_event(tx, "LicenseBatchIssued", root=batch.root, agency=UNIVERSITY, count=7, bundleHash=BUNDLE)
    assert plain(licenses.batch(batch.agency, batch.root)) == (UNIVERSITY, 7, tx.timestamp, tx.block_number)


def test_batch_stores_nothing_per_licence(licenses, batch, batch_holders):
    for index in range(len(batch)):
        lid = batch.licence(licenses, index).id
        assert licenses.statusOf(lid) == Status.NONE
        assert plain(licenses.licence(lid))[0] == ZERO_ADDRESS
    for holder in batch_holders:
        assert heads(licenses, holder) == (ZERO32, ZERO32)


def test_second_signer_of_the_agency_issues_a_batch(licenses, signers, batch_holders):
    batch = Batch(seven_leaves(batch_holders)).issue(licenses, signers["uni2"])

    assert plain(licenses.batch(batch.agency, batch.root))[:2] == (UNIVERSITY, 7)


def test_parent_agency_issues_under_its_own_code(licenses, signers, batch_holders):
    batch = Batch(seven_leaves(batch_holders)).issue(licenses, signers["ministry"])

    assert plain(licenses.batch(batch.agency, batch.root))[0] == MINISTRY


def test_unknown_batch_is_all_zero(licenses):
    assert plain(licenses.batch(UNIVERSITY, keccak(text="no such root"))) == (ZERO32, 0, 0, 0)


@pytest.mark.parametrize("caller", ["stranger", "health", "holder"])
def test_unaccredited_caller_cannot_issue_a_batch(licenses, signers, stranger, holder, batch_holders, caller):
    account = {"stranger": stranger, "health": signers["health"], "holder": holder}[caller]
    batch = Batch(seven_leaves(batch_holders))

    with refused("LicenseNotAccredited", account, DEGREE):
        licenses.issueBatch(batch.root, 7, BUNDLE, {"from": account})


@pytest.mark.parametrize("suspended", [UNIVERSITY, MINISTRY], ids=["agency", "parent"])
def test_suspended_agency_cannot_issue_a_batch(licenses, enact, uni, batch_holders, suspended):
    enact("proposeSuspendAgency", suspended)
    batch = Batch(seven_leaves(batch_holders))

    with refused("LicenseNotAccredited", uni, DEGREE):
        licenses.issueBatch(batch.root, 7, BUNDLE, {"from": uni})


def test_batch_with_zero_root_is_invalid(licenses, uni):
    with refused("LicenseBatchInvalid"):
        licenses.issueBatch(ZERO32, 7, BUNDLE, {"from": uni})


def test_batch_with_zero_count_is_invalid(licenses, uni, batch_holders):
    batch = Batch(seven_leaves(batch_holders))

    with refused("LicenseBatchInvalid"):
        licenses.issueBatch(batch.root, 0, BUNDLE, {"from": uni})


def test_replayed_batch_is_refused(licenses, uni, batch):
    with refused("LicenseBatchExists", UNIVERSITY, batch.root):
        licenses.issueBatch(batch.root, 7, BUNDLE, {"from": uni})


def test_another_agency_cannot_take_over_an_issued_batch(licenses, signers, batch):
    """Changed with issue 12: another agency's copy of the root is its own batch, not a refusal."""
    copy = licenses.issueBatch(batch.root, 7, keccak(text="another bundle"), {"from": signers["other"]})

    assert_event(copy, "LicenseBatchIssued", root=batch.root, agency=OTHER_UNI, count=7,
                 bundleHash=keccak(text="another bundle"))
    assert plain(licenses.batch(UNIVERSITY, batch.root))[:2] == (UNIVERSITY, 7)
    assert plain(licenses.batch(OTHER_UNI, batch.root))[:2] == (OTHER_UNI, 7)
    assert plain(licenses.batch(UNIVERSITY, batch.root))[3] == batch.tx.block_number


# ---------------------------------------------------------------- claim


def test_anyone_claims_a_batched_licence(licenses, batch, stranger):
    lic = claim(licenses, batch, 0, stranger)

    assert licenses.statusOf(lic.id) == Status.ACTIVE
    assert plain(licenses.licence(lic.id))[4] == Status.ACTIVE


def test_every_licence_of_the_batch_is_claimed(licenses, batch, batch_holders):
    for index in range(len(batch)):
        lic = claim(licenses, batch, index, account_of(batch_holders, batch.leaves[index][0]))
        assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_claim_writes_no_record_history_entry(licenses, batch, stranger):
    """Batched licences leave the holder's record history untouched until a status change."""
    lic = claim(licenses, batch, 0, stranger)

    assert heads(licenses, lic.holder) == (ZERO32, ZERO32)


def test_claim_from_an_unknown_batch_is_refused(licenses, batch_holders, stranger):
    batch = Batch(seven_leaves(batch_holders))  # never issued

    with refused("LicenseBatchUnknown", UNIVERSITY, batch.root):
        licenses.claim(UNIVERSITY, batch.root, batch.leaves[0], batch.proof(0), {"from": stranger})


@pytest.mark.parametrize("field", ["holder", "dataHash", "validFrom", "validUntil", "ciphertextHash"])
def test_claim_with_an_altered_leaf_is_refused(licenses, batch, batch_holders, stranger, field):
    leaf = list(batch.leaves[0])
    position = ["holder", "dataHash", "validFrom", "validUntil", "ciphertextHash"].index(field)
    leaf[position] = {
        "holder": address_of(batch_holders[1]),
        "dataHash": data_hash("forged"),
        "validFrom": leaf[2] - 1,
        "validUntil": leaf[3] + YEAR,
        "ciphertextHash": keccak(text="forged ciphertext"),
    }[field]

    with refused("LicenseBatchProofInvalid", batch.root):
        licenses.claim(UNIVERSITY, batch.root, leaf, batch.proof(0), {"from": stranger})
    assert licenses.statusOf(licence_id(licenses, leaf[1], UNIVERSITY)) == Status.NONE


def test_claim_with_a_wrong_proof_is_refused(licenses, batch, stranger):
    for bad in (batch.proof(1), [], batch.proof(0)[:-1], [keccak(text="junk")] + batch.proof(0)[1:]):
        with refused("LicenseBatchProofInvalid", batch.root):
            licenses.claim(UNIVERSITY, batch.root, batch.leaves[0], bad, {"from": stranger})


def test_claim_against_another_batch_is_refused(licenses, uni, batch, batch_holders, stranger):
    other = Batch(seven_leaves(batch_holders, tag="other batch")).issue(licenses, uni)

    with refused("LicenseBatchProofInvalid", other.root):
        licenses.claim(UNIVERSITY, other.root, batch.leaves[0], batch.proof(0), {"from": stranger})


@pytest.mark.parametrize("who", ["unregistered", "inspector"])
def test_claim_for_a_non_holder_is_refused(licenses, uni, batch_holders, unregistered, inspector, stranger, who):
    account = {"unregistered": unregistered, "inspector": inspector}[who]
    batch = Batch(seven_leaves(batch_holders)[:6] + [make_leaf(account, "not a holder")]).issue(licenses, uni)

    with refused("LicenseHolderUnknown", account):
        licenses.claim(UNIVERSITY, batch.root, batch.leaves[6], batch.proof(6), {"from": stranger})
    # The rest of the batch is unaffected.
    claim(licenses, batch, 0, stranger)


def test_claiming_twice_is_refused(licenses, batch, stranger):
    lic = claim(licenses, batch, 3, stranger)

    with refused("LicenseAlreadyIssued", lic.id):
        licenses.claim(UNIVERSITY, batch.root, lic.leaf, batch.proof(3), {"from": stranger})


def test_claim_of_a_data_hash_issued_singly_is_refused(licenses, uni, batch, stranger):
    lic = batch.licence(licenses, 0)
    now = latest_timestamp()
    licenses.issue(lic.holder, lic.data_hash, now - 60, now + YEAR, b"ciphertext", {"from": uni})

    with refused("LicenseAlreadyIssued", lic.id):
        licenses.claim(UNIVERSITY, batch.root, lic.leaf, batch.proof(0), {"from": stranger})


def test_claim_into_a_closed_record_is_refused(civil, licenses, uni, batch_holders, stranger):
    closed = batch_holders[2]
    licenses.closeRecord(closed, CLOSE_DEATH, keccak(text="death certificate"), {"from": civil})
    # A batch issued after the closure still names the closed holder (issueBatch cannot see holders).
    batch = Batch([make_leaf(closed, "after closure")] + seven_leaves(batch_holders)[:6]).issue(licenses, uni)

    with refused("LicenseRecordClosed", closed):
        licenses.claim(UNIVERSITY, batch.root, batch.leaves[0], batch.proof(0), {"from": stranger})


def test_batched_licence_in_a_closed_record_checks_as_record_closed(civil, licenses, uni, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 0)
    holder = account_of(batch_holders, lic.holder)
    licenses.closeRecord(holder, CLOSE_DEATH, keccak(text="death certificate"), {"from": civil})

    check_batched(licenses, inspector, batch, 0, CheckResult.RECORD_CLOSED, holder)


def test_licence_of_a_batch_is_claimed_after_its_agency_was_suspended(licenses, enact, batch, stranger):
    """Issued while accredited: like a single licence, it stays valid when the agency is suspended."""
    enact("proposeSuspendAgency", UNIVERSITY)

    lic = claim(licenses, batch, 0, stranger)

    assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_claimed_licence_of_a_batch_is_a_licence_like_any_other(licenses, uni, batch, stranger):
    lic = claim(licenses, batch, 0, stranger)

    licenses.suspend(lic.id, 1, {"from": uni})
    assert licenses.statusOf(lic.id) == Status.SUSPENDED
    licenses.reinstate(lic.id, {"from": uni})
    assert licenses.statusOf(lic.id) == Status.ACTIVE
    now = latest_timestamp()
    renewed = licenses.renew(lic.id, data_hash("renewal"), now, now + YEAR, b"ciphertext", {"from": uni})
    assert plain(renewed.events["LicenseIssued"]["previous"]) == lic.id
    assert licenses.statusOf(lic.id) == Status.RENEWED


def test_unclaimed_licence_cannot_be_revoked(licenses, uni, batch):
    lic = batch.licence(licenses, 0)

    with refused("LicenseUnknown", lic.id):
        licenses.revoke(lic.id, 1, {"from": uni})


def test_other_agency_cannot_revoke_a_claimed_licence(licenses, signers, batch, stranger):
    lic = claim(licenses, batch, 0, stranger)

    with refused("LicenseNotIssuer", lic.id, signers["other"]):
        licenses.revoke(lic.id, 1, {"from": signers["other"]})


def test_one_licence_of_a_batch_is_revoked_on_its_own(licenses, uni, inspector, batch, batch_holders, stranger):
    revoked = claim(licenses, batch, 0, stranger)
    tx = licenses.revoke(revoked.id, 1, {"from": uni})

    assert licenses.statusOf(revoked.id) == Status.REVOKED
    # The record history holds the revocation only: the claim wrote no entry.
    revocation = record_entry(RecordKind.REVOKED, revoked.id, tx.block_number)
    assert heads(licenses, revoked.holder)[0] == extend(ZERO32, revocation)
    # Every other licence of the batch is untouched.
    for index in range(1, len(batch)):
        other = batch.licence(licenses, index)
        signer = account_of(batch_holders, other.holder)
        check_batched(licenses, inspector, batch, index, CheckResult.VALID, signer)
    check_batched(licenses, inspector, batch, 0, CheckResult.REVOKED, account_of(batch_holders, revoked.holder))


# ---------------------------------------------------------------- checkBatched


def test_unclaimed_licence_checks_valid_and_gets_claimed(licenses, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 2)
    signer = account_of(batch_holders, lic.holder)

    tx = check_batched(licenses, inspector, batch, 2, CheckResult.VALID, signer)

    assert_event(tx, "LicenseClaimed", licenceId=lic.id, holder=lic.holder, root=batch.root)
    assert plain(licenses.licence(lic.id))[:3] == (lic.holder, UNIVERSITY, lic.leaf[2])
    assert licenses.statusOf(lic.id) == Status.ACTIVE
    assert licenses.presentationUsed(tx.presentation.digest)


def test_claimed_licence_checks_valid_without_a_proof(licenses, inspector, batch, batch_holders, stranger):
    lic = claim(licenses, batch, 1, stranger)

    signer = account_of(batch_holders, lic.holder)
    tx = check_batched(licenses, inspector, batch, 1, CheckResult.VALID, signer, proof=[])

    assert "LicenseClaimed" not in tx.events


@pytest.mark.parametrize("bad", ["other leaf's proof", "empty proof"])
def test_bad_proof_checks_as_unknown_licence(licenses, inspector, batch, batch_holders, bad):
    lic = batch.licence(licenses, 4)
    proof = {"other leaf's proof": batch.proof(5), "empty proof": []}[bad]

    tx = check_batched(
        licenses, inspector, batch, 4, CheckResult.UNKNOWN_LICENCE, account_of(batch_holders, lic.holder), proof=proof
    )

    assert "LicenseClaimed" not in tx.events
    assert licenses.statusOf(lic.id) == Status.NONE
    # The licence itself is fine: with its proof (and a fresh presentation) it checks Valid.
    check_batched(licenses, inspector, batch, 4, CheckResult.VALID, account_of(batch_holders, lic.holder))


def test_altered_leaf_checks_as_unknown_licence(licenses, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 0)
    longer = lic.leaf[:3] + (lic.leaf[3] + YEAR,) + lic.leaf[4:]

    tx = check_batched(
        licenses, inspector, batch, 0, CheckResult.UNKNOWN_LICENCE, account_of(batch_holders, lic.holder), leaf=longer
    )

    assert "LicenseClaimed" not in tx.events
    assert licenses.statusOf(lic.id) == Status.NONE


def test_leaf_of_an_unknown_batch_checks_as_unknown_licence(licenses, inspector, batch_holders):
    batch = Batch(seven_leaves(batch_holders))  # never issued
    lic = batch.licence(licenses, 0)

    signer = account_of(batch_holders, lic.holder)
    tx = check_batched(licenses, inspector, batch, 0, CheckResult.UNKNOWN_LICENCE, signer)

    assert "LicenseClaimed" not in tx.events


def test_leaf_for_an_unregistered_holder_checks_as_unknown_licence(
    licenses, uni, inspector, batch_holders, unregistered
):
    batch = Batch(seven_leaves(batch_holders)[:6] + [make_leaf(unregistered, "unregistered")]).issue(licenses, uni)

    tx = check_batched(licenses, inspector, batch, 6, CheckResult.UNKNOWN_LICENCE, unregistered)

    assert "LicenseClaimed" not in tx.events
    assert licenses.statusOf(batch.licence(licenses, 6).id) == Status.NONE


def test_revoked_batched_licence_checks_as_revoked(licenses, uni, inspector, batch, batch_holders, stranger):
    lic = claim(licenses, batch, 0, stranger)
    licenses.revoke(lic.id, 1, {"from": uni})

    check_batched(licenses, inspector, batch, 0, CheckResult.REVOKED, account_of(batch_holders, lic.holder))


def test_suspended_batched_licence_checks_as_suspended(licenses, uni, inspector, batch, batch_holders, stranger):
    lic = claim(licenses, batch, 0, stranger)
    licenses.suspend(lic.id, 1, {"from": uni})

    check_batched(licenses, inspector, batch, 0, CheckResult.SUSPENDED, account_of(batch_holders, lic.holder))


@pytest.mark.parametrize("expected_agency", [OTHER_UNI, MINISTRY, ZERO32])
def test_wrong_agency_code_checks_as_wrong_issuer(licenses, inspector, batch, batch_holders, expected_agency):
    lic = batch.licence(licenses, 0)

    check_batched(
        licenses, inspector, batch, 0, CheckResult.WRONG_ISSUER, account_of(batch_holders, lic.holder),
        agency=expected_agency,
    )

    # The proof held, so the licence was claimed even though this check failed.
    assert licenses.statusOf(lic.id) == Status.ACTIVE


def test_replayed_batched_presentation_checks_as_replayed(licenses, inspector, batch, batch_holders):
    signer = account_of(batch_holders, batch.leaves[0][0])
    first = check_batched(licenses, inspector, batch, 0, CheckResult.VALID, signer)

    check_batched(
        licenses, inspector, batch, 0, CheckResult.PRESENTATION_REPLAYED, signer, presentation=first.presentation
    )


def test_batched_licence_of_another_holder_checks_as_wrong_holder(licenses, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 0)
    impostor = next(h for h in batch_holders if h.address != lic.holder)

    check_batched(licenses, inspector, batch, 0, CheckResult.WRONG_HOLDER, impostor)


def test_presentation_signed_by_someone_else_checks_as_bad_signature(licenses, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 0)
    impostor = next(h for h in batch_holders if h.address != lic.holder)
    forged = Presentation(licenses, impostor, lic.id)

    check_batched(
        licenses, inspector, batch, 0, CheckResult.BAD_SIGNATURE, impostor,
        holder=account_of(batch_holders, lic.holder), presentation=forged,
    )


def test_batched_licence_past_its_end_checks_as_expired(licenses, uni, inspector, batch_holders):
    now = latest_timestamp()
    expired = make_leaf(batch_holders[0], "expired", valid_from=now - 2 * YEAR, valid_until=now - 10)
    batch = Batch(seven_leaves(batch_holders)[:6] + [expired]).issue(licenses, uni)

    check_batched(licenses, inspector, batch, 6, CheckResult.EXPIRED, batch_holders[0])

    assert licenses.statusOf(batch.licence(licenses, 6).id) == Status.EXPIRED


def test_batched_licence_expires_with_time(licenses, inspector, batch, batch_holders):
    lic = batch.licence(licenses, 0)
    chain.sleep(YEAR + 10)
    chain.mine()

    check_batched(licenses, inspector, batch, 0, CheckResult.EXPIRED, account_of(batch_holders, lic.holder))


def test_future_batched_licence_checks_as_not_yet_valid(licenses, uni, inspector, batch_holders):
    start = latest_timestamp() + 1000
    future = make_leaf(batch_holders[1], "future", valid_from=start, valid_until=start + YEAR)
    batch = Batch(seven_leaves(batch_holders)[:6] + [future]).issue(licenses, uni)

    check_batched(licenses, inspector, batch, 6, CheckResult.NOT_YET_VALID, batch_holders[1])


@pytest.mark.parametrize("caller", ["holder", "uni", "stranger"])
def test_only_inspectors_may_check_batched(licenses, batch, batch_holders, signers, stranger, caller):
    lic = batch.licence(licenses, 0)
    signer = account_of(batch_holders, lic.holder)
    account = {"holder": signer, "uni": signers["uni"], "stranger": stranger}[caller]
    presentation = Presentation(licenses, signer, lic.id)

    with refused("LicenseNotInspector", account):
        licenses.checkBatched(
            signer, UNIVERSITY, UNIVERSITY, batch.root, lic.leaf, batch.proof(0), presentation.struct,
            presentation.signature,
            {"from": account},
        )
    assert licenses.statusOf(lic.id) == Status.NONE
    assert not licenses.presentationUsed(presentation.digest)
