// Inspector: read a holder's code (camera, picture or pasted text), have the server verify it step
// by step, and, with the inspector's key unlocked here, record the inspection on chain (the page
// signs the check transaction; the key never leaves it).

import {
  $, byTestId, clearError, el, formatValue, h, initPage, keyPanel, messageOf, perform, renderSteps, run, showError,
  stepLabel,
} from "./common.js";

initPage();

const payloadInput = byTestId("payload-input");
const verifyForm = byTestId("verify-form");
const verifyButton = byTestId("verify-button");
const orgInput = byTestId("org-input");
const recordBox = byTestId("record-checkbox");
const uploadInput = byTestId("upload-input");
const cameraButton = byTestId("camera-button");
const cameraStopButton = byTestId("camera-stop-button");
const cameraMessage = byTestId("camera-message");
const video = byTestId("camera-video");

const result = $("#result");
const verdictBox = byTestId("verdict");
const banner = byTestId("verdict-banner");
const summary = byTestId("verdict-summary");
const stepsList = byTestId("steps");
const fieldsBody = $("tbody", byTestId("fields-table"));
const recording = byTestId("recording");

let current = null; // the verdict shown: {steps, ...}

// ---------------------------------------------------------------- the inspector's key

const keyRoot = $("#key-panel");
const keys = keyPanel(keyRoot, {
  who: "inspector",
  onUnlock: (wallet) => checkInspector(wallet),
  onLock: () => {
    roleNote.hidden = true;
  },
});
const roleNote = h("p", { class: "notice", "data-testid": "inspector-role", hidden: true });
keyRoot.append(
  roleNote,
  h(
    "p",
    { class: "hint" },
    "With your inspector key unlocked, every verification is also recorded on chain in the holder's access log, " +
      "failed ones included (untick “Record this inspection” to only look).",
  ),
);

async function checkInspector(wallet) {
  roleNote.hidden = true;
  let identity = null;
  try {
    identity = await el.api(`/api/identities/${wallet.address}`);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  if (keys.wallet !== wallet) return;
  const role = identity && (identity.role_name ?? identity.role);
  roleNote.hidden = false;
  if (!identity) {
    roleNote.className = "notice warn";
    roleNote.textContent = "This key is not registered: inspections cannot be recorded with it.";
  } else if (role !== "inspector" && role !== 3) {
    roleNote.className = "notice warn";
    roleNote.textContent = `This key is registered as ${role}, not as an inspector: recording will be refused.`;
  } else {
    roleNote.className = "notice ok";
    roleNote.textContent = "Registered inspector: inspections will be recorded.";
  }
}

// ---------------------------------------------------------------- verification

verifyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  verify(payloadInput.value);
});

function verify(text) {
  return run(verifyButton, "Verifying the code…", async (busy) => {
    const payload = String(text || "").trim();
    if (!payload) throw new Error("scan, upload or paste a code first");
    const body = { payload };
    const org = orgInput.value.trim();
    if (org) body.org = org;
    result.hidden = true; // no verdict of an earlier code stays on screen
    const verdict = await el.api("/api/verify", { method: "POST", body });
    showVerdict(verdict);
    const late = secondsExpired(payload);
    if (late !== null) {
      // this device's clock is the judge too: a code it sees expired is neither accepted nor recorded
      setStep("holder-signature", "invalid", "presentation-expired",
        `the presentation's validity window is over (expired ${late} s ago by this device's clock)`);
      return;
    }

    const formatOk = (verdict.steps || []).some((s) => s.name === "format" && s.status === "valid");
    const wallet = keys.wallet;
    if (!recordBox.checked || !formatOk) return;
    if (!wallet) {
      setRecordedStep("skipped", "not-recorded", "not recorded: unlock your inspector key above to record inspections");
      return;
    }
    busy.update("Recording the inspection…");
    setRecordedStep("pending", "pending", "recording the inspection on chain…");
    try {
      const { receipt } = await perform(wallet, "/api/inspections", { payload, inspector: wallet.address }, busy);
      showRecorded(receipt);
    } catch (err) {
      current.recordError = true;
      setRecordedStep("error", err.code || "error", `not recorded: ${messageOf(err)}`);
      throw err;
    }
  });
}

