// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ILicenseRegistry} from "./interfaces/ILicenseRegistry.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IIdentityLookup, IAccreditationLookup} from "./interfaces/IRegistryLookup.sol";

/// @title LicenseRegistry
/// @notice See {ILicenseRegistry}.
contract LicenseRegistry is ILicenseRegistry, EIP712 {
    /// @notice Largest ciphertext accepted, in bytes (a licence is a small JSON document).
    uint256 public constant MAX_CIPHERTEXT = 16_384;

    bytes32 public constant PRESENTATION_TYPEHASH =
        keccak256("Presentation(bytes32 licenceId,bytes32 disclosure,uint64 notAfter,bytes32 nonce)");

    uint8 public constant CLOSE_DEATH = 1;
    uint8 public constant CLOSE_CITIZENSHIP = 2;
    uint8 public constant CLOSE_OTHER = 3;

    /// @notice The accreditation bit governance sets for a civil registry, the one that may close
    /// records. Bit 0 is no certificate type (types are 1..255), so no licence type grants it.
    uint8 public constant CIVIL_REGISTRY = 0;

    /// @dev Packed in one storage slot: issuing costs one new slot per licence. The agency is kept
    /// as a small index into `_agencyCodes` (at most 65,535 agencies per certificate type).
    struct Licence {
        address holder;
        uint40 validFrom;
        uint40 validUntil;
        uint16 agencyIndex;
    }

    /// @dev Only changes from Active are stored, so issuing writes no status slot.
    enum Mark {
        Active,
        Suspended,
        Revoked,
        Renewed
    }

    /// @dev One slot per batch, whatever its size.
    struct Batch {
        uint16 agencyIndex;
        uint32 count;
        uint40 issuedAt;
        uint64 issuedBlock;
    }

    uint8 private immutable _certType;
    IIdentityLookup public immutable identities;
    IAccreditationLookup public immutable issuers;

    mapping(bytes32 licenceId => Licence) private _licences;
    mapping(bytes32 licenceId => Mark) private _marks;
    mapping(address holder => HolderRecord) private _holders;
    mapping(bytes32 digest => bool) private _usedPresentations;
    mapping(bytes32 code => uint16 index) private _agencyIndex;
    bytes32[] private _agencyCodes;
    mapping(bytes32 agency => mapping(bytes32 root => Batch)) private _batches;
    mapping(address inspector => uint16 agencyIndex) private _inspectors;

    /// @param certType_ The certificate type this registry holds (1..255).
    /// @param identityRegistry The main chain's identity registry on the same chain, or this side
    /// chain's RegistryMirror.
    /// @param issuerRegistry The main chain's issuer registry on the same chain, or the RegistryMirror.
    constructor(uint8 certType_, IIdentityLookup identityRegistry, IAccreditationLookup issuerRegistry)
        EIP712("elicense LicenseRegistry", "1")
    {
        _certType = certType_;
        identities = identityRegistry;
        issuers = issuerRegistry;
        _agencyCodes.push(bytes32(0)); // index 0 means "none"
    }

    // ---------------------------------------------------------------- issuing

    /// @inheritdoc ILicenseRegistry
    function issue(address holder, bytes32 dataHash, uint40 validFrom, uint40 validUntil, bytes calldata ciphertext)
        external
        returns (bytes32 licenceId)
    {
        bytes32 agency = _accreditedAgency();
        if (identities.roleOf(holder) != IIdentityRegistry.Role.Holder) revert LicenseHolderUnknown(holder);
        licenceId = _issue(holder, agency, dataHash, bytes32(0), validFrom, validUntil, ciphertext);
    }

    /// @inheritdoc ILicenseRegistry
    function renew(bytes32 previous, bytes32 dataHash, uint40 validFrom, uint40 validUntil, bytes calldata ciphertext)
        external
        returns (bytes32 licenceId)
    {
        bytes32 agency = _accreditedAgency();
        Licence storage old = _existing(previous);
        if (_agencyCodes[old.agencyIndex] != agency) revert LicenseNotIssuer(previous, msg.sender);
        Mark mark = _marks[previous];
        if (mark == Mark.Revoked || mark == Mark.Renewed) revert LicenseStatusInvalid(previous, _status(previous, old));
        _marks[previous] = Mark.Renewed;
        licenceId = _issue(old.holder, agency, dataHash, previous, validFrom, validUntil, ciphertext);
    }

    function _issue(
        address holder,
        bytes32 agency,
        bytes32 dataHash,
        bytes32 previous,
        uint40 validFrom,
        uint40 validUntil,
        bytes calldata ciphertext
    ) private returns (bytes32 licenceId) {
        if (dataHash == bytes32(0)) revert LicenseDataHashEmpty();
        if (validUntil <= validFrom || validUntil <= block.timestamp) revert LicenseValidityInvalid(validFrom, validUntil);
        if (ciphertext.length == 0 || ciphertext.length > MAX_CIPHERTEXT) revert LicenseCiphertextInvalid(ciphertext.length);
        HolderRecord storage record = _holders[holder];
        if (record.closedAt != 0) revert LicenseRecordClosed(holder);

        licenceId = licenceIdOf(agency, dataHash);
        Licence storage l = _licences[licenceId];
        if (l.holder != address(0)) revert LicenseAlreadyIssued(licenceId);
        l.holder = holder;
        l.validFrom = validFrom;
        l.validUntil = validUntil;
        l.agencyIndex = _indexOf(agency);

        bytes32 head = _appendRecord(record, RecordKind.Issued, licenceId);
        emit LicenseIssued(licenceId, holder, agency, dataHash, previous, validFrom, validUntil, head, ciphertext);
    }

    /// @inheritdoc ILicenseRegistry
    function issueBatch(bytes32 root, uint32 count, bytes32 bundleHash) external {
        bytes32 agency = _accreditedAgency();
        if (root == bytes32(0) || count == 0) revert LicenseBatchInvalid();
        Batch storage b = _batches[agency][root];
        if (b.count != 0) revert LicenseBatchExists(agency, root);
        b.agencyIndex = _indexOf(agency);
        b.count = count;
        b.issuedAt = uint40(block.timestamp);
        b.issuedBlock = uint64(block.number);
        emit LicenseBatchIssued(root, agency, count, bundleHash);
    }

    /// @inheritdoc ILicenseRegistry
    function claim(bytes32 agency, bytes32 root, BatchLeaf calldata leaf, bytes32[] calldata proof)
        external
        returns (bytes32 licenceId)
    {
        Batch storage b = _batches[agency][root];
        if (b.count == 0) revert LicenseBatchUnknown(agency, root);
        if (!MerkleProof.verifyCalldata(proof, root, batchLeafHash(leaf))) revert LicenseBatchProofInvalid(root);
        if (identities.roleOf(leaf.holder) != IIdentityRegistry.Role.Holder) revert LicenseHolderUnknown(leaf.holder);
        if (_holders[leaf.holder].closedAt != 0) revert LicenseRecordClosed(leaf.holder);
        licenceId = licenceIdOf(agency, leaf.dataHash);
        if (_licences[licenceId].holder != address(0)) revert LicenseAlreadyIssued(licenceId);
        _store(licenceId, leaf, b.agencyIndex, root);
    }

    /// @dev The leaf's validity was checked off chain when the batch was built; a malformed one (end
    /// before start) simply never verifies as active.
    function _store(bytes32 licenceId, BatchLeaf calldata leaf, uint16 agencyIndex, bytes32 root) private {
        Licence storage l = _licences[licenceId];
        l.holder = leaf.holder;
        l.validFrom = leaf.validFrom;
        l.validUntil = leaf.validUntil;
        l.agencyIndex = agencyIndex;
        emit LicenseClaimed(licenceId, leaf.holder, root);
    }

    // ---------------------------------------------------------------- status changes

    /// @inheritdoc ILicenseRegistry
    function suspend(bytes32 licenceId, uint8 reason) external {
        Licence storage l = _ownLicence(licenceId);
        Status status = _status(licenceId, l);
        if (status != Status.Active && status != Status.NotYetValid) revert LicenseStatusInvalid(licenceId, status);
        _marks[licenceId] = Mark.Suspended;
        bytes32 head = _appendRecord(_holders[l.holder], RecordKind.Suspended, licenceId);
        emit LicenseSuspended(licenceId, l.holder, reason, head);
    }

    /// @inheritdoc ILicenseRegistry
    function reinstate(bytes32 licenceId) external {
        Licence storage l = _ownLicence(licenceId);
        _accreditedAgency();
        if (_marks[licenceId] != Mark.Suspended) revert LicenseStatusInvalid(licenceId, _status(licenceId, l));
        if (_holders[l.holder].closedAt != 0) revert LicenseRecordClosed(l.holder);
        _marks[licenceId] = Mark.Active;
        bytes32 head = _appendRecord(_holders[l.holder], RecordKind.Reinstated, licenceId);
        emit LicenseReinstated(licenceId, l.holder, head);
    }

    /// @inheritdoc ILicenseRegistry
    function revoke(bytes32 licenceId, uint8 reason) external {
        Licence storage l = _ownLicence(licenceId);
        Mark mark = _marks[licenceId];
        if (mark == Mark.Revoked) revert LicenseStatusInvalid(licenceId, Status.Revoked);
        // The closing entry is final: nothing is appended to a closed record (as in reinstate).
        if (_holders[l.holder].closedAt != 0) revert LicenseRecordClosed(l.holder);
        _marks[licenceId] = Mark.Revoked;
        bytes32 head = _appendRecord(_holders[l.holder], RecordKind.Revoked, licenceId);
        emit LicenseRevoked(licenceId, l.holder, reason, head);
    }

    /// @inheritdoc ILicenseRegistry
    function closeRecord(address holder, uint8 reason, bytes32 evidence) external {
        (bytes32 agency, bool civil) = issuers.signerAccreditation(msg.sender, CIVIL_REGISTRY);
        if (!civil) revert LicenseNotCivilRegistry(msg.sender);
        if (reason == 0 || reason > CLOSE_OTHER) revert LicenseReasonInvalid(reason);
        if (identities.roleOf(holder) != IIdentityRegistry.Role.Holder) revert LicenseHolderUnknown(holder);
        HolderRecord storage record = _holders[holder];
        if (record.closedAt != 0) revert LicenseRecordClosed(holder);
        record.closedAt = uint40(block.timestamp);
        record.closeReason = reason;
        bytes32 head = _appendRecord(record, RecordKind.Closed, evidence);
        emit RecordClosed(holder, agency, reason, evidence, head);
    }

    // ---------------------------------------------------------------- inspectors

    /// @inheritdoc ILicenseRegistry
    function authoriseInspector(address inspector) external {
        bytes32 agency = _accreditedAgency();
        if (identities.roleOf(inspector) != IIdentityRegistry.Role.Inspector) {
            revert LicenseInspectorNotRegistered(inspector);
        }
        uint16 current = _inspectors[inspector];
        if (current != 0) {
            if (_agencyCodes[current] != agency) revert LicenseInspectorTaken(inspector, _agencyCodes[current]);
            return;
        }
        _inspectors[inspector] = _indexOf(agency);
        emit InspectorAuthorised(inspector, agency);
    }

    /// @inheritdoc ILicenseRegistry
    function deauthoriseInspector(address inspector) external {
        uint16 current = _inspectors[inspector];
        bytes32 agency = _agencyCodes[current];
        if (current == 0 || issuers.agencyOfSigner(msg.sender) != agency) {
            revert LicenseNotInspectorAgency(inspector, msg.sender);
        }
        delete _inspectors[inspector];
        emit InspectorDeauthorised(inspector, agency);
    }

    // ---------------------------------------------------------------- inspection

    /// @inheritdoc ILicenseRegistry
    function check(
        address holder,
        bytes32 agency,
        bytes32 dataHash,
        Presentation calldata presentation,
        bytes calldata signature
    ) external returns (CheckResult result) {
        if (_inspectors[msg.sender] == 0) revert LicenseNotInspector(msg.sender);
        bytes32 licenceId = presentation.licenceId;
        result = _record(holder, licenceId, _verify(holder, agency, dataHash, presentation, signature));
    }

    /// @inheritdoc ILicenseRegistry
    function checkBatched(
        address holder,
        bytes32 agency,
        bytes32 batchAgency,
        bytes32 root,
        BatchLeaf calldata leaf,
        bytes32[] calldata proof,
        Presentation calldata presentation,
        bytes calldata signature
    ) external returns (CheckResult result) {
        if (_inspectors[msg.sender] == 0) revert LicenseNotInspector(msg.sender);
        _claimOnCheck(batchAgency, root, leaf, proof);
        result = _record(holder, presentation.licenceId, _verify(holder, agency, leaf.dataHash, presentation, signature));
    }

    /// @dev Only a leaf of the batch `batchAgency` committed becomes a licence, and always that
    /// agency's. An unprovable leaf is left unclaimed, and _verify then reports UnknownLicence.
    function _claimOnCheck(bytes32 batchAgency, bytes32 root, BatchLeaf calldata leaf, bytes32[] calldata proof)
        private
    {
        bytes32 licenceId = licenceIdOf(batchAgency, leaf.dataHash);
        if (_licences[licenceId].holder != address(0)) return;
        Batch storage b = _batches[batchAgency][root];
        if (
            b.count != 0 && MerkleProof.verifyCalldata(proof, root, batchLeafHash(leaf))
                && identities.roleOf(leaf.holder) == IIdentityRegistry.Role.Holder
        ) _store(licenceId, leaf, b.agencyIndex, root);
    }

    function _record(address holder, bytes32 licenceId, CheckResult result) private returns (CheckResult) {
        HolderRecord storage record = _holders[holder];
        // Entry order matches the record history: who, what, outcome, when.
        bytes32 entry = keccak256(abi.encode(msg.sender, licenceId, result, block.number));
        bytes32 head = keccak256(abi.encode(record.accessHead, entry));
        record.accessHead = head;
        emit LicenseChecked(holder, licenceId, msg.sender, result, head);
        return result;
    }

    /// @dev The licence checked is the one the holder signed for; the presented data must give its
    /// id under the agency that issued it.
    function _verify(
        address holder,
        bytes32 agency,
        bytes32 dataHash,
        Presentation calldata presentation,
        bytes calldata signature
    ) private returns (CheckResult) {
        bytes32 digest = _presentationDigest(presentation);
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError || signer != holder) return CheckResult.BadSignature;
        if (presentation.notAfter < block.timestamp) return CheckResult.PresentationExpired;
        if (_usedPresentations[digest]) return CheckResult.PresentationReplayed;
        _usedPresentations[digest] = true;

        bytes32 licenceId = presentation.licenceId;
        Licence storage l = _licences[licenceId];
        if (l.holder == address(0)) return CheckResult.UnknownLicence;
        bytes32 issuer = _agencyCodes[l.agencyIndex];
        if (licenceIdOf(issuer, dataHash) != licenceId) return CheckResult.DataMismatch;
        if (l.holder != holder) return CheckResult.WrongHolder;
        if (issuer != agency) return CheckResult.WrongIssuer;
        Status status = _status(licenceId, l);
        if (status == Status.Active) return CheckResult.Valid;
        if (status == Status.Suspended) return CheckResult.Suspended;
        if (status == Status.Revoked) return CheckResult.Revoked;
        if (status == Status.Renewed) return CheckResult.Renewed;
        if (status == Status.Expired) return CheckResult.Expired;
        if (status == Status.NotYetValid) return CheckResult.NotYetValid;
        return CheckResult.RecordClosed;
    }

    // ---------------------------------------------------------------- internals

    function _accreditedAgency() private view returns (bytes32 agency) {
        bool accredited;
        (agency, accredited) = issuers.signerAccreditation(msg.sender, _certType);
        if (!accredited) revert LicenseNotAccredited(msg.sender, _certType);
    }

    function _existing(bytes32 licenceId) private view returns (Licence storage l) {
        l = _licences[licenceId];
        if (l.holder == address(0)) revert LicenseUnknown(licenceId);
    }

    /// @dev The caller must sign for the agency that issued the licence (accredited or not: an agency
    /// whose accreditation is suspended can still withdraw what it issued).
    function _ownLicence(bytes32 licenceId) private view returns (Licence storage l) {
        l = _existing(licenceId);
        if (issuers.agencyOfSigner(msg.sender) != _agencyCodes[l.agencyIndex]) revert LicenseNotIssuer(licenceId, msg.sender);
    }

    function _indexOf(bytes32 agency) private returns (uint16 index) {
        index = _agencyIndex[agency];
        if (index == 0) {
            if (_agencyCodes.length > type(uint16).max) revert LicenseTooManyAgencies();
            index = uint16(_agencyCodes.length);
            _agencyIndex[agency] = index;
            _agencyCodes.push(agency);
        }
    }

    function _appendRecord(HolderRecord storage record, RecordKind kind, bytes32 subject) private returns (bytes32 head) {
        bytes32 entry = keccak256(abi.encode(kind, subject, block.number));
        head = keccak256(abi.encode(record.recordHead, entry));
        record.recordHead = head;
    }

    function _status(bytes32 licenceId, Licence storage l) private view returns (Status) {
        if (l.holder == address(0)) return Status.None;
        Mark mark = _marks[licenceId];
        if (mark == Mark.Revoked) return Status.Revoked;
        if (mark == Mark.Renewed) return Status.Renewed;
        if (_holders[l.holder].closedAt != 0) return Status.RecordClosed;
        if (mark == Mark.Suspended) return Status.Suspended;
        if (block.timestamp >= l.validUntil) return Status.Expired;
        if (block.timestamp < l.validFrom) return Status.NotYetValid;
        return Status.Active;
    }

    function _presentationDigest(Presentation calldata p) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(PRESENTATION_TYPEHASH, p.licenceId, p.disclosure, p.notAfter, p.nonce))
        );
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILicenseRegistry
    function certType() external view returns (uint8) {
        return _certType;
    }

    /// @inheritdoc ILicenseRegistry
    function licence(bytes32 licenceId) external view returns (LicenceView memory) {
        Licence storage l = _licences[licenceId];
        return LicenceView(l.holder, _agencyCodes[l.agencyIndex], l.validFrom, l.validUntil, _status(licenceId, l));
    }

    /// @inheritdoc ILicenseRegistry
    function statusOf(bytes32 licenceId) external view returns (Status) {
        return _status(licenceId, _licences[licenceId]);
    }

    /// @inheritdoc ILicenseRegistry
    function batch(bytes32 agency, bytes32 root) external view returns (BatchView memory) {
        Batch storage b = _batches[agency][root];
        return BatchView(_agencyCodes[b.agencyIndex], b.count, b.issuedAt, b.issuedBlock);
    }

    /// @inheritdoc ILicenseRegistry
    function batchLeafHash(BatchLeaf calldata leaf) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(leaf.holder, leaf.dataHash, leaf.validFrom, leaf.validUntil, leaf.ciphertextHash))
            )
        );
    }

    /// @inheritdoc ILicenseRegistry
    function licenceIdOf(bytes32 agency, bytes32 dataHash) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), agency, dataHash));
    }

    /// @inheritdoc ILicenseRegistry
    function inspectorAgency(address inspector) external view returns (bytes32) {
        return _agencyCodes[_inspectors[inspector]];
    }

    /// @inheritdoc ILicenseRegistry
    function holderRecord(address holder) external view returns (HolderRecord memory) {
        return _holders[holder];
    }

    /// @inheritdoc ILicenseRegistry
    function presentationDigest(Presentation calldata presentation) external view returns (bytes32) {
        return _presentationDigest(presentation);
    }

    /// @inheritdoc ILicenseRegistry
    function presentationUsed(bytes32 digest) external view returns (bool) {
        return _usedPresentations[digest];
    }
}
