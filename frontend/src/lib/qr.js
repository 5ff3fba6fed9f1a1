// The compact QR presentation (mirror of src/elicense/qr.py; read its docstring for the format):
//   "EL1:" + base45(CBOR [1, chainId, holder, notAfter, nonce(16 B), signature, disclosure, reference])

import jsQR from "jsqr";
import QRCode from "qrcode";
import { getAddress } from "ethers";

import { b45decode, b45encode } from "./base45.js";
import { concatBytes, fromHex, sortedNames, toHex } from "./bytes.js";
import { cborDecode, cborEncode } from "./cbor.js";
import { fieldSalt } from "./licence.js";

const PREFIX = "EL1:";
const VERSION = 1;
const NONCE_BYTES = 16; // the signed nonce is these bytes, left-padded to 32
const QR_OPTIONS = { errorCorrectionLevel: "M", margin: 4, scale: 8 };

/** The QR text of a presentation (as createPresentation returns it); `issuedBlock` is needed unless it is batched. */
export function encodeQr(presentation, issuedBlock = null) {
  const p = presentation;
  const nonce = fromHex(p.nonce, "nonce", 32);
  if (nonce.subarray(0, 32 - NONCE_BYTES).some((b) => b !== 0)) {
    throw new Error(`a compact presentation needs a ${NONCE_BYTES}-byte nonce`);
  }
  if (!p.batch && (issuedBlock === null || issuedBlock === undefined)) {
    throw new Error("the block that issued the licence is needed for its QR code");
  }
  const reference = p.batch ? fromHex(p.batch.root, "batch root", 32) : Number(issuedBlock);
  const item = [
    VERSION, Number(p.chain_id), fromHex(p.holder, "holder address", 20), Number(p.not_after),
    nonce.slice(32 - NONCE_BYTES), fromHex(p.signature, "signature"), compactDisclosure(p.disclosure), reference,
  ];
  return PREFIX + b45encode(cborEncode(item));
}

function compactDisclosure(disclosure) {
  const type = Number(disclosure.type);
  if ("salt" in disclosure) {
    // a Map keeps the fields' (sorted) order even for names like "10" that a JS object would move first
    const values = new Map(disclosure.fields.map((e) => [e.name, e.value]));
    return [type, fromHex(disclosure.salt, "master salt", 32), values];
  }
  const entries = disclosure.fields.map((e) =>
    "leaf" in e ? fromHex(e.leaf, "leaf", 32) : [e.name, e.value, fromHex(e.salt, "field salt", 32)],
  );
  return [type, entries];
}

export const isCompactQr = (text) => typeof text === "string" && text.trim().toUpperCase().startsWith(PREFIX);

/**
 * The parts of QR text, for display (the server does the real verification):
 * {version, chainId, holder, notAfter, nonce, signature, disclosure (long form), reference: {block} | {root}}.
 */
export function decodeQr(text) {
  if (!isCompactQr(text)) {
    throw new Error(`the QR payload does not start with ${PREFIX} (not an elicense presentation)`);
  }
  let item;
  try {
    item = cborDecode(b45decode(text.trim().slice(PREFIX.length).toUpperCase()));
  } catch (err) {
    if (err.message.startsWith("the QR payload")) throw err;
    throw new Error(`the QR payload is damaged (CBOR: ${err.message})`);
  }
  if (!Array.isArray(item) || item.length !== 8) {
    throw new Error("the QR payload is not an elicense presentation (8 items expected)");
  }
  const [version, chainId, holder, notAfter, nonce, signature, disclosure, reference] = item;
  if (version !== VERSION) {
    throw new Error(`unsupported presentation version ${version} (this page reads version ${VERSION})`);
  }
  check(Number.isInteger(chainId) && chainId > 0, "chain id");
  check(holder instanceof Uint8Array && holder.length === 20, "holder address");
  check(Number.isInteger(notAfter) && notAfter >= 0, "validity window");
  check(nonce instanceof Uint8Array && nonce.length === NONCE_BYTES, "nonce");
  check(signature instanceof Uint8Array && signature.length === 65, "signature");
  let ref;
  if (reference instanceof Uint8Array && reference.length === 32) ref = { root: toHex(reference) };
  else if (Number.isInteger(reference) && reference >= 0) ref = { block: reference };
  else throw new Error("malformed presentation: the reference is neither a block number nor a batch root");
  return {
    version, chainId, holder: getAddress(toHex(holder)), notAfter,
    nonce: toHex(concatBytes(new Uint8Array(32 - NONCE_BYTES), nonce)), signature: toHex(signature),
    disclosure: fullDisclosure(disclosure), reference: ref,
  };
}

function check(ok, what) {
  if (!ok) throw new Error(`malformed presentation: bad ${what}`);
}

/** The long form of a disclosure, as licence.disclosureHash reads it. */
function fullDisclosure(item) {
  if (!Array.isArray(item) || ![2, 3].includes(item.length) || !Number.isInteger(item[0])) {
    throw new Error("malformed presentation: bad disclosure");
  }
  const type = item[0];
  if (item.length === 3) {
    const [, salt, values] = item;
    const isMap = values?.constructor === Object; // what cborDecode makes of a map
    check(salt instanceof Uint8Array && salt.length === 32 && isMap && Object.keys(values).length > 0, "disclosure");
    const fields = sortedNames(Object.keys(values)).map((name) => ({
      name, value: values[name], salt: toHex(fieldSalt(salt, name)),
    }));
    return { type, salt: toHex(salt), fields };
  }
  const entries = item[1];
  check(Array.isArray(entries) && entries.length > 0, "disclosure");
  const fields = entries.map((e) => {
    if (e instanceof Uint8Array && e.length === 32) return { leaf: toHex(e) };
    const [name, value, salt] = Array.isArray(e) && e.length === 3 ? e : [];
    if (typeof name === "string" && salt instanceof Uint8Array && salt.length === 32) {
      return { name, value, salt: toHex(salt) };
    }
    throw new Error("malformed presentation: bad disclosed field");
  });
  return { type, fields };
}

/** A PNG data URL of the QR code (error correction M, 4-module margin). */
export function qrDataUrl(text) {
  return QRCode.toDataURL(text, QR_OPTIONS);
}

export function qrToCanvas(canvas, text) {
  return QRCode.toCanvas(canvas, text, QR_OPTIONS);
}

/** The QR version (1 to 40) the text needs at error correction M: above ~15 phones struggle. */
export function qrVersion(text) {
  return QRCode.create(text, { errorCorrectionLevel: QR_OPTIONS.errorCorrectionLevel }).version;
}

/** The text of the QR code in an ImageData-like {data (RGBA), width, height}, or null if none is found. */
export function scanImageData({ data, width, height }) {
  const rgba = data instanceof Uint8ClampedArray
    ? data
    : new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  return jsQR(rgba, width, height, { inversionAttempts: "attemptBoth" })?.data ?? null;
}
