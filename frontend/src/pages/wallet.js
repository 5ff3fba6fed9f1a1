// Holder wallet: the holder's key stays in this page; licences are decrypted and checked here, and
// presentations (QR codes) are signed here. The server sees addresses, the public key and signed
// transactions only.

import {
  $, byTestId, cell, clearError, el, formatTime, formatValue, h, hashCode, initPage, keyPanel, listOf, localTime,
  messageOf, perform, run, sameAddress, shortHex, showError, statusBadge, uid,
} from "./common.js";
import { personalSection } from "./parts/personal.js";

const DEFAULT_TTL = 120;
const ZERO_ID = /^(0x)?0*$/i;

initPage();

const accountSection = $("#account");
const licencesSection = $("#licences");
const list = byTestId("licence-list");
const emptyNote = byTestId("licences-empty");
const registerBox = byTestId("register-box");
const registerButton = byTestId("register-button");
const registrationStatus = byTestId("registration-status");
const refreshButton = byTestId("refresh-button");

let config = null;
let openQr = null; // the one QR panel shown at a time: {close()}

const personal = personalSection($("#personal"), {
  getConfig: () => getConfig(),
  currentWallet: () => keys.wallet,
});

const keys = keyPanel($("#key-panel"), {
  allowCreate: true,
  onUnlock: (wallet) => showAccount(wallet),
  onLock: () => hideAccount(),
});

async function getConfig() {
  if (!config) config = await el.api("/api/config");
  return config;
}

function faucetOn(cfg) {
  const faucet = cfg?.faucet;
  if (faucet && typeof faucet === "object") return Boolean(faucet.enabled ?? faucet.on ?? faucet.active ?? true);
  return faucet === true || faucet === "on";
}

// ---------------------------------------------------------------- account and registration

function hideAccount() {
  if (openQr) openQr.close();
  accountSection.hidden = true;
  licencesSection.hidden = true;
  registerBox.hidden = true;
  list.replaceChildren();
  hideInspections();
  byTestId("account-address").textContent = "";
  byTestId("public-key").textContent = "";
  personal.hide();
}

async function showAccount(wallet) {
  accountSection.hidden = false;
  byTestId("account-address").textContent = wallet.address;
  byTestId("public-key").textContent = el.publicKeyOf(wallet);
  await Promise.all([checkRegistration(wallet), personal.show(wallet)]);
}

