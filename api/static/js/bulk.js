// Bulk: files, folders and zips sent as the parts of one open job, in order. Each zip is a part of
// its own; loose photos are packed into zip parts (under their folder paths), so a folder of
// 50,000 photos takes hundreds of requests, not 50,000.

import { api, contentDigest, putPart } from "./api.js";
import { byId, dropTarget, el } from "./dom.js";
import { IMAGE_EXTENSIONS } from "./image-types.js";
import { storedZip } from "./zip.js";

// The server's own list (whoru/image_names.py), served as a module, and zips of them.
const SENDABLE = [...IMAGE_EXTENSIONS, ".zip"];
const PACK_FILES = 200;
const PACK_BYTES = 64e6;
const ATTEMPTS = 4;
// Rows of finished parts kept on screen: a 50,000-file upload must not grow the page without end.
const KEPT_ROWS = 20;

const upload = { items: [], parts: [], jobId: null, next: 0, sentBytes: 0, busy: false };

/** Wire the pickers, the drop zone and the buttons. */
export function initBulk() {
  byId("bulk-files").accept = SENDABLE.join(",");
  for (const id of ["bulk-files", "bulk-folder"]) {
    const input = byId(id);
    input.addEventListener("change", () => {
      pick([...input.files].map((file) => ({ file, name: file.webkitRelativePath || file.name })));
      input.value = "";
    });
  }
  dropTarget(byId("bulk-drop"), async (data) => pick(await droppedFiles(data)));
  byId("bulk-start").addEventListener("click", start);
  byId("bulk-retry").addEventListener("click", () => send());
  byId("bulk-clear").addEventListener("click", clear);
}

/** Add files ({file, name: its path}) to the upload, keeping only images and zips and skipping hidden files. */
function pick(items) {
  if (upload.busy) {
    byId("bulk-picked").textContent = "An upload is going on: add files once it is done.";
    return;
  }
  if (upload.jobId) clear();
  const wanted = items.filter(({ file }) => isSendable(file.name));
  // Pickers and drops list files in no set order; by path (img2 before img10) results read like the folder.
  wanted.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  upload.items.push(...wanted);
  const skipped = items.length - wanted.length;
  byId("bulk-picked").textContent = `${upload.items.length} files, ${megabytes(totalBytes())} to send` +
    (skipped ? ` (${skipped} skipped: not images or zips)` : "");
  byId("bulk-start").disabled = upload.items.length === 0;
}

/** Return every file dropped, with its path, walking into dropped folders. */
async function droppedFiles(data) {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...data.files].map((file) => ({ file, name: file.name }));
  const items = [];
  for (const entry of entries) items.push(...(await walk(entry)));
  return items;
}

