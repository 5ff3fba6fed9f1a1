// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IDataSharing} from "./interfaces/IDataSharing.sol";

/// @title DataSharing
/// @notice See {IDataSharing}.
/// @dev Fees are pull payments: a grant credits the owner and sends no ether, so granting makes no
/// external call at all. The only calls out are the refund of a denied request (to the requester,
/// after every state change, returning no data; if it fails the refund is credited instead, so the
/// denial is still recorded) and {withdrawPayments} (the credit is zeroed before the call).
/// Re-entering from either sees finished state, hence no reentrancy guard (and its ~2,300 gas per call).
contract DataSharing is IDataSharing, Ownable2Step {
    /// @notice Longest pointer in bytes (an IPFS CIDv1 in base32 is 59, a URL should be short).
    uint256 public constant MAX_POINTER = 128;
    /// @notice Longest access information in bytes (a few wrapped keys).
    uint256 public constant MAX_ACCESS_INFO = 1024;
    /// @notice Longest inline data in bytes (small public text only).
    uint256 public constant MAX_INLINE_DATA = 1024;
    /// @notice Most accounts per allow / disallow call.
    uint256 public constant MAX_BATCH = 100;
    /// @notice Most entries per directory or allow-list page.
    uint256 public constant MAX_PAGE = 100;

    /// @dev Slot 0 is all an access request reads and writes of the asset. 56-bit counters cannot
    /// overflow (7.2e16 requests); neither can the 32-bit version in practice (4.3e9 updates).
    struct Asset {
        uint32 version;
        HashAlgorithm hashAlgorithm;
        Status status;
        uint96 fee;
        uint56 granted;
        uint56 denied;
        // slot 1
        uint40 publishedAt;
        uint40 updatedAt;
        uint32 allowedCount;
        // slots 2 and 3, then the dynamic fields
        bytes32 dataType;
        bytes32 integrityHash;
        string pointer;
        bytes accessInfo;
        bytes inlineData;
    }

    /// @dev One slot per (asset, account): the allow-list position (index + 1; 0 = not allowed)
    /// beside the latest grant, so a request reads one slot and a grant rewrites the same slot.
    /// `allowEpoch` counts the account's admissions to the list and a grant is bound to the epoch it
    /// was paid in (`grantEpoch`): taking the account off the list ends the grant for good, and being
    /// allowed again does not revive it. 2^32 admissions of one account cannot be reached.
    struct Access {
        uint32 position;
        uint32 grantedVersion;
        uint40 grantedAt;
        uint64 grantNumber;
        uint32 allowEpoch;
        uint32 grantEpoch;
    }

    uint64 private _assetCount;
    mapping(uint64 id => Asset) private _assets;
    mapping(uint64 id => mapping(address account => Access)) private _access;
    mapping(uint64 id => mapping(uint256 index => address)) private _allowList;
    mapping(address payee => uint256) private _payments;

    /// @notice The deployer is the data owner (seed 002: the contract's only owner is its deployer).
    constructor() Ownable(msg.sender) {}

    // ---------------------------------------------------------------- owner: assets

    /// @inheritdoc IDataSharing
    function publish(bytes32 dataType, uint8 hashAlgorithm, Metadata calldata metadata, uint96 fee)
        external
        onlyOwner
        returns (uint64 id)
    {
        if (dataType == bytes32(0)) revert AssetDataTypeEmpty();
        if (hashAlgorithm > uint8(type(HashAlgorithm).max)) revert AssetHashAlgorithmInvalid(hashAlgorithm);
        _checkMetadata(metadata);
        unchecked {
            id = ++_assetCount; // one per transaction: cannot reach 2^64
        }
        Asset storage a = _assets[id];
        a.version = 1;
        a.hashAlgorithm = HashAlgorithm(hashAlgorithm);
        a.status = Status.Active;
        a.fee = fee;
        a.publishedAt = uint40(block.timestamp);
        a.updatedAt = uint40(block.timestamp);
        a.dataType = dataType;
        _storeMetadata(a, metadata, false);
        emit AssetPublished(id, dataType, HashAlgorithm(hashAlgorithm), metadata.pointer, metadata.integrityHash, fee);
    }

    /// @inheritdoc IDataSharing
    function update(uint64 id, Metadata calldata metadata) external onlyOwner returns (uint32 version) {
        Asset storage a = _active(id);
        _checkMetadata(metadata);
        unchecked {
            version = a.version + 1; // see Asset
        }
        a.version = version;
        a.updatedAt = uint40(block.timestamp);
        _storeMetadata(a, metadata, true);
        emit AssetUpdated(id, version, metadata.pointer, metadata.integrityHash);
    }

    /// @inheritdoc IDataSharing
    function setFee(uint64 id, uint96 fee) external onlyOwner {
        Asset storage a = _active(id);
        uint96 previous = a.fee;
        if (previous == fee) return;
        a.fee = fee;
        emit AssetFeeChanged(id, previous, fee);
    }

    /// @inheritdoc IDataSharing
    function withdraw(uint64 id) external onlyOwner {
        Asset storage a = _active(id);
        a.status = Status.Withdrawn;
        emit AssetWithdrawn(id, a.version);
    }

    function _checkMetadata(Metadata calldata metadata) private pure {
        uint256 pointerLength = bytes(metadata.pointer).length;
        if (pointerLength > MAX_POINTER) revert AssetPointerTooLong(pointerLength);
        if (metadata.integrityHash == bytes32(0)) revert AssetIntegrityHashEmpty();
        if (metadata.accessInfo.length > MAX_ACCESS_INFO) revert AssetAccessInfoTooLong(metadata.accessInfo.length);
        if (metadata.inlineData.length > MAX_INLINE_DATA) revert AssetInlineDataTooLong(metadata.inlineData.length);
        if (pointerLength == 0 && metadata.inlineData.length == 0) revert AssetContentEmpty();
    }

    /// @dev A new asset's fields are empty already: writing empty values would cost a cold access each.
    function _storeMetadata(Asset storage a, Metadata calldata metadata, bool replace) private {
        a.integrityHash = metadata.integrityHash;
        if (replace || bytes(metadata.pointer).length != 0) a.pointer = metadata.pointer;
        if (replace || metadata.accessInfo.length != 0) a.accessInfo = metadata.accessInfo;
        if (replace || metadata.inlineData.length != 0) a.inlineData = metadata.inlineData;
    }

    // ---------------------------------------------------------------- owner: allow-lists

    /// @inheritdoc IDataSharing
    function allow(uint64 id, address[] calldata accounts) external onlyOwner returns (uint256 added) {
        Asset storage a = _active(id);
        _checkBatch(accounts);
        uint32 count = a.allowedCount;
        mapping(address => Access) storage access = _access[id];
        for (uint256 i = 0; i < accounts.length; ++i) {
            address account = accounts[i];
            if (account == address(0)) revert AssetAccountZero(i);
            Access storage entry = access[account];
            if (entry.position != 0) continue;
            _allowList[id][count] = account;
            uint32 epoch;
            unchecked {
                ++count; // at most one entry per address and MAX_BATCH per call
                ++added;
                epoch = entry.allowEpoch + 1; // see Access
            }
            entry.position = count;
            entry.allowEpoch = epoch;
            emit AccessAllowed(id, account, epoch);
        }
        if (added != 0) a.allowedCount = count;
    }

    /// @inheritdoc IDataSharing
    function disallow(uint64 id, address[] calldata accounts) external onlyOwner returns (uint256 removed) {
        Asset storage a = _active(id);
        _checkBatch(accounts);
        uint32 count = a.allowedCount;
        mapping(address => Access) storage access = _access[id];
        mapping(uint256 => address) storage list = _allowList[id];
        for (uint256 i = 0; i < accounts.length; ++i) {
            address account = accounts[i];
            if (account == address(0)) revert AssetAccountZero(i);
            Access storage entry = access[account];
            uint32 position = entry.position;
            if (position == 0) continue;
            unchecked {
                --count; // the account is on the list, so the list is not empty
                ++removed;
            }
            if (position <= count) {
                // Swap and pop: the last account takes the removed one's place.
                address last = list[count];
                list[position - 1] = last;
                access[last].position = position;
            }
            delete list[count];
            // The grant of this admission ends with it (its record stays for {lastGrant}).
            uint64 ended = _current(entry) ? entry.grantNumber : 0;
            entry.position = 0;
            emit AccessDisallowed(id, account, ended);
        }
        if (removed != 0) a.allowedCount = count;
    }

    function _checkBatch(address[] calldata accounts) private pure {
        if (accounts.length == 0 || accounts.length > MAX_BATCH) revert AssetBatchInvalid(accounts.length);
    }

    // ---------------------------------------------------------------- access

    /// @inheritdoc IDataSharing
    function requestAccess(uint64 id, bytes32 purpose) external payable returns (bool granted) {
        Asset storage a = _assets[id];
        Status status = a.status;
        if (status == Status.None) revert AssetUnknown(id);
        Access storage entry = _access[id][msg.sender];
        uint96 fee = a.fee;

        DenialReason reason;
        if (status == Status.Withdrawn) {
            reason = DenialReason.Withdrawn;
        } else if (entry.position == 0) {
            reason = DenialReason.NotAllowed;
        } else if (msg.value != fee) {
            reason = DenialReason.WrongFee;
        } else {
            granted = true;
        }

        if (granted) {
            uint56 number;
            unchecked {
                number = a.granted + 1; // see Asset
            }
            a.granted = number;
            uint32 version = a.version;
            entry.grantedVersion = version;
            entry.grantedAt = uint40(block.timestamp);
            entry.grantNumber = number;
            entry.grantEpoch = entry.allowEpoch;
            if (fee != 0) _credit(owner(), fee);
            emit AccessGranted(id, msg.sender, version, fee, purpose, number);
        } else {
            unchecked {
                ++a.denied; // see Asset
            }
            emit AccessDenied(id, msg.sender, reason, purpose, msg.value);
            if (msg.value != 0 && !_send(msg.sender, msg.value)) _credit(msg.sender, msg.value);
        }
    }

    // ---------------------------------------------------------------- payments

    /// @inheritdoc IDataSharing
    function withdrawPayments(address payable to) external returns (uint256 amount) {
        if (to == address(0)) revert PaymentRecipientZero();
        amount = _payments[msg.sender];
        if (amount == 0) revert PaymentNothingOwed(msg.sender);
        _payments[msg.sender] = 0;
        emit PaymentWithdrawn(msg.sender, to, amount);
        if (!_send(to, amount)) revert PaymentFailed(to, amount);
    }

    /// @inheritdoc Ownable
    /// @dev Disabled: without an owner, fees would be credited to the zero address and assets could
    /// never be withdrawn.
    function renounceOwnership() public view override onlyOwner {
        revert SharingRenounceDisabled();
    }

    function _credit(address payee, uint256 amount) private {
        _payments[payee] += amount;
        emit PaymentCredited(payee, amount);
    }

    /// @dev Forwards all gas but copies no return data, so a callee cannot make the caller pay for a
    /// huge return ("return bomb").
    function _send(address to, uint256 amount) private returns (bool ok) {
        assembly ("memory-safe") {
            ok := call(gas(), to, amount, 0, 0, 0, 0)
        }
    }

    // ---------------------------------------------------------------- internals

    /// @dev Whether the account's latest grant was paid during its current admission to the list.
    function _current(Access storage entry) private view returns (bool) {
        return entry.position != 0 && entry.grantNumber != 0 && entry.grantEpoch == entry.allowEpoch;
    }

    function _existing(uint64 id) private view returns (Asset storage a) {
        a = _assets[id];
        if (a.status == Status.None) revert AssetUnknown(id);
    }

    function _active(uint64 id) private view returns (Asset storage a) {
        a = _existing(id);
        if (a.status != Status.Active) revert AssetNotActive(id);
    }

    /// @dev [offset, end) clipped to `total` and to MAX_PAGE entries.
    function _page(uint256 offset, uint256 limit, uint256 total) private pure returns (uint256 end) {
        if (offset >= total) return offset;
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        end = total - offset < limit ? total : offset + limit;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDataSharing
    function asset(uint64 id) external view returns (AssetView memory) {
        Asset storage a = _existing(id);
        return AssetView(
            Header(a.version, a.dataType, a.hashAlgorithm),
            Metadata(a.pointer, a.integrityHash, a.accessInfo, a.inlineData),
            a.fee,
            a.status,
            a.granted,
            a.denied,
            a.allowedCount,
            a.publishedAt,
            a.updatedAt
        );
    }

    /// @inheritdoc IDataSharing
    function isAllowed(uint64 id, address account) external view returns (bool) {
        return _access[id][account].position != 0;
    }

    /// @inheritdoc IDataSharing
    function allowListOf(uint64 id, uint256 offset, uint256 limit) external view returns (address[] memory accounts) {
        uint256 end = _page(offset, limit, _existing(id).allowedCount);
        accounts = new address[](end - offset);
        mapping(uint256 => address) storage list = _allowList[id];
        for (uint256 i = offset; i < end; ++i) {
            accounts[i - offset] = list[i];
        }
    }

    /// @inheritdoc IDataSharing
    function assetCount() external view returns (uint64) {
        return _assetCount;
    }

    /// @inheritdoc IDataSharing
    function directory(uint256 offset, uint256 limit) external view returns (DirectoryEntry[] memory entries) {
        uint256 end = _page(offset, limit, _assetCount);
        entries = new DirectoryEntry[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            uint64 id = uint64(i + 1);
            Asset storage a = _assets[id];
            entries[i - offset] = DirectoryEntry(id, a.dataType, a.version, a.status, a.fee, a.pointer);
        }
    }

    /// @inheritdoc IDataSharing
    function lastGrant(uint64 id, address account) external view returns (Grant memory) {
        _existing(id);
        Access storage entry = _access[id][account];
        return Grant(entry.grantedVersion, entry.grantedAt, entry.grantNumber, _current(entry));
    }

    /// @inheritdoc IDataSharing
    function hasGrant(uint64 id, address account, uint32 version, uint40 notBefore) external view returns (bool) {
        Access storage entry = _access[id][account];
        return _assets[id].status == Status.Active && _current(entry) && entry.grantedVersion == version
            && entry.grantedAt >= notBefore;
    }

    /// @inheritdoc IDataSharing
    function paymentsOf(address account) external view returns (uint256) {
        return _payments[account];
    }
}
