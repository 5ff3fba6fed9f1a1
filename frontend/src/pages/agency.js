// Agency console: the agency signer's key is unlocked here; the server prepares each transaction
// (issue, batch, renew, suspend, reinstate, revoke) and this page signs it. Every licence (issued,
// renewed or in a CSV batch) is built here: the document, its master salt and commitment, encrypted
// to the holder's key; the server gets the commitment and the ciphertext only, never a field value,
// and the page checks that what it is asked to sign carries them.

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak256 } from "ethers";

import {
  $, byTestId, clearError, confirmDialog, dateToUnix, el, formatGas, formatTime, h, hashCode, initPage, keyPanel,
  listOf, messageOf, perform, run, sameAddress, shortHex, showError, statusBadge, uid,
} from "./common.js";
import { toHex } from "../lib/bytes.js";
import { encryptTo } from "../lib/keys.js";
import { FOREVER, dataHash, documentBytes, newDocument } from "../lib/licence.js";

const CHUNK = 100; // licences per batch transaction
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

initPage();

const agencySection = $("#agency");
const issueSection = $("#issue");
const batchSection = $("#batch");
const issuedSection = $("#issued");

let agencies = []; // the agencies this key signs for
let agency = null; // the one chosen

const keys = keyPanel($("#key-panel"), {
  who: "agency signer",
  onUnlock: (wallet) => run(null, "Finding your agency…", () => loadAgencies(wallet)),
  onLock: () => hideAll(),
});

function hideAll() {
  agency = null;
  agencies = [];
  for (const section of [agencySection, issueSection, batchSection, issuedSection]) section.hidden = true;
}

// ---------------------------------------------------------------- the agency

function signerAddress(signer) {
  return typeof signer === "string" ? signer : signer?.address;
}

async function loadAgencies(wallet) {
  const answer = await el.api("/api/agencies");
  if (keys.wallet !== wallet) return;
  agencies = listOf(answer, "agencies").filter((a) => (a.signers || []).some((s) => sameAddress(signerAddress(s), wallet.address)));
  if (agencies.length === 0) {
    hideAll();
    throw new Error(`this key (${wallet.address}) is not a signer of any accredited agency`);
  }
  const choice = byTestId("agency-choice");
  const select = byTestId("agency-select");
  choice.hidden = agencies.length < 2;
  select.replaceChildren(...agencies.map((a) => h("option", { value: a.code }, `${a.name} (${a.code})`)));
  select.onchange = () => selectAgency(agencies.find((a) => a.code === select.value));
  await selectAgency(agencies[0]);
}

function typeLabel(type) {
  return String(type).replace(/-/g, " ");
}

function fillTypes(select, types) {
  const previous = select.value;
  select.replaceChildren(...types.map((t) => h("option", { value: String(t) }, typeLabel(t))));
  if (types.map(String).includes(previous)) select.value = previous;
}

async function selectAgency(chosen) {
  agency = chosen;
  shown = 0;
  const types = agency.types || [];
  byTestId("agency-code").textContent = agency.code;
  byTestId("agency-name").textContent = agency.name ?? "";
  byTestId("agency-types").textContent = types.length ? types.map(typeLabel).join(", ") : "none";
  const active = agency.active ?? agency.status === "active";
  const status = byTestId("agency-status");
  status.replaceChildren(
    active ? "active" : h("span", { class: "notice warn" }, `${agency.status ?? "not active"}: the agency cannot issue until it is reinstated`),
    agency.parent ? ` (accredited under ${agency.parent})` : "",
  );
  const licenceTypes = types.filter((t) => t !== "civil-registry"); // a capability, not a type to issue
  fillTypes(byTestId("issue-type"), licenceTypes);
  fillTypes(byTestId("batch-type"), licenceTypes);
  for (const section of [agencySection, issueSection, batchSection, issuedSection]) section.hidden = false;
  await loadIssued();
}

