// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Anchor registry: checkpoints of other chains, accepted on a quorum of relayer signatures
/// @notice Every chain of a topology runs one. A checkpoint says "chain S at block N (hash H) had
/// these roots": the main chain's identity and accreditation roots (read by side chains through a
/// RegistryMirror) and the journal root of what S recorded since its previous checkpoint (licences,
/// batches, checkpoints S itself accepted), so a record on S can be proven on this chain, and,
/// checkpoint by checkpoint, up a tree of chains (side chain → country → EU).
/// @dev Checkpoints of one source chain are accepted in sequence (1, 2, 3, ...) with strictly
/// increasing block numbers, each signed (EIP-712) by more than half of that chain's relayers.
/// Relayer sets: the owner installs the first set of a source chain, once (at deployment); from
/// then on only more than half of the current relayers can replace it, by signing (EIP-712
/// RelayerChange) the new set together with the current epoch, which each change increments. The
/// owner can therefore neither write a checkpoint nor make itself (or anyone) a relayer of a chain
/// that already has relayers. Deliberately there is no override: if more than half of a set's keys
/// are lost, its chain is anchored anew by a new AnchorRegistry (and, on a side chain, a new mirror).
/// Journal leaves are OpenZeppelin standard-tree leaves of abi.encode(uint8 kind, address emitter,
/// bytes32 subject): kind 1 a licence issued (subject: licence id), 2 a batch issued (subject: its
/// Merkle root), 3 a checkpoint accepted here (subject: its EIP-712 digest).
interface IAnchorRegistry {
    /// @notice What relayers sign.
    struct Checkpoint {
        uint256 sourceChainId;
        uint64 sequence;
        uint64 blockNumber;
        bytes32 blockHash;
        bytes32 identityRoot;
        bytes32 accreditationRoot;
        bytes32 journalRoot;
    }

    /// @notice What is kept of an accepted checkpoint.
    struct Anchored {
        uint64 blockNumber;
        uint64 anchoredAtBlock;
        uint64 anchoredAt;
        bytes32 blockHash;
        bytes32 identityRoot;
        bytes32 accreditationRoot;
        bytes32 journalRoot;
        bytes32 digest;
    }

    /// @notice The relayer set of `sourceChainId` was installed or replaced; `threshold` signatures
    /// are needed; a change of this set must be signed with `epoch`.
    event RelayersSet(uint256 indexed sourceChainId, address[] relayers, uint256 threshold, uint64 epoch);
    /// @notice A checkpoint of `sourceChainId` was accepted.
    event CheckpointAnchored(
        uint256 indexed sourceChainId,
        uint64 indexed sequence,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 identityRoot,
        bytes32 accreditationRoot,
        bytes32 journalRoot,
        bytes32 digest
    );

    /// @notice `sourceChainId` is zero or this chain's own id.
    error AnchorSourceInvalid(uint256 sourceChainId);
    /// @notice The relayer list is empty or holds the zero address or a duplicate.
    error AnchorRelayersInvalid(address relayer);
    /// @notice `sourceChainId` already has relayers; only they can change them (`caller` tried to).
    error AnchorRelayersAlreadySet(uint256 sourceChainId, address caller);
    /// @notice The relayer change was signed for `epoch` but the set is at `current` (a replay or a stale change).
    error AnchorRelayerChangeStale(uint256 sourceChainId, uint64 epoch, uint64 current);
    /// @notice Only `signatures` current relayers signed the change; `required` are needed.
    error AnchorRelayerChangeUnderSigned(uint256 signatures, uint256 required);
    /// @notice No relayers are registered for `sourceChainId`.
    error AnchorSourceUnknown(uint256 sourceChainId);
    /// @notice Checkpoint `sequence` of `sourceChainId` was already accepted (never twice).
    error AnchorCheckpointReplayed(uint256 sourceChainId, uint64 sequence);
    /// @notice The next checkpoint of `sourceChainId` must be `expected`, not `sequence`.
    error AnchorCheckpointOutOfOrder(uint256 sourceChainId, uint64 expected, uint64 sequence);
    /// @notice The checkpoint's block is not after the last anchored block of its chain.
    error AnchorCheckpointStale(uint256 sourceChainId, uint64 blockNumber, uint64 anchoredBlock);
    /// @notice The checkpoint has no block hash.
    error AnchorCheckpointIncomplete();
    /// @notice Signature `index` is not a 65-byte ECDSA signature.
    error AnchorSignatureMalformed(uint256 index);
    /// @notice `signer` is not a relayer of the source chain (a forged or foreign signature).
    error AnchorSignerUnknown(address signer);
    /// @notice Signers must be in strictly ascending address order (no signer counts twice).
    error AnchorSignersUnordered(address signer);
    /// @notice Only `signatures` valid signatures; `required` are needed.
    error AnchorCheckpointUnderSigned(uint256 signatures, uint256 required);
    /// @notice No checkpoint `sequence` of `sourceChainId` has been accepted.
    error AnchorCheckpointUnknown(uint256 sourceChainId, uint64 sequence);

