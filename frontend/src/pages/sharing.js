// Data-sharing page (docs/data-sharing.md): a data owner's DataSharing directory, one asset's details,
// and, with the reader's key unlocked here, "Request access" (requestAccess, signed in this page, fee
// included) and "Download" (a fresh EIP-712 read request signed here → the gateway's sealed file →
// checked against the hash on chain → opened with the reader's key in this page → saved as a file).

import { formatEther, sha256 } from "ethers";

import {
  $, byTestId, cell, clearError, downloadBytes, el, h, hashCode, initPage, keyPanel, localTime, perform, run, shortHex,
  showError,
} from "./common.js";

const PAGE_SIZE = 10;
const DENIALS = {
  "not-allowed": "you are not on this asset's allow-list",
  withdrawn: "the asset was withdrawn",
  "wrong-fee": "the ether sent was not the asset's fee",
};
const DENIAL_CODES = ["not-allowed", "withdrawn", "wrong-fee"];

initPage();

const contractForm = $("#contract-form");
const contractSelect = byTestId("contract-select");
const contractInput = byTestId("contract-input");
const contractOpen = byTestId("contract-open");
const noContracts = byTestId("no-contracts");
const directoryPanel = $("#directory-panel");
const directoryBody = byTestId("directory-body");
const directoryEmpty = byTestId("directory-empty");
const directoryRefresh = byTestId("directory-refresh");
const pagePrev = byTestId("page-prev");
const pageNext = byTestId("page-next");
const pageInfo = byTestId("page-info");
const assetPanel = $("#asset-panel");
const assetFacts = byTestId("asset-facts");
const assetLocked = byTestId("asset-locked");
const accessForm = $("#access-form");
const purposeInput = byTestId("access-purpose");
const requestButton = byTestId("request-access-button");
const downloadButton = byTestId("download-button");
const accessResult = byTestId("access-result");
const downloadResult = byTestId("download-result");

let contract = null; // the checksummed address of the directory shown
let offset = 0;
let total = 0;
let asset = null; // the asset shown: the server's JSON

const keys = keyPanel($("#key-panel"), {
  who: "reader",
  onUnlock: () => updateLock(),
  onLock: () => updateLock(),
});

function updateLock() {
  const locked = !keys.wallet;
  assetLocked.hidden = !locked;
  requestButton.disabled = locked;
  downloadButton.disabled = locked;
}

function needWallet() {
  const wallet = keys.wallet;
  if (!wallet) throw new Error("unlock your key first: requests and downloads are signed with it, in this page");
  return wallet;
}

function feeText(fee) {
  const wei = BigInt(fee ?? 0);
  return wei === 0n ? "free" : `${formatEther(wei)} ETH (${wei} wei)`;
}

function statusBadge(status) {
  const cls = status === "active" ? "badge-active" : "badge-withdrawn";
  return h("span", { class: `badge ${cls}`, "data-testid": "asset-status", "data-status": status }, status);
}

// ---------------------------------------------------------------- choosing a contract

async function init() {
  updateLock();
  const cfg = await el.api("/api/config");
  const offered = cfg?.sharing_contracts ?? [];
  contractSelect.replaceChildren(
    ...offered.map((address) => h("option", { value: address }, address)),
    h("option", { value: "" }, offered.length ? "(the address typed beside)" : "(none: type an address)"),
  );
  noContracts.hidden = offered.length > 0;
  const wanted = new URLSearchParams(window.location.search).get("contract");
  if (wanted) contractInput.value = wanted;
  if (wanted || offered.length) await openContract(wanted || offered[0], 0);
}

contractSelect.addEventListener("change", () => {
  if (contractSelect.value) {
    contractInput.value = "";
    run(contractOpen, "Loading the directory…", () => openContract(contractSelect.value, 0));
  }
});

contractForm.addEventListener("submit", (event) => {
  event.preventDefault();
  run(contractOpen, "Loading the directory…", async () => {
    const typed = contractInput.value.trim();
    const address = typed || contractSelect.value;
    if (!address) throw new Error("choose a contract this server offers, or type a DataSharing contract's address");
    await openContract(address, 0);
  });
});