function requireReady() {
  const wallet = keys.wallet;
  if (!wallet) throw new Error("unlock the agency signer's key first");
  if (!agency) throw new Error("this key signs for no agency");
  return wallet;
}

// ---------------------------------------------------------------- field rows

/** Editable name/value rows; testids `${prefix}field-name`, `${prefix}field-value`, `${prefix}field-remove`. */
function fieldRows(container, addButton, prefix = "") {
  function addRow(name = "", value = "") {
    const nameInput = h("input", { type: "text", autocomplete: "off", spellcheck: "false", value: name, placeholder: "name", "data-testid": `${prefix}field-name` });
    const valueInput = h("input", { type: "text", autocomplete: "off", value, placeholder: "value", "data-testid": `${prefix}field-value` });
    const remove = h("button", { type: "button", class: "secondary small", "data-testid": `${prefix}field-remove` }, "Remove");
    const row = h("div", { class: "field-row", "data-testid": `${prefix}field-row` }, nameInput, valueInput, remove);
    const n = container.children.length + 1;
    nameInput.setAttribute("aria-label", `Field ${n} name`);
    valueInput.setAttribute("aria-label", `Field ${n} value`);
    remove.setAttribute("aria-label", `Remove field ${n}`);
    remove.addEventListener("click", () => {
      if (container.children.length > 1) row.remove();
      else {
        nameInput.value = "";
        valueInput.value = "";
      }
    });
    container.append(row);
    return nameInput;
  }
  addButton.addEventListener("click", () => addRow().focus());
  if (container.children.length === 0) addRow();
  return {
    addRow,
    collect() {
      const fields = {};
      [...container.children].forEach((row, i) => {
        const [nameInput, valueInput] = row.querySelectorAll("input");
        const name = nameInput.value.trim();
        const value = valueInput.value;
        if (!name && !value.trim()) return;
        if (!name) throw new Error(`field ${i + 1} has a value but no name`);
        if (name.length > 64) throw new Error(`field name "${name.slice(0, 20)}…" is longer than 64 characters`);
        if (Object.hasOwn(fields, name)) throw new Error(`the field "${name}" appears twice`);
        fields[name] = value;
      });
      if (Object.keys(fields).length === 0) throw new Error("a licence needs at least one field (name and value)");
      return fields;
    },
    clearValues() {
      container.querySelectorAll(`[data-testid="${prefix}field-value"]`).forEach((input) => {
        input.value = "";
      });
    },
  };
}

function validity(fromInput, untilInput) {
  const validFrom = dateToUnix(fromInput.value);
  const validUntil = dateToUnix(untilInput.value);
  if (validFrom !== undefined && validUntil !== undefined && validUntil <= validFrom) {
    throw new Error("“valid until” must be after “valid from”");
  }
  const out = {};
  if (validFrom !== undefined) out.valid_from = validFrom;
  if (validUntil !== undefined) out.valid_until = validUntil;
  return out;
}

// ---------------------------------------------------------------- licences sealed in this page

let registries = null; // from /api/config: certificate type names and numbers

async function certTypeNumber(type) {
  if (!registries) registries = listOf(await el.api("/api/config"), "registries").map((r) => ({ ...r }));
  const found = registries.find((r) => r.type === String(type) || String(r.cert_type) === String(type));
  if (!found) throw new Error(`no ${typeLabel(type)} registry is deployed on this server`);
  return found.cert_type;
}

async function holderKey(holder) {
  let identity;
  try {
    identity = await el.api(`/api/identities/${holder}`);
  } catch (err) {
    if (err.status === 404) throw new Error(`${holder} is not a registered holder: it has no public key to encrypt to`);
    throw err;
  }
  const role = identity.role_name ?? identity.role;
  if (role !== "holder") throw new Error(`${holder} is registered as ${role}, not as a holder`);
  return identity.public_key;
}

/**
 * Builds the licence here (document, fresh master salt, commitment) and encrypts it to the holder's
 * registered key; returns what the server may see: {data_hash, ciphertext, valid_from, valid_until}.
 */
