// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Data sharing: a data owner's shared data sets, anchored as digital assets (seed 002)
/// @notice One deployment per data owner (a government business system), who deploys it and owns it
/// (two-step ownership transfer). The data itself is not stored on chain: an asset anchors a pointer
/// to the off-chain file (an IPFS CID or a URL), the file's integrity hash and the encrypted access
/// information (e.g. the data keys wrapped to each allowed identity's public key). Only small, public,
/// non-personal text may sit on chain inline. Only the owner changes an asset's allow-list; anyone may
/// request access, and every request is recorded: grants and denials alike. An optional fee per access
/// (seed 002's paid inspection) is credited to the owner and withdrawn by it (pull payment).
/// @dev Everything stored here is public, whatever the allow-list says: the allow-list decides who is
/// granted access (which an off-chain gateway checks before serving the file or releasing keys), it
/// does not hide on-chain bytes. Hence `accessInfo` must be ciphertext and `inlineData` never personal data.
interface IDataSharing {
    /// @notice The algorithm of an asset's integrity hash. 0 is SHA-256 (IPFS's default digest).
    enum HashAlgorithm {
        SHA256,
        KECCAK256,
        SHA3_256,
        BLAKE2B_256,
        SM3
    }

    /// @notice None: no such asset. Withdrawn is final: no more grants, still listed in the directory.
    enum Status {
        None,
        Active,
        Withdrawn
    }

    /// @notice Why a request for access was denied (recorded, never reverted).
    enum DenialReason {
        NotAllowed,
        Withdrawn,
        WrongFee
    }

    /// @notice What describes an asset: `version` starts at 1 and grows by one with every update.
    struct Header {
        uint32 version;
        bytes32 dataType;
        HashAlgorithm hashAlgorithm;
    }

    /// @notice Where the data is and how to check and open it. At least one of `pointer` and
    /// `inlineData` is non-empty; `integrityHash` is the hash (by the header's algorithm) of the file
    /// behind the pointer, or of `inlineData` when there is no pointer.
    struct Metadata {
        string pointer;
        bytes32 integrityHash;
        bytes accessInfo;
        bytes inlineData;
    }

    struct AssetView {
        Header header;
        Metadata metadata;
        uint96 fee;
        Status status;
        uint64 granted;
        uint64 denied;
        uint32 allowedCount;
        uint40 publishedAt;
        uint40 updatedAt;
    }

    /// @notice One line of the directory (the owner is the contract's {owner}).
    struct DirectoryEntry {
        uint64 id;
        bytes32 dataType;
        uint32 version;
        Status status;
        uint96 fee;
        string pointer;
    }

    /// @notice An account's latest grant on an asset: the version it was granted, when, the grant's
    /// number in the asset's sequence of grants (all zero: never granted), and whether it is current:
    /// paid while the account is on the allow-list without a break (false once it was taken off,
    /// even if it was allowed again since).
    struct Grant {
        uint32 version;
        uint40 grantedAt;
        uint64 number;
        bool current;
    }

    /// @notice The owner published asset `id` (version 1).
    event AssetPublished(
        uint64 indexed id,
        bytes32 indexed dataType,
        HashAlgorithm hashAlgorithm,
        string pointer,
        bytes32 integrityHash,
        uint96 fee
    );
    /// @notice The owner replaced the metadata of asset `id`, which is now at `version`.
    event AssetUpdated(uint64 indexed id, uint32 version, string pointer, bytes32 integrityHash);
    /// @notice The owner changed the fee per access of asset `id`.
    event AssetFeeChanged(uint64 indexed id, uint96 previous, uint96 fee);
    /// @notice The owner withdrew asset `id` at `version`: no access is granted any more.
    event AssetWithdrawn(uint64 indexed id, uint32 version);
    /// @notice The owner put `account` on the allow-list of asset `id`, for the `epoch`-th time (1, 2, ...):
    /// grants are paid for within one such admission.
    event AccessAllowed(uint64 indexed id, address indexed account, uint32 epoch);
    /// @notice The owner took `account` off the allow-list of asset `id`; `endedGrant` is the number of
    /// the grant this ended (0: it held none), which no later admission revives.
    event AccessDisallowed(uint64 indexed id, address indexed account, uint64 endedGrant);
    /// @notice `requester` was granted access to `version` of asset `id` and paid `fee`; this is the
    /// asset's `grantNumber`-th grant.
    event AccessGranted(
        uint64 indexed id, address indexed requester, uint32 version, uint96 fee, bytes32 purpose, uint64 grantNumber
    );
    /// @notice `requester` was denied access to asset `id`; the `refund` it sent was returned (or
    /// credited to it, see {PaymentCredited}).
    event AccessDenied(
        uint64 indexed id, address indexed requester, DenialReason reason, bytes32 purpose, uint256 refund
    );
    /// @notice `amount` wei were credited to `payee`: a fee to the owner, or a refund its account refused.
    event PaymentCredited(address indexed payee, uint256 amount);
    /// @notice `payee` withdrew its credit of `amount` wei to `to`.
    event PaymentWithdrawn(address indexed payee, address indexed to, uint256 amount);