function showVerdict(verdict) {
  current = { ...verdict, steps: [...(verdict.steps || [])] };
  result.hidden = false;
  recording.hidden = true;

  const agency = verdict.agency;
  byTestId("verdict-agency").textContent = agency
    ? agency.name && agency.code
      ? `${agency.name} (${agency.code})`
      : String(agency.name || agency.code)
    : "unknown";
  byTestId("verdict-type").textContent = String(verdict.type ?? verdict.cert_type ?? "unknown").replace(/-/g, " ");
  byTestId("verdict-holder").textContent = verdict.holder || "unknown";

  const fields = verdict.fields || {};
  const entries = Array.isArray(fields) ? fields.map((f) => [f.name, f.value]) : Object.entries(fields);
  fieldsBody.replaceChildren(
    ...(entries.length
      ? entries.map(([name, value]) =>
          h("tr", { "data-testid": "field-row", "data-field": name }, h("th", { scope: "row" }, name), h("td", {}, formatValue(value))),
        )
      : [h("tr", {}, h("td", { colspan: 2 }, "No field could be read."))]),
  );
  renderVerdict();
  result.scrollIntoView({ block: "start", behavior: "smooth" });
}

/** Banner and step list from `current`; the overall verdict is VALID when no step failed. */
function renderVerdict() {
  const steps = current.steps;
  // A recording that could not be made (no inspector role, node down) says nothing about the licence;
  // a recording the chain made as failed does.
  const failing = (s) => s.status === "invalid" || (s.status === "error" && !(s.name === "recorded" && current.recordError));
  const failed = steps.find(failing);
  const valid = Boolean(current.valid ?? true) && !failed;
  banner.textContent = valid ? "VALID" : "INVALID";
  verdictBox.className = `verdict ${valid ? "valid" : "invalid"}`;
  verdictBox.dataset.valid = String(valid);
  const recordProblem = current.recordError ? " The inspection could not be recorded (see the message above)." : "";
  summary.textContent = valid
    ? `Every check passed.${recordProblem}`
    : failed
      ? `Failed: ${stepLabel(failed.name)}. ${failed.reason || ""}`.trim()
      : "The licence could not be checked.";
  renderSteps(stepsList, steps);
}

/**
 * Seconds since the code expired by this device's clock, beyond the allowed skew (el.CLOCK_SKEW);
 * null while it is fresh or when its end cannot be read (the server's verdict then says why).
 */
function secondsExpired(payload) {
  let notAfter;
  try {
    notAfter = el.isCompactQr(payload) ? el.decodeQr(payload).notAfter : JSON.parse(payload).not_after;
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(notAfter)) return null;
  const late = Math.floor(Date.now() / 1000) - notAfter;
  return late > el.CLOCK_SKEW ? late : null;
}

function setStep(name, status, code, reason) {
  if (!current) return;
  const step = { name, status, code, reason };
  const index = current.steps.findIndex((s) => s.name === name);
  if (index >= 0) current.steps[index] = step;
  else current.steps.push(step);
  renderVerdict();
}

function setRecordedStep(status, code, reason) {
  setStep("recorded", status, code, reason);
}

function showRecorded(receipt) {
  const info = (receipt && receipt.summary) || {};
  const outcome = info.result ?? "unknown";
  recording.hidden = false;
  byTestId("recorded-result").textContent = String(outcome);
  byTestId("recorded-result").dataset.result = String(outcome);
  byTestId("recorded-reason").textContent = info.reason ? `— ${info.reason}` : "";
  byTestId("recorded-tx").textContent = receipt?.tx_hash ?? "";
  byTestId("recorded-block").textContent = String(receipt?.block_number ?? "");
  if (outcome === "valid" || outcome === "ok") {
    setRecordedStep("valid", "ok", `inspection recorded in block ${receipt.block_number}`);
  } else {
    setRecordedStep("invalid", String(outcome), `recorded as failed: ${info.reason || outcome}`);
  }
}

