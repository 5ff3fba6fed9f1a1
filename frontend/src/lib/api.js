// Calls to the elicense server (docs/api.md). No key leaves the page: the server prepares a
// transaction, the page signs it here and hands back only the signed bytes.

import { Transaction, getAddress } from "ethers";

const MAX_ROUNDS = 4;

/** JSON from the server; a non-2xx answer throws an Error with the server's sentence, .status and .code. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Error(`the elicense server cannot be reached (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a proxy's error page, say): the status speaks for it below
  }
  if (!response.ok) {
    const status = `the server answered ${response.status} ${response.statusText}`.trim();
    const err = new Error(data?.error?.message ?? status);
    err.status = response.status;
    err.code = data?.error?.code ?? null;
    throw err;
  }
  if (data === null && text) throw new Error(`the server's answer to ${path} is not JSON`);
  return data;
}

/** Bytes from the server (a sealed file, say); a non-2xx answer throws as api() does, with the server's sentence. */
export async function apiBytes(path, { method = "GET", body } = {}) {
  const init = { method, headers: { accept: "application/octet-stream, application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Error(`the elicense server cannot be reached (${err.message})`);
  }
  if (!response.ok) {
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the status speaks for it
    }
    const err = new Error(data?.error?.message ?? `the server answered ${response.status} ${response.statusText}`.trim());
    err.status = response.status;
    err.code = data?.error?.code ?? null;
    throw err;
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The signature (0x hex) of EIP-712 typed data as the server hands it out ({types, primaryType, domain,
 * message}, types with EIP712Domain): ethers derives the domain type itself, so it is left out here.
 */
export async function signTyped(wallet, typed) {
  if (!typed?.types || !typed.domain || !typed.message) throw new Error("the server sent no typed data to sign");
  const { EIP712Domain, ...types } = typed.types;
  return wallet.signTypedData(typed.domain, types, typed.message);
}

/**
 * The signed raw transaction ("0x…") of a PendingTx {chain_id, tx, from?, what}; its ints may be JSON
 * numbers or hex strings. Type 2 (EIP-1559) as the server prepares it, or type 0 when it sends a gasPrice.
 */
export async function signPending(wallet, pending) {
  const t = pending?.tx;
  if (!t || typeof t !== "object") throw new Error("the server sent no transaction to sign");
  if (BigInt(t.chainId) !== BigInt(pending.chain_id)) {
    throw new Error(`the transaction is for chain ${BigInt(t.chainId)}, not chain ${pending.chain_id} as announced`);
  }
  if (pending.from && getAddress(pending.from) !== wallet.address) {
    const signer = getAddress(pending.from);
    throw new Error(`this transaction is for ${signer} to sign, but the unlocked key is ${wallet.address}`);
  }
  const fees = Number(t.type ?? 2) === 0
    ? { type: 0, gasPrice: t.gasPrice }
    : { type: 2, maxFeePerGas: t.maxFeePerGas, maxPriorityFeePerGas: t.maxPriorityFeePerGas };
  const tx = Transaction.from({
    chainId: t.chainId, nonce: Number(t.nonce), to: t.to, data: t.data ?? "0x", value: t.value ?? 0, gasLimit: t.gas,
    ...fees,
  });
  return wallet.signTransaction(tx);
}

/** Signs a PendingTx and sends it to POST /api/transactions; resolves to the server's receipt summary. */
export async function signAndSubmit(wallet, pending) {
  const raw = await signPending(wallet, pending);
  return api("/api/transactions", { method: "POST", body: { chain_id: pending.chain_id, raw } });
}

/**
 * POSTs `body` to `path`, signs and submits the transaction the answer asks for, and again while the
 * answer says then: "retry" (a preparatory transaction came first). Resolves to {prepared, receipt};
 * receipt is null when the answer asked for no signature. onStatus receives short sentences for the page.
 */
export async function perform(wallet, path, body, { onStatus } = {}) {
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    onStatus?.("Preparing the transaction…");
    const prepared = await api(path, { method: "POST", body });
    if (!prepared?.sign) return { prepared, receipt: null };
    onStatus?.(`Signing and sending: ${prepared.sign.what}…`);
    const receipt = await signAndSubmit(wallet, prepared.sign);
    if (prepared.then !== "retry") {
      onStatus?.("Done.");
      return { prepared, receipt };
    }
  }
  throw new Error(`the server still asked for another transaction after ${MAX_ROUNDS} rounds; try again`);
}
