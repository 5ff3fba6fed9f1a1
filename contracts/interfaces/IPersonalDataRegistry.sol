// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Personal data under the GDPR (seed 003's model on this chain)
/// @notice One record per data subject (the subject's own address). The personal data itself lives
/// off chain in one encrypted file (an AES-256-GCM envelope, addressed by its IPFS CID); the chain
/// holds only what lets everyone check and audit it: the pointer (CID), the integrity hash (SHA-256
/// of the encrypted envelope, never of plaintext), version, times, the erased flag, the consent the
/// record was created under, third-party consents, and a per-subject access log.
/// @dev Roles (OpenZeppelin AccessControl, administered by the controller organisation that deployed
/// the registry): CONTROLLER_ROLE creates, rectifies and erases records and reads them;
/// PROCESSOR_ROLE reads them; SUPERVISOR_ROLE records audit findings (it checks hashes and flags,
/// never the data). The data subject rectifies and erases their own record, answers consent requests
/// and revokes consents. Every read of personal data is recorded, granted or not, in a hash chain
/// per subject, `head = keccak256(abi.encode(previousHead, entry))`, which clients recompute from
/// the {ReadLogged} events.
interface IPersonalDataRegistry {
    /// @notice The outcome of a signed read, recorded in the subject's access log (never reverted).
    /// A read whose signature is not the named reader's is not an outcome: it reverts
    /// (PersonalDataReadSignatureInvalid), so every entry names a reader who signed.
    enum ReadResult {
        Granted,
        NotAuthorised,
        Erased,
        Expired
    }

    /// @notice Where a consent request stands. None: no such request.
    enum RequestStatus {
        None,
        Pending,
        Granted,
        Denied
    }

    /// @notice What a supervisor found when it compared the off-chain store with the chain.
    /// None is not a finding.
    enum AuditFinding {
        None,
        Intact,
        Tampered,
        Missing,
        ErasureVerified,
        ErasureIncomplete
    }

    /// @notice Everything the chain holds about a subject's record: no personal data.
    /// `version` is 0 when the subject has never had a record; it grows by one with every new file
    /// (creation, rectification, re-encryption for a consent) and continues after a re-creation.
    /// `generation` counts creations: consents given under an earlier generation are void.
    /// `updatedAt` is when the current file was recorded (`createdAt` until the first new file);
    /// `consentPurpose` and `consentAt` are the subject's consent the record was created under
    /// (`consentAt` is `createdAt`); `controller` is the controller that created it.
    struct RecordView {
        address subject;
        string pointer;
        bytes32 integrityHash;
        uint32 version;
        uint16 generation;
        uint40 createdAt;
        uint40 updatedAt;
        uint40 erasedAt;
        bool erased;
        address controller;
        bytes32 consentPurpose;
        uint40 consentAt;
        bytes32 accessHead;
        uint64 accessCount;
    }

    /// @notice One signed read for {logReads}: the arguments of {logRead}, `signature` being the
    /// reader's signature over Read(subject, what, deadline, nonce); `what` is the salted commitment
    /// to the field names read.
    struct SignedRead {
        address subject;
        address reader;
        bytes32 what;
        uint64 deadline;
        uint256 nonce;
        bytes signature;
    }

    /// @notice A consent request: who asked whom, for what, and how it was answered.
    struct RequestView {
        address subject;
        address requester;
        bytes32 purpose;
        RequestStatus status;
        uint40 requestedAt;
        uint40 answeredAt;
    }

    /// @notice A third party's consent from a subject. `active` is false once revoked, once the
    /// record is erased, or when it was given for an earlier generation of the record.
    struct ConsentView {
        bool active;
        bytes32 purpose;
        uint40 grantedAt;
        uint64 requestId;
    }

