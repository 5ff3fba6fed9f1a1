// Renders QR text the way the qrcode package lays it out, into raw RGBA pixels (what a camera frame
// gives the page), and reads it back with scanImageData; also reports qrVersion and the PNG data URL.
import QRCode from "qrcode";

import { L, serve } from "./_serve.mjs";

function render(text, { scale = 4, margin = 4 } = {}) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const width = (modules.size + 2 * margin) * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      const row = Math.floor(y / scale) - margin;
      const col = Math.floor(x / scale) - margin;
      const dark = row >= 0 && col >= 0 && row < modules.size && col < modules.size && modules.get(row, col);
      if (dark) data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
    }
  }
  return { data, width, height: width, size: modules.size };
}

await serve({
  scan: ({ text, invert }) => {
    const image = render(text);
    if (invert) for (let i = 0; i < image.data.length; i += 4) image.data.fill(255 - image.data[i], i, i + 3);
    return { version: L.qrVersion(text), size: image.size, scanned: L.scanImageData(image) };
  },
  blank: () => L.scanImageData({ data: new Uint8ClampedArray(64 * 64 * 4).fill(255), width: 64, height: 64 }),
  dataUrl: ({ text }) => L.qrDataUrl(text),
});
