// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIdentityRegistry} from "./IIdentityRegistry.sol";
import {IIdentityLookup, IAccreditationLookup} from "./IRegistryLookup.sol";

/// @title Registry mirror: a side chain's view of the main chain's identity and issuer registries
/// @notice Anyone may prove an identity or an accreditation with a Merkle proof against a main-chain
/// checkpoint accepted by this chain's AnchorRegistry; the licence registry on this chain then asks
/// the mirror the same questions it would ask the main-chain registries.
/// @dev Identity leaves are standard-tree leaves of abi.encode(address account, uint8 role); the main
/// chain's identities are append-only, so a proof against any anchored checkpoint holds. Accreditation
/// leaves are of abi.encode(address signer, bytes32 agency, uint256 certTypes), with the types the
/// signer's agency is accredited for at that block (zero when suspended, here or up its chain); a
/// proven accreditation counts only while it was proven against the latest anchored root, so a
/// suspension on the main chain takes effect here with the next checkpoint. Bit 0 of `certTypes` is the
/// civil-registry capability (may close records); `signerAccreditation(signer, 0)` answers it like a type.
interface IRegistryMirror is IIdentityLookup, IAccreditationLookup {
    /// @notice `account`'s main-chain role was proven against checkpoint `sequence`.
    event IdentityProven(address indexed account, IIdentityRegistry.Role role, uint64 sequence);
    /// @notice `signer`'s accreditation was proven against checkpoint `sequence`.
    event AccreditationProven(address indexed signer, bytes32 indexed agency, uint256 certTypes, uint64 sequence);

    /// @notice Role None cannot be proven.
    error MirrorRoleInvalid();
    /// @notice No main-chain checkpoint `sequence` (or none at all) is anchored on this chain.
    error MirrorCheckpointUnknown(uint64 sequence);
    /// @notice The Merkle proof does not lead to the anchored root.
    error MirrorProofInvalid();
    /// @notice This fact is already proven against the same root (a replay).
    error MirrorAlreadyProven(address account);

    /// @notice Proves `account`'s main-chain role.
    /// @param sequence The anchored main-chain checkpoint the proof is against.
    /// @param proof OpenZeppelin Merkle proof of (account, role) in its identity root.
    function proveIdentity(address account, IIdentityRegistry.Role role, uint64 sequence, bytes32[] calldata proof)
        external;

    /// @notice Proves which agency `signer` signs for and the types it is accredited for now.
    /// @param proof OpenZeppelin Merkle proof of (signer, agency, certTypes) in the latest anchored
    /// accreditation root.
    function proveAccreditation(address signer, bytes32 agency, uint256 certTypes, bytes32[] calldata proof) external;

    /// @notice The proven accreditation of `signer` and whether it still matches the latest anchored root.
    function accreditationOf(address signer)
        external
        view
        returns (bytes32 agency, uint256 certTypes, bytes32 root, bool current);

    /// @notice The main chain's id.
    function mainChainId() external view returns (uint256);
}
