// Byte helpers shared by the modules: strict hex, UTF-8 that refuses what Python cannot encode.

const HEX = /^[0-9a-fA-F]*$/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u; // in "u" mode a proper pair is one code point and does not match

/** Bytes of a hex string, with or without 0x (as Python's bytes.fromhex(s.removeprefix("0x"))). */
export function fromHex(value, what = "value", length = null) {
  if (value instanceof Uint8Array) return checkLength(value, what, length);
  const text = typeof value === "string" && value.startsWith("0x") ? value.slice(2) : value;
  if (typeof text !== "string" || text.length % 2 || !HEX.test(text)) {
    throw new Error(`malformed ${what} ${JSON.stringify(value)}: expected hex digits`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return checkLength(out, what, length);
}

function checkLength(bytes, what, length) {
  if (length !== null && bytes.length !== length) {
    throw new Error(`malformed ${what}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function toHex(bytes) {
  let out = "0x";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** UTF-8 of a string; a lone surrogate is refused, as Python's str.encode() refuses it. */
export function utf8(text) {
  if (LONE_SURROGATE.test(text)) {
    throw new Error(`the text ${JSON.stringify(text)} holds a lone UTF-16 surrogate, which UTF-8 cannot carry`);
  }
  return new TextEncoder().encode(text);
}

/** Orders strings by Unicode code point, as Python sorts str (JS compares UTF-16 units). */
export function compareCodePoints(a, b) {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(i);
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

export const sortedNames = (names) => [...names].sort(compareCodePoints);

/** Sets obj[key] as an own field, even for a key such as "__proto__" (JSON.parse does the same). */
export function setField(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