    /// @notice A controller created `subject`'s record under the subject's signed consent for `purpose`.
    event PersonalDataCreated(
        address indexed subject,
        address indexed controller,
        uint16 generation,
        uint32 version,
        string pointer,
        bytes32 integrityHash,
        bytes32 purpose
    );
    /// @notice `by` replaced the subject's file: a rectification, or the re-encryption that grants a
    /// consent. The previous file must be gone off chain; its hash stays here for audit.
    event PersonalDataUpdated(
        address indexed subject,
        address indexed by,
        uint32 version,
        string pointer,
        bytes32 previousHash,
        bytes32 integrityHash
    );
    /// @notice `by` erased the subject's record: the file is removed and unpinned off chain; the
    /// pointer and hash of the last version stay for audit.
    event PersonalDataErased(address indexed subject, address indexed by, uint32 version, bytes32 integrityHash);
    /// @notice A read of the subject's data by `reader` (who signed it) was recorded; `submitter` sent the
    /// transaction (the reader or a gateway); `what` is the salted commitment to the field names read,
    /// which only the parties holding its salt can open.
    event ReadLogged(
        address indexed subject,
        address indexed reader,
        address indexed submitter,
        bytes32 what,
        ReadResult result,
        bytes32 accessHead
    );
    /// @notice `requester` asked `subject` for their record for `purpose` (a code or a salted commitment,
    /// see {requestConsent}); `publicKey` is the
    /// requester's 64-byte secp256k1 key to re-encrypt the envelope to.
    event ConsentRequested(
        uint64 indexed requestId, address indexed subject, address indexed requester, bytes32 purpose, bytes publicKey
    );
    /// @notice The subject granted request `requestId`; the file re-encrypted to the requester is `version`.
    event ConsentGranted(
        uint64 indexed requestId, address indexed subject, address indexed requester, bytes32 purpose, uint32 version
    );
    /// @notice The subject denied request `requestId`.
    event ConsentDenied(uint64 indexed requestId, address indexed subject, address indexed requester, bytes32 purpose);
    /// @notice The subject withdrew the consent given to `requester` by request `requestId`.
    event ConsentRevoked(address indexed subject, address indexed requester, uint64 requestId, bytes32 purpose);
    /// @notice A supervisor recorded what it found for version `version` (hash `integrityHash`).
    event AuditRecorded(
        address indexed subject,
        address indexed supervisor,
        AuditFinding finding,
        uint32 version,
        bytes32 integrityHash,
        bytes32 evidence
    );

    /// @notice The pointer is empty or longer than MAX_POINTER bytes.
    error PersonalDataPointerInvalid(uint256 length);
    /// @notice The integrity hash is zero.
    error PersonalDataHashEmpty();
    /// @notice The purpose is zero: consent is always for a stated purpose.
    error PersonalDataPurposeEmpty();
    /// @notice `subject` has a live (not erased) record already.
    error PersonalDataRecordExists(address subject);
    /// @notice The subject's consent signature expired at `deadline`.
    error PersonalDataConsentExpired(address subject, uint64 deadline);
    /// @notice The consent signature is not `subject`'s over this controller, purpose, hash, deadline
    /// and the subject's current nonce (forged, for another registry or chain, or replayed); it
    /// recovers to `signer` (zero if malformed).
    error PersonalDataConsentInvalid(address subject, address signer);
    /// @notice `subject` has no record.
    error PersonalDataUnknownSubject(address subject);
    /// @notice `subject`'s record is erased; only {create} brings it back.
    error PersonalDataRecordErased(address subject);
    /// @notice The new integrity hash equals the current one: no new file.
    error PersonalDataHashUnchanged(address subject);
    /// @notice `caller` is neither a controller nor `subject`.
    error PersonalDataNotAuthorised(address caller, address subject);
    /// @notice `reader` already used `nonce` for a recorded read (a replayed signature).
    error PersonalDataReadReplayed(address reader, uint256 nonce);
    /// @notice The read's signature is not `reader`'s (forged, for another registry, chain or read, or
    /// malformed); it recovers to `signer` (zero if malformed). Nothing is logged in `reader`'s name.
    error PersonalDataReadSignatureInvalid(address reader, address signer);
    /// @notice {logReads} was given no reads.
    error PersonalDataBatchEmpty();
    /// @notice {logReads} was given `length` reads, more than MAX_PAGE.
    error PersonalDataBatchTooLong(uint256 length);
    /// @notice The subject cannot request consent from themself.
    error PersonalDataRequesterIsSubject(address subject);
    /// @notice The public key is not 64 bytes (uncompressed x ‖ y, without the 0x04 prefix).
    error PersonalDataKeyMalformed(uint256 length);
    /// @notice The public key belongs to `derived`, not to the requester `sender`.
    error PersonalDataKeyMismatch(address sender, address derived);
    /// @notice No consent request has this id.
    error PersonalDataRequestUnknown(uint64 requestId);
    /// @notice The request was answered already (`status` Granted or Denied).
    error PersonalDataRequestAnswered(uint64 requestId, RequestStatus status);
    /// @notice Only `subject` may answer this request.
    error PersonalDataNotSubject(address caller, address subject);
    /// @notice `subject` has no active consent for `requester`.
    error PersonalDataNoConsent(address subject, address requester);
    /// @notice `finding` is not one of Intact, Tampered, Missing, ErasureVerified, ErasureIncomplete.
    error PersonalDataFindingInvalid(uint8 finding);

    // ---------------------------------------------------------------- the record

