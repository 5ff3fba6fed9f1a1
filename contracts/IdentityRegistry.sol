// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice See {IIdentityRegistry}.
contract IdentityRegistry is IIdentityRegistry {
    mapping(address account => Identity) private _identities;
    uint256 private _count;

    /// @inheritdoc IIdentityRegistry
    function register(uint8 role, bytes calldata publicKey, bytes32 commitment) external {
        if (role == 0 || role > uint8(Role.Authority)) revert IdentityRoleInvalid(role);
        if (publicKey.length != 64) revert IdentityKeyMalformed(publicKey.length);
        address derived = address(uint160(uint256(keccak256(publicKey))));
        if (derived != msg.sender) revert IdentityKeyMismatch(msg.sender, derived);
        Identity storage identity = _identities[msg.sender];
        if (identity.role != Role.None) revert IdentityAlreadyRegistered(msg.sender);

        identity.role = Role(role);
        identity.registeredAt = uint64(block.timestamp);
        identity.commitment = commitment;
        identity.keyX = bytes32(publicKey[0:32]);
        identity.keyY = bytes32(publicKey[32:64]);
        unchecked {
            ++_count; // one per address: cannot overflow
        }
        emit IdentityRegistered(msg.sender, Role(role), publicKey, commitment);
    }

    /// @inheritdoc IIdentityRegistry
    function updateCommitment(bytes32 commitment) external {
        Identity storage identity = _identities[msg.sender];
        if (identity.role == Role.None) revert IdentityUnknown(msg.sender);
        bytes32 previous = identity.commitment;
        identity.commitment = commitment;
        emit IdentityCommitmentUpdated(msg.sender, previous, commitment);
    }

    /// @inheritdoc IIdentityRegistry
    function publicKeyOf(address account) external view returns (bytes memory) {
        Identity storage identity = _identities[account];
        if (identity.role == Role.None) revert IdentityUnknown(account);
        return abi.encodePacked(identity.keyX, identity.keyY);
    }

    /// @inheritdoc IIdentityRegistry
    function roleOf(address account) external view returns (Role) {
        return _identities[account].role;
    }

    /// @inheritdoc IIdentityRegistry
    function identityOf(address account) external view returns (Identity memory) {
        return _identities[account];
    }

    /// @inheritdoc IIdentityRegistry
    function identityCount() external view returns (uint256) {
        return _count;
    }
}
