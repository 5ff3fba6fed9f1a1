// Shared UI helpers of the three pages: DOM building, the error banner, the busy indicator, the key
// (keystore) panel, status badges, the verdict step list, dates and downloads.
//
// Every error a page meets goes through showError(): one visible banner (role="alert") with the
// message, never a stack trace. Forms are never cleared on an error, so nothing typed is lost.

import * as el from "../lib/elicense.js";

export { el };

// ---------------------------------------------------------------- DOM

let uidCounter = 0;
export function uid(prefix = "id") {
  uidCounter += 1;
  return `${prefix}-${uidCounter}`;
}

/** h("button", {class: "x", "data-testid": "y", onclick: fn}, "text", child, ...) */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "value") node.value = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (typeof value === "boolean" && key in node) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** A labelled control: returns {wrap, input}. */
export function labelled(text, input, hint) {
  if (!input.id) input.id = uid("f");
  const wrap = h("div", {}, h("label", { for: input.id }, text), input);
  if (hint) {
    const hintNode = h("p", { class: "hint", id: uid("hint") }, hint);
    input.setAttribute("aria-describedby", hintNode.id);
    wrap.append(hintNode);
  }
  return { wrap, input };
}

// ---------------------------------------------------------------- errors

/** A sentence for the user from any thrown value: server errors, library errors, ethers errors. */
export function messageOf(err) {
  if (err === null || err === undefined) return "Something went wrong.";
  if (typeof err === "string") return err;
  let text = err.shortMessage || err.message || String(err);
  if (err.name === "TypeError" && /fetch|network|load failed/i.test(text)) {
    return "The server did not answer. Is `elicense serve` still running?";
  }
  // ethers v6 appends the technical details in parentheses: keep the sentence only.
  text = text.replace(/\s*\((?:action|code|argument|value|info|transaction|reason|data|operation)=[\s\S]*$/, "");
  // never show a stack trace
  text = text.split(/\n\s+at\s/)[0].trim();
  return text || "Something went wrong.";
}

export function showError(err) {
  const banner = byTestId("error-banner");
  const text = messageOf(err);
  if (!banner) {
    window.alert(text);
    return;
  }
  byTestId("error-message", banner).textContent = text;
  banner.hidden = false;
  banner.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

export function clearError() {
  const banner = byTestId("error-banner");
  if (banner) banner.hidden = true;
}

// ---------------------------------------------------------------- busy

const busyTasks = [];

function renderBusy() {
  const box = byTestId("busy");
  if (!box) return;
  const task = busyTasks[busyTasks.length - 1];
  box.hidden = !task;
  box.setAttribute("aria-busy", task ? "true" : "false");
  if (!task) return;
  $(".busy-text", box).textContent = task.text;
  const bar = $("progress", box);
  if (task.progress === null || task.progress === undefined) {
    bar.hidden = true;
  } else {
    bar.hidden = false;
    bar.value = Math.max(0, Math.min(1, task.progress));
  }
}

/** Starts a busy indicator; returns {update(text, progress?), done()}. */
export function startBusy(text) {
  const task = { text, progress: null };
  busyTasks.push(task);
  renderBusy();
  return {
    update(newText, progress) {
      if (newText) task.text = newText;
      task.progress = progress === undefined ? task.progress : progress;
      renderBusy();
    },
    done() {
      const index = busyTasks.indexOf(task);
      if (index >= 0) busyTasks.splice(index, 1);
      renderBusy();
    },
  };
}

/**
 * Runs an action from a button: clears the error banner, shows the busy indicator, disables the
 * button while it runs, shows any error in the banner. Returns the action's result (undefined on
 * an error).
 */
export async function run(button, text, action) {
  clearError();
  const busy = startBusy(text);
  const buttons = [].concat(button || []);
  const wasDisabled = buttons.map((b) => b.disabled);
  buttons.forEach((b) => {
    b.disabled = true;
  });
  try {
    return await action(busy);
  } catch (err) {
    console.error(err);
    showError(err);
    return undefined;
  } finally {
    busy.done();
    buttons.forEach((b, i) => {
      b.disabled = wasDisabled[i];
    });
  }
}

/** el.perform with its progress shown in the busy indicator. */
export function perform(wallet, path, body, busy) {
  return el.perform(wallet, path, body, {
    onStatus: (status) => {
      if (busy && status) busy.update(typeof status === "string" ? status : status.text || status.message || "");
    },
  });
}

/** Wires the banner's dismiss button and catches anything that escapes a handler. */
export function initPage() {
  const banner = byTestId("error-banner");
  if (banner) {
    byTestId("error-dismiss", banner)?.addEventListener("click", clearError);
  }
  window.addEventListener("unhandledrejection", (event) => {
    console.error(event.reason);
    showError(event.reason);
  });
  window.addEventListener("error", (event) => {
    if (event.error || event.message) showError(event.error || event.message);
  });
}

// ---------------------------------------------------------------- confirmation dialog

/** An in-page confirmation (data-testid confirm-dialog, confirm-yes, confirm-no); resolves true/false. */
export function confirmDialog(title, text, yesLabel = "Confirm", danger = false) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "button", class: danger ? "danger" : "", "data-testid": "confirm-yes" }, yesLabel);
    const no = h("button", { type: "button", class: "secondary", "data-testid": "confirm-no" }, "Cancel");
    const titleId = uid("dlg");
    const dialog = h(
      "dialog",
      { "data-testid": "confirm-dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, text),
      h("div", { class: "actions" }, yes, no),
    );
    let answered = false;
    const finish = (answer) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    document.body.append(dialog);
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    no.focus();
  });
}