    /// @notice Creates `subject`'s record (or re-creates an erased one), by a controller, under the
    /// subject's EIP-712 signature over Consent(controller, purpose, integrityHash, deadline, nonce).
    /// @dev The nonce is the subject's current {nonces} value and is consumed, so a consent signature
    /// works once. A re-created record keeps its access log and counts its versions on.
    /// @param subject The data subject's address (their own key).
    /// @param pointer The CID of the encrypted file (1..MAX_POINTER bytes).
    /// @param integrityHash SHA-256 of the encrypted file (non-zero).
    /// @param purpose The purpose the subject consents to, non-zero: a public purpose code, or the salted
    /// commitment keccak256("elicense.purpose.v1" ‖ salt ‖ statement) whose 32-byte random salt stays
    /// off chain with the parties (never an unsalted hash: a statement naming a person is guessable).
    /// @param deadline Unix time after which the signature is void.
    /// @param subjectSignature The subject's 65-byte signature; the controller signed for is the sender.
    function create(
        address subject,
        string calldata pointer,
        bytes32 integrityHash,
        bytes32 purpose,
        uint64 deadline,
        bytes calldata subjectSignature
    ) external;

    /// @notice Replaces the subject's file (right to rectification), by a controller or the subject.
    /// @dev The client stores the new envelope, then removes and unpins the old one; its hash stays in
    /// {PersonalDataUpdated} as `previousHash`. Refused on an erased record.
    /// @param subject The data subject.
    /// @param pointer The new file's CID.
    /// @param integrityHash SHA-256 of the new file; must differ from the current one.
    function rectify(address subject, string calldata pointer, bytes32 integrityHash) external;

    /// @notice Marks the subject's record erased (right to erasure), by a controller or the subject.
    /// @dev The client removes and unpins the file; pointer and hash stay for audit. Consents end.
    /// A second erasure is refused with PersonalDataRecordErased.
    /// @param subject The data subject.
    function erase(address subject) external;

    // ---------------------------------------------------------------- the access log

    /// @notice Records a read of `subject`'s data by `reader`, proven by the reader's EIP-712
    /// signature over Read(subject, what, deadline, nonce). Anyone may submit it (the reader, a
    /// gateway). Never reverts on a policy failure: the outcome goes to the subject's access log.
    /// @dev Checks in this order: signature (reverts PersonalDataReadSignatureInvalid: an entry names
    /// only a reader who signed, so nobody can put a read in someone else's name), replay (reverts),
    /// deadline (Expired), authorisation (NotAuthorised: not the subject, no CONTROLLER_ROLE or
    /// PROCESSOR_ROLE, no active consent), erasure (Erased), else Granted. Every validly signed
    /// attempt consumes the reader's nonce, so no signed read is ever logged twice.
    /// Reverts with PersonalDataUnknownSubject when there is no record to log against.
    /// @param subject The data subject whose data is read.
    /// @param reader Who reads (the signer).
    /// @param what The fields read, as the salted commitment keccak256("elicense.fields.v1" ‖ salt ‖
    /// sorted comma-joined names) the reader signed; names and salt stay off chain with the parties.
    /// @param deadline Unix time after which the signature is void.
    /// @param nonce A single-use number the reader chose (random).
    /// @param readerSignature The reader's 65-byte signature.
    /// @return result Granted or the failed check.
    function logRead(
        address subject,
        address reader,
        bytes32 what,
        uint64 deadline,
        uint256 nonce,
        bytes calldata readerSignature
    ) external returns (ReadResult result);

    /// @notice Records several signed reads in one transaction (a processor listing records by
    /// field): exactly {logRead} for each element, in order, submitted by the sender.
    /// @dev Every element is checked and logged as by {logRead}: its own {ReadLogged} event, its
    /// entry chained onto its subject's head, so reads of one subject chain in batch order (all
    /// with this block's number). Refusals stay outcomes, but the whole batch reverts when any
    /// element names a subject without a record (PersonalDataUnknownSubject) or reuses a reader's
    /// nonce, one consumed before or by an earlier element of the batch (PersonalDataReadReplayed),
    /// or carries a signature not its reader's (PersonalDataReadSignatureInvalid); nothing of the
    /// batch is then logged or consumed.
    /// @param reads 1 to MAX_PAGE signed reads (PersonalDataBatchEmpty, PersonalDataBatchTooLong).
    /// @return results Each read's outcome, in the order of `reads`.
    function logReads(SignedRead[] calldata reads) external returns (ReadResult[] memory results);

    // ---------------------------------------------------------------- consent

