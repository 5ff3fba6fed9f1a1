// Sealed envelopes (src/elicense/storage/envelope.py, format version 1), opened and extended in the page.
//
// An envelope is the canonical CBOR (cbor2 canonical=True) of the map
//   {t: "elicense-envelope", v: 1, nonce: 12 bytes, ct: AES-256-GCM(document) ‖ tag,
//    keys: {checksummed address: ECIES(data key) for that reader}, mac: HMAC-SHA256(...)}
// where the AES-GCM associated data is "elicense-envelope/v1" and the MAC, keyed with
// HKDF-SHA256(data key, no salt, info "elicense-envelope/v1/mac"), covers the canonical CBOR of the map
// without "mac". A reader unwraps the data key with its own private key; granting another reader wraps
// the same data key once more (the ciphertext stays as it is). Anything that does not re-encode to the
// very same bytes, or whose MAC does not match, is refused: no byte of an envelope can change unnoticed.

import { gcm } from "@noble/ciphers/aes";
import { hkdf } from "@noble/hashes/hkdf";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { decrypt as eciesDecrypt } from "eciesjs";
import { computeAddress, getAddress, isAddress } from "ethers";

import { fromHex, toHex } from "./bytes.js";
import { cborCanonical, cborDecode } from "./cbor.js";
import { encryptTo } from "./keys.js";

export const ENVELOPE_VERSION = 1;
const TYPE = "elicense-envelope";
const AAD = new TextEncoder().encode("elicense-envelope/v1");
const MAC_INFO = new TextEncoder().encode("elicense-envelope/v1/mac");
const FIELDS = ["ct", "keys", "mac", "nonce", "t", "v"];
const ALTERED = "this is not an elicense envelope, or it was altered";

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function macOf(dataKey, body) {
  const macKey = hkdf(sha256, dataKey, undefined, MAC_INFO, 32);
  return hmac(sha256, macKey, cborCanonical(body));
}

/** The envelope's map, checked for shape and canonical encoding (not yet authenticated). */
function decode(bytes) {
  const raw = fromHex(bytes, "envelope");
  let fields;
  let canonical;
  try {
    fields = cborDecode(raw, { trailing: true }); // as cbor2.loads; the canonical check below sees them
    canonical = fields !== null && typeof fields === "object" && !Array.isArray(fields) && !(fields instanceof Uint8Array)
      && sameBytes(cborCanonical(fields), raw);
  } catch {
    throw new Error("this is not an elicense envelope (it does not decode)");
  }
  const names = Object.keys(fields).sort();
  if (!canonical || names.length !== FIELDS.length || names.some((n, i) => n !== FIELDS[i]) || fields.t !== TYPE) {
    throw new Error(ALTERED);
  }
  if (fields.v !== ENVELOPE_VERSION) {
    throw new Error(`envelope version ${JSON.stringify(fields.v)} is not supported (this client reads version ${ENVELOPE_VERSION})`);
  }
  const { keys } = fields;
  const isBytes = (x) => x instanceof Uint8Array;
  if (!(isBytes(fields.nonce) && fields.nonce.length === 12 && isBytes(fields.ct) && isBytes(fields.mac)
        && keys !== null && typeof keys === "object" && !Array.isArray(keys) && !isBytes(keys)
        && Object.keys(keys).length > 0 && Object.values(keys).every(isBytes))) {
    throw new Error(ALTERED);
  }
  return fields;
}

function privateBytes(privateKey) {
  const key = fromHex(privateKey, "private key");
  if (key.length !== 32) throw new Error("a private key is 32 bytes");
  return key;
}

/** {dataKey, address}: the data key unwrapped with privateKey and authenticated against the whole envelope. */
function unwrap(fields, privateKey) {
  const key = privateBytes(privateKey);
  const address = computeAddress(toHex(key));
  const wrapped = Object.hasOwn(fields.keys, address) ? fields.keys[address] : undefined;
  if (wrapped === undefined) throw new Error(`${address} is not a reader of this envelope`);
  let dataKey;
  try {
    dataKey = eciesDecrypt(key, wrapped);
  } catch {
    throw new Error(`the data key wrapped for ${address} does not decrypt: the envelope was altered`);
  }
  const { mac, ...body } = fields;
  if (dataKey.length !== 32 || !sameBytes(macOf(dataKey, body), mac)) {
    throw new Error("the envelope was altered: its MAC does not match its content");
  }
  return { dataKey, address };
}

/**
 * Decrypts an envelope with a reader's private key (0x hex or 32 bytes); returns the document's bytes.
 * Throws when the key is not a reader, or when any byte of the envelope was altered.
 */
export function openEnvelope(bytes, privateKey) {
  const fields = decode(bytes);
  const { dataKey } = unwrap(fields, privateKey);
  try {
    return gcm(dataKey, fields.nonce, AAD).decrypt(fields.ct);
  } catch {
    throw new Error("the envelope's ciphertext was altered");
  }
}

/**
 * Grants one more reader: the same data key wrapped for publicKey (64 bytes x ‖ y, or 65 with the 04
 * prefix; hex or bytes), which must belong to address. privateKey is a current reader's. Returns the new
 * envelope's bytes (the ciphertext is unchanged; a reader already present gets a fresh wrapping).
 */
export function addReader(bytes, privateKey, address, publicKey) {
  const fields = decode(bytes);
  const { dataKey } = unwrap(fields, privateKey);
  const [checksummed, key] = readerKey(address, publicKey);
  const { mac, ...body } = fields;
  body.keys = { ...fields.keys, [checksummed]: encryptTo(key, dataKey) };
  return cborCanonical({ ...body, mac: macOf(dataKey, body) });
}

/** [checksummed address, 64-byte key] after checking that publicKey (64 or 65 bytes, hex or bytes) is address's. */
function readerKey(address, publicKey) {
  let key = fromHex(publicKey, "public key");
  if (key.length === 65 && key[0] === 4) key = key.subarray(1);
  if (typeof address !== "string" || !isAddress(address)) {
    throw new Error(`${JSON.stringify(address)} is not an Ethereum address`);
  }
  const checksummed = getAddress(address);
  let owner = null;
  try {
    if (key.length === 64) owner = computeAddress(`0x04${toHex(key).slice(2)}`);
  } catch {
    owner = null; // not a point on the curve
  }
  if (owner !== checksummed) throw new Error(`the public key given for ${address} belongs to another address`);
  return [checksummed, key];
}

/**
 * Seals a document (bytes) for readers ({address: public key}) under a fresh random data key, as
 * envelope.seal does in Python: after a consent is revoked the page reseals the subject's data this way,
 * so a data key the former reader kept opens nothing stored from then on. Returns the envelope's bytes.
 */
export function sealEnvelope(plaintext, readers) {
  if (!(plaintext instanceof Uint8Array)) throw new Error("a document to seal must be bytes");
  const entries = Object.entries(readers ?? {});
  if (entries.length === 0) throw new Error("an envelope needs at least one reader");
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const keys = {};
  for (const [address, publicKey] of entries) {
    const [checksummed, key] = readerKey(address, publicKey);
    keys[checksummed] = encryptTo(key, dataKey);
  }
  const body = { t: TYPE, v: ENVELOPE_VERSION, nonce, ct: gcm(dataKey, nonce, AAD).encrypt(plaintext), keys };
  return cborCanonical({ ...body, mac: macOf(dataKey, body) });
}

/** The addresses an envelope is wrapped for, as written (only a reader can authenticate the list). */
export function envelopeReaders(bytes) {
  return Object.keys(decode(bytes).keys);
}
