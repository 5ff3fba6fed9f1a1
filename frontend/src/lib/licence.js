// The licence commitment (mirror of src/elicense/licence.py; the tests hold both to the same bytes).
//   salt(name) = keccak256(masterSalt ‖ name)
//   leaf(name) = keccak256("elicense.field.v1" ‖ salt ‖ keccak256(name) ‖ keccak256(canonical(value)))
//   dataHash   = keccak256("elicense.licence.v1" ‖ uint8(certType) ‖ leaves sorted by name)

import { AbiCoder, getAddress, keccak256 } from "ethers";

import { concatBytes, fromHex, setField, sortedNames, toHex, utf8 } from "./bytes.js";
import { canonical } from "./canonical.js";

const FIELD_DOMAIN = utf8("elicense.field.v1");
const LICENCE_DOMAIN = utf8("elicense.licence.v1");

const keccak = (bytes) => fromHex(keccak256(bytes));

export function fieldSalt(masterSalt, name) {
  return keccak(concatBytes(fromHex(masterSalt, "master salt", 32), utf8(name)));
}

export function fieldLeaf(name, value, salt) {
  const parts = [FIELD_DOMAIN, fromHex(salt, "field salt", 32), keccak(utf8(name)), keccak(canonical(value))];
  return keccak(concatBytes(...parts));
}

export function commitment(certType, leaves) {
  if (!Number.isInteger(certType) || certType < 0 || certType > 255) {
    throw new Error(`a certificate type is a number from 1 to 255, got ${JSON.stringify(certType)}`);
  }
  return keccak(concatBytes(LICENCE_DOMAIN, Uint8Array.of(certType), ...leaves));
}

/** The data hash of a decrypted licence document ({v, type, agency, holder, validFrom, validUntil, fields, salt}). */
export function dataHash(doc) {
  const { type, fields, salt } = documentParts(doc);
  const leaves = sortedNames(Object.keys(fields)).map((n) => fieldLeaf(n, fields[n], fieldSalt(salt, n)));
  return toHex(commitment(type, leaves));
}

/** The named fields with their salts, the others as bare leaves; `names` null shows every field. */
export function disclose(doc, names = null) {
  const { type, fields, salt } = documentParts(doc);
  const all = sortedNames(Object.keys(fields));
  const shown = new Set(names ?? all);
  const unknown = [...shown].filter((n) => !Object.hasOwn(fields, n));
  if (unknown.length) throw new Error(`the licence has no field ${unknown.map((n) => `'${n}'`).join(", ")}`);
  const entries = all.map((name) => {
    const s = fieldSalt(salt, name);
    return shown.has(name)
      ? { name, value: fields[name], salt: toHex(s) }
      : { leaf: toHex(fieldLeaf(name, fields[name], s)) };
  });
  const disclosure = { type, fields: entries };
  if (shown.size === all.length) disclosure.salt = toHex(salt); // all shown: the master salt stands for every salt
  return disclosure;
}

/** Recomputes the commitment from a disclosure: {dataHash, shown: {name: value}}. */
export function disclosureHash(disclosure) {
  const type = Number(disclosure?.type);
  if (!Number.isInteger(type) || type <= 0 || type >= 256 || !Array.isArray(disclosure.fields)) {
    throw new Error("malformed disclosure: it needs a certificate type (1 to 255) and a field list");
  }
  const leaves = [];
  const shown = {};
  for (const entry of disclosure.fields) {
    if (entry !== null && typeof entry === "object" && "leaf" in entry) {
      leaves.push(fromHex(entry.leaf, "leaf", 32));
    } else if (entry !== null && typeof entry === "object" && typeof entry.name === "string" && "value" in entry) {
      leaves.push(fieldLeaf(entry.name, entry.value, fromHex(entry.salt, "field salt", 32)));
      setField(shown, entry.name, entry.value);
    } else {
      throw new Error("malformed disclosure: every entry is either {leaf} or {name, value, salt}");
    }
  }
  return { dataHash: toHex(commitment(type, leaves)), shown };
}

/** keccak256 of the canonical JSON of the sorted names shown: guessable, replaced by presentation.js disclosureCommitment. */
export function disclosedNamesHash(names) {
  return keccak256(canonical(sortedNames(names)));
}

/** An organisation code as bytes32: ASCII, left-aligned (types.org_code). */
export function orgCode(code) {
  if (typeof code !== "string" || !code || code.length > 32 || !/^[\x20-\x7e]+$/.test(code)) {
    throw new Error(`malformed organisation code ${JSON.stringify(code)}: 1 to 32 printable ASCII characters`);
  }
  const out = new Uint8Array(32);
  out.set(new TextEncoder().encode(code));
  return toHex(out);
}

/**
 * licenceIdOf(agency, dataHash) as the LicenseRegistry computes it:
 * keccak256(abi.encode(chainid, registry, agency, dataHash)); a licence is its issuing agency's.
 */
export function licenceIdOf(chainId, registryAddress, agency, dataHashHex) {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "bytes32", "bytes32"],
    [chainId, getAddress(registryAddress), orgCode(agency), toHex(fromHex(dataHashHex, "data hash", 32))],
  );
  return keccak256(encoded);
}

function documentParts(doc) {
  if (doc === null || typeof doc !== "object" || doc.v !== 1) {
    throw new Error("this is not an elicense licence document (version 1)");
  }
  const { type, fields } = doc;
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || !Object.keys(fields).length) {
    throw new Error("malformed licence document: it has no fields");
  }
  return { type: Number(type), fields, salt: fromHex(doc.salt, "master salt", 32) };
}

export const MAX_FIELDS = 64;
export const FOREVER = 2 ** 40 - 1; // validUntil of a licence with no end (uint40 max)

/**
 * A new licence document, as licence.py's LicenceDocument.new(...).to_json() builds it, with a fresh
 * 32-byte master salt from crypto.getRandomValues: built in the agency's browser, so that the field
 * values and the salt never leave it except encrypted to the holder.
 */
export function newDocument({ type, agency, holder, fields, validFrom, validUntil = FOREVER }) {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || !Object.keys(fields).length) {
    throw new Error("a licence needs at least one field (name: value)");
  }
  const names = Object.keys(fields);
  if (names.length > MAX_FIELDS) throw new Error(`a licence has at most ${MAX_FIELDS} fields, got ${names.length}`);
  for (const name of names) {
    if (!name || [...name].length > 64) throw new Error(`malformed field name ${JSON.stringify(name)}: 1 to 64 characters`);
  }
  canonical(fields); // refuses floats and lone surrogates early, as Python does
  for (const [what, value] of [["valid-from", validFrom], ["valid-until", validUntil]]) {
    if (!Number.isInteger(value) || value < 0 || value > FOREVER) {
      throw new Error(`${what} must be a unix time between 0 and ${FOREVER}, got ${JSON.stringify(value)}`);
    }
  }
  const salt = new Uint8Array(32);
  globalThis.crypto.getRandomValues(salt);
  return {
    v: 1, type: commitmentType(type), agency: String(agency), holder: getAddress(holder),
    validFrom, validUntil, fields: { ...fields }, salt: toHex(salt),
  };
}

/** The document's bytes as the holder decrypts them (licence.py's to_bytes: canonical JSON). */
export function documentBytes(doc) {
  return canonical(doc);
}

function commitmentType(type) {
  const number = Number(type);
  if (!Number.isInteger(number) || number <= 0 || number > 255) {
    throw new Error(`a certificate type is a number from 1 to 255, got ${JSON.stringify(type)}`);
  }
  return number;
}
