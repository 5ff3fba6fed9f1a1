// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IAnchorRegistry} from "./interfaces/IAnchorRegistry.sol";
import {IRegistryMirror} from "./interfaces/IRegistryMirror.sol";
import {IIdentityLookup, IAccreditationLookup} from "./interfaces/IRegistryLookup.sol";

/// @title RegistryMirror
/// @notice See {IRegistryMirror}.
contract RegistryMirror is IRegistryMirror {
    struct Accreditation {
        bytes32 agency;
        bytes32 root;
        uint256 certTypes;
    }

    IAnchorRegistry public immutable anchors;
    uint256 private immutable _mainChainId;

    mapping(address account => IIdentityRegistry.Role) private _roles;
    mapping(address signer => Accreditation) private _accreditations;

    /// @param anchorRegistry This chain's anchor registry.
    /// @param mainChainId_ The chain id of the main chain whose registries are mirrored.
    constructor(IAnchorRegistry anchorRegistry, uint256 mainChainId_) {
        anchors = anchorRegistry;
        _mainChainId = mainChainId_;
    }

    /// @inheritdoc IRegistryMirror
    function proveIdentity(address account, IIdentityRegistry.Role role, uint64 sequence, bytes32[] calldata proof)
        external
    {
        if (role == IIdentityRegistry.Role.None) revert MirrorRoleInvalid();
        bytes32 root = anchors.checkpoint(_mainChainId, sequence).identityRoot;
        if (root == bytes32(0)) revert MirrorCheckpointUnknown(sequence);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, uint8(role)))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert MirrorProofInvalid();
        if (_roles[account] == role) revert MirrorAlreadyProven(account);
        _roles[account] = role;
        emit IdentityProven(account, role, sequence);
    }

    /// @inheritdoc IRegistryMirror
    function proveAccreditation(address signer, bytes32 agency, uint256 certTypes, bytes32[] calldata proof) external {
        (bytes32 root, uint64 sequence) = anchors.latestAccreditationRoot(_mainChainId);
        if (root == bytes32(0)) revert MirrorCheckpointUnknown(sequence);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(signer, agency, certTypes))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert MirrorProofInvalid();
        Accreditation storage a = _accreditations[signer];
        if (a.root == root && a.agency == agency) revert MirrorAlreadyProven(signer);
        a.agency = agency;
        a.root = root;
        a.certTypes = certTypes;
        emit AccreditationProven(signer, agency, certTypes, sequence);
    }

    /// @inheritdoc IIdentityLookup
    function roleOf(address account) external view returns (IIdentityRegistry.Role) {
        return _roles[account];
    }

    /// @inheritdoc IAccreditationLookup
    function signerAccreditation(address signer, uint8 certType) external view returns (bytes32 code, bool accredited) {
        Accreditation storage a = _accreditations[signer];
        code = a.agency;
        if (code == bytes32(0) || (a.certTypes >> certType) & 1 == 0) return (code, false);
        (bytes32 latest,) = anchors.latestAccreditationRoot(_mainChainId);
        accredited = a.root == latest;
    }

    /// @inheritdoc IAccreditationLookup
    function agencyOfSigner(address signer) external view returns (bytes32) {
        return _accreditations[signer].agency;
    }

    /// @inheritdoc IRegistryMirror
    function accreditationOf(address signer)
        external
        view
        returns (bytes32 agency, uint256 certTypes, bytes32 root, bool current)
    {
        Accreditation storage a = _accreditations[signer];
        (bytes32 latest,) = anchors.latestAccreditationRoot(_mainChainId);
        return (a.agency, a.certTypes, a.root, a.agency != bytes32(0) && a.root == latest);
    }

    /// @inheritdoc IRegistryMirror
    function mainChainId() external view returns (uint256) {
        return _mainChainId;
    }
}