async function sealLicence(type, holder, fields, dates) {
  const [publicKey, number, clock] = await Promise.all([
    holderKey(holder),
    certTypeNumber(type),
    dates.valid_from === undefined ? el.api(`/api/time?type=${encodeURIComponent(type)}`) : null,
  ]);
  const doc = newDocument({
    type: number, agency: agency.code, holder, fields,
    validFrom: dates.valid_from ?? clock.now, validUntil: dates.valid_until ?? FOREVER,
  });
  return {
    data_hash: dataHash(doc),
    ciphertext: toHex(encryptTo(publicKey, documentBytes(doc))),
    valid_from: doc.validFrom,
    valid_until: doc.validUntil,
  };
}

/**
 * perform() for a sealed licence, with one more check before the signature: the transaction the server
 * prepared goes to this type's registry and carries this page's commitment, ciphertext (and holder), so a
 * server cannot have the agency sign other data. A preparatory step (a claim) is signed as it comes.
 */
async function performSealed(wallet, path, body, busy, { type, holder, sealed }) {
  const registry = await registryOf(type);
  for (let round = 1; round <= 4; round++) {
    busy.update("Preparing the transaction…");
    const prepared = await el.api(path, { method: "POST", body });
    if (!prepared?.sign) return { prepared, receipt: null };
    if (prepared.then !== "retry") {
      const tx = prepared.sign.tx ?? {};
      const data = String(tx.data ?? "").toLowerCase();
      const carries = (hex) => data.includes(String(hex).toLowerCase().replace(/^0x/, ""));
      if (!sameAddress(tx.to, registry.address) || Number(tx.chainId) !== Number(registry.chain_id)) {
        throw new Error(`the server prepared a transaction to ${tx.to} on chain ${tx.chainId}, not to the ${typeLabel(type)} registry; nothing was signed`);
      }
      if (!carries(sealed.data_hash) || !carries(sealed.ciphertext) || (holder && !carries(holder))) {
        throw new Error("the transaction the server prepared does not carry the licence built in this page; nothing was signed");
      }
    }
    busy.update(`Signing and sending: ${prepared.sign.what}…`);
    const receipt = await el.signAndSubmit(wallet, prepared.sign);
    if (prepared.then !== "retry") return { prepared, receipt };
  }
  throw new Error("the server still asked for another transaction after 4 rounds; try again");
}

/** The checks before signing a batch: the server's tree is whole (every node recomputed), its root is the
 * one the transaction sends, and it holds exactly the leaves sealed here (holder, commitment, validity,
 * ciphertext hash), whatever their order. */
function checkBatchTree(prepared, rows) {
  let tree;
  try {
    tree = StandardMerkleTree.load(prepared.tree);
    tree.validate();
  } catch (err) {
    throw new Error(`the batch tree the server built does not check (${messageOf(err)}); nothing was signed`);
  }
  const data = String(prepared.sign?.tx?.data ?? "").toLowerCase();
  const wanted = new Set(rows.map((r) =>
    [r.holder, r.data_hash, r.valid_from, r.valid_until, keccak256(r.ciphertext)].map((x) => String(x).toLowerCase()).join(" ")));
  const found = [...tree.entries()].map(([, v]) => v.map((x) => String(x).toLowerCase()));
  const matched = found.filter((v) => [...wanted].some((w) => w.split(" ").every((part) => v.includes(part))));
  if (!data.includes(tree.root.slice(2).toLowerCase()) || tree.length !== rows.length || matched.length !== rows.length) {
    throw new Error("the batch the server prepared is not the licences sealed in this page; nothing was signed");
  }
}

async function registryOf(type) {
  await certTypeNumber(type);
  return registries.find((r) => r.type === String(type) || String(r.cert_type) === String(type));
}

// ---------------------------------------------------------------- issue one licence