async function openContract(address, from) {
  const page = await el.api(`/api/sharing/${encodeURIComponent(address)}/assets?offset=${from}&limit=${PAGE_SIZE}`);
  const changed = contract === null || contract.toLowerCase() !== String(address).toLowerCase();
  contract = address;
  offset = from;
  total = page.total;
  byTestId("directory-contract").textContent = address;
  byTestId("directory-owner").textContent = page.owner;
  byTestId("directory-total").textContent = String(page.total);
  directoryBody.replaceChildren(...page.items.map((item) => directoryRow(item, page.owner)));
  directoryEmpty.hidden = page.total > 0;
  const last = Math.min(offset + page.items.length, total);
  pageInfo.textContent = total ? `${offset + 1}–${last} of ${total}` : "";
  pagePrev.disabled = offset === 0;
  pageNext.disabled = last >= total;
  directoryPanel.hidden = false;
  if (changed) closeAsset();
  else if (asset) markSelected();
}

function directoryRow(item, owner) {
  const details = h(
    "button",
    { type: "button", class: "small secondary", "data-testid": "asset-details-button", "data-asset-id": item.asset_id },
    "Details",
  );
  details.addEventListener("click", () => run(details, "Loading the asset…", () => showAsset(item.asset_id)));
  return h(
    "tr",
    { "data-testid": "asset-row", "data-asset-id": item.asset_id, "data-status": item.status },
    cell("Id", h("span", { "data-testid": "asset-row-id" }, String(item.asset_id))),
    cell("Owner", h("code", { title: owner }, shortHex(owner, 10))),
    cell("Data type", h("span", { "data-testid": "asset-row-type" }, item.data_type)),
    cell("Version", String(item.version)),
    cell("Fee", h("span", { "data-testid": "asset-row-fee" }, feeText(item.fee))),
    cell("Status", statusBadge(item.status)),
    cell("", details),
  );
}

pagePrev.addEventListener("click", () =>
  run(pagePrev, "Loading the directory…", () => openContract(contract, Math.max(0, offset - PAGE_SIZE))),
);
pageNext.addEventListener("click", () => run(pageNext, "Loading the directory…", () => openContract(contract, offset + PAGE_SIZE)));
directoryRefresh.addEventListener("click", () =>
  run(directoryRefresh, "Loading the directory…", async () => {
    await openContract(contract, offset);
    if (asset) await showAsset(asset.asset_id, { keepResults: true });
  }),
);

// ---------------------------------------------------------------- one asset

function closeAsset() {
  asset = null;
  assetPanel.hidden = true;
  accessResult.hidden = true;
  downloadResult.hidden = true;
}

function markSelected() {
  for (const row of directoryBody.querySelectorAll('[data-testid="asset-row"]')) {
    row.classList.toggle("selected", asset !== null && Number(row.dataset.assetId) === Number(asset.asset_id));
  }
}

function inlineText(hex) {
  const bytes = el.fromHex(hex || "0x", "inline data");
  if (bytes.length === 0) return "—";
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return hashCode(hex);
  }
}