// ---------------------------------------------------------------- formatting

export const FOREVER = 2 ** 40 - 1;

/** Unix seconds as "2026-11-22" (midnight UTC) or "2026-11-22 03:37 UTC"; 0 / forever in words. */
export function formatTime(seconds, { forever = "no end date", zero = "—" } = {}) {
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) return zero;
  if (value >= FOREVER) return forever;
  const iso = new Date(value * 1000).toISOString();
  if (iso.slice(11, 19) === "00:00:00") return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "YYYY-MM-DD" from a date input as unix seconds (midnight UTC, like the CLI), or undefined. */
export function dateToUnix(value) {
  if (!value) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`malformed date ${JSON.stringify(value)}: use YYYY-MM-DD`);
  return Math.floor(ms / 1000);
}

export function shortHex(value, keep = 10) {
  const text = String(value ?? "");
  return text.length > keep + 6 ? `${text.slice(0, keep)}…${text.slice(-4)}` : text;
}

/** A <code> showing a shortened hash, the whole one in its title and for screen readers. */
export function hashCode(value, attrs = {}) {
  return h("code", { title: value, "aria-label": value, ...attrs }, shortHex(value, 12));
}

export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function formatGas(gas) {
  const n = Number(gas);
  return Number.isFinite(n) ? n.toLocaleString("en-US") : String(gas ?? "");
}

const STATUS_LABELS = {
  active: "Valid",
  valid: "Valid",
  suspended: "Suspended",
  revoked: "Revoked",
  expired: "Expired",
  renewed: "Renewed",
  "not-yet-valid": "Not yet valid",
  "record-closed": "Record closed",
  none: "Unknown",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || "unknown");
}

export function statusBadge(status, attrs = {}) {
  const key = STATUS_LABELS[status] ? status : "unknown";
  return h("span", { class: `badge badge-${key}`, "data-status": status, ...attrs }, statusLabel(status));
}

/** A list from a server answer that may be a bare array or wrapped ({items}, {licences}, ...). */
export function listOf(answer, ...keys) {
  if (Array.isArray(answer)) return answer;
  for (const key of [...keys, "items", "licences", "agencies", "results"]) {
    if (answer && Array.isArray(answer[key])) return answer[key];
  }
  return [];
}