const issueForm = byTestId("issue-form");
const issueButton = byTestId("issue-button");
const issueFields = fieldRows(byTestId("field-rows"), byTestId("add-field"));

issueForm.addEventListener("submit", (event) => {
  event.preventDefault();
  run(issueButton, "Issuing the licence…", async (busy) => {
    const wallet = requireReady();
    const type = byTestId("issue-type").value;
    if (!type) throw new Error("choose a licence type");
    const holder = byTestId("issue-holder").value.trim();
    if (!ADDRESS.test(holder)) throw new Error(`malformed holder address "${holder}": expected 0x followed by 40 hex digits`);
    const fields = issueFields.collect();
    const dates = validity(byTestId("issue-valid-from"), byTestId("issue-valid-until"));
    byTestId("issue-result").hidden = true;
    busy.update("Encrypting the licence to the holder's key…");
    const sealed = await sealLicence(type, holder, fields, dates);
    const body = { signer: wallet.address, type, agency: agency.code, holder, ...sealed };
    const { prepared, receipt } = await performSealed(wallet, "/api/licences/sealed", body, busy, { type, holder, sealed });
    byTestId("issued-licence-id").textContent = receipt?.summary?.licence_id ?? prepared?.licence_id ?? "";
    byTestId("issued-tx").textContent = receipt?.tx_hash ?? "";
    byTestId("issued-block").textContent = String(receipt?.block_number ?? "");
    byTestId("issued-gas").textContent = formatGas(receipt?.gas_used);
    byTestId("issue-result").hidden = false;
    // ready for the next one: same type and field names
    byTestId("issue-holder").value = "";
    issueFields.clearValues();
    busy.update("Refreshing the list…");
    await loadIssued();
  });
});

// ---------------------------------------------------------------- batch from a CSV file

const csvInput = byTestId("csv-input");
const batchForm = byTestId("batch-form");
const batchButton = byTestId("batch-button");
const batchSummary = byTestId("batch-summary");
const batchRun = byTestId("batch-run");
const batchProgress = byTestId("batch-progress");
const batchStatus = byTestId("batch-status");
const batchResults = byTestId("batch-results");

let batch = null; // {file, rows, done, type}

function resetBatch() {
  batch = null;
  batchButton.disabled = true;
  batchButton.textContent = "Issue the batch";
  batchSummary.textContent = "";
  delete batchButton.dataset.done;
  batchRun.hidden = true;
  batchResults.replaceChildren();
  batchStatus.textContent = "";
}

csvInput.addEventListener("change", () => {
  resetBatch();
  const file = csvInput.files && csvInput.files[0];
  if (!file) return;
  run(csvInput, `Reading ${file.name}…`, async () => {
    const rows = parseCsv(await file.text(), file.name); // read here: the values never go to the server
    const names = [...new Set(rows.flatMap((r) => Object.keys(r.fields || {})))];
    batch = { file: file.name, rows, done: 0 };
    batchSummary.textContent = `${rows.length} licence${rows.length === 1 ? "" : "s"} read from ${file.name}` +
      (names.length ? ` (fields: ${names.join(", ")})` : "") +
      `; ${Math.ceil(rows.length / CHUNK)} transaction${rows.length > CHUNK ? "s" : ""} of at most ${CHUNK}.`;
    batchButton.textContent = `Issue ${rows.length} licence${rows.length === 1 ? "" : "s"}`;
    batchButton.disabled = false;
    batchRun.hidden = true;
    batchResults.replaceChildren();
  });
});

/** Rows of a batch CSV, as batch.py's parse_csv reads them: a `holder` column, optional `valid_from` and
 * `valid_until`, every other column a field (empty cells left out). RFC 4180 quoting, as Python's csv. */
