// The little CBOR (RFC 8949) the QR format and the sealed envelopes need, written to give the very bytes
// Python's cbor2.dumps gives (shortest heads, definite lengths; maps in insertion order, or with
// {canonical: true} ordered as cbor2's canonical=True orders them: by the length of each key's
// encoding first, then bytewise), and to read back only those items.

import { concatBytes, setField, utf8 } from "./bytes.js";

/** Encodes ints, strings, Uint8Array (byte string), booleans, null, arrays, Maps and plain objects. */
export function cborEncode(value, { canonical = false } = {}) {
  const parts = [];
  encodeInto(value, parts, canonical);
  return concatBytes(...parts);
}

/** cbor2.dumps(value, canonical=True): maps ordered by (length of the encoded key, encoded key). */
export function cborCanonical(value) {
  return cborEncode(value, { canonical: true });
}

function compareEncodedKeys(a, b) {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function encodeInto(value, parts, canonical) {
  if (value instanceof Uint8Array) {
    parts.push(head(2, value.length), value);
  } else if (typeof value === "string") {
    const bytes = utf8(value);
    parts.push(head(3, bytes.length), bytes);
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`a QR payload holds integers only (±2^53), not ${value}`);
    parts.push(value >= 0 ? head(0, value) : head(1, -1 - value));
  } else if (typeof value === "boolean" || value === null) {
    parts.push(Uint8Array.of(value === null ? 0xf6 : value ? 0xf5 : 0xf4));
  } else if (Array.isArray(value)) {
    parts.push(head(4, value.length));
    for (const item of value) encodeInto(item, parts, canonical);
  } else if (typeof value === "object") {
    const entries = value instanceof Map ? [...value] : Object.entries(value);
    parts.push(head(5, entries.length));
    if (canonical) {
      const encoded = entries.map(([k, v]) => [cborEncode(k, { canonical }), v]);
      encoded.sort((x, y) => compareEncodedKeys(x[0], y[0]));
      for (const [k, v] of encoded) {
        parts.push(k);
        encodeInto(v, parts, canonical);
      }
    } else {
      for (const [k, v] of entries) {
        encodeInto(k, parts, canonical);
        encodeInto(v, parts, canonical);
      }
    }
  } else {
    throw new Error(`a QR payload cannot hold ${typeof value}`);
  }
}

function head(major, n) {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  const out = new Uint8Array(n < 0x100000000 ? 5 : 9);
  const view = new DataView(out.buffer);
  if (out.length === 5) view.setUint32(1, n);
  else view.setBigUint64(1, BigInt(n));
  out[0] = m | (out.length === 5 ? 26 : 27);
  return out;
}

/**
 * Decodes one item (ints, byte and text strings, arrays, maps with text keys, true/false/null).
 * Bytes after the item are refused, unless {trailing: true} (cbor2.loads ignores them; a caller that
 * re-encodes to compare sees them anyway).
 */
export function cborDecode(bytes, { trailing = false } = {}) {
  const reader = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), at: 0 };
  const value = decodeItem(reader, 0);
  if (!trailing && reader.at !== bytes.length) throw new Error("trailing bytes after the item");
  return value;
}

const text = new TextDecoder("utf-8", { fatal: true });

function decodeItem(r, depth) {
  if (depth > 32) throw new Error("nested too deeply");
  const initial = take(r, 1)[0];
  const major = initial >> 5;
  const info = initial & 31;
  if (major === 7) {
    const simple = { 20: false, 21: true, 22: null }[info];
    if (simple === undefined) throw new Error("floating-point and other simple values are not used here");
    return simple;
  }
  const n = argument(r, info);
  switch (major) {
    case 0:
      return n;
    case 1:
      return -1 - n;
    case 2:
      return take(r, n).slice();
    case 3:
      return text.decode(take(r, n));
    case 4:
      return Array.from({ length: n }, () => decodeItem(r, depth + 1));
    case 5: {
      const map = {};
      for (let i = 0; i < n; i++) {
        const key = decodeItem(r, depth + 1);
        if (typeof key !== "string") throw new Error("map keys are text strings here");
        setField(map, key, decodeItem(r, depth + 1));
      }
      return map;
    }
    default:
      throw new Error("tagged items are not used here");
  }
}

function argument(r, info) {
  if (info < 24) return info;
  const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
  if (size === undefined) throw new Error("indefinite lengths are not used here");
  const at = r.at;
  take(r, size);
  if (size === 1) return r.view.getUint8(at);
  if (size === 2) return r.view.getUint16(at);
  if (size === 4) return r.view.getUint32(at);
  const big = r.view.getBigUint64(at);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("an integer beyond ±2^53");
  return Number(big);
}

function take(r, n) {
  if (r.at + n > r.bytes.length) throw new Error("the item is cut short");
  const out = r.bytes.subarray(r.at, r.at + n);
  r.at += n;
  return out;
}
