// The wallet's "Personal data" section (docs/personal-data.md): for each PersonalDataRegistry the server
// offers (/api/config → personal_registries) where the unlocked key is a data subject, the record as the
// chain holds it, the subject's own data (read through the gateway, logged on chain, opened here), its
// JSON export, the consent requests (grant: the data key is wrapped to the requester in this page; deny),
// the active consents (revoke) and the access log with its hash-chain check.
//
// The data key and the decrypted data never leave the page: the server relays the sealed envelope and
// receives, for a grant or a reseal, the new envelope the page made with the subject's signature over
// its hash (the gateway stores nothing for a subject without it); every answer is a transaction the page
// signs. Revoking a consent reseals the data under a fresh data key without the former reader, so a key
// it kept opens nothing stored from then on. Purpose statements come only on the subject's signed request.

import {
  byTestId, cell, confirmDialog, downloadText, el, formatValue, h, hashCode, localTime, perform, run,
  sameAddress, shortHex, uid,
} from "../common.js";

const EXPORT_FORMAT = "elicense-personal-data-export/1";
const OUTCOMES = ["granted", "not-authorised", "erased", "expired"];
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * root: the section (data-testid="personal"), holding personal-list, personal-empty and personal-refresh.
 * getConfig(): /api/config (cached by the page); currentWallet(): the unlocked wallet or null.
 * returns {show(wallet), hide()}
 */
