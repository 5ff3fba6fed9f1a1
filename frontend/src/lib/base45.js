// Base45 (RFC 9285): keeps a QR code in alphanumeric mode. Mirror of qr.py's b45encode / b45decode.

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

export function b45encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i] * 256 + bytes[i + 1];
    out += ALPHABET[n % 45] + ALPHABET[Math.floor(n / 45) % 45] + ALPHABET[Math.floor(n / 2025)];
  }
  if (bytes.length % 2) {
    const last = bytes[bytes.length - 1];
    out += ALPHABET[last % 45] + ALPHABET[Math.floor(last / 45)];
  }
  return out;
}

export function b45decode(text) {
  const values = [...text].map((c) => {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new Error(`the QR payload has a character base45 does not use: ${JSON.stringify(c)}`);
    return v;
  });
  if (values.length % 3 === 1) throw new Error("the QR payload is cut short (base45 length)");
  const out = [];
  for (let i = 0; i < values.length; i += 3) {
    const chunk = values.slice(i, i + 3);
    const n = chunk.reduce((sum, v, k) => sum + v * 45 ** k, 0);
    if (n > (chunk.length === 3 ? 0xffff : 0xff)) throw new Error("the QR payload is not valid base45");
    if (chunk.length === 3) out.push(n >> 8);
    out.push(n & 0xff);
  }
  return Uint8Array.from(out);
}
