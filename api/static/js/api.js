// The one way the page talks to whoru: /v1 with the key in the Authorization header, never in a URL.

const KEY = "whoru.key";

/** An error answer of the API, with its status, code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

/** Return the fetch Response of a /v1 request; throw ApiError on an error answer (401 also signs out). */
export async function request(path, { method = "GET", json, headers = {} } = {}) {
  const init = { method, headers: { ...headers, Authorization: `Bearer ${getKey()}` } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await apiError(response.status, () => response.json());
  return response;
}

/** Return the parsed JSON of a /v1 request (null for 204). */
export async function api(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

/** Return the ApiError for an error answer, telling the page when the key is refused. */
async function apiError(status, readJson) {
  let detail = null;
  try {
    detail = (await readJson()).error;
  } catch {
    // Not JSON (a proxy's page, say): the status alone has to do.
  }
  if (status === 401) window.dispatchEvent(new CustomEvent("whoru:refused"));
  return new ApiError(status, detail?.code ?? `http_${status}`, detail?.message ?? `the server answered ${status}`);
}

/** Return the RFC 9530 Content-Digest of a file or blob. */
export async function contentDigest(blob) {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  let binary = "";
  for (const byte of hash) binary += String.fromCharCode(byte);
  return `sha-256=:${btoa(binary)}:`;
}

/** Return a Content-Disposition naming a file; filename* carries names a plain header cannot. */
export function disposition(name) {
  if (/^[\x20-\x7e]*$/.test(name) && !/["\\]/.test(name)) return `attachment; filename="${name}"`;
  return `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** PUT one part of a job (packed: a zip this page made, whose photos keep their own names), reporting upload progress (0..1); resolve with the stored part. */
export function putPart(jobId, n, file, name, digest, onProgress = () => {}, packed = false) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/v1/jobs/${encodeURIComponent(jobId)}/parts/${n}${packed ? "?packed=true" : ""}`);
    xhr.setRequestHeader("Authorization", `Bearer ${getKey()}`);
    xhr.setRequestHeader("Content-Digest", digest);
    xhr.setRequestHeader("Content-Disposition", disposition(name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = async () => {
      if (xhr.status === 200 || xhr.status === 201) resolve(JSON.parse(xhr.responseText));
      else reject(await apiError(xhr.status, () => JSON.parse(xhr.responseText)));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the connection failed"));
    xhr.send(file);
  });
}

export const ENDED = ["succeeded", "failed", "canceled"];

/** Resolve with a job once it has ended, polling its status. */
export async function waitJob(jobId, every = 500) {
  for (;;) {
    const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
    if (ENDED.includes(job.status)) return job;
    await new Promise((done) => setTimeout(done, every));
  }
}

/** Save a blob as a download under a name. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
