// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IIdentityRegistry} from "./IIdentityRegistry.sol";

/// @title The identity question a licence registry asks of the main chain
/// @notice Answered by the IdentityRegistry itself when both live on one chain, and by a
/// RegistryMirror (Merkle proofs against anchored main-chain checkpoints) on a side chain.
interface IIdentityLookup {
    /// @notice The role `account` registered with on the main chain (None if unknown here).
    function roleOf(address account) external view returns (IIdentityRegistry.Role);
}

/// @title The accreditation questions a licence registry asks of the main chain
/// @notice Answered by the IssuerRegistry on the same chain, or by a RegistryMirror on a side chain.
interface IAccreditationLookup {
    /// @notice The agency `signer` signs for, and whether it is accredited for `certType` now
    /// (`certType` 0: whether it is a civil registry, which may close records).
    function signerAccreditation(address signer, uint8 certType) external view returns (bytes32 code, bool accredited);

    /// @notice The agency `signer` signs for, accredited or not (zero if none).
    function agencyOfSigner(address signer) external view returns (bytes32);
}
