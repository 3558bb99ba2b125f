// Bulk: files, folders and zips sent as the parts of one open job, one file a part, in order.

import { api, contentDigest, putPart } from "./api.js";
import { byId, dropTarget, el } from "./dom.js";

const SENDABLE = /\.(jpe?g|png|webp|bmp|gif|tiff?|heic|heif|zip)$/i;
const ATTEMPTS = 4;
// Rows of finished parts kept on screen: a 50,000-file upload must not grow the page without end.
const KEPT_ROWS = 20;

const upload = { files: [], jobId: null, next: 0, sentBytes: 0, busy: false };

/** Wire the pickers, the drop zone and the buttons. */
export function initBulk() {
  for (const id of ["bulk-files", "bulk-folder"]) {
    const input = byId(id);
    input.addEventListener("change", () => {
      pick([...input.files]);
      input.value = "";
    });
  }
  dropTarget(byId("bulk-drop"), async (data) => pick(await droppedFiles(data)));
  byId("bulk-start").addEventListener("click", start);
  byId("bulk-retry").addEventListener("click", () => send());
  byId("bulk-clear").addEventListener("click", clear);
}

/** Add files to the upload, keeping only images and zips and skipping hidden files. */
function pick(files) {
  if (upload.busy) {
    byId("bulk-picked").textContent = "An upload is going on: add files once it is done.";
    return;
  }
  if (upload.jobId) clear();
  const wanted = files.filter((file) => SENDABLE.test(file.name) && !file.name.startsWith("."));
  upload.files.push(...wanted);
  const bytes = upload.files.reduce((sum, file) => sum + file.size, 0);
  const skipped = files.length - wanted.length;
  byId("bulk-picked").textContent = `${upload.files.length} files, ${megabytes(bytes)} to send` + (skipped ? ` (${skipped} skipped: not images or zips)` : "");
  byId("bulk-start").disabled = upload.files.length === 0;
}

/** Return every file dropped, walking into dropped folders. */
async function droppedFiles(data) {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...data.files];
  const files = [];
  for (const entry of entries) files.push(...(await walk(entry)));
  return files;
}

/** Return the files under a file-system entry. */
async function walk(entry) {
  if (entry.isFile) return [await new Promise((done, fail) => entry.file(done, fail))];
  const reader = entry.createReader();
  const files = [];
  // readEntries answers in batches (100 in Chromium) until it answers none.
  for (let batch; (batch = await new Promise((done, fail) => reader.readEntries(done, fail))).length; ) {
    for (const child of batch) files.push(...(await walk(child)));
  }
  return files;
}

/** Open a job and send every picked file. */
async function start() {
  byId("bulk-start").disabled = true;
  byId("bulk-progress-box").hidden = false;
  byId("bulk-parts").replaceChildren();
  try {
    const job = await api("/v1/jobs", { method: "POST", json: { open: true } });
    Object.assign(upload, { jobId: job.id, next: 0, sentBytes: 0 });
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
  while (upload.next < upload.files.length) {
    const file = upload.files[upload.next];
    const row = partRow(upload.next, file);
    try {
      await sendPart(upload.next, file, row);
    } catch (error) {
      row.state.textContent = `failed: ${error.message}`;
      row.node.classList.add("failed");
      status(`Part ${upload.next + 1} of ${upload.files.length} failed: ${error.message}`);
      byId("bulk-retry").hidden = false;
      return;
    }
    upload.sentBytes += file.size;
    upload.next += 1;
    overall(0);
  }
  try {
    await api(`/v1/jobs/${upload.jobId}/close`, { method: "POST" });
    status(`All ${upload.files.length} files sent. The job goes on without this page.`);
  } catch (error) {
    status(`Every file is sent, but closing the job failed: ${error.message}`);
    byId("bulk-retry").hidden = false;
  }
}

/** Send one part, retrying with backoff on network errors, quotas and server errors. */
async function sendPart(n, file, row) {
  const digest = await contentDigest(file);
  for (let attempt = 1; ; attempt += 1) {
    row.state.textContent = attempt === 1 ? "sending" : `retry ${attempt - 1}`;
    try {
      await putPart(upload.jobId, n, file, file.name, digest, (share) => {
        row.bar.value = share;
        overall(share * file.size);
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
function partRow(n, file) {
  const list = byId("bulk-parts");
  const existing = list.querySelector(`[data-part="${n}"]`);
  if (existing) existing.remove();
  const bar = el("progress", { max: 1, value: 0, "aria-label": `part ${n + 1}` });
  const state = el("span", { class: "state" });
  const node = el("li", { "data-part": n }, el("span", { class: "name", text: file.name }), bar, state);
  list.append(node);
  const done = [...list.children].filter((child) => !child.classList.contains("failed"));
  done.slice(0, Math.max(0, done.length - KEPT_ROWS)).forEach((child) => child.remove());
  return { node, bar, state };
}

/** Show the overall progress, counting the bytes of the part in flight. */
function overall(inFlight) {
  const total = upload.files.reduce((sum, file) => sum + file.size, 0) || 1;
  byId("bulk-progress").value = (upload.sentBytes + inFlight) / total;
  status(`${upload.next} of ${upload.files.length} files sent (${megabytes(upload.sentBytes + inFlight)} of ${megabytes(total)})`);
}

/** Forget the picked files and the last upload (not while one is going on). */
function clear() {
  if (upload.busy) return;
  Object.assign(upload, { files: [], jobId: null, next: 0, sentBytes: 0 });
  byId("bulk-picked").textContent = "";
  byId("bulk-start").disabled = true;
  byId("bulk-retry").hidden = true;
  byId("bulk-progress-box").hidden = true;
}

const status = (text) => (byId("bulk-status").textContent = text);
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
