// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IDataSharing} from "../interfaces/IDataSharing.sol";

/// @title TestOnlyReentrantRequester: a TEST-ONLY attacker of DataSharing, never deployed outside tests
/// @notice A requester contract that, when DataSharing sends it ether (a refund, a withdrawal), either
/// refuses it or calls back into DataSharing: another access request or a withdrawal of its credit.
contract TestOnlyReentrantRequester {
    enum Mode {
        Accept,
        Reject,
        ReenterRequest,
        ReenterWithdraw
    }

    error TestOnlyRejected();

    IDataSharing public immutable sharing;
    Mode public mode;
    uint64 public assetId;
    uint256 public reentryValue;
    uint256 public maxReentries;
    uint256 public reentries;
    uint256 public received;
    uint256 public withdrawnInReentry;
    uint256 public grantedInReentry;
    bytes public lastError;

    constructor(IDataSharing sharing_) {
        sharing = sharing_;
    }

    /// @notice What to do on the next ether received: re-enter at most `max` times, sending `value`.
    function setMode(Mode mode_, uint256 value, uint256 max) external {
        mode = mode_;
        reentryValue = value;
        maxReentries = max;
    }

    function request(uint64 id, bytes32 purpose) external payable returns (bool) {
        assetId = id;
        return sharing.requestAccess{value: msg.value}(id, purpose);
    }

    function withdrawTo(address payable to) external returns (uint256) {
        return sharing.withdrawPayments(to);
    }

    receive() external payable {
        if (mode == Mode.Reject) revert TestOnlyRejected();
        received += msg.value;
        if (mode == Mode.Accept || reentries >= maxReentries) return;
        ++reentries;
        if (mode == Mode.ReenterRequest) {
            if (sharing.requestAccess{value: reentryValue}(assetId, "reentered")) ++grantedInReentry;
        } else {
            try sharing.withdrawPayments(payable(address(this))) returns (uint256 amount) {
                withdrawnInReentry += amount;
            } catch (bytes memory reason) {
                lastError = reason;
            }
        }
    }
}
