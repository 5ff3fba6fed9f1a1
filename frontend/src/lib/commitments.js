// Salted commitments (mirror of src/elicense/commitments.py; the tests hold both to the same bytes):
// all the chain keeps of a purpose statement or of the field names of a read. An unsalted hash of a
// short text is confirmed by guessing it, so the salt (32 random bytes) travels with the text to the
// parties only.
//   purpose = keccak256("elicense.purpose.v1" ‖ salt ‖ UTF-8 statement)
//   what    = keccak256("elicense.fields.v1" ‖ salt ‖ UTF-8 of "*", or of the names sorted and comma-joined)

import { keccak256 } from "ethers";

import { concatBytes, fromHex, sortedNames, toHex, utf8 } from "./bytes.js";

const PURPOSE_DOMAIN = utf8("elicense.purpose.v1");
const FIELDS_DOMAIN = utf8("elicense.fields.v1");
const MAX_PURPOSE = 1000;

export function purposeCommitment(text, salt) {
  if (typeof text !== "string" || !text.trim() || text.length > MAX_PURPOSE) {
    throw new Error(`a purpose is a statement of 1 to ${MAX_PURPOSE} characters`);
  }
  return keccak256(concatBytes(PURPOSE_DOMAIN, fromHex(salt, "salt", 32), utf8(text)));
}

/** Whether `text` and `salt` open the purpose commitment the chain holds (false on any malformed part). */
export function opensPurpose(commitment, text, salt) {
  try {
    return purposeCommitment(text, salt) === toHex(fromHex(commitment, "purpose", 32));
  } catch {
    return false;
  }
}

/** "*" (the whole file), or the names (a list, or a comma-separated text: names hold no comma) sorted,
 * comma-joined. */
export function fieldsText(fields) {
  const names = sortedNames(typeof fields === "string" ? fields.split(",") : fields.map(String));
  if (names.length === 1 && names[0] === "*") return "*";
  if (!names.length || names.some((n) => !n || n.includes(",") || n === "*")) {
    throw new Error(`malformed field list ${JSON.stringify(fields)}: field names without commas, or "*"`);
  }
  return names.join(",");
}

export function fieldCommitment(fields, salt) {
  return keccak256(concatBytes(FIELDS_DOMAIN, fromHex(salt, "salt", 32), utf8(fieldsText(fields))));
}
