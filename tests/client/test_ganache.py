"""Backend parity: the same core flow and the same refusals on Ganache and on Anvil.

Like web3.py's ``EthModuleTest``, one suite runs unchanged on every backend: the ``backend`` fixture
starts a fresh node of each kind (on a free port, stopped by its own pid) with its own deployment,
so the two runs differ in nothing but the node.
"""

from __future__ import annotations

import pytest

from conftest import FIELDS, unique_code
from elicense import Client, Conflict, NotAllowed, NotFound, types
from elicense.chain import account_from_key
from elicense.crypto import new_account
from elicense.nodes import LocalChain, dev_key
from elicense.wallet import Wallet


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def backend(request, tmp_path_factory):
    """(node kind, admin client, authorities) on a fresh node of that kind, nothing deployed yet."""
    node = LocalChain(kind=request.param, port=0).start()
    try:
        root = tmp_path_factory.mktemp(request.param)
        authorities = [account_from_key(dev_key(i)) for i in range(3)]
        admin = Client.connect(node.url, sender=authorities[0], deployments_dir=root / "deployments",
                               wallet=Wallet(root / "keystore"))
        yield request.param, admin, authorities
    finally:
        node.stop()


@pytest.fixture(scope="module")
def world(backend):
    """Deployed contracts, an agency accredited for degrees, a holder and an inspector."""
    kind, admin, authorities = backend
    deployment = admin.deploy_all(authorities=[a.address for a in authorities])
    people = {role: new_account() for role in ("signer", "holder", "inspector")}
    for role, account in people.items():
        admin.register_user(role, {"signer": "issuer"}.get(role, role), account=account)
    code = unique_code("EDU")
    signers = [people["signer"].address]
    proposal = admin.issuers.propose_add_agency(authorities[0], code, "University", signers, ["degree"])
    approved = admin.issuers.approve(authorities[1], proposal.proposal_id)
    admin.with_sender(people["signer"]).authorise_inspector("degree", people["inspector"].address)
    return {"kind": kind, "admin": admin, "deployment": deployment, "code": code, "approved": approved, **people}


def test_the_core_flow_runs_end_to_end(world):
    admin, code, holder, signer = world["admin"], world["code"], world["holder"], world["signer"]

    # deploy + accredit
    assert Client(admin.chain, deployments_dir=admin.deployments_dir).deployment == world["deployment"]
    assert world["approved"].executed and admin.issuers.agency(code).status == "active"
    # register
    assert admin.identities.role(holder.address) == "holder"
    assert admin.query_public_key(holder.address) == admin.identities.identity(holder.address).public_key
    # issue
    issued = admin.with_sender(signer).send_certification(holder.address, code, "degree", FIELDS)
    # query + decrypt
    found = admin.query_licence(holder.address, issued.block_number, issued.tx_hash)
    document = found.decrypt(holder.key)
    assert document.fields == FIELDS
    assert found.data_hash == issued.data_hash == "0x" + document.data_hash.hex()
    # present + check valid
    inspector = admin.with_sender(world["inspector"])
    valid = inspector.check(holder.address, code, admin.present(holder, found, ["degree"]))
    assert valid.valid and valid.result == "valid" and valid.fields == {"degree": "MSc"}
    # revoke + check invalid
    admin.with_sender(signer).revoke("degree", issued.licence_id, 1)
    assert admin.licences("degree").licence(types.bytes32(issued.licence_id)).status == "revoked"
    invalid = inspector.check(holder.address, code, admin.present(holder, found))
    assert not invalid.valid
    assert (invalid.failed_step.name, invalid.failed_step.code, invalid.result) == ("status", "revoked", "revoked")


def test_contract_refusals_decode_to_the_same_errors(world):
    admin, code, holder, signer = world["admin"], world["code"], world["holder"], world["signer"]
    agency = admin.with_sender(signer)
    head = admin.chain.w3.eth.block_number

    with pytest.raises(NotAllowed, match=f"{signer.address} does not sign for an agency accredited for marriage"):
        agency.send_certification(holder.address, code, "marriage", FIELDS)
    with pytest.raises(NotFound, match=f"{world['inspector'].address} is not a registered holder"):
        agency.send_certification(world["inspector"].address, code, "degree", FIELDS)
    with pytest.raises(NotAllowed, match=f"{signer.address} is not a governing authority"):
        admin.issuers.propose_suspend(signer, code)
    with pytest.raises(Conflict, match=f"{holder.address} is already registered"):
        admin.register_user("again", "holder", account=holder)

    assert admin.chain.w3.eth.block_number == head  # refused before anything was sent


def test_status_changes_and_queries_behave_the_same(world):
    admin, code, holder, signer = world["admin"], world["code"], world["holder"], world["signer"]
    agency = admin.with_sender(signer)
    issued = agency.send_certification(holder.address, code, "degree", {"degree": "BSc"})
    licence_id = issued.licence_id

    refusal = f"{holder.address} does not sign for the agency that issued licence {licence_id}"
    with pytest.raises(NotAllowed, match=refusal):
        admin.with_sender(holder).revoke("degree", licence_id)
    agency.suspend("degree", licence_id, 1)
    with pytest.raises(Conflict, match=f"licence {licence_id} is suspended"):
        agency.suspend("degree", licence_id, 1)
    agency.reinstate("degree", licence_id)
    assert admin.licences("degree").licence(types.bytes32(licence_id)).status == "active"
    with pytest.raises(NotFound, match=f"is in block {issued.block_number}, not {issued.block_number + 1}"):
        admin.query_licence(holder.address, issued.block_number + 1, issued.tx_hash)


def test_a_replayed_presentation_is_refused(world):
    admin, code, holder, signer = world["admin"], world["code"], world["holder"], world["signer"]
    issued = admin.with_sender(signer).send_certification(holder.address, code, "degree", {"degree": "PhD"})
    shown = admin.present(holder, admin.query_licence(holder.address, issued.block_number, issued.tx_hash))
    inspector = admin.with_sender(world["inspector"])

    assert inspector.check(holder.address, code, shown).valid
    again = inspector.check(holder.address, code, shown)

    assert (again.failed_step.code, again.result) == ("presentation-replayed", "presentation-replayed")