export function sameAddress(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

// ---------------------------------------------------------------- verdict steps

const STEP_LABELS = {
  format: "Payload format",
  "holder-signature": "Holder signature and freshness",
  data: "Data matches what was issued",
  status: "Licence status",
  issuer: "Issuer accredited for this type",
  "issuer-signer": "Issuing account is the agency's, on the main chain",
  "mirror-checkpoint": "Side chain's copy of the main chain is genuine",
  anchored: "Anchored on the main chain",
  recorded: "Inspection recorded",
};

export function stepLabel(name) {
  if (STEP_LABELS[name]) return STEP_LABELS[name];
  if (typeof name === "string" && name.startsWith("anchored-")) return `Anchored on ${name.slice("anchored-".length)}`;
  return String(name);
}

const MARKS = { valid: "✓", invalid: "✗", skipped: "–", error: "!", pending: "…" };
const STATE_WORDS = { valid: "passed", invalid: "failed", skipped: "skipped", error: "error", pending: "in progress" };

/** Renders steps [{name, status, code, reason}] into an <ol> (one li data-testid="step" each). */
export function renderSteps(list, steps) {
  list.replaceChildren(
    ...steps.map((step) =>
      h(
        "li",
        { "data-testid": "step", "data-step": step.name, "data-status": step.status, "data-code": step.code ?? "" },
        h("span", { class: "step-mark", "aria-hidden": "true" }, MARKS[step.status] || "?"),
        h(
          "span",
          { class: "step-name" },
          stepLabel(step.name),
          h("span", { class: "step-state" }, `(${STATE_WORDS[step.status] || step.status})`),
        ),
        h("span", { class: "step-reason", "data-testid": "step-reason" }, step.reason || ""),
      ),
    ),
  );
}

// ---------------------------------------------------------------- downloads, files

export function downloadText(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves bytes (a Uint8Array) as a file through a client-side Blob. */
export function downloadBytes(filename, bytes, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A table cell with its column name in data-label (small screens stack `table.stack` rows). */
export function cell(label, ...children) {
  return h("td", { "data-label": label }, h("div", {}, ...children));
}

/** Unix seconds as the browser's local date and time, in a <time> carrying the ISO form. */
export function localTime(seconds, attrs = {}) {
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) return h("span", attrs, "—");
  const date = new Date(value * 1000);
  return h("time", { datetime: date.toISOString(), title: date.toISOString(), ...attrs }, date.toLocaleString());
}

export function readFileText(file) {
  if (typeof file.text === "function") return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsText(file);
  });
}

// ---------------------------------------------------------------- key panel

/**
 * The key panel: pick a keystore kept in this browser and unlock it with its password, lock it,
 * export it, remove it; import one (file or pasted JSON); create a new key (when allowCreate).
 * Keystores are Web3 Secret Storage v3 JSON, kept encrypted in localStorage by the library; the
 * decrypted key lives only in this page's memory until it is locked or the page is closed.
 *
 * options: {allowCreate, who ("holder" | "inspector" | "agency signer"), onUnlock(wallet), onLock()}
 * returns {get wallet(), lock()}
 */
