// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Licence registry: one deployment per certificate type (the side chain of that type)
/// @notice Accredited agencies issue, renew, suspend, reinstate and revoke licences; a holder's
/// record can be closed with a final entry; inspections are recorded, failed ones included.
/// @dev The chain holds only a salted commitment to the licence data (`dataHash`), its validity,
/// status and the ciphertext for the holder (in the event log, not in storage). Per holder two hash
/// chains, `head = keccak256(abi.encode(previousHead, entry))`, give the record history and the
/// access log (seed 001's two subchains); clients recompute them from the events.
/// A licence and a batch are identified together with the agency that issued them: a copy of
/// another agency's data hash or batch root by a second agency is a different object, so it can
/// neither block nor capture the original.
interface ILicenseRegistry {
    /// @notice What a licence is now. Expired and NotYetValid follow from the clock; RecordClosed
    /// from the holder's final entry.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        Renewed,
        Expired,
        NotYetValid,
        RecordClosed
    }

    /// @notice The outcome of an inspection, recorded in the holder's access log.
    enum CheckResult {
        Valid,
        BadSignature,
        PresentationExpired,
        PresentationReplayed,
        DataMismatch,
        UnknownLicence,
        WrongHolder,
        WrongIssuer,
        Suspended,
        Revoked,
        Renewed,
        Expired,
        NotYetValid,
        RecordClosed
    }

    /// @notice Kinds of entries in a holder's record history.
    enum RecordKind {
        Issued,
        Suspended,
        Reinstated,
        Revoked,
        Closed
    }

    /// @notice What a holder signs to show a licence: a reference, the disclosed fields and a
    /// short validity window; EIP-712 binds it to this chain and this registry.
    struct Presentation {
        bytes32 licenceId;
        bytes32 disclosure;
        uint64 notAfter;
        bytes32 nonce;
    }

    /// @notice One licence of a batch: a leaf of the batch's Merkle root (OpenZeppelin standard tree
    /// over abi.encode(address, bytes32, uint40, uint40, bytes32)). The ciphertext lives off chain in
    /// the batch bundle; its hash here lets the holder check the copy they fetched.
    struct BatchLeaf {
        address holder;
        bytes32 dataHash;
        uint40 validFrom;
        uint40 validUntil;
        bytes32 ciphertextHash;
    }

    struct BatchView {
        bytes32 agency;
        uint32 count;
        uint40 issuedAt;
        uint64 issuedBlock;
    }

    struct LicenceView {
        address holder;
        bytes32 agency;
        uint40 validFrom;
        uint40 validUntil;
        Status status;
    }

    struct HolderRecord {
        bytes32 recordHead;
        bytes32 accessHead;
        uint40 closedAt;
        uint8 closeReason;
    }

    /// @notice A licence was issued; `previous` is non-zero for a renewal, which marks it Renewed.
    event LicenseIssued(
        bytes32 indexed licenceId,
        address indexed holder,
        bytes32 indexed agency,
        bytes32 dataHash,
        bytes32 previous,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 recordHead,
        bytes ciphertext
    );
    /// @notice An agency issued `count` licences under one Merkle root. `bundleHash` is the SHA-256 of
    /// the off-chain bundle with every leaf, its proof and its ciphertext (content address).
    event LicenseBatchIssued(bytes32 indexed root, bytes32 indexed agency, uint32 count, bytes32 bundleHash);
    /// @notice A licence of a batch was written to storage (proven by its Merkle proof) so that
    /// status changes can apply to it alone.
    event LicenseClaimed(bytes32 indexed licenceId, address indexed holder, bytes32 indexed root);
    /// @notice The issuing agency suspended a licence.
    event LicenseSuspended(bytes32 indexed licenceId, address indexed holder, uint8 reason, bytes32 recordHead);
    /// @notice The issuing agency lifted a suspension.
    event LicenseReinstated(bytes32 indexed licenceId, address indexed holder, bytes32 recordHead);
    /// @notice The issuing agency revoked a licence for good.
    event LicenseRevoked(bytes32 indexed licenceId, address indexed holder, uint8 reason, bytes32 recordHead);
    /// @notice An agency authorised `inspector` to record inspections here; the agency answers for it.
    event InspectorAuthorised(address indexed inspector, bytes32 indexed agency);
    /// @notice The accountable agency withdrew `inspector`'s authorisation.
    event InspectorDeauthorised(address indexed inspector, bytes32 indexed agency);
    /// @notice A holder's record was closed with a final entry; nothing is added after it.
    event RecordClosed(address indexed holder, bytes32 indexed agency, uint8 reason, bytes32 evidence, bytes32 recordHead);
    /// @notice An inspection was recorded in the holder's access log.
    event LicenseChecked(
        address indexed holder, bytes32 indexed licenceId, address indexed inspector, CheckResult result, bytes32 accessHead
    );

    /// @notice `caller` does not sign for an agency accredited for this certificate type.
    error LicenseNotAccredited(address caller, uint8 certType);
    /// @notice `holder` is not a registered Holder identity.
    error LicenseHolderUnknown(address holder);
    /// @notice The holder's record was closed; nothing more is added to it.
    error LicenseRecordClosed(address holder);
    /// @notice validUntil must be after validFrom and in the future.
    error LicenseValidityInvalid(uint40 validFrom, uint40 validUntil);
    /// @notice The ciphertext is empty or longer than MAX_CIPHERTEXT.
    error LicenseCiphertextInvalid(uint256 length);
    /// @notice The data hash is zero.
    error LicenseDataHashEmpty();
    /// @notice This agency issued a licence with this data hash already (a replayed issuance).
    error LicenseAlreadyIssued(bytes32 licenceId);
    /// @notice No licence has this id.
    error LicenseUnknown(bytes32 licenceId);
    /// @notice Only a signer of the issuing agency may change this licence.
    error LicenseNotIssuer(bytes32 licenceId, address caller);
    /// @notice The licence's status does not allow this change.
    error LicenseStatusInvalid(bytes32 licenceId, Status status);
    /// @notice `caller` is not an inspector authorised in this registry by an agency.
    error LicenseNotInspector(address caller);
    /// @notice `account` is not a registered Inspector identity, so it cannot be authorised.
    error LicenseInspectorNotRegistered(address account);
    /// @notice `inspector` is authorised already, by `agency` (one agency answers for an inspector).
    error LicenseInspectorTaken(address inspector, bytes32 agency);
    /// @notice `caller` does not sign for the agency that authorised `inspector` (or nobody did).
    error LicenseNotInspectorAgency(address inspector, address caller);
    /// @notice `caller` does not sign for an agency that governance named a civil registry
    /// (capability bit 0 of its accreditation), so it cannot close records.
    error LicenseNotCivilRegistry(address caller);
    /// @notice The reason code is not allowed here.
    error LicenseReasonInvalid(uint8 reason);
    /// @notice A batch needs a non-zero root and at least one licence.
    error LicenseBatchInvalid();
    /// @notice This agency issued a batch with this root already (a replayed batch).
    error LicenseBatchExists(bytes32 agency, bytes32 root);
    /// @notice This agency issued no batch with this root.
    error LicenseBatchUnknown(bytes32 agency, bytes32 root);
    /// @notice The Merkle proof does not lead from the leaf to the batch root.
    error LicenseBatchProofInvalid(bytes32 root);
    /// @notice This registry has recorded the maximum number of distinct issuing agencies.
    error LicenseTooManyAgencies();

    /// @notice Issues a licence to `holder`.
    /// @param holder A registered Holder whose record is open.
    /// @param dataHash The salted commitment to the licence data; with the agency it fixes the licence id.
    /// @param validFrom Unix time from which the licence is valid.
    /// @param validUntil Unix time until which it is valid (type(uint40).max: no end).
    /// @param ciphertext The licence data encrypted to the holder's key (ECIES), kept in the log.
    /// @return licenceId licenceIdOf(the caller's agency, dataHash).
    function issue(address holder, bytes32 dataHash, uint40 validFrom, uint40 validUntil, bytes calldata ciphertext)
        external
        returns (bytes32 licenceId);

    /// @notice Issues the successor of `previous` to the same holder and marks `previous` Renewed.
    /// @param previous An Active, Suspended or Expired licence of the caller's agency.
    /// @param dataHash, validFrom, validUntil, ciphertext As for {issue}.
    /// @return licenceId The new licence's id.
    function renew(bytes32 previous, bytes32 dataHash, uint40 validFrom, uint40 validUntil, bytes calldata ciphertext)
        external
        returns (bytes32 licenceId);

    /// @notice Issues many licences in one transaction under one Merkle root, as the batch
    /// (caller's agency, root).
    /// @dev Nothing per licence is stored or logged: that is what makes a licence cost a few gas in a
    /// large batch. Holders are checked when a licence is claimed or first inspected. Another agency
    /// sending the same root (copied from a pending transaction) makes its own batch, whose leaves
    /// become licences of that agency with other ids: it neither blocks nor takes over this one.
    /// @param root The standard-tree root of the batch's {BatchLeaf}s.
    /// @param count How many licences the batch holds.
    /// @param bundleHash SHA-256 of the bundle file holding leaves, proofs and ciphertexts.
    function issueBatch(bytes32 root, uint32 count, bytes32 bundleHash) external;

    /// @notice Writes a batched licence to storage, proven by its Merkle proof; anyone may call it.
    /// Afterwards it is a licence like any other (renew, suspend, revoke apply to it alone).
    /// @param agency The agency that issued the batch: the licence is that agency's.
    /// @param root The batch root.
    /// @param leaf The licence's leaf; `leaf.holder` must be a registered Holder whose record is open.
    /// @param proof Its Merkle proof.
    /// @return licenceId licenceIdOf(agency, leaf.dataHash).
    function claim(bytes32 agency, bytes32 root, BatchLeaf calldata leaf, bytes32[] calldata proof)
        external
        returns (bytes32 licenceId);

    /// @notice Suspends an active licence (issuing agency only).
    /// @param licenceId The licence.
    /// @param reason An agency-defined reason code.
    function suspend(bytes32 licenceId, uint8 reason) external;

    /// @notice Lifts a suspension (issuing agency only, while accredited).
    /// @param licenceId The licence.
    function reinstate(bytes32 licenceId) external;

    /// @notice Revokes a licence for good (issuing agency only, even while its accreditation is suspended).
    /// @dev Refused with LicenseRecordClosed once the holder's record is closed: the closing entry is final.
    /// @param licenceId The licence.
    /// @param reason An agency-defined reason code.
    function revoke(bytes32 licenceId, uint8 reason) external;

    /// @notice Closes `holder`'s record with a final entry; no licence is issued to it afterwards
    /// and its licences no longer verify. A civil-registry act (death, change of citizenship): only a
    /// signer of an agency that governance named a civil registry (capability bit 0) may close.
    /// @param holder The holder.
    /// @param reason 1 death, 2 change of citizenship, 3 other.
    /// @param evidence A reference to the supporting record (a hash, never personal data).
    function closeRecord(address holder, uint8 reason, bytes32 evidence) external;

    /// @notice Authorises `inspector` (a registered Inspector identity) to record inspections in this
    /// registry; the caller's agency, accredited for this type, is recorded as answering for it.
    /// @dev Repeating it for the same agency changes nothing; another agency's inspector is refused.
    function authoriseInspector(address inspector) external;

    /// @notice Withdraws `inspector`'s authorisation; only a signer of the agency that authorised it
    /// (accredited or not: a suspended agency can still withdraw its inspectors).
    function deauthoriseInspector(address inspector) external;

    /// @notice The agency that authorised `inspector` here (zero if none).
    function inspectorAgency(address inspector) external view returns (bytes32);

    /// @notice Records an inspection: verifies the holder's EIP-712 signature over a fresh
    /// presentation, then the licence's data, holder, issuer and status. Never reverts on a failed
    /// check: the failure and its reason go to the holder's access log. Only an authorised inspector.
    /// @dev The licence checked is the one the holder signed for (`presentation.licenceId`); the data
    /// matches when licenceIdOf(its agency, dataHash) is that id.
    /// @param holder The holder whose licence is presented.
    /// @param agency The organisation code the inspector expects as issuer.
    /// @param dataHash The commitment recomputed from the presented data.
    /// @param presentation What the holder signed.
    /// @param signature The holder's 65-byte signature over the presentation.
    /// @return result The verdict, Valid or the first failed step.
    function check(
        address holder,
        bytes32 agency,
        bytes32 dataHash,
        Presentation calldata presentation,
        bytes calldata signature
    ) external returns (CheckResult result);

    /// @notice {check} for a licence of a batch: claims it first if it is not yet claimed and the proof
    /// holds (otherwise the result is UnknownLicence), then checks it exactly as a single licence.
    /// @param batchAgency The agency that issued the batch (the licence's issuer).
    /// @param root The batch root.
    /// @param leaf The licence's leaf; its dataHash is the commitment recomputed from the presented data.
    /// @param proof Its Merkle proof.
    function checkBatched(
        address holder,
        bytes32 agency,
        bytes32 batchAgency,
        bytes32 root,
        BatchLeaf calldata leaf,
        bytes32[] calldata proof,
        Presentation calldata presentation,
        bytes calldata signature
    ) external returns (CheckResult result);

    /// @notice The batch `agency` issued under `root`: agency, size and issuance time (all zero if unknown).
    function batch(bytes32 agency, bytes32 root) external view returns (BatchView memory);

    /// @notice The Merkle leaf of a batched licence.
    function batchLeafHash(BatchLeaf calldata leaf) external pure returns (bytes32);

    /// @notice The certificate type this registry holds.
    function certType() external view returns (uint8);

    /// @notice A licence's holder, agency, validity and current status.
    function licence(bytes32 licenceId) external view returns (LicenceView memory);

    /// @notice A licence's current status.
    function statusOf(bytes32 licenceId) external view returns (Status);

    /// @notice The id of the licence `agency` issues with `dataHash` in this registry:
    /// keccak256(abi.encode(chainid, this registry, agency, dataHash)).
    function licenceIdOf(bytes32 agency, bytes32 dataHash) external view returns (bytes32);

    /// @notice A holder's record head, access-log head and closing entry.
    function holderRecord(address holder) external view returns (HolderRecord memory);

    /// @notice The EIP-712 digest a holder signs for `presentation`.
    function presentationDigest(Presentation calldata presentation) external view returns (bytes32);

    /// @notice Whether a presentation digest was already used in an inspection.
    function presentationUsed(bytes32 digest) external view returns (bool);
}
