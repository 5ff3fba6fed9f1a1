// Canonical JSON exactly as Python's json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).

import { compareCodePoints, utf8 } from "./bytes.js";

/** UTF-8 bytes of the canonical JSON of `value`; non-integer numbers are refused, as in Python. */
export function canonical(value) {
  return utf8(serialise(value));
}

function serialise(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      // JSON.stringify escapes as Python does ("\\", "\"", \b \f \n \r \t, other controls as \u00xx);
      // the lone surrogates it would escape are refused by utf8() first.
      utf8(value);
      return JSON.stringify(value);
    case "number":
      if (!Number.isInteger(value)) {
        throw new Error(`licence values may not be floating-point numbers (${value}); use a string or an integer`);
      }
      if (!Number.isSafeInteger(value)) {
        throw new Error(`the integer ${value} is beyond what JavaScript holds exactly (±2^53); use a string`);
      }
      return String(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map(serialise).join(",")}]`;
      if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
        const keys = Object.keys(value).sort(compareCodePoints);
        return `{${keys.map((k) => `${serialise(k)}:${serialise(value[k])}`).join(",")}}`;
      }
  }
  throw new Error(
    `a licence value must be JSON (string, integer, boolean, null, list or object), not ${describe(value)}`,
  );
}

const describe = (value) => (value === undefined ? "undefined" : value?.constructor?.name ?? typeof value);