export function keyPanel(root, { allowCreate = false, who = "your", onUnlock, onLock } = {}) {
  let wallet = null;
  let unlockedName = null;

  // unlocked state
  const address = h("code", { class: "address", "data-testid": "address" });
  const lockButton = h("button", { type: "button", class: "secondary", "data-testid": "lock-button" }, "Lock");
  const keyState = h("div", { class: "key-state" }, h("span", {}, "Address: "), address, lockButton);
  const unlockedBox = h(
    "div",
    { "data-testid": "unlocked", hidden: true },
    h("p", { class: "notice ok" }, "Key unlocked. It stays in this page only; lock it when you are done."),
    keyState,
  );

  // unlock form
  const select = h("select", { "data-testid": "unlock-select" });
  const password = h("input", { type: "password", autocomplete: "current-password", "data-testid": "unlock-password" });
  const unlockButton = h("button", { type: "submit", "data-testid": "unlock-button" }, "Unlock");
  const exportButton = h("button", { type: "button", class: "secondary", "data-testid": "export-button" }, "Export keystore");
  const removeButton = h(
    "button",
    { type: "button", class: "secondary", "data-testid": "remove-keystore-button" },
    "Remove from this browser",
  );
  const unlockActions = h("div", { class: "actions" }, unlockButton, exportButton, removeButton);
  const progress = h("progress", { class: "unlock-progress", max: 1, value: 0, hidden: true, "data-testid": "unlock-progress" });
  const unlockForm = h(
    "form",
    { "data-testid": "unlock-form" },
    // for password managers (and Chrome's form checks): the key's name is the "user name"
    h("input", { type: "text", autocomplete: "username", hidden: true, tabindex: "-1", "aria-hidden": "true", class: "username-hint" }),
    h(
      "div",
      { class: "form-row" },
      labelled("Keystore", select).wrap,
      labelled("Password", password).wrap,
    ),
    progress,
    unlockActions,
  );
  const emptyNote = h(
    "p",
    { class: "hint", "data-testid": "no-keystore" },
    allowCreate
      ? "No key is kept in this browser yet: create one or import a keystore below."
      : "No key is kept in this browser yet: import a keystore below.",
  );

  // import form
  const importFile = h("input", { type: "file", accept: ".json,application/json,text/plain", "data-testid": "import-file" });
  const importText = h("textarea", {
    rows: 5,
    spellcheck: "false",
    placeholder: '{"address": "…", "crypto": {…}, "version": 3, …}',
    "data-testid": "import-text",
  });
  const importName = h("input", { type: "text", autocomplete: "off", "data-testid": "import-name" });
  const importButton = h("button", { type: "submit", "data-testid": "import-button" }, "Import keystore");
  const importForm = h(
    "form",
    { "data-testid": "import-form" },
    h(
      "p",
      { class: "hint" },
      "A Web3 Secret Storage (version 3) keystore file, as written by `elicense register`, geth or eth-account. " +
        "It stays encrypted in this browser; its password is asked when you unlock it.",
    ),
    labelled("Keystore file", importFile).wrap,
    labelled("…or paste the keystore JSON", importText).wrap,
    labelled("Name for this key", importName, NAME_HINT).wrap,
    h("div", { class: "actions" }, importButton),
  );
  const importDetails = h("div", { class: "key-section", "data-testid": "import-section" }, h("h3", {}, "Import a keystore"), importForm);

  // create form
  let createDetails = null;
  let createForm = null;
  const createName = h("input", { type: "text", autocomplete: "username", "data-testid": "create-name" });
  const createPassword = h("input", { type: "password", autocomplete: "new-password", "data-testid": "create-password" });
  const createPassword2 = h("input", { type: "password", autocomplete: "new-password", "data-testid": "create-password2" });
  const createButton = h("button", { type: "submit", "data-testid": "create-button" }, "Create key");
  if (allowCreate) {
    createForm = h(
      "form",
      { "data-testid": "create-form" },
      h(
        "p",
        { class: "hint" },
        "A new key is made in this browser and kept here encrypted with your password. " +
          "Export it afterwards and keep the file safe: without it and its password the key cannot be recovered.",
      ),
      labelled("Name for this key", createName, NAME_HINT).wrap,
      h(
        "div",
        { class: "form-row" },
        labelled("Password (at least 8 characters)", createPassword).wrap,
        labelled("Password again", createPassword2).wrap,
      ),
      h("div", { class: "actions" }, createButton),
    );
    createDetails = h("div", { class: "key-section", "data-testid": "create-section" }, h("h3", {}, "Create a new key"), createForm);
  }

  const unlockTitle = h("h3", {}, "Unlock a key kept in this browser");
  const lockedBox = h("div", { "data-testid": "locked" }, emptyNote, unlockTitle, unlockForm, createDetails, importDetails);
  root.replaceChildren(h("h2", {}, who === "your" ? "Your key" : `Key of the ${who}`), unlockedBox, lockedBox);

  function refreshList(selectName) {
    const keys = el.listKeystores();
    const previous = selectName ?? select.value;
    select.replaceChildren(
      ...keys.map((k) => h("option", { value: k.name }, `${k.name} (${shortHex(normaliseAddress(k.address), 8)})`)),
    );
    if (keys.some((k) => k.name === previous)) select.value = previous;
    unlockForm.querySelector(".username-hint").value = select.value;
    const none = keys.length === 0;
    emptyNote.hidden = !none;
    unlockForm.hidden = none;
    unlockTitle.hidden = none;
  }

  function setUnlocked(newWallet, name) {
    wallet = newWallet;
    unlockedName = name;
    keyState.append(exportButton);
    address.textContent = wallet.address;
    unlockedBox.hidden = false;
    lockedBox.hidden = true;
    password.value = "";
    progress.hidden = true;
    if (onUnlock) {
      Promise.resolve()
        .then(() => onUnlock(wallet))
        .catch(showError);
    }
  }

  function lock() {
    wallet = null;
    unlockedName = null;
    unlockActions.insertBefore(exportButton, removeButton);
    address.textContent = "";
    unlockedBox.hidden = true;
    lockedBox.hidden = false;
    refreshList();
    if (onLock) onLock();
  }

  select.addEventListener("change", () => {
    unlockForm.querySelector(".username-hint").value = select.value;
  });

  unlockForm.addEventListener("submit", (event) => {
    event.preventDefault();
    run([unlockButton, exportButton, removeButton], "Unlocking the key (this takes a few seconds)…", async (busy) => {
      const name = select.value;
      if (!name) throw new Error("choose a keystore to unlock");
      if (!password.value) throw new Error("enter the keystore's password");
      const json = el.getKeystore(name);
      if (!json) throw new Error(`no keystore named ${JSON.stringify(name)} in this browser`);
      progress.hidden = false;
      progress.value = 0;
      try {
        const unlocked = await el.decryptKeystore(json, password.value, (fraction) => {
          progress.value = fraction;
          busy.update(`Unlocking the key… ${Math.round(fraction * 100)} %`, fraction);
        });
        setUnlocked(unlocked, name);
      } finally {
        progress.hidden = true;
      }
    });
  });

  lockButton.addEventListener("click", () => {
    clearError();
    lock();
  });

  exportButton.addEventListener("click", () => {
    clearError();
    try {
      const name = unlockedName ?? select.value;
      const json = name && el.getKeystore(name);
      if (!json) throw new Error("choose a keystore to export");
      downloadText(`${name}.keystore.json`, typeof json === "string" ? json : JSON.stringify(json));
    } catch (err) {
      showError(err);
    }
  });

  removeButton.addEventListener("click", async () => {
    clearError();
    const name = select.value;
    if (!name) return;
    const sure = await confirmDialog(
      "Remove this key from the browser?",
      `The keystore "${name}" will be deleted from this browser. Export it first if you have no copy: ` +
        "without it the key and its licences cannot be used.",
      "Remove",
      true,
    );
    if (!sure) return;
    try {
      el.removeKeystore(name);
      refreshList();
    } catch (err) {
      showError(err);
    }
  });

  importFile.addEventListener("change", async () => {
    clearError();
    const file = importFile.files && importFile.files[0];
    if (!file) return;
    try {
      importText.value = await readFileText(file);
      if (!importName.value.trim()) importName.value = suggestName(file.name);
    } catch (err) {
      showError(err);
    }
  });

  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    run(importButton, "Importing the keystore…", async () => {
      const name = importName.value.trim();
      let text = importText.value.trim();
      if (!text && importFile.files && importFile.files[0]) text = (await readFileText(importFile.files[0])).trim();
      if (!text) throw new Error("choose a keystore file or paste its JSON");
      if (!name) throw new Error("give the key a name");
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error("this is not a keystore: the text is not JSON");
      }
      const crypto = parsed && (parsed.crypto || parsed.Crypto);
      if (!parsed || typeof parsed !== "object" || Number(parsed.version) !== 3 || !crypto) {
        throw new Error("this is not a Web3 Secret Storage version 3 keystore (no version 3, no crypto section)");
      }
      if (el.listKeystores().some((k) => k.name === name)) {
        throw new Error(`a key named "${name}" is already kept in this browser; choose another name`);
      }
      el.saveKeystore(name, text);
      importText.value = "";
      importFile.value = "";
      importName.value = "";
      refreshList(name);
      password.focus();
    });
  });

  if (createForm) {
    createForm.addEventListener("submit", (event) => {
      event.preventDefault();
      run(createButton, "Creating and encrypting the key (this takes a few seconds)…", async () => {
        const name = createName.value.trim();
        if (!name) throw new Error("give the key a name");
        if (el.listKeystores().some((k) => k.name === name)) {
          throw new Error(`a key named "${name}" is already kept in this browser; choose another name`);
        }
        if (createPassword.value.length < 8) throw new Error("the password needs at least 8 characters");
        if (createPassword.value !== createPassword2.value) throw new Error("the two passwords differ");
        const created = el.createWallet();
        const json = await el.encryptKeystore(created, createPassword.value, {});
        el.saveKeystore(name, json);
        createName.value = "";
        createPassword.value = "";
        createPassword2.value = "";
        refreshList(name);
        setUnlocked(created, name);
      });
    });
  }

  window.addEventListener("storage", (event) => {
    if (!event.key || event.key.startsWith("elicense")) refreshList();
  });

  refreshList();
  return {
    get wallet() {
      return wallet;
    },
    lock,
  };
}

const NAME_HINT = "Letters, digits, “_”, “.” or “-”, at most 64, e.g. alice or police-7.";

/** A keystore name from a file name: "UTC--2024-…--8f3c….json" → "key-8f3c…", "alice.json" → "alice". */
function suggestName(fileName) {
  let name = fileName.replace(/\.(json|txt|keystore)$/i, "").replace(/\.keystore$/i, "");
  const geth = /^UTC--.*--([0-9a-fA-F]{40})$/.exec(name);
  if (geth) name = `key-${geth[1].slice(0, 8).toLowerCase()}`;
  name = name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return name || "imported-key";
}

function normaliseAddress(address) {
  if (!address) return "";
  const text = String(address);
  return text.startsWith("0x") ? text : `0x${text}`;
}