async function showAsset(id, { keepResults = false } = {}) {
  const data = await el.api(`/api/sharing/${contract}/assets/${id}`);
  const switched = !asset || Number(asset.asset_id) !== Number(data.asset_id);
  asset = data;
  byTestId("asset-id").textContent = String(data.asset_id);
  const accessInfo = el.fromHex(data.access_info || "0x", "access info");
  assetFacts.replaceChildren(
    h("dt", {}, "Data type"),
    h("dd", { "data-testid": "asset-type" }, data.data_type),
    h("dt", {}, "Version"),
    h("dd", { "data-testid": "asset-version" }, String(data.version)),
    h("dt", {}, "Status"),
    h("dd", {}, statusBadge(data.status)),
    h("dt", {}, "Fee"),
    h("dd", { "data-testid": "asset-fee" }, feeText(data.fee)),
    h("dt", {}, "File"),
    h("dd", {}, data.pointer ? h("code", { "data-testid": "asset-pointer", title: data.pointer }, data.pointer) : "— (inline data only)"),
    h("dt", {}, "Integrity hash"),
    h("dd", {}, `${data.hash_algorithm} `, hashCode(data.integrity_hash, { "data-testid": "asset-hash" })),
    h("dt", {}, "Inline data"),
    h("dd", {}, inlineText(data.inline_data)),
    h("dt", {}, "Access info"),
    h("dd", {}, accessInfo.length ? `${accessInfo.length} bytes (encrypted)` : "—"),
    h("dt", {}, "Requests"),
    h("dd", { "data-testid": "asset-counters" }, `${data.granted} granted, ${data.denied} denied; ${data.allowed_count} on the allow-list`),
    h("dt", {}, "Published"),
    h("dd", {}, localTime(data.published_at)),
    h("dt", {}, "Updated"),
    h("dd", {}, localTime(data.updated_at)),
  );
  if (switched && !keepResults) {
    accessResult.hidden = true;
    downloadResult.hidden = true;
  }
  assetPanel.hidden = false;
  markSelected();
  updateLock();
  if (switched) assetPanel.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

// ---------------------------------------------------------------- request access

accessForm.addEventListener("submit", (event) => {
  event.preventDefault();
  run([requestButton, downloadButton], "Requesting access…", async (busy) => {
    const wallet = needWallet();
    if (!asset) throw new Error("choose an asset in the directory first");
    const purpose = purposeInput.value.trim();
    if (!purpose) throw new Error("say why you need the data: the purpose of your request");
    const id = asset.asset_id;
    const { receipt } = await perform(wallet, `/api/sharing/${contract}/assets/${id}/access`, { reader: wallet.address, purpose }, busy);
    showOutcome(receipt, id);
    await showAsset(id, { keepResults: true });
    await openContract(contract, offset);
  });
});

function showOutcome(receipt, id) {
  const events = receipt?.events ?? [];
  const granted = events.find((e) => e.event === "AccessGranted" && Number(e.args.id) === Number(id));
  const denied = events.find((e) => e.event === "AccessDenied" && Number(e.args.id) === Number(id));
  const tx = receipt?.tx_hash
    ? h("span", { "data-testid": "access-tx" }, " Transaction ", hashCode(receipt.tx_hash), `, block ${receipt.block_number}.`)
    : "";
  if (granted) {
    const fee = BigInt(granted.args.fee ?? 0);
    accessResult.className = "notice ok";
    accessResult.dataset.outcome = "granted";
    accessResult.dataset.version = String(granted.args.version);
    delete accessResult.dataset.reason;
    accessResult.replaceChildren(
      h("strong", {}, "Access granted"),
      ` to version ${granted.args.version} (grant no. ${granted.args.grantNumber})`,
      fee > 0n ? `, fee paid ${feeText(fee)}.` : ".",
      " You may now download the file.",
      tx,
    );
  } else if (denied) {
    const reason = DENIAL_CODES[Number(denied.args.reason)] ?? String(denied.args.reason);
    const refund = BigInt(denied.args.refund ?? 0);
    accessResult.className = "notice bad";
    accessResult.dataset.outcome = "denied";
    accessResult.dataset.reason = reason;
    delete accessResult.dataset.version;
    accessResult.replaceChildren(
      h("strong", {}, "Access denied"),
      `: ${DENIALS[reason] ?? reason}. The refused request is recorded on chain`,
      refund > 0n ? ` and the ${feeText(refund)} sent was refunded.` : ".",
      tx,
    );
  } else {
    throw new Error("the transaction was mined but recorded no access decision for this asset");
  }
  accessResult.hidden = false;
}

// ---------------------------------------------------------------- download

downloadButton.addEventListener("click", () => {
  clearError();
  run([requestButton, downloadButton], "Downloading…", async (busy) => {
    const wallet = needWallet();
    if (!asset) throw new Error("choose an asset in the directory first");
    const id = asset.asset_id;
    const base = `/api/sharing/${contract}/assets/${id}`;
    busy.update("Signing a read request for the gateway…");
    const request = await el.api(`${base}/read-request`);
    const signature = await el.signTyped(wallet, request.typed);
    busy.update("The gateway checks your grant and sends the sealed file…");
    const sealed = await el.apiBytes(`${base}/read`, {
      method: "POST",
      body: { reader: wallet.address, ...request.request, signature },
    });
    const current = await el.api(base);
    let checked = "not checked (the asset's hash algorithm is not SHA-256)";
    if (current.hash_algorithm === "sha256") {
      if (sha256(sealed).toLowerCase() !== String(current.integrity_hash).toLowerCase()) {
        throw new Error("the file the gateway sent does not match the integrity hash on chain: it was not saved");
      }
      checked = "matches the SHA-256 on chain";
    }
    busy.update("Opening the sealed file with your key…");
    const plain = el.openEnvelope(sealed, wallet.privateKey);
    const name = `${String(current.data_type).replace(/[^A-Za-z0-9_.-]+/g, "-")}-asset-${id}-v${request.request.version}.bin`;
    downloadBytes(name, plain);
    downloadResult.className = "notice ok";
    downloadResult.dataset.filename = name;
    downloadResult.dataset.size = String(plain.length);
    downloadResult.replaceChildren(
      h("strong", {}, "Saved "),
      h("code", { "data-testid": "download-name" }, name),
      ` (${plain.length.toLocaleString("en-US")} bytes, decrypted in this page). The sealed file ${checked}.`,
    );
    downloadResult.hidden = false;
  });
});

init().catch(showError);
