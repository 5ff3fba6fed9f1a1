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

/** licenceIdOf(dataHash) as the LicenseRegistry computes it: keccak256(abi.encode(chainid, registry, dataHash)). */
export function licenceIdOf(chainId, registryAddress, dataHashHex) {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "bytes32"],
    [chainId, getAddress(registryAddress), toHex(fromHex(dataHashHex, "data hash", 32))],
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
