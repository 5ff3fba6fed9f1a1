// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IPersonalDataRegistry} from "./interfaces/IPersonalDataRegistry.sol";

/// @title PersonalDataRegistry
/// @notice See {IPersonalDataRegistry}.
/// @dev No external calls: nothing to re-enter. Reads and consents are checked here, but only the
/// off-chain gateway can withhold a file; the chain makes every decision public and attributable.
contract PersonalDataRegistry is IPersonalDataRegistry, AccessControl, EIP712, Nonces {
    bytes32 public constant CONTROLLER_ROLE = keccak256("CONTROLLER_ROLE");
    bytes32 public constant PROCESSOR_ROLE = keccak256("PROCESSOR_ROLE");
    bytes32 public constant SUPERVISOR_ROLE = keccak256("SUPERVISOR_ROLE");

    bytes32 public constant CONSENT_TYPEHASH =
        keccak256("Consent(address controller,bytes32 purpose,bytes32 integrityHash,uint64 deadline,uint256 nonce)");
    bytes32 public constant READ_TYPEHASH =
        keccak256("Read(address subject,bytes32 what,uint64 deadline,uint256 nonce)");

    /// @notice Longest pointer in bytes (an IPFS CIDv1 in base32 is 59 bytes, a CIDv0 46).
    uint256 public constant MAX_POINTER = 128;
    /// @notice Most subjects or records per page.
    uint256 public constant MAX_PAGE = 100;

    /// @dev The pointer's slots, three fixed slots and two packed ones. A first creation leaves the
    /// last slot zero (nothing updated, erased or read yet): one slot less to pay for. The consent
    /// the record was created under is given at creation, so `consentAt` is `createdAt`, and
    /// `updatedAt` 0 means "not since creation". A read rewrites `accessHead` and the last slot only.
    /// 65,535 generations (each an erasure followed by a newly consented creation) cannot be reached.
    struct Record {
        string pointer;
        bytes32 integrityHash;
        bytes32 consentPurpose;
        bytes32 accessHead;
        address controller;
        uint32 version;
        uint40 createdAt;
        uint16 generation;
        // slot
        uint40 updatedAt;
        uint40 erasedAt;
        uint64 accessCount;
    }

    /// @dev Three slots per request.
    struct Request {
        address subject;
        uint40 requestedAt;
        uint40 answeredAt;
        RequestStatus status;
        address requester;
        bytes32 purpose;
    }

    /// @dev A consent counts only for the generation of the record it was given under.
    struct Consent {
        bytes32 purpose;
        uint40 grantedAt;
        uint16 generation;
        uint64 requestId;
    }

    mapping(address subject => Record) private _records;
    address[] private _subjects;
    mapping(uint64 requestId => Request) private _requests;
    uint64 private _requestCount;
    mapping(address subject => mapping(address requester => Consent)) private _consents;
    /// @dev Used read nonces, 256 to a slot (Permit2's unordered nonces): bit `nonce & 255` of word
    /// `nonce >> 8`. Any order works; consecutive nonces share a slot and cost 5,000 gas instead of 22,100.
    mapping(address reader => mapping(uint256 word => uint256 bits)) private _readNonces;

    /// @notice The deployer is the controller organisation: it administers the roles and is a controller.
    constructor() EIP712("elicense PersonalDataRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(CONTROLLER_ROLE, msg.sender);
    }

    // ---------------------------------------------------------------- the record

    /// @inheritdoc IPersonalDataRegistry
    function create(
        address subject,
        string calldata pointer,
        bytes32 integrityHash,
        bytes32 purpose,
        uint64 deadline,
        bytes calldata subjectSignature
    ) external onlyRole(CONTROLLER_ROLE) {
        _checkFile(pointer, integrityHash);
        if (purpose == bytes32(0)) revert PersonalDataPurposeEmpty();
        Record storage r = _records[subject];
        if (r.version != 0 && r.erasedAt == 0) revert PersonalDataRecordExists(subject);
        _checkConsent(subject, purpose, integrityHash, deadline, subjectSignature);

        if (r.generation == 0) {
            _subjects.push(subject);
        } else {
            r.updatedAt = 0;
            r.erasedAt = 0;
        }
        r.pointer = pointer;
        r.integrityHash = integrityHash;
        r.consentPurpose = purpose;
        r.controller = msg.sender;
        r.createdAt = uint40(block.timestamp);
        ++r.generation;
        unchecked {
            ++r.version; // 2^32 files per subject: not reachable
        }
        emit PersonalDataCreated(subject, msg.sender, r.generation, r.version, pointer, integrityHash, purpose);
    }

    /// @dev Consumes the subject's nonce: a consent signature works once.
    function _checkConsent(
        address subject,
        bytes32 purpose,
        bytes32 integrityHash,
        uint64 deadline,
        bytes calldata signature
    ) private {
        if (deadline < block.timestamp) revert PersonalDataConsentExpired(subject, deadline);
        bytes32 digest = _consentDigest(msg.sender, purpose, integrityHash, deadline, _useNonce(subject));
        (address signer,,) = ECDSA.tryRecover(digest, signature);
        // tryRecover answers zero for a malformed signature: that never consents for address(0).
        if (signer != subject || signer == address(0)) revert PersonalDataConsentInvalid(subject, signer);
    }

    /// @inheritdoc IPersonalDataRegistry
    function rectify(address subject, string calldata pointer, bytes32 integrityHash) external {
        _controllerOrSubject(subject);
        _replaceFile(_live(subject), subject, pointer, integrityHash);
    }

    /// @inheritdoc IPersonalDataRegistry
    function erase(address subject) external {
        _controllerOrSubject(subject);
        Record storage r = _live(subject);
        r.erasedAt = uint40(block.timestamp);
        emit PersonalDataErased(subject, msg.sender, r.version, r.integrityHash);
    }

    // ---------------------------------------------------------------- the access log

    /// @inheritdoc IPersonalDataRegistry
    function logRead(
        address subject,
        address reader,
        bytes32 what,
        uint64 deadline,
        uint256 nonce,
        bytes calldata readerSignature
    ) external returns (ReadResult result) {
        return _logRead(subject, reader, what, deadline, nonce, readerSignature);
    }

    /// @inheritdoc IPersonalDataRegistry
    function logReads(SignedRead[] calldata reads) external returns (ReadResult[] memory results) {
        uint256 length = reads.length;
        if (length == 0) revert PersonalDataBatchEmpty();
        if (length > MAX_PAGE) revert PersonalDataBatchTooLong(length);
        results = new ReadResult[](length);
        for (uint256 i; i < length; ++i) {
            SignedRead calldata read = reads[i];
            results[i] = _logRead(read.subject, read.reader, read.what, read.deadline, read.nonce, read.signature);
        }
    }

    /// @dev One read, for {logRead} and each element of {logReads}: a nonce consumed by an earlier
    /// element is already marked, so a repeat inside a batch reverts like any replay.
    function _logRead(
        address subject,
        address reader,
        bytes32 what,
        uint64 deadline,
        uint256 nonce,
        bytes calldata readerSignature
    ) private returns (ReadResult result) {
        Record storage r = _existing(subject);
        result = _checkRead(r, subject, reader, what, deadline, nonce, readerSignature);
        // Entry order: who (reader, submitter), what, outcome, when.
        bytes32 entry = keccak256(abi.encode(reader, msg.sender, what, result, block.number));
        bytes32 head = keccak256(abi.encode(r.accessHead, entry));
        r.accessHead = head;
        unchecked {
            // At most MAX_PAGE (100) per transaction, through logReads: 2^64 would take some 1.8e17
            // transactions, which no chain will ever carry.
            ++r.accessCount;
        }
        emit ReadLogged(subject, reader, msg.sender, what, result, head);
    }

    function _checkRead(
        Record storage r,
        address subject,
        address reader,
        bytes32 what,
        uint64 deadline,
        uint256 nonce,
        bytes calldata signature
    ) private returns (ReadResult) {
        (address signer,,) = ECDSA.tryRecover(_readDigest(subject, what, deadline, nonce), signature);
        // An entry names a reader only on that reader's signature: an unproven claim reverts, so the log
        // can never name someone who did not ask (and it consumes nothing of the claimed reader's).
        if (signer != reader || signer == address(0)) revert PersonalDataReadSignatureInvalid(reader, signer);
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _readNonces[reader][nonce >> 8];
        if (bits & bit != 0) revert PersonalDataReadReplayed(reader, nonce);
        _readNonces[reader][nonce >> 8] = bits | bit;
        if (deadline < block.timestamp) return ReadResult.Expired;
        return _policy(r, subject, reader);
    }

    function _policy(Record storage r, address subject, address reader) private view returns (ReadResult) {
        bool authorised = reader == subject || hasRole(CONTROLLER_ROLE, reader) || hasRole(PROCESSOR_ROLE, reader)
            || _consentActive(r, _consents[subject][reader]);
        if (!authorised) return ReadResult.NotAuthorised;
        if (r.erasedAt != 0) return ReadResult.Erased;
        return ReadResult.Granted;
    }

    // ---------------------------------------------------------------- consent

    /// @inheritdoc IPersonalDataRegistry
    function requestConsent(address subject, bytes32 purpose, bytes calldata requesterPublicKey)
        external
        returns (uint64 requestId)
    {
        _live(subject);
        if (msg.sender == subject) revert PersonalDataRequesterIsSubject(subject);
        if (purpose == bytes32(0)) revert PersonalDataPurposeEmpty();
        if (requesterPublicKey.length != 64) revert PersonalDataKeyMalformed(requesterPublicKey.length);
        address derived = address(uint160(uint256(keccak256(requesterPublicKey))));
        if (derived != msg.sender) revert PersonalDataKeyMismatch(msg.sender, derived);

        unchecked {
            requestId = ++_requestCount; // one per transaction: cannot reach 2^64
        }
        Request storage q = _requests[requestId];
        q.subject = subject;
        q.requestedAt = uint40(block.timestamp);
        q.status = RequestStatus.Pending;
        q.requester = msg.sender;
        q.purpose = purpose;
        emit ConsentRequested(requestId, subject, msg.sender, purpose, requesterPublicKey);
    }

    /// @inheritdoc IPersonalDataRegistry
    function grantConsent(uint64 requestId, string calldata pointer, bytes32 integrityHash) external {
        Request storage q = _pending(requestId);
        address subject = q.subject;
        Record storage r = _live(subject);
        _replaceFile(r, subject, pointer, integrityHash);
        q.status = RequestStatus.Granted;
        q.answeredAt = uint40(block.timestamp);
        Consent storage c = _consents[subject][q.requester];
        c.purpose = q.purpose;
        c.grantedAt = uint40(block.timestamp);
        c.generation = r.generation;
        c.requestId = requestId;
        emit ConsentGranted(requestId, subject, q.requester, q.purpose, r.version);
    }

    /// @inheritdoc IPersonalDataRegistry
    function denyConsent(uint64 requestId) external {
        Request storage q = _pending(requestId);
        q.status = RequestStatus.Denied;
        q.answeredAt = uint40(block.timestamp);
        emit ConsentDenied(requestId, q.subject, q.requester, q.purpose);
    }

    /// @inheritdoc IPersonalDataRegistry
    function revokeConsent(address requester) external {
        Consent storage c = _consents[msg.sender][requester];
        if (!_consentActive(_records[msg.sender], c)) revert PersonalDataNoConsent(msg.sender, requester);
        uint64 requestId = c.requestId;
        bytes32 purpose = c.purpose;
        delete _consents[msg.sender][requester];
        emit ConsentRevoked(msg.sender, requester, requestId, purpose);
    }

    // ---------------------------------------------------------------- supervision

    /// @inheritdoc IPersonalDataRegistry
    function recordAudit(address subject, uint8 finding, bytes32 evidence) external onlyRole(SUPERVISOR_ROLE) {
        Record storage r = _existing(subject);
        if (finding == 0 || finding > uint8(type(AuditFinding).max)) revert PersonalDataFindingInvalid(finding);
        emit AuditRecorded(subject, msg.sender, AuditFinding(finding), r.version, r.integrityHash, evidence);
    }

    // ---------------------------------------------------------------- internals

    function _checkFile(string calldata pointer, bytes32 integrityHash) private pure {
        uint256 length = bytes(pointer).length;
        if (length == 0 || length > MAX_POINTER) revert PersonalDataPointerInvalid(length);
        if (integrityHash == bytes32(0)) revert PersonalDataHashEmpty();
    }

    function _replaceFile(Record storage r, address subject, string calldata pointer, bytes32 integrityHash) private {
        _checkFile(pointer, integrityHash);
        bytes32 previous = r.integrityHash;
        if (integrityHash == previous) revert PersonalDataHashUnchanged(subject);
        r.pointer = pointer;
        r.integrityHash = integrityHash;
        r.updatedAt = uint40(block.timestamp);
        unchecked {
            ++r.version;
        }
        emit PersonalDataUpdated(subject, msg.sender, r.version, pointer, previous, integrityHash);
    }

    function _controllerOrSubject(address subject) private view {
        if (msg.sender != subject && !hasRole(CONTROLLER_ROLE, msg.sender)) {
            revert PersonalDataNotAuthorised(msg.sender, subject);
        }
    }

    function _existing(address subject) private view returns (Record storage r) {
        r = _records[subject];
        if (r.version == 0) revert PersonalDataUnknownSubject(subject);
    }

    function _live(address subject) private view returns (Record storage r) {
        r = _existing(subject);
        if (r.erasedAt != 0) revert PersonalDataRecordErased(subject);
    }

    /// @dev Unknown first, then the answering subject, then the state: a stranger learns nothing
    /// about how a request to someone else was answered (beyond what the events show anyway).
    function _pending(uint64 requestId) private view returns (Request storage q) {
        q = _requests[requestId];
        if (q.status == RequestStatus.None) revert PersonalDataRequestUnknown(requestId);
        if (msg.sender != q.subject) revert PersonalDataNotSubject(msg.sender, q.subject);
        if (q.status != RequestStatus.Pending) revert PersonalDataRequestAnswered(requestId, q.status);
    }

    function _consentActive(Record storage r, Consent storage c) private view returns (bool) {
        return c.grantedAt != 0 && c.generation == r.generation && r.erasedAt == 0;
    }

    function _consentDigest(address controller, bytes32 purpose, bytes32 integrityHash, uint64 deadline, uint256 nonce)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(CONSENT_TYPEHASH, controller, purpose, integrityHash, deadline, nonce))
        );
    }

    function _readDigest(address subject, bytes32 what, uint64 deadline, uint256 nonce) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(READ_TYPEHASH, subject, what, deadline, nonce)));
    }

    function _view(address subject) private view returns (RecordView memory v) {
        Record storage r = _records[subject];
        v.subject = subject;
        v.pointer = r.pointer;
        v.integrityHash = r.integrityHash;
        v.version = r.version;
        v.generation = r.generation;
        v.createdAt = r.createdAt;
        v.updatedAt = r.updatedAt > r.createdAt ? r.updatedAt : r.createdAt;
        v.erasedAt = r.erasedAt;
        v.erased = r.erasedAt != 0;
        v.controller = r.controller;
        v.consentPurpose = r.consentPurpose;
        v.consentAt = r.createdAt;
        v.accessHead = r.accessHead;
        v.accessCount = r.accessCount;
    }

    function _page(uint256 offset, uint256 limit) private view returns (uint256 start, uint256 end) {
        uint256 total = _subjects.length;
        if (offset >= total) return (total, total);
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        start = offset;
        end = total - offset < limit ? total : offset + limit;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPersonalDataRegistry
    function record(address subject) external view returns (RecordView memory) {
        return _view(subject);
    }

    /// @inheritdoc IPersonalDataRegistry
    function subjectCount() external view returns (uint256) {
        return _subjects.length;
    }

    /// @inheritdoc IPersonalDataRegistry
    function subjects(uint256 offset, uint256 limit) external view returns (address[] memory page) {
        (uint256 start, uint256 end) = _page(offset, limit);
        page = new address[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _subjects[i];
        }
    }

    /// @inheritdoc IPersonalDataRegistry
    function records(uint256 offset, uint256 limit) external view returns (RecordView[] memory page) {
        (uint256 start, uint256 end) = _page(offset, limit);
        page = new RecordView[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _view(_subjects[i]);
        }
    }

    /// @inheritdoc IPersonalDataRegistry
    function accessHead(address subject) external view returns (bytes32) {
        return _records[subject].accessHead;
    }

    /// @inheritdoc IPersonalDataRegistry
    function readPolicy(address subject, address reader) external view returns (ReadResult) {
        return _policy(_existing(subject), subject, reader);
    }

    /// @inheritdoc IPersonalDataRegistry
    function requestCount() external view returns (uint64) {
        return _requestCount;
    }

    /// @inheritdoc IPersonalDataRegistry
    function request(uint64 requestId) external view returns (RequestView memory) {
        Request storage q = _requests[requestId];
        return RequestView(q.subject, q.requester, q.purpose, q.status, q.requestedAt, q.answeredAt);
    }

    /// @inheritdoc IPersonalDataRegistry
    function consentOf(address subject, address account) external view returns (ConsentView memory) {
        Consent storage c = _consents[subject][account];
        return ConsentView(_consentActive(_records[subject], c), c.purpose, c.grantedAt, c.requestId);
    }

    /// @inheritdoc IPersonalDataRegistry
    function nonces(address subject) public view override(IPersonalDataRegistry, Nonces) returns (uint256) {
        return super.nonces(subject);
    }

    /// @inheritdoc IPersonalDataRegistry
    function readNonceUsed(address reader, uint256 nonce) external view returns (bool) {
        return _readNonces[reader][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IPersonalDataRegistry
    function consentDigest(address controller, bytes32 purpose, bytes32 integrityHash, uint64 deadline, uint256 nonce)
        external
        view
        returns (bytes32)
    {
        return _consentDigest(controller, purpose, integrityHash, deadline, nonce);
    }

    /// @inheritdoc IPersonalDataRegistry
    function readDigest(address subject, bytes32 what, uint64 deadline, uint256 nonce) external view returns (bytes32) {
        return _readDigest(subject, what, deadline, nonce);
    }

    /// @notice ERC-165: this registry's interface besides AccessControl's.
    /// @param interfaceId The interface identifier.
    /// @return Whether it is supported.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IPersonalDataRegistry).interfaceId || super.supportsInterface(interfaceId);
    }
}