    /// @notice Asks `subject` for their record; anyone may ask, the subject decides.
    /// @param subject A data subject with a live record.
    /// @param purpose Why the data is wanted, non-zero: a public purpose code or a salted commitment to
    /// the requester's statement (as for {create}); the requester hands statement and salt to the
    /// subject off chain, who checks them against this value.
    /// @param requesterPublicKey The sender's own 64-byte secp256k1 public key (x ‖ y), to which the
    /// subject re-encrypts the file; it must hash to the sender's address.
    /// @return requestId The new request's number (1, 2, ...).
    function requestConsent(address subject, bytes32 purpose, bytes calldata requesterPublicKey)
        external
        returns (uint64 requestId);

    /// @notice Grants a pending request (subject only): the client re-encrypted the file to the
    /// requester's key too and stored it, so pointer and hash change (version + 1); the old file
    /// is removed. The requester may read from now on, until revoked or erased.
    /// @param requestId A pending request to the sender.
    /// @param pointer The re-encrypted file's CID.
    /// @param integrityHash SHA-256 of the re-encrypted file; must differ from the current one.
    function grantConsent(uint64 requestId, string calldata pointer, bytes32 integrityHash) external;

    /// @notice Denies a pending request (subject only).
    /// @param requestId A pending request to the sender.
    function denyConsent(uint64 requestId) external;

    /// @notice Withdraws the sender's active consent for `requester`: its reads are refused from now on.
    /// @param requester The account the sender granted.
    function revokeConsent(address requester) external;

    // ---------------------------------------------------------------- supervision

    /// @notice Records what a supervisor found for the subject's current version (SUPERVISOR_ROLE).
    /// @param subject A subject with a record.
    /// @param finding 1 Intact, 2 Tampered, 3 Missing, 4 ErasureVerified, 5 ErasureIncomplete.
    /// @param evidence A reference to the audit report (a hash, never personal data).
    function recordAudit(address subject, uint8 finding, bytes32 evidence) external;

    // ---------------------------------------------------------------- views

    /// @notice Everything on chain about `subject`'s record (version 0: none).
    /// @param subject Any address.
    /// @return The record.
    function record(address subject) external view returns (RecordView memory);

    /// @notice How many subjects ever had a record (erased ones included).
    /// @return The number of subjects.
    function subjectCount() external view returns (uint256);

    /// @notice Subjects in order of first creation, at most MAX_PAGE from `offset` (empty past the end).
    /// @param offset The first index.
    /// @param limit The most to return (capped at MAX_PAGE).
    /// @return The page of subject addresses.
    function subjects(uint256 offset, uint256 limit) external view returns (address[] memory);

    /// @notice The records of {subjects}(`offset`, `limit`), for listing and audits.
    /// @param offset The first index.
    /// @param limit The most to return (capped at MAX_PAGE).
    /// @return The page of records.
    function records(uint256 offset, uint256 limit) external view returns (RecordView[] memory);

    /// @notice The head of `subject`'s access log (zero: nothing logged).
    /// @param subject Any address.
    /// @return The hash-chain head.
    function accessHead(address subject) external view returns (bytes32);

    /// @notice What {logRead} would answer now for a fresh, validly signed read by `reader`:
    /// Granted, NotAuthorised or Erased (a gateway's pre-check). Reverts for an unknown subject.
    /// @param subject A subject with a record.
    /// @param reader Any address.
    /// @return The policy outcome.
    function readPolicy(address subject, address reader) external view returns (ReadResult);

    /// @notice How many consent requests were made.
    /// @return The last request id.
    function requestCount() external view returns (uint64);

    /// @notice A consent request (status None: unknown).
    /// @param requestId The request.
    /// @return The request.
    function request(uint64 requestId) external view returns (RequestView memory);

    /// @notice `account`'s consent from `subject`.
    /// @param subject The data subject.
    /// @param account The requester.
    /// @return The consent (all zero: never granted, or revoked).
    function consentOf(address subject, address account) external view returns (ConsentView memory);

    /// @notice The nonce a subject's next consent signature must carry.
    /// @param subject The data subject.
    /// @return The current nonce.
    function nonces(address subject) external view returns (uint256);

    /// @notice Whether `reader` has used `nonce` in a recorded read.
    /// @param reader The reader.
    /// @param nonce The nonce.
    /// @return True once used.
    function readNonceUsed(address reader, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 digest a subject signs to consent to `controller`.
    /// @param controller The controller that will submit {create}.
    /// @param purpose, integrityHash, deadline As for {create}.
    /// @param nonce The subject's nonce ({nonces}).
    /// @return The digest.
    function consentDigest(address controller, bytes32 purpose, bytes32 integrityHash, uint64 deadline, uint256 nonce)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest a reader signs for a read.
    /// @param subject, what, deadline, nonce As for {logRead}.
    /// @return The digest.
    function readDigest(address subject, bytes32 what, uint64 deadline, uint256 nonce) external view returns (bytes32);
}