// ---------------------------------------------------------------- camera

let stream = null;
let frame = 0;
let lastScan = 0;
const scanCanvas = document.createElement("canvas");

function cameraSay(text) {
  cameraMessage.textContent = text;
}

function cameraError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "Camera permission was denied. Allow the camera for this page in the browser's settings, or upload a picture or paste the code instead.";
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return "No camera was found on this device. Upload a picture of the code or paste its text instead.";
  }
  if (name === "NotReadableError" || name === "TrackStartError") {
    return "The camera is busy (another application is using it). Close it and try again, or upload a picture.";
  }
  return `The camera could not be started: ${messageOf(err)}`;
}

cameraButton.addEventListener("click", async () => {
  clearError();
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    const text = window.isSecureContext
      ? "This browser offers no camera to the page. Upload a picture of the code or paste its text instead."
      : "The camera is only available on https or localhost pages. Upload a picture of the code or paste its text instead.";
    cameraSay(text);
    showError(text);
    return;
  }
  cameraButton.disabled = true;
  cameraSay("Starting the camera…");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    cameraStopButton.hidden = false;
    cameraSay("Point the camera at the holder's QR code.");
    frame = requestAnimationFrame(scanFrame);
  } catch (err) {
    stopCamera();
    const text = cameraError(err);
    cameraSay(text);
    showError(text);
  } finally {
    cameraButton.disabled = Boolean(stream);
  }
});

cameraStopButton.addEventListener("click", () => {
  stopCamera();
  cameraSay("Camera stopped.");
});

function stopCamera() {
  if (frame) cancelAnimationFrame(frame);
  frame = 0;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  video.srcObject = null;
  video.hidden = true;
  cameraStopButton.hidden = true;
  cameraButton.disabled = false;
}

function scanFrame(time) {
  if (!stream) return;
  frame = requestAnimationFrame(scanFrame);
  if (time - lastScan < 120 || video.readyState < 2 || !video.videoWidth) return;
  lastScan = time;
  const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
  const width = Math.round(video.videoWidth * scale);
  const height = Math.round(video.videoHeight * scale);
  scanCanvas.width = width;
  scanCanvas.height = height;
  const ctx = scanCanvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, width, height);
  let text = null;
  try {
    text = el.scanImageData(ctx.getImageData(0, 0, width, height));
  } catch (err) {
    stopCamera();
    showError(err);
    return;
  }
  if (text) {
    stopCamera();
    cameraSay("Code read.");
    payloadInput.value = text;
    verify(text);
  }
}

window.addEventListener("pagehide", stopCamera);

// ---------------------------------------------------------------- uploaded picture

async function loadPicture(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file);
    } catch {
      // fall back to an <img> below
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } catch {
    throw new Error(`${file.name} is not a picture this browser can read`);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function scanPicture(image) {
  const width = image.naturalWidth || image.width;
  const height = image.naturalHeight || image.height;
  const biggest = Math.max(width, height);
  // a large photo first scaled down (faster, often better), then at full size
  const scales = biggest > 1600 ? [1600 / biggest, 1] : [1];
  if (biggest < 400) scales.push(400 / biggest);
  const canvas = document.createElement("canvas");
  for (const scale of scales) {
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingEnabled = scale < 1;
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const text = el.scanImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
    if (text) return text;
  }
  return null;
}

uploadInput.addEventListener("change", async () => {
  const file = uploadInput.files && uploadInput.files[0];
  if (!file) return;
  const text = await run(uploadInput, "Reading the picture…", async () => {
    const image = await loadPicture(file);
    const found = scanPicture(image);
    if (typeof image.close === "function") image.close();
    if (!found) {
      throw new Error(
        `No QR code was found in ${file.name}. Use a sharp picture with the whole code in view, or paste the code's text.`,
      );
    }
    return found;
  });
  if (text) {
    payloadInput.value = text;
    verify(text);
  }
});