export function personalSection(root, { getConfig, currentWallet }) {
  const list = byTestId("personal-list", root);
  const empty = byTestId("personal-empty", root);
  const refreshButton = byTestId("personal-refresh", root);
  let cards = [];

  function hide() {
    root.hidden = true;
    list.replaceChildren();
    cards = [];
  }

  async function show(wallet) {
    const cfg = await getConfig();
    const registries = cfg?.personal_registries ?? [];
    if (currentWallet() !== wallet) return;
    if (registries.length === 0) {
      hide();
      return;
    }
    root.hidden = false;
    empty.hidden = true;
    await run(refreshButton, "Looking for your personal-data records…", async () => {
      const found = [];
      for (const registry of registries) {
        const state = { registry, wallet, chainId: mainChainId(cfg), data: null, flag: null, card: null };
        if (await load(state)) found.push(state);
      }
      if (currentWallet() !== wallet) return;
      cards = found;
      for (const state of found) state.card = h("li", { class: "personal-card" });
      list.replaceChildren(...found.map((state) => state.card));
      found.forEach(render);
      empty.hidden = found.length > 0;
    });
  }

  refreshButton.addEventListener("click", () => {
    const wallet = currentWallet();
    if (wallet) show(wallet);
  });

  /** Fetches the record, requests, consents and access log; false when the subject has no record here. */
  async function load(state) {
    const base = `/api/personal/${state.registry}/subjects/${state.wallet.address}`;
    let subject;
    try {
      subject = await el.api(base);
    } catch (err) {
      if (err.status === 404) return false;
      throw err;
    }
    const log = await el.api(`${base}/log`);
    const requests = subject.requests ?? [];
    if (requests.length > 0) {
      const texts = await purposeTexts(state);
      for (const r of requests) {
        const opening = texts.get(r.request_id);
        r.purpose_text = opening?.text ?? null;
        r.purpose_salt = opening?.salt ?? null;
      }
    }
    Object.assign(state, { record: subject.record, requests, consented: subject.consented ?? [], log });
    return true;
  }

  /** request id → {text, salt} of its purpose: the server shows them only to a party, on a signed request. */
  async function purposeTexts(state) {
    const base = `/api/personal/${state.registry}/subjects/${state.wallet.address}`;
    const prepared = await el.api(`${base}/purposes-request?${new URLSearchParams({ viewer: state.wallet.address })}`);
    const signature = await el.signTyped(state.wallet, prepared.typed);
    const answer = await el.api(`${base}/purposes`, {
      method: "POST",
      body: { viewer: state.wallet.address, deadline: prepared.deadline, signature },
    });
    return new Map(answer.items.map((i) => [i.request_id, { text: i.text, salt: i.salt }]));
  }

  /** The subject's signature over a new file's SHA-256 and use (a grant's request id, or none: a reseal). */
  async function signStore(state, sealed, busy, requestId = null) {
    busy?.update("Signing the new file so that the gateway stores it for you…");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", sealed));
    const params = new URLSearchParams({ integrity_hash: el.toHex(digest) });
    if (requestId !== null) params.set("request_id", String(requestId));
    const { typed } = await el.api(`/api/personal/${state.registry}/subjects/${state.wallet.address}/store-request?${params}`);
    return el.signTyped(state.wallet, typed);
  }

  async function reload(state) {
    await load(state);
    if (currentWallet() === state.wallet) render(state);
  }

  function render(state) {
    if (!state.card) return;
    const { record, wallet } = state;
    const titleId = uid("pd");
    const erased = Boolean(record.erased);
    const showButton = h("button", { type: "button", "data-testid": "show-data-button", disabled: erased }, "Show my data");
    const downloadButton = h(
      "button",
      { type: "button", class: "secondary", "data-testid": "download-data-button", disabled: erased },
      "Download my data (JSON)",
    );
    showButton.addEventListener("click", () =>
      run([showButton, downloadButton], "Reading your data through the gateway (the read is logged on chain)…", async (busy) => {
        await readData(state, busy);
        await reload(state);
      }),
    );
    downloadButton.addEventListener("click", () =>
      run([showButton, downloadButton], "Exporting your data…", async (busy) => {
        await readData(state, busy);
        await load(state);
        if (!state.data) throw new Error(flagSentence(state.flag) + " There is nothing to export; ask the controller to rectify it.");
        const file = exportOf(state);
        downloadText(`personal-data-${shortAddress(wallet.address)}-${shortAddress(state.registry)}.json`, JSON.stringify(file, null, 2));
        render(state);
      }),
    );

    state.card.replaceChildren(
      h(
        "article",
        { "data-testid": "personal-registry", "data-registry": state.registry, "aria-labelledby": titleId },
        h(
          "header",
          {},
          h("h3", { id: titleId }, "Registry ", h("code", { title: state.registry }, shortHex(state.registry, 10))),
          h(
            "span",
            { class: `badge ${erased ? "badge-revoked" : "badge-active"}`, "data-testid": "personal-state", "data-erased": String(erased) },
            erased ? "Erased" : "Held",
          ),
        ),
        recordFacts(record),
        erased
          ? h("p", { class: "notice warn" }, "Your data in this registry was erased: nothing can be read, exported or shared any more.")
          : null,
        h("div", { class: "actions" }, showButton, downloadButton),
        dataPanel(state),
        requestsPanel(state),
        consentsPanel(state),
        logPanel(state),
      ),
    );
  }

  function recordFacts(record) {
    return h(
      "dl",
      { class: "facts", "data-testid": "personal-record" },
      h("dt", {}, "Version"),
      h("dd", { "data-testid": "personal-version" }, String(record.version)),
      h("dt", {}, "Created"),
      h("dd", {}, localTime(record.created_at)),
      h("dt", {}, "Updated"),
      h("dd", { "data-testid": "personal-updated" }, localTime(record.updated_at)),
      h("dt", {}, "Erased"),
      h("dd", { "data-testid": "personal-erased", "data-erased": String(Boolean(record.erased)) }, record.erased ? localTime(record.erased_at) : "no"),
      h("dt", {}, "Controller"),
      h("dd", {}, h("code", { "data-testid": "personal-controller" }, record.controller)),
      h("dt", {}, "File"),
      h("dd", {}, h("code", { title: record.pointer }, shortHex(record.pointer, 16)), " · SHA-256 ", hashCode(record.integrity_hash)),
    );
  }

  // ------------------------------------------------------------ the subject's own data

  /** The subject's own read: signed here, logged on chain by the gateway, opened here. Sets state.data / flag. */
  async function readData(state, busy) {
    const served = await gatewayRead(state, busy);
    state.flag = served.tampered || served.missing ? { tampered: Boolean(served.tampered), missing: Boolean(served.missing) } : null;
    state.data = null;
    if (state.flag) return served;
    busy?.update("Opening the envelope with your key…");
    const plain = el.openEnvelope(el.fromHex(served.envelope, "envelope"), state.wallet.privateKey);
    let document;
    try {
      document = JSON.parse(utf8.decode(plain));
    } catch {
      throw new Error("the decrypted personal data is not JSON");
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      throw new Error("the decrypted personal data is not a JSON object");
    }
    state.data = document;
    return served;
  }

  async function gatewayRead(state, busy) {
    const { wallet, registry } = state;
    busy?.update("Asking for a read request to sign…");
    const params = new URLSearchParams({ subject: wallet.address, fields: "*" });
    const prepared = await el.api(`/api/personal/${registry}/read-request?${params}`);
    // the reader signs only a commitment to the fields it asked for (salted: the chain cannot tell which)
    if (el.fieldCommitment("*", prepared.salt) !== prepared.typed.message.what) {
      throw new Error("the gateway's read request does not commit to the fields asked for; nothing was signed");
    }
    const signature = await el.signTyped(wallet, prepared.typed);
    busy?.update("The gateway logs your read on chain and fetches the file…");
    const served = await el.api(`/api/personal/${registry}/subjects/${wallet.address}/read`, {
      method: "POST",
      body: { reader: wallet.address, what: prepared.what, deadline: prepared.deadline, nonce: prepared.nonce, signature },
    });
    if (!served.tampered && !served.missing && !served.envelope) throw new Error("the gateway sent no file");
    return served;
  }

  function flagSentence(flag) {
    if (!flag) return "";
    return flag.missing
      ? "MISSING: no file is stored under the address the chain records for your data."
      : "TAMPERED: the stored file does not match the SHA-256 the chain records for your data; it was altered.";
  }

  function dataPanel(state) {
    if (state.flag) {
      return h(
        "p",
        {
          class: "notice bad",
          role: "alert",
          "data-testid": "personal-tampered",
          "data-tampered": String(state.flag.tampered),
          "data-missing": String(state.flag.missing),
        },
        flagSentence(state.flag),
      );
    }
    if (!state.data) return null;
    const names = Object.keys(state.data).sort(el.compareCodePoints);
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "data-testid": "personal-data" },
        h("caption", { class: "hint" }, "Your data, decrypted in this page"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Value"))),
        h(
          "tbody",
          {},
          names.map((name) =>
            h(
              "tr",
              { "data-testid": "personal-field", "data-field": name },
              h("th", { scope: "row" }, name),
              h("td", { "data-testid": "personal-field-value" }, formatValue(state.data[name])),
            ),
          ),
        ),
      ),
    );
  }

  function exportOf(state) {
    return {
      format: EXPORT_FORMAT,
      exported_at: Math.floor(Date.now() / 1000),
      registry: { chain_id: state.chainId, address: state.registry },
      subject: state.wallet.address,
      data: state.data,
      record: state.record,
      consent_requests: state.requests,
      active_consents: state.consented,
      access_log: state.log.items,
      access_log_verified: state.log.verified,
    };
  }

  // ------------------------------------------------------------ consent requests and consents

  function requestsPanel(state) {
    const pending = state.requests.filter((r) => r.status === "pending");
    const answered = state.requests.filter((r) => r.status !== "pending");
    const table = (testid, rows, withActions) =>
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "stack", "data-testid": testid },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Requester", "Purpose", "Asked", withActions ? "Your answer" : "Status"].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h("tbody", {}, rows.map((r) => requestRow(state, r, withActions))),
        ),
      );
    return h(
      "section",
      { class: "personal-part", "data-testid": "consent-requests" },
      h("h4", {}, "Consent requests"),
      pending.length
        ? table("pending-requests", pending, !state.record.erased)
        : h("p", { class: "hint", "data-testid": "requests-empty" }, "No request is waiting for your answer."),
      answered.length ? [h("h5", {}, "Answered"), table("answered-requests", answered, false)] : null,
    );
  }

  // The chain holds only a salted commitment: the statement is shown only when it opens it (a server
  // cannot put words in a requester's mouth).
  function statedPurpose(request) {
    const { purpose, purpose_text: text, purpose_salt: salt } = request;
    return text && salt && el.opensPurpose(purpose, text, salt) ? text : null;
  }

  // The chain holds a salted commitment to the fields read; the server names them only for reads it prepared.
  function fieldsOf(fields) {
    if (fields === "*") return "all fields (*)";
    return /^0x[0-9a-fA-F]{64}$/.test(fields) ? ["not disclosed ", hashCode(fields)] : fields;
  }

  function purposeOf(request) {
    return statedPurpose(request) ?? hashCode(request.purpose);
  }

  function requestRow(state, request, withActions) {
    const id = request.request_id;
    let last;
    if (withActions) {
      const grant = h("button", { type: "button", class: "small", "data-testid": "grant-button", "data-request-id": id }, "Grant");
      const deny = h("button", { type: "button", class: "small secondary", "data-testid": "deny-button", "data-request-id": id }, "Deny");
      grant.addEventListener("click", () => grantRequest(state, request, [grant, deny]));
      deny.addEventListener("click", () => denyRequest(state, request, [grant, deny]));
      last = cell("Your answer", h("div", { class: "row-actions" }, grant, deny));
    } else {
      last = cell(
        "Status",
        h("span", { class: `badge badge-request-${request.status}`, "data-testid": "request-status" }, request.status),
        request.answered_at ? [" ", localTime(request.answered_at, { class: "hint" })] : null,
      );
    }
    return h(
      "tr",
      { "data-testid": "consent-request", "data-request-id": id, "data-status": request.status, "data-requester": request.requester },
      cell("Requester", h("code", { "data-testid": "request-requester", title: request.requester }, request.requester)),
      cell("Purpose", h("span", { "data-testid": "request-purpose" }, purposeOf(request))),
      cell("Asked", localTime(request.requested_at, { "data-testid": "request-date" })),
      last,
    );
  }

  async function grantRequest(state, request, buttons) {
    const who = request.requester;
    const yes = await confirmDialog(
      "Grant this request?",
      `${who} will be able to read all your data in this registry, ` +
        `for the purpose “${statedPurpose(request) ?? request.purpose}”, ` +
        "until you revoke the consent. Your data key is wrapped to its key here, in this page.",
      "Grant",
    );
    if (!yes) return;
    await run(buttons, "Granting…", async (busy) => {
      if (!request.public_key) throw new Error(`the request of ${who} carries no public key: the data key cannot be wrapped to it`);
      const served = await gatewayRead(state, busy);
      if (served.tampered || served.missing) {
        state.flag = { tampered: Boolean(served.tampered), missing: Boolean(served.missing) };
        throw new Error(`${flagSentence(state.flag)} Nothing can be shared until the controller rectifies it.`);
      }
      busy.update(`Wrapping your data key to ${shortHex(who, 10)}…`);
      const sealed = el.addReader(el.fromHex(served.envelope, "envelope"), state.wallet.privateKey, who, request.public_key);
      const signature = await signStore(state, sealed, busy, request.request_id);
      await perform(
        state.wallet,
        `/api/personal/${state.registry}/requests/${request.request_id}/grant`,
        { subject: state.wallet.address, envelope: el.toHex(sealed), signature },
        busy,
      );
    });
    await run(null, "Refreshing…", () => reload(state));
  }

  async function denyRequest(state, request, buttons) {
    await run(buttons, "Denying…", (busy) =>
      perform(state.wallet, `/api/personal/${state.registry}/requests/${request.request_id}/deny`, { subject: state.wallet.address }, busy),
    );
    await run(null, "Refreshing…", () => reload(state));
  }

  function consentsPanel(state) {
    const rows = state.consented.map((requester) => {
      const granted = [...state.requests].reverse().find((r) => r.status === "granted" && sameAddress(r.requester, requester));
      const revoke = h("button", { type: "button", class: "small danger", "data-testid": "revoke-button", "data-requester": requester }, "Revoke");
      revoke.addEventListener("click", () => revokeConsent(state, requester, revoke));
      return h(
        "tr",
        { "data-testid": "consent", "data-requester": requester },
        cell("Reader", h("code", { title: requester }, requester)),
        cell("Purpose", granted ? purposeOf(granted) : "—"),
        cell("Since", granted ? localTime(granted.answered_at) : "—"),
        cell("", revoke),
      );
    });
    return h(
      "section",
      { class: "personal-part" },
      h("h4", {}, "Who may read your data (your consents)"),
      rows.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "stack", "data-testid": "consents" },
              h("thead", {}, h("tr", {}, ["Reader", "Purpose", "Since", ""].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, rows),
            ),
          )
        : h("p", { class: "hint", "data-testid": "consents-empty" }, "Nobody holds your consent in this registry."),
    );
  }

  async function revokeConsent(state, requester, button) {
    const yes = await confirmDialog(
      "Revoke this consent?",
      `${requester} will no longer be able to read your data through the registry. Every later attempt is refused and logged. ` +
        "Your data is then sealed again under a fresh key, here in this page, so a key it kept opens nothing stored from now on.",
      "Revoke",
      true,
    );
    if (!yes) return;
    await run(button, "Revoking…", async (busy) => {
      await perform(state.wallet, `/api/personal/${state.registry}/consents/revoke`, { subject: state.wallet.address, requester }, busy);
      await reseal(state, busy);
    });
    await run(null, "Refreshing…", () => reload(state));
  }

  /** Your data under a fresh data key, sealed here for today's readers only, stored and recorded (rectify). */
  async function reseal(state, busy) {
    const served = await gatewayRead(state, busy);
    if (served.tampered || served.missing) {
      state.flag = { tampered: Boolean(served.tampered), missing: Boolean(served.missing) };
      throw new Error(`${flagSentence(state.flag)} The consent is revoked, but the file cannot be sealed again until the controller rectifies it.`);
    }
    busy.update("Sealing your data again under a fresh key…");
    const plain = el.openEnvelope(el.fromHex(served.envelope, "envelope"), state.wallet.privateKey);
    const { readers } = await el.api(`/api/personal/${state.registry}/subjects/${state.wallet.address}/readers`);
    const sealed = el.sealEnvelope(plain, Object.fromEntries(readers.map((r) => [r.address, r.public_key])));
    const signature = await signStore(state, sealed, busy);
    await perform(
      state.wallet,
      `/api/personal/${state.registry}/subjects/${state.wallet.address}/reseal`,
      { envelope: el.toHex(sealed), signature },
      busy,
    );
  }

  // ------------------------------------------------------------ the access log

  function logPanel(state) {
    const { items, verified } = state.log;
    const me = state.wallet.address;
    const rows = [...items].reverse().map((e) => {
      const failed = e.result !== "granted";
      return h(
        "tr",
        {
          class: failed ? "failed" : "",
          "data-testid": "access-row",
          "data-result": e.result,
          "data-reader": e.reader,
          "data-submitter": e.submitter,
        },
        cell(
          "Who",
          h("code", { "data-testid": "access-reader", title: e.reader }, sameAddress(e.reader, me) ? "you" : e.reader),
          sameAddress(e.submitter, e.reader)
            ? null
            : h("div", { class: "hint" }, "submitted by ", h("code", { title: e.submitter }, shortHex(e.submitter, 10))),
        ),
        cell("When", localTime(e.time, { "data-testid": "access-time" })),
        cell("What", h("span", { "data-testid": "access-fields" }, fieldsOf(e.fields))),
        cell(
          "Outcome",
          h("span", { class: `badge ${failed ? "badge-revoked" : "badge-active"}`, "data-testid": "access-outcome" }, OUTCOMES.includes(e.result) ? e.result : String(e.result)),
        ),
        cell("Transaction", `block ${e.block_number} `, hashCode(e.tx_hash)),
      );
    });
    return h(
      "section",
      { class: "personal-part" },
      h("h4", {}, "Access log"),
      h(
        "p",
        { class: `notice ${verified ? "ok" : "bad"}`, "data-testid": "access-log-verified", "data-verified": String(Boolean(verified)) },
        verified
          ? `Verified: ${items.length === 1 ? "the entry below recomputes" : `the ${items.length} entries below recompute`} ` +
            "the hash chain whose head the registry holds."
          : "NOT verified: these entries do not recompute the registry's hash-chain head; an entry is missing or altered.",
      ),
      rows.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "stack", "data-testid": "access-log" },
              h("thead", {}, h("tr", {}, ["Who", "When", "What", "Outcome", "Transaction"].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, rows),
            ),
          )
        : h("p", { class: "hint", "data-testid": "access-log-empty" }, "Nobody has read your data yet."),
    );
  }

  return { show, hide };
}

function mainChainId(cfg) {
  return cfg?.chains?.find((c) => c.name === cfg.main)?.chain_id ?? null;
}

function shortAddress(address) {
  return String(address).slice(0, 10).toLowerCase();
}
