"""Stateful test: random issue / renew / suspend / reinstate / revoke / close / check / sleep
sequences against a Python model of LicenseRegistry.

After every step the invariants compare `statusOf` of every licence with the model and recompute
each holder's record head and access-log head from the model's entries. Refused steps must revert
with exactly the error (and arguments) the model predicts.
"""

from brownie import chain
from brownie.test import strategy
from eth_utils import keccak

from conftest import OTHER_UNI, UNIVERSITY
from helpers import (
    Presentation,
    RecordKind,
    RESULT_FOR_STATUS,
    Status,
    access_head,
    brownie_state_machine,
    data_hash,
    latest_timestamp,
    licence_id,
    plain,
    record_head,
    refused,
)

CIPHERTEXT = b"ecies(licence)"
LONG = 10**8  # seconds: never reached in a run
SHORT = 5_000  # half a sleep step, so no status boundary falls near a point in time the test reaches
SLEEP = 10_000


class Mark:
    ACTIVE, SUSPENDED, REVOKED, RENEWED = "active", "suspended", "revoked", "renewed"


class LicenceModel:
    def __init__(self, lid, dhash, holder, agency, valid_from, valid_until):
        self.id = lid
        self.data_hash = dhash
        self.holder = holder
        self.agency = agency
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.mark = Mark.ACTIVE


