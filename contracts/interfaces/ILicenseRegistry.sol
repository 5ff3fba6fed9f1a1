// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Licence registry: one deployment per certificate type (the side chain of that type)
/// @notice Accredited agencies issue, renew, suspend, reinstate and revoke licences; a holder's
/// record can be closed with a final entry; inspections are recorded, failed ones included.
/// @dev The chain holds only a salted commitment to the licence data (`dataHash`), its validity,
/// status and the ciphertext for the holder (in the event log, not in storage). Per holder two hash
/// chains, `head = keccak256(abi.encode(previousHead, entry))`, give the record history and the
/// access log (seed 001's two subchains); clients recompute them from the events.
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
    /// @notice The issuing agency suspended a licence.
    event LicenseSuspended(bytes32 indexed licenceId, address indexed holder, uint8 reason, bytes32 recordHead);
    /// @notice The issuing agency lifted a suspension.
    event LicenseReinstated(bytes32 indexed licenceId, address indexed holder, bytes32 recordHead);
    /// @notice The issuing agency revoked a licence for good.
    event LicenseRevoked(bytes32 indexed licenceId, address indexed holder, uint8 reason, bytes32 recordHead);
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
    /// @notice A licence with this data hash exists already (a replayed issuance).
    error LicenseAlreadyIssued(bytes32 licenceId);
    /// @notice No licence has this id.
    error LicenseUnknown(bytes32 licenceId);
    /// @notice Only a signer of the issuing agency may change this licence.
    error LicenseNotIssuer(bytes32 licenceId, address caller);
    /// @notice The licence's status does not allow this change.
    error LicenseStatusInvalid(bytes32 licenceId, Status status);
    /// @notice `caller` is not a registered Inspector identity.
    error LicenseNotInspector(address caller);
    /// @notice The reason code is not allowed here.
    error LicenseReasonInvalid(uint8 reason);
    /// @notice This registry has recorded the maximum number of distinct issuing agencies.
    error LicenseTooManyAgencies();

    /// @notice Issues a licence to `holder`.
    /// @param holder A registered Holder whose record is open.
    /// @param dataHash The salted commitment to the licence data; also fixes the licence id.
    /// @param validFrom Unix time from which the licence is valid.
    /// @param validUntil Unix time until which it is valid (type(uint40).max: no end).
    /// @param ciphertext The licence data encrypted to the holder's key (ECIES), kept in the log.
    /// @return licenceId keccak256(abi.encode(chainid, this registry, dataHash)).
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
    /// and its licences no longer verify. Any agency accredited for this type may close.
    /// @param holder The holder.
    /// @param reason 1 death, 2 change of citizenship, 3 other.
    /// @param evidence A reference to the supporting record (a hash, never personal data).
    function closeRecord(address holder, uint8 reason, bytes32 evidence) external;

    /// @notice Records an inspection: verifies the holder's EIP-712 signature over a fresh
    /// presentation, then the licence's data, holder, issuer and status. Never reverts on a failed
    /// check: the failure and its reason go to the holder's access log.
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

    /// @notice The certificate type this registry holds.
    function certType() external view returns (uint8);

    /// @notice A licence's holder, agency, validity and current status.
    function licence(bytes32 licenceId) external view returns (LicenceView memory);

    /// @notice A licence's current status.
    function statusOf(bytes32 licenceId) external view returns (Status);

    /// @notice The licence id a data hash gets in this registry.
    function licenceIdOf(bytes32 dataHash) external view returns (bytes32);

    /// @notice A holder's record head, access-log head and closing entry.
    function holderRecord(address holder) external view returns (HolderRecord memory);

    /// @notice The EIP-712 digest a holder signs for `presentation`.
    function presentationDigest(Presentation calldata presentation) external view returns (bytes32);

    /// @notice Whether a presentation digest was already used in an inspection.
    function presentationUsed(bytes32 digest) external view returns (bool);
}