    /// @notice No asset has this id.
    error AssetUnknown(uint64 id);
    /// @notice The asset was withdrawn; it no longer changes.
    error AssetNotActive(uint64 id);
    /// @notice The data type is empty.
    error AssetDataTypeEmpty();
    /// @notice `hashAlgorithm` is not one of {HashAlgorithm}.
    error AssetHashAlgorithmInvalid(uint8 hashAlgorithm);
    /// @notice The asset has neither a pointer nor inline data.
    error AssetContentEmpty();
    /// @notice The pointer is longer than MAX_POINTER bytes.
    error AssetPointerTooLong(uint256 length);
    /// @notice The integrity hash is zero.
    error AssetIntegrityHashEmpty();
    /// @notice The access information is longer than MAX_ACCESS_INFO bytes.
    error AssetAccessInfoTooLong(uint256 length);
    /// @notice The inline data is longer than MAX_INLINE_DATA bytes.
    error AssetInlineDataTooLong(uint256 length);
    /// @notice An allow-list batch is empty or longer than MAX_BATCH.
    error AssetBatchInvalid(uint256 length);
    /// @notice The account at `index` of the batch is the zero address.
    error AssetAccountZero(uint256 index);
    /// @notice `account` has no credit to withdraw.
    error PaymentNothingOwed(address account);
    /// @notice Credits cannot be withdrawn to the zero address.
    error PaymentRecipientZero();
    /// @notice Sending `amount` wei to `to` failed (the credit is kept).
    error PaymentFailed(address to, uint256 amount);
    /// @notice The data owner cannot renounce ownership: assets, allow-lists and fees need an owner.
    error SharingRenounceDisabled();

    /// @notice Publishes a new asset at version 1, Active, with an empty allow-list (owner only).
    /// @dev `metadata.inlineData` is public and permanent: small non-personal text only (a code list,
    /// a schema, a public register extract), NEVER personal data. `metadata.accessInfo` is public too:
    /// only ciphertext (keys wrapped to the allowed identities' public keys) belongs there.
    /// @param dataType A short non-zero name of the kind of data (ASCII, left-aligned), e.g. "business-licence".
    /// @param hashAlgorithm The {HashAlgorithm} of `metadata.integrityHash`.
    /// @param metadata Pointer (at most MAX_POINTER bytes), non-zero integrity hash, access information
    /// (at most MAX_ACCESS_INFO bytes) and inline data (at most MAX_INLINE_DATA bytes); pointer and
    /// inline data not both empty.
    /// @param fee Wei per access, paid by the requester to the owner (0: free).
    /// @return id The asset's id: 1 for the first asset, then one more each time.
    function publish(bytes32 dataType, uint8 hashAlgorithm, Metadata calldata metadata, uint96 fee)
        external
        returns (uint64 id);

    /// @notice Replaces an active asset's metadata; its version grows by one (owner only).
    /// @dev Data type and hash algorithm stay: a different kind of data is a different asset. Earlier
    /// grants keep naming the version they were granted (see {hasGrant}).
    /// @param id The asset.
    /// @param metadata As for {publish}.
    /// @return version The asset's new version.
    function update(uint64 id, Metadata calldata metadata) external returns (uint32 version);

    /// @notice Changes an active asset's fee per access (owner only). Setting the current fee again
    /// changes nothing and emits nothing.
    /// @param id The asset.
    /// @param fee Wei per access (0: free).
    function setFee(uint64 id, uint96 fee) external;

    /// @notice Puts accounts on an active asset's allow-list (owner only). Idempotent: an account
    /// already on the list (or repeated in the batch) is skipped without an event.
    /// @param id The asset.
    /// @param accounts 1 to MAX_BATCH non-zero addresses.
    /// @return added How many accounts were not on the list before.
    function allow(uint64 id, address[] calldata accounts) external returns (uint256 added);