async function fetchIdentity(address) {
  try {
    return await el.api(`/api/identities/${address}`);
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

function checkRegistration(wallet) {
  registrationStatus.textContent = "checking…";
  return run(null, "Checking your registration…", async () => {
    const identity = await fetchIdentity(wallet.address);
    if (keys.wallet !== wallet) return; // locked meanwhile
    if (!identity) {
      registrationStatus.textContent = "not registered";
      registerBox.hidden = false;
      licencesSection.hidden = true;
      return;
    }
    registerBox.hidden = true;
    const role = identity.role_name ?? identity.role ?? "registered";
    const parts = [h("strong", {}, String(role))];
    const registeredKey = identity.public_key ?? identity.publicKey;
    if (registeredKey && String(registeredKey).toLowerCase() !== el.publicKeyOf(wallet).toLowerCase()) {
      parts.push(
        h("p", { class: "notice warn" }, "The public key registered for this address is not this key's: licences encrypted to it cannot be read here."),
      );
    }
    if (role !== "holder" && role !== 1) {
      parts.push(h("p", { class: "hint" }, "Licences are issued to holder accounts; this account has another role."));
    }
    registrationStatus.replaceChildren(...parts);
    licencesSection.hidden = false;
    await Promise.all([loadLicences(wallet), loadInspections(wallet)]);
  });
}

registerButton.addEventListener("click", () => {
  const wallet = keys.wallet;
  if (!wallet) return showError("unlock your key first");
  run(registerButton, "Registering…", async (busy) => {
    const cfg = await getConfig();
    if (faucetOn(cfg)) {
      busy.update("Asking the faucet for the fees of the registration…");
      try {
        await el.api("/api/faucet", { method: "POST", body: { address: wallet.address } });
      } catch (err) {
        if (err.status !== 409) throw err; // already funded: fine
      }
    }
    await perform(wallet, "/api/identities", { address: wallet.address, role: "holder", public_key: el.publicKeyOf(wallet) }, busy);
    return true;
  }).then((registered) => {
    if (registered && keys.wallet === wallet) checkRegistration(wallet);
  });
});

refreshButton.addEventListener("click", () => {
  const wallet = keys.wallet;
  if (wallet) run(refreshButton, "Loading your licences…", () => loadLicences(wallet));
});

// ---------------------------------------------------------------- who checked my licences (seed 001's Subchain 2)

const inspectionsSection = $("#inspections");
const inspectionsBody = $("tbody", byTestId("inspections-table"));
const inspectionsMore = byTestId("inspections-more");
const INSPECTIONS_PAGE = 50;
let inspectionsShown = 0;

function hideInspections() {
  inspectionsSection.hidden = true;
  inspectionsBody.replaceChildren();
  inspectionsShown = 0;
}

async function fetchInspections(wallet, offset, limit) {
  return el.api(`/api/holders/${wallet.address}/inspections?offset=${offset}&limit=${limit}`);
}

/** (Re)loads the log, newest first, keeping as many rows as were shown (at least one page). */
async function loadInspections(wallet) {
  const answer = await fetchInspections(wallet, 0, Math.min(1000, Math.max(INSPECTIONS_PAGE, inspectionsShown)));
  if (keys.wallet !== wallet) return;
  const items = listOf(answer, "items");
  inspectionsBody.replaceChildren(...items.map(inspectionRow));
  inspectionsShown = items.length;
  showInspectionSummary(answer);
  inspectionsSection.hidden = false;
}

function showInspectionSummary(answer) {
  const total = Number(answer?.total ?? inspectionsShown);
  const failed = Number(answer?.failed ?? 0);
  byTestId("inspections-table").hidden = total === 0;
  byTestId("inspections-empty").hidden = total > 0;
  const count = byTestId("inspections-count");
  count.hidden = total === 0;
  count.textContent = `${total} inspection${total === 1 ? "" : "s"}, ${failed} failed` +
    (inspectionsShown < total ? `; showing the newest ${inspectionsShown}.` : ".");
  inspectionsMore.hidden = inspectionsShown >= total;
  const verified = Boolean(answer?.verified);
  const note = byTestId("inspections-verified");
  note.className = `notice ${verified ? "ok" : "bad"}`;
  note.dataset.verified = String(verified);
  const broken = (answer?.chains ?? []).filter((c) => !c.verified);
  note.replaceChildren(
    verified
      ? `Verified: the ${total} entr${total === 1 ? "y" : "ies"} recompute${total === 1 ? "s" : ""} the hash chain ` +
        "whose head each registry holds."
      : "NOT verified: the entries read do not recompute a registry's hash-chain head; an entry is missing or altered.",
    ...broken.map((c) => h("span", { class: "hint", "data-testid": "inspections-problem" }, h("br"), `${String(c.type).replace(/-/g, " ")} registry: ${c.problem}`)),
  );
  note.hidden = false;
}

function inspectionRow(e) {
  const who = e.inspector_name
    ? [h("strong", { "data-testid": "inspection-inspector-name" }, e.inspector_name), h("br")]
    : [];
  return h(
    "tr",
    {
      class: e.failed ? "failed" : "",
      "data-testid": "inspection-row",
      "data-result": e.result,
      "data-failed": String(Boolean(e.failed)),
      "data-inspector": e.inspector,
      "data-licence-id": e.licence_id,
    },
    cell("Who", ...who, h("code", { title: e.inspector, "data-testid": "inspection-inspector" }, shortHex(e.inspector, 10))),
    cell("When", localTime(e.time, { "data-testid": "inspection-time" })),
    cell("Licence", String(e.type).replace(/-/g, " "), " ", hashCode(e.licence_id, { "data-testid": "inspection-licence" })),
    cell(
      "Outcome",
      h("span", { class: `badge ${e.failed ? "badge-revoked" : "badge-active"}`, "data-testid": "inspection-outcome" }, e.failed ? `failed: ${e.result}` : "valid"),
      h("div", { class: "hint", "data-testid": "inspection-sentence" }, e.sentence),
    ),
    cell("Transaction", `block ${e.block_number} `, hashCode(e.tx_hash)),
  );
}

byTestId("inspections-refresh").addEventListener("click", (event) => {
  const wallet = keys.wallet;
  if (wallet) run(event.currentTarget, "Loading who checked your licences…", () => loadInspections(wallet));
});

inspectionsMore.addEventListener("click", () => {
  const wallet = keys.wallet;
  if (!wallet) return;
  run(inspectionsMore, "Loading older inspections…", async () => {
    const answer = await fetchInspections(wallet, inspectionsShown, INSPECTIONS_PAGE);
    if (keys.wallet !== wallet) return;
    const items = listOf(answer, "items");
    inspectionsBody.append(...items.map(inspectionRow));
    inspectionsShown += items.length;
    showInspectionSummary(answer);
  });
});

// ---------------------------------------------------------------- licences

async function loadLicences(wallet) {
  const answer = await el.api(`/api/holders/${wallet.address}/licences`);
  if (keys.wallet !== wallet) return;
  if (openQr) openQr.close();
  const items = listOf(answer, "licences");
  list.replaceChildren(...items.map((item) => licenceCard(item, wallet)));
  emptyNote.hidden = items.length > 0;
}

function typeName(item, doc) {
  const name = item.type ?? doc?.type ?? item.cert_type;
  return String(name).replace(/-/g, " ");
}

/** Decrypts and checks one licence; {doc, error}. */
function openLicence(item, wallet) {
  let doc;
  try {
    doc = el.decryptLicence(wallet.privateKey, item.ciphertext);
  } catch (err) {
    return { doc: null, error: messageOf(err) };
  }
  try {
    const hash = el.dataHash(doc);
    if (String(hash).toLowerCase() !== String(item.data_hash).toLowerCase()) {
      return {
        doc,
        error:
          "The decrypted licence does not match the data hash recorded on chain: it was altered, or the agency " +
          "encrypted other data than it committed to. It cannot be shown to an inspector.",
      };
    }
  } catch (err) {
    return { doc, error: messageOf(err) };
  }
  if (item.agency && doc.agency !== item.agency) {
    return {
      doc,
      error: `The licence document names agency ${doc.agency}, but ${item.agency} issued it on chain: a copy ` +
        "another agency made of someone else's licence. It cannot be shown to an inspector.",
    };
  }
  if (doc.holder && !sameAddress(doc.holder, wallet.address)) {
    return { doc, error: `The licence document names another holder (${doc.holder}).` };
  }
  return { doc, error: null };
}

function licenceCard(item, wallet) {
  const { doc, error } = openLicence(item, wallet);
  const status = item.status || "none";
  const showable = status === "active" && doc && !error;
  const titleId = uid("lic");

  const validFrom = item.valid_from ?? doc?.validFrom;
  const validUntil = item.valid_until ?? doc?.validUntil;
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Issuer"),
    h("dd", { "data-testid": "licence-issuer" }, item.agency_name ? `${item.agency_name} (${item.agency})` : String(item.agency ?? doc?.agency ?? "")),
    h("dt", {}, "Valid from"),
    h("dd", { "data-testid": "licence-valid-from" }, formatTime(validFrom, { zero: "issuance" })),
    h("dt", {}, "Valid until"),
    h("dd", { "data-testid": "licence-valid-until" }, formatTime(validUntil)),
    h("dt", {}, "Licence id"),
    h("dd", {}, hashCode(item.licence_id, { "data-testid": "licence-id" })),
    h("dt", {}, "Issued"),
    h(
      "dd",
      {},
      item.batch ? "in a batch, " : "",
      `block ${item.block_number ?? "?"}`,
      item.tx_hash ? [", transaction ", hashCode(item.tx_hash)] : "",
    ),
    item.previous && !ZERO_ID.test(item.previous) ? [h("dt", {}, "Renews"), h("dd", {}, hashCode(item.previous))] : null,
  );

  const card = h(
    "li",
    {
      class: "licence-card",
      "data-testid": "licence-card",
      "data-licence-id": item.licence_id,
      "data-status": status,
      "aria-labelledby": titleId,
    },
    h("header", {}, h("h3", { id: titleId }, typeName(item, doc)), statusBadge(status, { "data-testid": "licence-status" })),
    error ? h("p", { class: "card-error", "data-testid": "licence-error" }, error) : null,
    facts,
  );

  if (doc) {
    const names = Object.keys(doc.fields).sort();
    const rows = names.map((name) =>
      h(
        "tr",
        { "data-testid": "licence-field", "data-field": name },
        showable
          ? h(
              "td",
              {},
              h("input", {
                type: "checkbox",
                checked: true,
                value: name,
                "data-testid": "field-checkbox",
                "aria-label": `Show ${name} to the inspector`,
              }),
            )
          : null,
        h("th", { scope: "row" }, name),
        h("td", { "data-testid": "licence-field-value" }, formatValue(doc.fields[name])),
      ),
    );
    card.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-testid": "licence-fields" },
          h(
            "thead",
            {},
            h("tr", {}, showable ? h("th", { scope: "col" }, "Show") : null, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Value")),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  if (showable) {
    const ttl = h("input", { type: "number", min: 10, max: 3600, step: 1, value: String(DEFAULT_TTL), "data-testid": "qr-ttl", style: "max-width: 7rem" });
    ttl.id = uid("ttl");
    const showButton = h("button", { type: "button", "data-testid": "show-qr-button" }, "Show QR");
    card.append(
      h(
        "div",
        { class: "actions" },
        showButton,
        h("label", { for: ttl.id, class: "inline" }, "Code usable for", ttl, "seconds"),
      ),
    );
    const qr = qrController(card, item, doc, wallet, ttl);
    showButton.addEventListener("click", () => qr.open(showButton));
    card.querySelectorAll('[data-testid="field-checkbox"]').forEach((box) =>
      box.addEventListener("change", () => {
        if (qr.isOpen()) qr.refresh();
      }),
    );
  } else if (doc && !error) {
    card.append(
      h(
        "p",
        { class: "hint", "data-testid": "not-showable" },
        status === "not-yet-valid"
          ? "This licence is not valid yet: it can be shown from its first day of validity."
          : `This licence is ${statusBadge(status).textContent.toLowerCase()}: it cannot be shown to an inspector.`,
      ),
    );
  }
  return card;
}

// ---------------------------------------------------------------- QR presentations

function qrController(card, item, doc, wallet, ttlInput) {
  let panel = null;
  let timer = null;
  let generation = 0;
  let notAfter = 0;

  const img = h("img", { class: "qr-image", "data-testid": "qr-image", alt: "", width: 360, height: 360 });
  const countdown = h("span", { class: "countdown", "data-testid": "qr-countdown" }, "");
  const version = h("span", { "data-testid": "qr-version" }, "");
  const versionNote = h("span", { class: "hint" }, "");
  const shownFields = h("span", { "data-testid": "qr-fields" }, "");
  const expiredNote = h("p", { class: "notice warn", "data-testid": "qr-expired", hidden: true }, "This code has expired: make a new one.");
  const payload = h("textarea", { readonly: true, rows: 4, spellcheck: "false", "data-testid": "qr-payload" });
  payload.id = uid("payload");
  const newButton = h("button", { type: "button", "data-testid": "qr-new-button" }, "New code");
  const copyButton = h("button", { type: "button", class: "secondary", "data-testid": "qr-copy-button" }, "Copy text");
  const closeButton = h("button", { type: "button", class: "secondary", "data-testid": "qr-close-button" }, "Close");

  function checkedNames() {
    return [...card.querySelectorAll('[data-testid="field-checkbox"]')].filter((b) => b.checked).map((b) => b.value);
  }

  function tick() {
    const left = Math.max(0, notAfter - Math.floor(Date.now() / 1000));
    countdown.textContent = String(left);
    countdown.dataset.seconds = String(left);
    const expired = left <= 0;
    countdown.classList.toggle("expired", expired);
    expiredNote.hidden = !expired;
    img.style.opacity = expired ? "0.25" : "";
    if (expired && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function build() {
    panel = h(
      "div",
      { class: "qr-panel", "data-testid": "qr-panel" },
      h("h4", {}, "Code for the inspector"),
      h(
        "div",
        { class: "qr-box" },
        img,
        h(
          "div",
          { class: "qr-meta" },
          h("p", { "aria-live": "off" }, "Usable for ", countdown, " more seconds"),
          expiredNote,
          h("p", {}, "Fields shown: ", shownFields),
          h("p", {}, "QR version ", version, " ", versionNote),
          h("div", { class: "actions" }, newButton, copyButton, closeButton),
          h("label", { for: payload.id }, "Code text (to paste on the inspector page)"),
          payload,
        ),
      ),
    );
    card.append(panel);
    newButton.addEventListener("click", () => refresh());
    closeButton.addEventListener("click", () => close());
    copyButton.addEventListener("click", async () => {
      clearError();
      try {
        await navigator.clipboard.writeText(payload.value);
        copyButton.textContent = "Copied";
        setTimeout(() => {
          copyButton.textContent = "Copy text";
        }, 1500);
      } catch {
        payload.select();
        showError("the browser did not allow copying: the text is selected, copy it with the keyboard");
      }
    });
  }

  function refresh() {
    const mine = ++generation;
    // the old code disappears at once, so nobody scans a code for the wrong fields
    payload.value = "";
    img.removeAttribute("src");
    version.textContent = "";
    shownFields.textContent = "";
    if (timer) clearInterval(timer);
    timer = null;
    countdown.textContent = "";
    delete countdown.dataset.seconds;
    expiredNote.hidden = true;
    return run(newButton, "Signing a new code…", async () => {
      const names = checkedNames();
      if (names.length === 0) throw new Error("choose at least one field to show");
      let ttl = Number(ttlInput.value || DEFAULT_TTL);
      if (!Number.isInteger(ttl) || ttl < 10 || ttl > 3600) throw new Error("the code's lifetime is 10 to 3600 seconds");
      const now = Math.floor(Date.now() / 1000);
      const presentation = await el.createPresentation(wallet, {
        chainId: item.chain_id,
        registry: item.registry,
        licenceId: item.licence_id,
        agency: item.agency,
        document: doc,
        fields: names,
        ttl,
        now,
        batch: item.batch || null,
      });
      const text = el.encodeQr(presentation, item.block_number);
      const url = await el.qrDataUrl(text);
      if (mine !== generation || !panel) return;
      img.src = url;
      img.alt = `QR code showing ${names.join(", ")} of this ${typeName(item, doc)} licence`;
      payload.value = text;
      const v = el.qrVersion(text);
      version.textContent = String(v);
      versionNote.textContent = v > 15 ? "(dense: show fewer fields if the inspector's camera struggles)" : "";
      shownFields.textContent = names.join(", ");
      notAfter = Number(presentation.not_after ?? now + ttl);
      if (timer) clearInterval(timer);
      timer = setInterval(tick, 500);
      tick();
    });
  }

  function close() {
    generation++;
    if (timer) clearInterval(timer);
    timer = null;
    if (panel) panel.remove();
    panel = null;
    if (openQr === controller) openQr = null;
  }

  const controller = {
    isOpen: () => panel !== null,
    open(button) {
      if (openQr && openQr !== controller) openQr.close();
      openQr = controller;
      if (!panel) build();
      refresh().then(() => {
        if (panel) panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
      });
      button?.focus();
    },
    refresh,
    close,
  };
  return controller;
}