/** Return the files under a file-system entry, named by their paths inside the drop. */
async function walk(entry) {
  if (entry.isFile) return [{ file: await new Promise((done, fail) => entry.file(done, fail)), name: entry.fullPath.replace(/^\//, "") }];
  const reader = entry.createReader();
  const items = [];
  // readEntries answers in batches (100 in Chromium) until it answers none.
  for (let batch; (batch = await new Promise((done, fail) => reader.readEntries(done, fail))).length; ) {
    for (const child of batch) items.push(...(await walk(child)));
  }
  return items;
}

/** Return the parts to send, in order: each zip alone, loose photos packed, a large photo alone. */
function planParts(items) {
  const parts = [];
  let pack = [];
  let packBytes = 0;
  const flush = () => {
    if (pack.length) parts.push(pack.length === 1 ? { items: pack, name: pack[0].file.name } : { items: pack, packed: true });
    pack = [];
    packBytes = 0;
  };
  for (const item of items) {
    if (/\.zip$/i.test(item.file.name) || item.file.size > PACK_BYTES) {
      flush();
      parts.push({ items: [item], name: item.file.name });
      continue;
    }
    if (pack.length === PACK_FILES || packBytes + item.file.size > PACK_BYTES) flush();
    pack.push(item);
    packBytes += item.file.size;
  }
  flush();
  return parts.map((part, n) => ({ ...part, name: part.name ?? `photos-${n}.zip`, bytes: part.items.reduce((sum, { file }) => sum + file.size, 0) }));
}

/** Open a job and send every picked file. */
async function start() {
  byId("bulk-start").disabled = true;
  byId("bulk-progress-box").hidden = false;
  byId("bulk-parts").replaceChildren();
  try {
    const job = await api("/v1/jobs", { method: "POST", json: { open: true, people: byId("bulk-people").checked } });
    Object.assign(upload, { parts: planParts(upload.items), jobId: job.id, next: 0, sentBytes: 0 });
    byId("bulk-job-link").href = `#/jobs/${job.id}`;
    await send();
  } catch (error) {
    status(`Could not open a job: ${error.message}`);
    byId("bulk-start").disabled = false;
  }
}

/** Send what is left of the upload, refusing new files meanwhile. */
async function send() {
  upload.busy = true;
  try {
    await sendAll();
  } finally {
    upload.busy = false;
  }
}

/** Send the parts from the next one not yet stored, then close the job; stop (with a Retry button) if one keeps failing. */
async function sendAll() {
  byId("bulk-retry").hidden = true;
  while (upload.next < upload.parts.length) {
    const part = upload.parts[upload.next];
    const row = partRow(upload.next, part);
    try {
      await sendPart(upload.next, part, row);
    } catch (error) {
      row.state.textContent = `failed: ${error.message}`;
      row.node.classList.add("failed");
      status(`Part ${upload.next + 1} of ${upload.parts.length} failed: ${error.message}`);
      byId("bulk-retry").hidden = false;
      return;
    }
    upload.sentBytes += part.bytes;
    upload.next += 1;
    overall(0);
  }
  try {
    await api(`/v1/jobs/${upload.jobId}/close`, { method: "POST" });
    status(`All ${upload.items.length} files sent in ${upload.parts.length} parts. The job goes on without this page.`);
  } catch (error) {
    status(`Every file is sent, but closing the job failed: ${error.message}`);
    byId("bulk-retry").hidden = false;
  }
}

/** Send one part (packing it first), retrying with backoff on network errors, quotas and server errors. */
async function sendPart(n, part, row) {
  row.state.textContent = part.packed ? "packing" : "reading";
  const body = part.packed ? await storedZip(part.items) : part.items[0].file;
  const digest = await contentDigest(body);
  for (let attempt = 1; ; attempt += 1) {
    row.state.textContent = attempt === 1 ? "sending" : `retry ${attempt - 1}`;
    try {
      await putPart(upload.jobId, n, body, part.name, digest, (share) => {
        row.bar.value = share;
        overall(share * part.bytes);
      });
      row.bar.value = 1;
      row.state.textContent = "stored";
      return;
    } catch (error) {
      const retryable = error.status === 0 || error.status === 429 || error.status >= 500;
      if (!retryable || attempt === ATTEMPTS) throw error;
      await new Promise((done) => setTimeout(done, 1000 * 2 ** (attempt - 1)));
    }
  }
}

/** Add (or find again, on a retry) the progress row of a part, dropping old finished rows. */
function partRow(n, part) {
  const list = byId("bulk-parts");
  list.querySelector(`[data-part="${n}"]`)?.remove();
  const label = part.packed ? `${part.items.length} photos from ${part.items[0].name}` : part.name;
  const bar = el("progress", { max: 1, value: 0, "aria-label": `part ${n + 1}` });
  const state = el("span", { class: "state" });
  const node = el("li", { "data-part": n }, el("span", { class: "name", text: label, title: label }), bar, state);
  list.append(node);
  const done = [...list.children].filter((child) => !child.classList.contains("failed"));
  done.slice(0, Math.max(0, done.length - KEPT_ROWS)).forEach((child) => child.remove());
  return { node, bar, state };
}

/** Show the overall progress, counting the bytes of the part in flight. */
function overall(inFlight) {
  const total = totalBytes() || 1;
  byId("bulk-progress").value = (upload.sentBytes + inFlight) / total;
  status(`${upload.next} of ${upload.parts.length} parts sent (${megabytes(upload.sentBytes + inFlight)} of ${megabytes(total)})`);
}

/** Forget the picked files and the last upload (not while one is going on). */
function clear() {
  if (upload.busy) return;
  Object.assign(upload, { items: [], parts: [], jobId: null, next: 0, sentBytes: 0 });
  byId("bulk-picked").textContent = "";
  byId("bulk-start").disabled = true;
  byId("bulk-retry").hidden = true;
  byId("bulk-progress-box").hidden = true;
}

const totalBytes = () => upload.items.reduce((sum, { file }) => sum + file.size, 0);
const status = (text) => (byId("bulk-status").textContent = text);
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Say whether a file is an image or a zip by its extension, in any letter case, and not hidden. */
function isSendable(name) {
  const dot = name.lastIndexOf(".");
  return !name.startsWith(".") && dot > 0 && SENDABLE.includes(name.slice(dot).toLowerCase());
}