function parseCsv(text, where) {
  const records = csvRecords(text.replace(/^\uFEFF/, ""), where);
  const header = records.shift();
  if (!header || !header.includes("holder")) throw new Error(`${where} needs a header row with a 'holder' column`);
  const rows = records.map((cells, i) => {
    const at = `${where} row ${i + 1}`;
    if (cells.length > header.length) throw new Error(`${at}: more cells than header columns`);
    const record = {};
    header.forEach((name, j) => {
      if (j < cells.length) record[name] = cells[j];
    });
    const holder = (record.holder ?? "").trim();
    if (!ADDRESS.test(holder)) throw new Error(`${at}: malformed holder address '${holder}': expected 0x followed by 40 hex digits`);
    const fields = {};
    for (const [name, value] of Object.entries(record)) {
      if (!["holder", "valid_from", "valid_until"].includes(name) && value !== "") fields[name] = value;
    }
    if (!Object.keys(fields).length) throw new Error(`${at}: no licence fields`);
    return {
      holder,
      fields,
      valid_from: record.valid_from ? parseTime(record.valid_from, at) : undefined,
      valid_until: record.valid_until ? parseTime(record.valid_until, at) : FOREVER,
    };
  });
  if (!rows.length) throw new Error(`${where} has no licence rows`);
  return rows;
}

function csvRecords(text, where) {
  const records = [];
  let record = [];
  let cell = "";
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(cell);
    if (!(record.length === 1 && record[0] === "")) records.push(record); // blank lines are skipped, as csv does
    record = [];
    cell = "";
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i += 1;
    } else if (c === '"' && cell === "") {
      quoted = true;
      i += 1;
    } else if (c === ",") {
      record.push(cell);
      cell = "";
      i += 1;
    } else if (c === "\r" || c === "\n") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      cell += c;
      i += 1;
    }
  }
  if (quoted) throw new Error(`${where} is not a CSV file: a quoted cell is never closed`);
  if (cell !== "" || record.length) endRecord();
  return records;
}

/** Unix seconds from YYYY-MM-DD, an ISO date-time (UTC unless it says), unix seconds or 'never' (types.parse_time). */
function parseTime(value, at) {
  const text = value.trim();
  if (text === "never" || text === "forever") return FOREVER;
  let iso = null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) iso = `${text}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) {
    iso = text.replace(" ", "T") + (/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? "" : "Z");
  }
  const seconds = /^\d+$/.test(text) ? Number(text) : Math.floor((iso === null ? NaN : Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) throw new Error(`${at}: malformed time '${text}': use YYYY-MM-DD, an ISO date-time, unix seconds or 'never'`);
  if (!(seconds >= 0 && seconds <= FOREVER)) throw new Error(`${at}: the time '${text}' is out of range (1970 to the licence format's end of time)`);
  return seconds;
}

/** Seals each row here (as sealLicence); the server gets leaves and ciphertexts only. */
async function sealRows(type, rows, offset) {
  const holders = [...new Set(rows.map((r) => r.holder.toLowerCase()))];
  const keysOf = new Map();
  for (let i = 0; i < holders.length; i += 8) {
    const part = holders.slice(i, i + 8);
    const found = await Promise.all(part.map((holder) => holderKey(holder).catch((err) => err)));
    part.forEach((holder, j) => keysOf.set(holder, found[j]));
  }
  const [number, clock] = await Promise.all([certTypeNumber(type), el.api(`/api/time?type=${encodeURIComponent(type)}`)]);
  return rows.map((row, i) => {
    const key = keysOf.get(row.holder.toLowerCase());
    if (key instanceof Error) throw new Error(`row ${offset + i + 1}: ${key.message}`);
    const doc = newDocument({
      type: number, agency: agency.code, holder: row.holder, fields: row.fields,
      validFrom: row.valid_from ?? clock.now, validUntil: row.valid_until,
    });
    return {
      holder: row.holder,
      data_hash: dataHash(doc),
      ciphertext: toHex(encryptTo(key, documentBytes(doc))),
      valid_from: doc.validFrom,
      valid_until: doc.validUntil,
    };
  });
}