    /// @notice Takes accounts off an active asset's allow-list (owner only). Idempotent: an account
    /// not on the list is skipped without an event. Their grants end: allowed again, an account must
    /// request (and pay) anew before {hasGrant} admits it; earlier grants stay recorded ({lastGrant}).
    /// @param id The asset.
    /// @param accounts 1 to MAX_BATCH non-zero addresses.
    /// @return removed How many accounts were on the list.
    function disallow(uint64 id, address[] calldata accounts) external returns (uint256 removed);

    /// @notice Withdraws an active asset for good (owner only): requests are denied from now on; the
    /// directory keeps listing it as Withdrawn.
    /// @param id The asset.
    function withdraw(uint64 id) external;

    /// @notice Requests access to an asset and records the outcome. Granted when the asset is Active,
    /// the sender is on its allow-list and `msg.value` equals the fee, which is credited to the owner.
    /// Otherwise denied with a reason, and `msg.value` is returned in full.
    /// @dev Never reverts on a denial, so that the denial is recorded (a reverted call leaves no
    /// trace). Reverts only for an unknown id: there is no asset to record against.
    /// @param id The asset.
    /// @param purpose What the access is for: a public purpose code, or a salted commitment to a purpose
    /// statement, keccak256("elicense.purpose.v1" ‖ salt ‖ statement) with a 32-byte random salt kept
    /// off chain by the parties (an unsalted hash of a statement is confirmed by guessing it).
    /// @return granted Whether access was granted.
    function requestAccess(uint64 id, bytes32 purpose) external payable returns (bool granted);

    /// @notice Sends the sender's whole credit (fees earned as owner, refunds its account refused) to `to`.
    /// @param to Where to send it; not the zero address.
    /// @return amount The wei sent.
    function withdrawPayments(address payable to) external returns (uint256 amount);

    /// @notice An asset's header, metadata, fee, status, counters and times; reverts with AssetUnknown if none.
    /// @param id The asset.
    /// @return The asset.
    function asset(uint64 id) external view returns (AssetView memory);

    /// @notice Whether `account` is on the allow-list of asset `id` (false for an unknown asset).
    /// @param id The asset.
    /// @param account Any address.
    /// @return Whether it is on the list.
    function isAllowed(uint64 id, address account) external view returns (bool);

    /// @notice A page of an asset's allow-list (its order changes when accounts are removed).
    /// @param id The asset; reverts with AssetUnknown if none.
    /// @param offset The index of the first account (0-based); past the end: an empty page.
    /// @param limit The most accounts to return (capped at MAX_PAGE).
    /// @return accounts The page.
    function allowListOf(uint64 id, uint256 offset, uint256 limit) external view returns (address[] memory accounts);

    /// @notice How many assets were published (the highest id).
    /// @return The number of assets, withdrawn ones included.
    function assetCount() external view returns (uint64);

    /// @notice A page of the directory of all assets, in id order, withdrawn ones included.
    /// @param offset How many assets to skip (the page starts at id offset + 1); past the end: an empty page.
    /// @param limit The most entries to return (capped at MAX_PAGE).
    /// @return entries The page.
    function directory(uint256 offset, uint256 limit) external view returns (DirectoryEntry[] memory entries);

    /// @notice The latest grant of asset `id` to `account` (all zero if never granted).
    /// @param id The asset; reverts with AssetUnknown if none.
    /// @param account Any address.
    /// @return The grant.
    function lastGrant(uint64 id, address account) external view returns (Grant memory);

    /// @notice What a gateway asks before serving data: was `account` granted `version` of asset `id`
    /// at or after `notBefore` during its current admission to the allow-list (not before a
    /// {disallow}), and is the asset still Active and the account still allowed?
    /// @param id The asset (false if unknown).
    /// @param account The requester.
    /// @param version The version the gateway is about to serve.
    /// @param notBefore The oldest grant time the gateway accepts (unix seconds).
    /// @return Whether all of that holds.
    function hasGrant(uint64 id, address account, uint32 version, uint40 notBefore) external view returns (bool);

    /// @notice The wei `account` may withdraw with {withdrawPayments}.
    /// @param account Any address.
    /// @return The credit.
    function paymentsOf(address account) external view returns (uint256);
}
