// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IAnchorRegistry} from "./interfaces/IAnchorRegistry.sol";

/// @title AnchorRegistry
/// @notice See {IAnchorRegistry}.
/// @dev The owner (the topology's governance account or multisig) installs the first relayer set of
/// each source chain, once, at deployment, and can do nothing else: it cannot write a checkpoint
/// and cannot replace a set, so it can never put keys of its own in charge of a chain already
/// anchored. Later sets come from the current relayers themselves: more than half of them sign
/// (EIP-712, sorted by signer, as for checkpoints) the new set with the set's epoch, which every
/// change increments, so a signed change applies once and old signatures cannot be replayed.
contract AnchorRegistry is IAnchorRegistry, EIP712, Ownable2Step {
    using EnumerableSet for EnumerableSet.AddressSet;

    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(uint256 sourceChainId,uint64 sequence,uint64 blockNumber,bytes32 blockHash,bytes32 identityRoot,bytes32 accreditationRoot,bytes32 journalRoot)"
    );

    bytes32 public constant RELAYER_CHANGE_TYPEHASH =
        keccak256("RelayerChange(uint256 sourceChainId,uint64 epoch,address[] relayers)");

    mapping(uint256 sourceChainId => EnumerableSet.AddressSet) private _relayers;
    mapping(uint256 sourceChainId => uint64) private _epochs;
    mapping(uint256 sourceChainId => uint64) private _latest;
    mapping(uint256 sourceChainId => mapping(uint64 sequence => Anchored)) private _checkpoints;

    /// @param owner_ The account that manages relayer sets.
    constructor(address owner_) EIP712("elicense AnchorRegistry", "1") Ownable(owner_) {}

    /// @inheritdoc IAnchorRegistry
    function setRelayers(uint256 sourceChainId, address[] calldata relayers) external onlyOwner {
        if (sourceChainId == 0 || sourceChainId == block.chainid) revert AnchorSourceInvalid(sourceChainId);
        if (_epochs[sourceChainId] != 0) revert AnchorRelayersAlreadySet(sourceChainId, msg.sender);
        _replaceRelayers(sourceChainId, relayers);
    }

    /// @inheritdoc IAnchorRegistry
    function changeRelayers(uint256 sourceChainId, uint64 epoch, address[] calldata relayers, bytes[] calldata signatures)
        external
    {
        uint64 current = _epochs[sourceChainId];
        if (current == 0) revert AnchorSourceUnknown(sourceChainId);
        if (epoch != current) revert AnchorRelayerChangeStale(sourceChainId, epoch, current);
        EnumerableSet.AddressSet storage set = _relayers[sourceChainId];
        uint256 required = set.length() / 2 + 1;
        uint256 signed = _countSigners(set, relayerChangeDigest(sourceChainId, epoch, relayers), signatures);
        if (signed < required) revert AnchorRelayerChangeUnderSigned(signed, required);
        _replaceRelayers(sourceChainId, relayers);
    }

    function _replaceRelayers(uint256 sourceChainId, address[] calldata relayers) private {
        if (relayers.length == 0) revert AnchorRelayersInvalid(address(0));
        EnumerableSet.AddressSet storage set = _relayers[sourceChainId];
        address[] memory old = set.values();
        for (uint256 i = 0; i < old.length; ++i) {
            set.remove(old[i]);
        }
        for (uint256 i = 0; i < relayers.length; ++i) {
            if (relayers[i] == address(0) || !set.add(relayers[i])) revert AnchorRelayersInvalid(relayers[i]);
        }
        uint64 epoch = ++_epochs[sourceChainId];
        emit RelayersSet(sourceChainId, relayers, relayers.length / 2 + 1, epoch);
    }

    /// @dev Every signature must be a current relayer's, in strictly ascending signer order (so none
    /// counts twice); returns how many there are.
    function _countSigners(EnumerableSet.AddressSet storage relayers, bytes32 digest, bytes[] calldata signatures)
        private
        view
        returns (uint256)
    {
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signatures[i]);
            if (error != ECDSA.RecoverError.NoError) revert AnchorSignatureMalformed(i);
            if (!relayers.contains(signer)) revert AnchorSignerUnknown(signer);
            if (signer <= previous) revert AnchorSignersUnordered(signer);
            previous = signer;
        }
        return signatures.length;
    }

    /// @inheritdoc IAnchorRegistry
    function submitCheckpoint(Checkpoint calldata c, bytes[] calldata signatures) external {
        uint256 source = c.sourceChainId;
        EnumerableSet.AddressSet storage relayers = _relayers[source];
        uint256 relayerCount = relayers.length();
        if (relayerCount == 0) revert AnchorSourceUnknown(source);
        uint64 latest = _latest[source];
        if (c.sequence <= latest) revert AnchorCheckpointReplayed(source, c.sequence);
        if (c.sequence != latest + 1) revert AnchorCheckpointOutOfOrder(source, latest + 1, c.sequence);
        uint64 anchoredBlock = _checkpoints[source][latest].blockNumber;
        if (c.blockNumber <= anchoredBlock) revert AnchorCheckpointStale(source, c.blockNumber, anchoredBlock);
        if (c.blockHash == bytes32(0)) revert AnchorCheckpointIncomplete();

        bytes32 digest = _digest(c);
        uint256 signed = _countSigners(relayers, digest, signatures);
        uint256 required = relayerCount / 2 + 1;
        if (signed < required) revert AnchorCheckpointUnderSigned(signed, required);

        _latest[source] = c.sequence;
        _store(c, digest);
    }

    function _store(Checkpoint calldata c, bytes32 digest) private {
        _checkpoints[c.sourceChainId][c.sequence] = Anchored({
            blockNumber: c.blockNumber,
            anchoredAtBlock: uint64(block.number),
            anchoredAt: uint64(block.timestamp),
            blockHash: c.blockHash,
            identityRoot: c.identityRoot,
            accreditationRoot: c.accreditationRoot,
            journalRoot: c.journalRoot,
            digest: digest
        });
        emit CheckpointAnchored(
            c.sourceChainId, c.sequence, c.blockNumber, c.blockHash, c.identityRoot, c.accreditationRoot, c.journalRoot, digest
        );
    }

    function _digest(Checkpoint calldata c) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    CHECKPOINT_TYPEHASH,
                    c.sourceChainId,
                    c.sequence,
                    c.blockNumber,
                    c.blockHash,
                    c.identityRoot,
                    c.accreditationRoot,
                    c.journalRoot
                )
            )
        );
    }

    function _known(uint256 sourceChainId, uint64 sequence) private view returns (Anchored storage a) {
        a = _checkpoints[sourceChainId][sequence];
        if (a.blockNumber == 0) revert AnchorCheckpointUnknown(sourceChainId, sequence);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAnchorRegistry
    function latestSequence(uint256 sourceChainId) external view returns (uint64) {
        return _latest[sourceChainId];
    }

    /// @inheritdoc IAnchorRegistry
    function checkpoint(uint256 sourceChainId, uint64 sequence) external view returns (Anchored memory) {
        return _checkpoints[sourceChainId][sequence];
    }

    /// @inheritdoc IAnchorRegistry
    function identityRootAt(uint256 sourceChainId, uint64 sequence) external view returns (bytes32) {
        return _known(sourceChainId, sequence).identityRoot;
    }

    /// @inheritdoc IAnchorRegistry
    function latestAccreditationRoot(uint256 sourceChainId) external view returns (bytes32 root, uint64 sequence) {
        sequence = _latest[sourceChainId];
        root = _checkpoints[sourceChainId][sequence].accreditationRoot;
    }

    /// @inheritdoc IAnchorRegistry
    function verifyJournal(
        uint256 sourceChainId,
        uint64 sequence,
        uint8 kind,
        address emitter,
        bytes32 subject,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _known(sourceChainId, sequence).journalRoot;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, journalLeaf(kind, emitter, subject));
    }

    /// @inheritdoc IAnchorRegistry
    function journalLeaf(uint8 kind, address emitter, bytes32 subject) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(kind, emitter, subject))));
    }

    /// @inheritdoc IAnchorRegistry
    function checkpointDigest(Checkpoint calldata c) external view returns (bytes32) {
        return _digest(c);
    }

    /// @inheritdoc IAnchorRegistry
    function relayersOf(uint256 sourceChainId) external view returns (address[] memory) {
        return _relayers[sourceChainId].values();
    }

    /// @inheritdoc IAnchorRegistry
    function relayerEpoch(uint256 sourceChainId) external view returns (uint64) {
        return _epochs[sourceChainId];
    }

    /// @inheritdoc IAnchorRegistry
    function relayerChangeDigest(uint256 sourceChainId, uint64 epoch, address[] calldata relayers)
        public
        view
        returns (bytes32)
    {
        // EIP-712 encodes an address[] as the hash of its 32-byte-padded elements, which encodePacked gives.
        return _hashTypedDataV4(
            keccak256(abi.encode(RELAYER_CHANGE_TYPEHASH, sourceChainId, epoch, keccak256(abi.encodePacked(relayers))))
        );
    }

    /// @inheritdoc IAnchorRegistry
    function threshold(uint256 sourceChainId) external view returns (uint256) {
        uint256 n = _relayers[sourceChainId].length();
        return n == 0 ? 0 : n / 2 + 1;
    }
}