function showBatchProgress() {
  const total = batch.rows.length;
  batchProgress.max = total;
  batchProgress.value = batch.done;
  batchProgress.textContent = `${batch.done} of ${total}`;
  batchStatus.textContent = `${batch.done} of ${total} issued`;
}

batchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!batch) return showError("choose a CSV file first");
  run([batchButton, csvInput], "Issuing the batch…", async (busy) => {
    const wallet = requireReady();
    const type = byTestId("batch-type").value;
    if (!type) throw new Error("choose a licence type");
    if (batch.done > 0 && batch.type !== type) throw new Error(`this batch was started as ${batch.type}; choose that type to continue it`);
    batch.type = type;
    batchRun.hidden = false;
    if (batch.done === 0) batchResults.replaceChildren();
    showBatchProgress();
    const total = batch.rows.length;
    try {
      while (batch.done < total) {
        const start = batch.done;
        const chunk = batch.rows.slice(start, start + CHUNK);
        const label = `rows ${start + 1}–${start + chunk.length}`;
        busy.update(`Issuing ${label} of ${total}…`, start / total);
        busy.update(`Encrypting ${label} to their holders' keys…`, start / total);
        const sealed = await sealRows(type, chunk, start);
        const step = { update: (text) => busy.update(`${label}: ${text}`, start / total) };
        step.update("Preparing the transaction…");
        const prepared = await el.api("/api/batches/sealed", {
          method: "POST", body: { signer: wallet.address, type, agency: agency.code, rows: sealed },
        });
        checkBatchTree(prepared, sealed);
        step.update(`Signing and sending: ${prepared.sign.what}…`);
        const receipt = await el.signAndSubmit(wallet, prepared.sign);
        batch.done = start + chunk.length;
        showBatchProgress();
        const root = receipt?.summary?.root ?? prepared?.root ?? "";
        batchResults.append(
          h(
            "li",
            { "data-testid": "batch-chunk", "data-root": root, "data-tx": receipt?.tx_hash ?? "" },
            `${label[0].toUpperCase()}${label.slice(1)}: root `,
            hashCode(root),
            ", transaction ",
            hashCode(receipt?.tx_hash ?? ""),
            ` (block ${receipt?.block_number ?? "?"}), ${formatGas(receipt?.gas_used)} gas`,
            chunk.length ? `, ${formatGas(Math.round(Number(receipt?.gas_used) / chunk.length))} gas per licence` : "",
          ),
        );
      }
      batchStatus.textContent = `${total} of ${total} issued`;
      batchButton.textContent = "Batch issued";
      batchButton.dataset.done = "true";
      busy.update("Refreshing the list…", 1);
      await loadIssued();
    } catch (err) {
      if (batch.done < total) {
        batchStatus.textContent = `${batch.done} of ${total} issued; stopped at row ${batch.done + 1}.`;
        batchButton.textContent = `Continue from row ${batch.done + 1}`;
      }
      throw err;
    }
  }).then(() => {
    batchButton.disabled = !batch || batch.done >= batch.rows.length;
  });
});

// ---------------------------------------------------------------- what the agency issued

const issuedBody = $("tbody", byTestId("issued-table"));
const issuedEmpty = byTestId("issued-empty");
const renewPanel = h("div", { class: "panel", "data-testid": "renew-panel", hidden: true });
const renewedNote = h("p", { class: "notice ok", "data-testid": "renew-result", hidden: true });
issuedSection.insertBefore(renewedNote, issuedEmpty);
issuedSection.insertBefore(renewPanel, issuedEmpty);

byTestId("issued-refresh").addEventListener("click", (event) => {
  run(event.currentTarget, "Loading what the agency issued…", () => loadIssued());
});

const PAGE = 200; // rows fetched at a time (newest first)
const issuedCount = h("p", { class: "hint", "data-testid": "issued-count", hidden: true });
const moreButton = h("button", { type: "button", class: "secondary", "data-testid": "issued-more", hidden: true }, "Show more");
issuedSection.append(h("div", { class: "actions" }, moreButton), issuedCount);
let shown = 0;