    /// @notice Installs the first relayers of `sourceChainId` (owner only, once per source chain).
    /// @param sourceChainId The chain whose checkpoints they sign (not this chain).
    /// @param relayers Their signing addresses, at least one, no duplicates.
    function setRelayers(uint256 sourceChainId, address[] calldata relayers) external;

    /// @notice Replaces the relayers of `sourceChainId` with a set more than half of them signed (anyone submits).
    /// @param epoch The current {relayerEpoch} of the source chain, which the signatures cover.
    /// @param relayers The new set: at least one address, no duplicates.
    /// @param signatures EIP-712 RelayerChange signatures by current relayers, ordered by ascending signer address.
    function changeRelayers(uint256 sourceChainId, uint64 epoch, address[] calldata relayers, bytes[] calldata signatures)
        external;

    /// @notice Accepts the next checkpoint of `checkpoint.sourceChainId`.
    /// @param checkpoint The checkpoint; its sequence must be the last accepted plus one and its block later.
    /// @param signatures EIP-712 signatures over it by more than half of the chain's relayers,
    /// ordered by ascending signer address.
    function submitCheckpoint(Checkpoint calldata checkpoint, bytes[] calldata signatures) external;

    /// @notice The sequence number of the last accepted checkpoint of `sourceChainId` (0: none yet).
    function latestSequence(uint256 sourceChainId) external view returns (uint64);

    /// @notice An accepted checkpoint (all zero if unknown).
    function checkpoint(uint256 sourceChainId, uint64 sequence) external view returns (Anchored memory);

    /// @notice The identity root of accepted checkpoint `sequence` (reverts if unknown).
    function identityRootAt(uint256 sourceChainId, uint64 sequence) external view returns (bytes32);

    /// @notice The accreditation root of the latest accepted checkpoint of `sourceChainId` and its sequence.
    function latestAccreditationRoot(uint256 sourceChainId) external view returns (bytes32 root, uint64 sequence);

    /// @notice Whether (kind, emitter, subject) was recorded on `sourceChainId` within checkpoint `sequence`.
    /// @param proof The OpenZeppelin Merkle proof of the leaf against the checkpoint's journal root.
    function verifyJournal(
        uint256 sourceChainId,
        uint64 sequence,
        uint8 kind,
        address emitter,
        bytes32 subject,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The standard-tree leaf of a journal entry.
    function journalLeaf(uint8 kind, address emitter, bytes32 subject) external pure returns (bytes32);

    /// @notice The EIP-712 digest relayers sign for `checkpoint`.
    function checkpointDigest(Checkpoint calldata checkpoint) external view returns (bytes32);

    /// @notice The relayers of `sourceChainId`.
    function relayersOf(uint256 sourceChainId) external view returns (address[] memory);

    /// @notice The epoch of `sourceChainId`'s relayer set: 0 none, 1 the owner's first set, +1 per change.
    function relayerEpoch(uint256 sourceChainId) external view returns (uint64);

    /// @notice The EIP-712 digest relayers sign to replace their set by `relayers` at `epoch`.
    function relayerChangeDigest(uint256 sourceChainId, uint64 epoch, address[] calldata relayers)
        external
        view
        returns (bytes32);

    /// @notice How many relayer signatures a checkpoint of `sourceChainId` needs (more than half).
    function threshold(uint256 sourceChainId) external view returns (uint256);
}
