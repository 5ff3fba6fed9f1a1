"""The demo: one local chain, every contract, five agencies, two holders, an inspector, one licence
of each type, a passing and a failing check; prints what happened and stops the chain it started."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .chain import account_from_key
from .client import Client
from .nodes import LocalChain, dev_key, free_port
from .wallet import Wallet

PASSWORD = "demo"  # the sample keystores' password, printed in the summary

AGENCIES = [
    # code, display name, certificate type, holder, licence fields
    ("REG-HEL", "Helsinki Registry Office", "marriage", "alice",
     {"spouse_a": "Alice Example", "spouse_b": "Bob Example", "date": "2025-06-14", "place": "Helsinki"}),
    ("LAND-FI", "National Land Survey", "real-estate", "bob",
     {"property": "091-004-0012-0003", "owner": "Bob Example", "share": "1/1"}),
    ("EDU-UH", "University of Helsinki", "degree", "alice",
     {"name": "Alice Example", "degree": "MSc", "programme": "Physics", "conferred": "2024-05-31"}),
    ("BIZ-FI", "Business Licence Bureau", "business-licence", "bob",
     {"company": "Example Bakery Oy", "business_id": "3141592-6", "activity": "food retail"}),
    ("HEALTH-FI", "National Health Authority", "health-licence", "alice",
     {"name": "Alice Example", "profession": "registered nurse", "licence_no": "RN-20931"}),
]


def run(out: Path, node: str = "anvil", console: Console | None = None) -> dict:
    console = console or Console()
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    wallet = Wallet(out / "keystore")
    rows: list[tuple[str, str, str, str]] = []

    def note(action: str, tx, extra: str = "") -> None:
        rows.append((action, tx.tx_hash, str(tx.block_number), extra or f"{tx.gas_used:,} gas"))

    port = 8545 if _free(8545) else free_port()
    with LocalChain(kind=node, port=port, log_path=out / f"{node}.log") as chain_node:
        console.print(f"[bold]elicense demo[/]: {node} on {chain_node.url} (chain id {chain_node.chain_id})")
        authorities = [account_from_key(dev_key(i)) for i in range(3)]
        admin = Client.connect(chain_node.url, sender=authorities[0], deployments_dir=out / "deployments", wallet=wallet)
        deployment = admin.deploy_all(authorities=[a.address for a in authorities])
        console.print(f"deployed IdentityRegistry {deployment.identity_registry}, IssuerRegistry "
                      f"{deployment.issuer_registry} and {len(deployment.licence_registries)} licence registries")

        users = {}
        for name, role in [("gov-fi", "issuer")] + [(a[0].lower(), "issuer") for a in AGENCIES] + [
            ("alice", "holder"), ("bob", "holder"), ("police", "inspector")
        ]:
            users[name] = admin.register_user(name, role, password=PASSWORD)
            rows.append((f"register {name} ({role})", users[name].tx_hash, str(users[name].block_number), users[name].address))

        # Governance: three authorities, two approvals pass a proposal.
        second = admin.with_sender(authorities[1])
        proposal = admin.issuers.propose_add_agency(
            authorities[0], "FI-GOV", "Government of Finland", [users["gov-fi"].address],
            [a[2] for a in AGENCIES],
        )
        note("propose FI-GOV (root authority)", proposal.tx)
        note("approve FI-GOV (2 of 3)", second.issuers.approve(authorities[1], proposal.proposal_id).tx)
        for code, display, cert, _, _ in AGENCIES:
            p = admin.issuers.propose_add_agency(authorities[0], code, display, [users[code.lower()].address], [cert], "FI-GOV")
            note(f"accredit {code} for {cert}", second.issuers.approve(authorities[1], p.proposal_id).tx)

        issued = {}
        for code, display, cert, holder, fields in AGENCIES:
            agency = admin.with_sender(wallet.load(code.lower(), PASSWORD))
            licence = agency.send_certification(users[holder].address, code, cert, fields)
            issued[code] = licence
            note(f"issue {cert} to {holder} ({code})", licence, f"{licence.gas_used:,} gas, licence {licence.licence_id[:10]}…")

        alice = wallet.load("alice", PASSWORD)
        bob = wallet.load("bob", PASSWORD)
        inspector = admin.with_sender(wallet.load("police", PASSWORD))

        # A passing check: Alice shows her degree, disclosing only the degree and programme.
        degree = admin.query_licence(alice.address, issued["EDU-UH"].block_number, issued["EDU-UH"].tx_hash)
        shown = admin.present(alice, degree, fields=["degree", "programme"])
        (out / "alice-degree.presentation.json").write_text(shown.dumps())
        passing = inspector.check(alice.address, "EDU-UH", shown)

        # A failing check: the bureau revokes Bob's business licence, then Bob shows it anyway.
        bureau = admin.with_sender(wallet.load("biz-fi", PASSWORD))
        note("revoke Bob's business licence", bureau.revoke("business-licence", issued["BIZ-FI"].licence_id, 1))
        business = admin.query_licence(bob.address, issued["BIZ-FI"].block_number, issued["BIZ-FI"].tx_hash)
        failing = inspector.check(bob.address, "BIZ-FI", admin.present(bob, business))

    table = Table("action", "transaction", "block", "detail", title="What the demo did")
    for row in rows:
        table.add_row(row[0], row[1][:18] + "…", row[2], row[3])
    console.print(table)
    for title, verdict in (("Alice shows her degree (degree, programme)", passing),
                           ("Bob shows his revoked business licence", failing)):
        steps = Table("step", "status", "reason", title=title)
        for s in verdict.steps:
            colour = {"valid": "green", "invalid": "red", "error": "red"}.get(s.status, "dim")
            steps.add_row(s.name, f"[{colour}]{s.status}[/]", s.reason)
        console.print(steps)
        console.print(f"  verdict [bold]{'VALID' if verdict.valid else 'INVALID'}[/], inspection recorded in tx "
                      f"{verdict.tx_hash} (block {verdict.block_number}); fields shown: {verdict.fields}")
    console.print(f"keystores in {out / 'keystore'} (password '{PASSWORD}'), deployment in {out / 'deployments'}; "
                  f"chain stopped; {time.monotonic() - started:.1f} s")
    return {"passing": passing, "failing": failing, "issued": issued}


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