async function fetchIssued(code, offset, limit) {
  const answer = await el.api(`/api/agencies/${encodeURIComponent(code)}/licences?offset=${offset}&limit=${limit}`);
  const items = listOf(answer, "licences");
  const total = Number.isInteger(answer?.total) ? answer.total : offset + items.length;
  return { items, total };
}

function showCount(total) {
  issuedCount.hidden = total === 0;
  issuedCount.textContent = shown < total ? `Showing the newest ${shown} of ${total}.` : `${total} licence${total === 1 ? "" : "s"}.`;
  moreButton.hidden = shown >= total;
}

/** (Re)loads the table, keeping as many rows as were shown (at least one page). */
async function loadIssued() {
  if (!agency) return;
  const code = agency.code;
  const { items, total } = await fetchIssued(code, 0, Math.min(1000, Math.max(PAGE, shown)));
  if (!agency || agency.code !== code) return;
  issuedBody.replaceChildren(...items.map(issuedRow));
  shown = items.length;
  issuedEmpty.hidden = items.length > 0;
  showCount(total);
}

moreButton.addEventListener("click", () => {
  run(moreButton, "Loading more…", async () => {
    const code = agency.code;
    const { items, total } = await fetchIssued(code, shown, PAGE);
    if (!agency || agency.code !== code) return;
    issuedBody.append(...items.map(issuedRow));
    shown += items.length;
    showCount(total);
  });
});

const CAN = {
  renew: (s) => !["revoked", "renewed", "record-closed"].includes(s),
  suspend: (s) => s === "active" || s === "not-yet-valid",
  reinstate: (s) => s === "suspended",
  revoke: (s) => !["revoked", "record-closed"].includes(s),
};

function cell(label, ...children) {
  return h("td", { "data-label": label }, h("div", {}, ...children));
}

function issuedRow(item) {
  const status = item.status || "none";
  const id = item.licence_id;
  const button = (action, text, cls) =>
    h(
      "button",
      {
        type: "button",
        class: `small ${cls}`,
        "data-testid": action,
        "data-licence-id": id,
        disabled: !CAN[action](status),
        "aria-label": `${text} licence ${shortHex(id, 10)}`,
        onclick: (event) => rowAction(action, item, event.currentTarget),
      },
      text,
    );
  return h(
    "tr",
    { "data-testid": "issued-row", "data-licence-id": id, "data-status": status, "data-batch": item.batch_root ? "true" : "false" },
    cell("Licence", hashCode(id)),
    cell("Type", typeLabel(item.type ?? item.cert_type)),
    cell("Holder", h("code", { title: item.holder }, shortHex(item.holder, 8))),
    cell("Status", statusBadge(status)),
    cell("Valid", `${formatTime(item.valid_from, { zero: "issuance" })} – ${formatTime(item.valid_until)}`),
    cell(
      "Transaction",
      `block ${item.block_number ?? "?"} `,
      item.tx_hash ? hashCode(item.tx_hash) : "",
      item.batch_root ? [h("br"), "batch ", hashCode(item.batch_root)] : "",
    ),
    cell(
      "Actions",
      h(
        "div",
        { class: "row-actions" },
        button("renew", "Renew", "secondary"),
        button("suspend", "Suspend", "secondary"),
        button("reinstate", "Reinstate", "secondary"),
        button("revoke", "Revoke", "danger"),
      ),
    ),
  );
}

const QUESTIONS = {
  suspend: ["Suspend this licence?", "Inspectors will see it as suspended until it is reinstated.", "Suspend"],
  reinstate: ["Reinstate this licence?", "It becomes valid again (within its dates).", "Reinstate"],
  revoke: ["Revoke this licence?", "A revoked licence can never be valid again, nor be renewed.", "Revoke"],
};

