"""Gas per operation, measured on a fresh Anvil through the same client the CLI uses.

Writes bench/results/gas.json with stable keys; the README quotes the table. Run: `make bench`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from elicense import Client
from elicense.batch import BatchRow, batch_args
from elicense.chain import account_from_key
from elicense.crypto import new_account
from elicense.licence import LicenceDocument
from elicense.nodes import LocalChain, dev_key
from elicense.wallet import Wallet

OUT = Path(__file__).parent / "results" / "gas.json"
CIPHERTEXT = os.urandom(300)  # the issue's reference size: a 300-byte ciphertext


def measure(kind: str = "anvil") -> dict:
    gas: dict[str, int] = {}
    with LocalChain(kind=kind) as node, tempfile.TemporaryDirectory() as tmp:
        authorities = [account_from_key(dev_key(i)) for i in range(3)]
        client = Client.connect(node.url, sender=authorities[0], deployments_dir=Path(tmp), wallet=Wallet(tmp))
        chain = client.chain

        identity, tx = chain.deploy("IdentityRegistry", [], authorities[0])
        gas["deploy_identity_registry"] = tx.gas_used
        issuers, tx = chain.deploy("IssuerRegistry", [[a.address for a in authorities], identity.address], authorities[0])
        gas["deploy_issuer_registry"] = tx.gas_used
        registry, tx = chain.deploy("LicenseRegistry", [3, identity.address, issuers.address], authorities[0])
        gas["deploy_licence_registry"] = tx.gas_used
        client.deploy_all(authorities=[a.address for a in authorities])  # the client's own deployment, all types

        signer = new_account()
        users = {"signer": client.register_user("signer", "issuer", account=signer)}
        gas["register"] = client.chain.w3.eth.get_transaction_receipt(users["signer"].tx_hash)["gasUsed"]
        holders = [new_account() for _ in range(3)]
        for i, h in enumerate(holders):
            client.register_user(f"h{i}", "holder", account=h)
        inspector = new_account()
        client.register_user("inspector", "inspector", account=inspector)

        # The shape of a real deployment: a root authority agency, and the university below it.
        root_signer = new_account()
        client.register_user("root", "issuer", account=root_signer)
        root = client.issuers.propose_add_agency(authorities[0], "FI-GOV", "Government", [root_signer.address], ["degree"])
        client.issuers.approve(authorities[1], root.proposal_id)
        proposal = client.issuers.propose_add_agency(
            authorities[0], "EDU-UH", "University", [signer.address], ["degree"], "FI-GOV")
        gas["propose_add_agency"] = proposal.tx.gas_used
        gas["approve_and_execute_add_agency"] = client.with_sender(authorities[1]).issuers.approve(
            authorities[1], proposal.proposal_id).tx.gas_used
        suspend = client.issuers.propose_suspend(authorities[0], "EDU-UH")
        gas["propose_suspend_agency"] = suspend.tx.gas_used
        gas["approve_and_execute_suspend"] = client.issuers.approve(authorities[1], suspend.proposal_id).tx.gas_used
        reinstate = client.issuers.propose_reinstate(authorities[0], "EDU-UH")
        client.issuers.approve(authorities[1], reinstate.proposal_id)

        licences = client.licences("degree")
        gas["authorise_inspector"] = licences.authorise_inspector(signer, inspector.address).gas_used

        def issue(holder):
            doc = LicenceDocument.new(3, "EDU-UH", holder.address, {"degree": "MSc"}, 0, 2**40 - 1)
            return licences.issue(signer, holder.address, doc.data_hash, 0, 2**40 - 1, CIPHERTEXT)

        gas["issue_first_by_agency"] = issue(holders[0]).gas_used  # also files the agency in the registry
        gas["issue_first_for_holder"] = issue(holders[1]).gas_used
        steady = issue(holders[1])
        gas["issue"] = steady.gas_used  # the usual case: a holder already on record
        doc = LicenceDocument.new(3, "EDU-UH", holders[1].address, {"degree": "PhD"}, 0, 2**40 - 1)
        renewed = licences.renew(signer, bytes.fromhex(steady.licence_id[2:]), doc.data_hash, 0, 2**40 - 1, CIPHERTEXT)
        gas["renew"] = renewed.gas_used
        target = bytes.fromhex(renewed.licence_id[2:])
        gas["suspend"] = licences.suspend(signer, target, 1).gas_used
        gas["reinstate"] = licences.reinstate(signer, target).gas_used
        gas["revoke"] = licences.revoke(signer, target, 2).gas_used

        # a batch of 100 (one slot whatever its size), then one of its licences claimed into storage
        rows = [BatchRow(holders[i % 3].address, {"degree": "BSc", "n": str(i)}) for i in range(100)]
        batch = client.with_sender(signer).issue_batch("degree", "EDU-UH", rows)
        gas["issue_batch_100"] = batch.gas_used
        mine = [q for q in client.licences_of(holders[0].address) if q.batch]
        gas["claim"] = licences.claim(signer, *batch_args(mine[0].batch)).gas_used

        # check: a valid, freshly signed presentation, recorded in the holder's access log
        other = client.with_sender(signer).send_certification(holders[2].address, "EDU-UH", "degree", {"degree": "MSc"})
        found = client.query_licence(holders[2].address, other.block_number, other.tx_hash)
        p = client.present(holders[2], found)
        from elicense.licence import disclosure_hash

        data_hash, _ = disclosure_hash(p.disclosure)
        result, _, tx = licences.check(inspector, holders[2].address, b"EDU-UH".ljust(32, b"\0"), data_hash,
                                       p.signed_tuple(), bytes.fromhex(p.signature[2:]))
        assert result == "valid", result
        gas["check"] = tx.gas_used
        # closing a record is a civil registry's act (capability bit 0, named by the authorities)
        registrar = new_account()
        client.register_user("registrar", "issuer", account=registrar)
        civil = client.issuers.propose_add_agency(authorities[0], "FI-DVV", "Population Register", [registrar.address],
                                                  ["civil-registry"])
        client.issuers.approve(authorities[1], civil.proposal_id)
        gas["close_record"] = licences.close_record(registrar, holders[0].address, 1).gas_used
        assert other.licence_id
    return gas


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "anvil"
    gas = measure(kind)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    result = {"node": kind, "ciphertext_bytes": len(CIPHERTEXT), "python": platform.python_version(), "gas": gas}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    table = Table("operation", "gas", title=f"gas per operation ({kind}, {len(CIPHERTEXT)}-byte ciphertext)")
    for key, value in gas.items():
        table.add_row(key, f"{value:,}")
    Console().print(table)
    print(f"wrote {OUT}")
    print("\n| operation | gas |\n|---|---:|")
    for key, value in gas.items():
        print(f"| {key} | {value:,} |")


if __name__ == "__main__":
    main()