class LicenceLifecycle:
    st_holder = strategy("uint8", max_value=1)
    st_signer = strategy("uint8", max_value=2)
    st_who = strategy("uint8", max_value=3)
    st_pick = strategy("uint8")
    st_term = strategy("uint8", max_value=2)
    st_reason = strategy("uint8", min_value=1, max_value=3)
    st_closer = strategy("uint8", max_value=3)

    def __init__(self, licenses, holders, signers, inspector, civil):
        self.licenses = licenses
        self.holders = holders
        # Two signers of EDU-UNI and one of EDU-OTH: rules on a licence act through a signer of its
        # own agency (st_who 0-2) or of the other one (st_who 3, refused as not the issuer).
        self.signers = [(signers["uni"], UNIVERSITY), (signers["uni2"], UNIVERSITY), (signers["other"], OTHER_UNI)]
        self.inspector = inspector
        # Only the civil registry (closer 0) may close a record; the licence agencies' signers are refused.
        self.closers = [civil] + [s for s, _ in self.signers]

    def setup(self):
        self.licences = []
        self.records = {h.address: [] for h in self.holders}
        self.accesses = {h.address: [] for h in self.holders}
        self.closed = set()
        self.serial = 0
        # One licence per holder to start from: Alice's from EDU-UNI, Bob's from EDU-OTH.
        for index, _ in enumerate(self.holders):
            self.rule_issue(holder=index, signer=2 * index, term=0)

    # ------------------------------------------------------------ model

    def status(self, lic, now):
        if lic.mark == Mark.REVOKED:
            return Status.REVOKED
        if lic.mark == Mark.RENEWED:
            return Status.RENEWED
        if lic.holder in self.closed:
            return Status.RECORD_CLOSED
        if lic.mark == Mark.SUSPENDED:
            return Status.SUSPENDED
        if now >= lic.valid_until:
            return Status.EXPIRED
        if now < lic.valid_from:
            return Status.NOT_YET_VALID
        return Status.ACTIVE

    def pick(self, index):
        return self.licences[index % len(self.licences)]

    def acting_for(self, lic, who):
        """A signer of the licence's agency (who 0-2) or of the other agency (who 3)."""
        own = [(s, a) for s, a in self.signers if a == lic.agency]
        foreign = [(s, a) for s, a in self.signers if a != lic.agency]
        return own[who % len(own)] if who < 3 else foreign[0]

    def validity(self, term):
        now = latest_timestamp()
        return [(now - 60, now + LONG), (now - 60, now + SHORT), (now + SHORT, now + LONG)][term]

    def next_data_hash(self):
        self.serial += 1
        return data_hash(f"stateful licence {self.serial}")

    def record(self, holder, kind, subject, tx):
        self.records[holder].append((kind, subject, tx.block_number))

    def add_licence(self, tx, dhash, holder, agency, valid_from, valid_until):
        lid = licence_id(self.licenses, dhash, agency)
        assert plain(tx.return_value) == lid
        self.licences.append(LicenceModel(lid, dhash, holder, agency, valid_from, valid_until))
        self.record(holder, RecordKind.ISSUED, lid, tx)

    # ------------------------------------------------------------ rules

    def rule_issue(self, holder="st_holder", signer="st_signer", term="st_term"):
        account = self.holders[holder].address
        signer, agency = self.signers[signer]
        valid_from, valid_until = self.validity(term)
        dhash = self.next_data_hash()
        args = (account, dhash, valid_from, valid_until, CIPHERTEXT, {"from": signer})
        if account in self.closed:
            with refused("LicenseRecordClosed", account):
                self.licenses.issue(*args)
            return
        tx = self.licenses.issue(*args)
        self.add_licence(tx, dhash, account, agency, valid_from, valid_until)

    def rule_renew(self, pick="st_pick", who="st_who", term="st_term"):
        old = self.pick(pick)
        signer, agency = self.acting_for(old, who)
        valid_from, valid_until = self.validity(term)
        dhash = self.next_data_hash()
        args = (old.id, dhash, valid_from, valid_until, CIPHERTEXT, {"from": signer})
        status = self.status(old, latest_timestamp())
        if agency != old.agency:
            with refused("LicenseNotIssuer", old.id, signer):
                self.licenses.renew(*args)
        elif old.mark in (Mark.REVOKED, Mark.RENEWED):
            with refused("LicenseStatusInvalid", old.id, status):
                self.licenses.renew(*args)
        elif old.holder in self.closed:
            with refused("LicenseRecordClosed", old.holder):
                self.licenses.renew(*args)
        else:
            tx = self.licenses.renew(*args)
            assert plain(tx.events["LicenseIssued"]["previous"]) == old.id
            old.mark = Mark.RENEWED
            self.add_licence(tx, dhash, old.holder, agency, valid_from, valid_until)

    def rule_suspend(self, pick="st_pick", who="st_who", reason="st_reason"):
        lic = self.pick(pick)
        signer, agency = self.acting_for(lic, who)
        status = self.status(lic, latest_timestamp())
        if agency != lic.agency:
            with refused("LicenseNotIssuer", lic.id, signer):
                self.licenses.suspend(lic.id, reason, {"from": signer})
        elif status not in (Status.ACTIVE, Status.NOT_YET_VALID):
            with refused("LicenseStatusInvalid", lic.id, status):
                self.licenses.suspend(lic.id, reason, {"from": signer})
        else:
            tx = self.licenses.suspend(lic.id, reason, {"from": signer})
            lic.mark = Mark.SUSPENDED
            self.record(lic.holder, RecordKind.SUSPENDED, lic.id, tx)

    def rule_reinstate(self, pick="st_pick", who="st_who"):
        lic = self.pick(pick)
        signer, agency = self.acting_for(lic, who)
        status = self.status(lic, latest_timestamp())
        if agency != lic.agency:
            with refused("LicenseNotIssuer", lic.id, signer):
                self.licenses.reinstate(lic.id, {"from": signer})
        elif lic.mark != Mark.SUSPENDED:
            with refused("LicenseStatusInvalid", lic.id, status):
                self.licenses.reinstate(lic.id, {"from": signer})
        elif lic.holder in self.closed:
            with refused("LicenseRecordClosed", lic.holder):
                self.licenses.reinstate(lic.id, {"from": signer})
        else:
            tx = self.licenses.reinstate(lic.id, {"from": signer})
            lic.mark = Mark.ACTIVE
            self.record(lic.holder, RecordKind.REINSTATED, lic.id, tx)

    def rule_revoke(self, pick="st_pick", who="st_who", reason="st_reason"):
        lic = self.pick(pick)
        signer, agency = self.acting_for(lic, who)
        if agency != lic.agency:
            with refused("LicenseNotIssuer", lic.id, signer):
                self.licenses.revoke(lic.id, reason, {"from": signer})
        elif lic.mark == Mark.REVOKED:
            with refused("LicenseStatusInvalid", lic.id, Status.REVOKED):
                self.licenses.revoke(lic.id, reason, {"from": signer})
        elif lic.holder in self.closed:
            with refused("LicenseRecordClosed", lic.holder):
                self.licenses.revoke(lic.id, reason, {"from": signer})
        else:
            tx = self.licenses.revoke(lic.id, reason, {"from": signer})
            lic.mark = Mark.REVOKED
            self.record(lic.holder, RecordKind.REVOKED, lic.id, tx)

    def rule_close(self, holder="st_holder", closer="st_closer", reason="st_reason"):
        account = self.holders[holder].address
        signer = self.closers[closer]
        evidence = keccak(text=f"evidence {account} {reason}")
        if closer != 0:
            with refused("LicenseNotCivilRegistry", signer):
                self.licenses.closeRecord(account, reason, evidence, {"from": signer})
            return
        if account in self.closed:
            with refused("LicenseRecordClosed", account):
                self.licenses.closeRecord(account, reason, evidence, {"from": signer})
            return
        tx = self.licenses.closeRecord(account, reason, evidence, {"from": signer})
        self.closed.add(account)
        self.record(account, RecordKind.CLOSED, evidence, tx)

    def rule_check(self, pick="st_pick"):
        lic = self.pick(pick)
        holder = next(h for h in self.holders if h.address == lic.holder)
        expected = RESULT_FOR_STATUS[self.status(lic, latest_timestamp())]
        presentation = Presentation(self.licenses, holder, lic.id)
        tx = self.licenses.check(
            lic.holder, lic.agency, lic.data_hash, presentation.struct, presentation.signature, {"from": self.inspector}
        )
        assert tx.return_value == expected
        assert tx.events["LicenseChecked"]["result"] == expected
        self.accesses[lic.holder].append((self.inspector, lic.id, expected, tx.block_number))

    def rule_sleep(self):
        chain.sleep(SLEEP)
        chain.mine()

    # ------------------------------------------------------------ invariants

    def invariant_statuses_match_the_model(self):
        now = latest_timestamp()
        for lic in self.licences:
            assert self.licenses.statusOf(lic.id) == self.status(lic, now), f"licence {lic.id.hex()[:10]}"

    def invariant_heads_recompute_from_the_model(self):
        for holder in self.holders:
            record = plain(self.licenses.holderRecord(holder))
            assert record[0] == record_head(self.records[holder.address])
            assert record[1] == access_head(self.accesses[holder.address])
            assert (record[2] != 0) == (holder.address in self.closed)


def test_licence_lifecycle_matches_the_model(state_machine, licenses, holder, other_holder, signers, inspector, civil):
    brownie_state_machine(state_machine)(
        LicenceLifecycle,
        licenses,
        [holder, other_holder],
        signers,
        inspector,
        civil,
        # No example database: replaying short examples saved by earlier runs (in ~/.brownie)
        # crowded out the full-length runs; each run now starts from fresh random sequences.
        settings={"max_examples": 25, "stateful_step_count": 10, "database": None},
    )