async function rowAction(action, item, button) {
  clearError();
  if (action === "renew") {
    openRenew(item);
    return;
  }
  const [title, text, yes] = QUESTIONS[action];
  const sure = await confirmDialog(title, `Licence ${item.licence_id} (${typeLabel(item.type ?? item.cert_type)}, holder ${item.holder}). ${text}`, yes, action === "revoke");
  if (!sure) return;
  await run(button, `${yes.replace(/e$/, "")}ing the licence…`, async (busy) => {
    const wallet = requireReady();
    await perform(
      wallet,
      `/api/licences/${item.licence_id}/${action}`,
      { signer: wallet.address, type: item.type ?? item.cert_type, reason: 0 },
      busy,
    );
  });
  await run(null, "Refreshing the list…", () => loadIssued());
}

function openRenew(item) {
  const titleId = uid("renew");
  const form = h("form", { "data-testid": "renew-form", "data-licence-id": item.licence_id, "aria-labelledby": titleId });
  const rows = h("div", { class: "field-rows", "data-testid": "renew-field-rows" });
  const add = h("button", { type: "button", class: "secondary small", "data-testid": "renew-add-field" }, "Add a field");
  const from = h("input", { type: "date", "data-testid": "renew-valid-from" });
  const until = h("input", { type: "date", "data-testid": "renew-valid-until" });
  from.id = uid("rf");
  until.id = uid("ru");
  const submit = h("button", { type: "submit", "data-testid": "renew-submit" }, "Renew licence");
  const cancel = h("button", { type: "button", class: "secondary", "data-testid": "renew-cancel" }, "Cancel");
  form.append(
    h("h3", { id: titleId, style: "margin-top: 0" }, "Renew licence ", hashCode(item.licence_id)),
    h(
      "p",
      { class: "hint" },
      `A new ${typeLabel(item.type ?? item.cert_type)} licence for ${item.holder} replaces this one (which becomes “renewed”). ` +
        "The agency does not keep the old field values (only the holder can read them): enter every field of the new licence.",
    ),
    h("fieldset", {}, h("legend", {}, "Fields"), rows, add),
    h(
      "div",
      { class: "form-row" },
      h("div", {}, h("label", { for: from.id }, "Valid from (optional)"), from),
      h("div", {}, h("label", { for: until.id }, "Valid until (optional)"), until),
    ),
    h("div", { class: "actions" }, submit, cancel),
  );
  const fields = fieldRows(rows, add, "renew-");
  renewPanel.replaceChildren(form);
  renewPanel.hidden = false;
  renewedNote.hidden = true;
  cancel.addEventListener("click", () => {
    renewPanel.hidden = true;
    renewPanel.replaceChildren();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(submit, "Renewing the licence…", async (busy) => {
      const wallet = requireReady();
      const type = item.type ?? item.cert_type;
      const values = fields.collect();
      busy.update("Encrypting the new licence to the holder's key…");
      const sealed = await sealLicence(type, item.holder, values, validity(from, until));
      const body = { signer: wallet.address, type, ...sealed };
      const { prepared, receipt } = await performSealed(wallet, `/api/licences/${item.licence_id}/renew/sealed`, body, busy, {
        type, holder: null, sealed, // renew() names the old licence, not the holder
      });
      const newId = receipt?.summary?.licence_id ?? prepared?.licence_id ?? "";
      renewPanel.hidden = true;
      renewPanel.replaceChildren();
      renewedNote.replaceChildren(
        "Renewed: the new licence is ",
        h("code", { "data-testid": "renewed-licence-id" }, newId),
        ` (transaction ${shortHex(receipt?.tx_hash ?? "", 12)}, block ${receipt?.block_number ?? "?"}).`,
      );
      renewedNote.hidden = false;
      busy.update("Refreshing the list…");
      await loadIssued();
    });
  });
  renewPanel.scrollIntoView({ block: "nearest", behavior: "smooth" });
  form.querySelector("input").focus();
}
