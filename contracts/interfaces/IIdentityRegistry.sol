// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Identity registry (main chain)
/// @notice Accounts with a declared role and their secp256k1 public key, so that anyone can encrypt
/// to a holder. No personal data is stored: at most a salted commitment whose salt stays off chain.
interface IIdentityRegistry {
    /// @dev 0 is "not registered". Rights to issue or govern come from the IssuerRegistry; the role
    /// here says what the account is for, and the IssuerRegistry requires signers to be `Issuer`s.
    enum Role {
        None,
        Holder,
        Issuer,
        Inspector,
        Authority
    }

    struct Identity {
        Role role;
        uint64 registeredAt;
        bytes32 commitment;
        bytes32 keyX;
        bytes32 keyY;
    }

    /// @notice An account registered itself with `role` and its uncompressed public key (x ‖ y).
    event IdentityRegistered(address indexed account, Role indexed role, bytes publicKey, bytes32 commitment);
    /// @notice An account replaced its personal-data commitment (rectification).
    event IdentityCommitmentUpdated(address indexed account, bytes32 previous, bytes32 commitment);

    /// @notice The public key is not 64 bytes (uncompressed x ‖ y, without the 0x04 prefix).
    error IdentityKeyMalformed(uint256 length);
    /// @notice The public key belongs to `derived`, not to the sender.
    error IdentityKeyMismatch(address sender, address derived);
    /// @notice The account is already registered.
    error IdentityAlreadyRegistered(address account);
    /// @notice `role` is not one of Holder, Issuer, Inspector, Authority.
    error IdentityRoleInvalid(uint8 role);
    /// @notice The account is not registered.
    error IdentityUnknown(address account);

    /// @notice Registers the sender with `role` and `publicKey`.
    /// @dev The key must hash to the sender's address, so nobody can register a key that is not theirs.
    /// @param role 1 Holder, 2 Issuer, 3 Inspector, 4 Authority.
    /// @param publicKey 64 bytes: the uncompressed secp256k1 point without the 0x04 prefix.
    /// @param commitment keccak256(salt ‖ personal data), or zero; the salt never leaves the holder.
    function register(uint8 role, bytes calldata publicKey, bytes32 commitment) external;

    /// @notice Replaces the sender's commitment, e.g. after personal data was rectified.
    /// @param commitment The new salted commitment (zero to clear it).
    function updateCommitment(bytes32 commitment) external;

    /// @notice The 64-byte public key of `account`; reverts with IdentityUnknown if none.
    /// @param account The registered address.
    /// @return The uncompressed public key without prefix.
    function publicKeyOf(address account) external view returns (bytes memory);

    /// @notice The role of `account`, `None` when not registered.
    /// @param account Any address.
    /// @return The declared role.
    function roleOf(address account) external view returns (Role);

    /// @notice The full identity record of `account` (all zero when not registered).
    /// @param account Any address.
    /// @return The stored record.
    function identityOf(address account) external view returns (Identity memory);

    /// @notice How many accounts are registered.
    /// @return The number of registered identities.
    function identityCount() external view returns (uint256);
}
