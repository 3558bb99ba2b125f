// The jobs list, newest first, refreshed while any job on it is still running.

import { ENDED, api } from "./api.js";
import { byId, el } from "./dom.js";

const REFRESH_MS = 2000;
let timer = null;
let nextToken = null;

/** Wire the "more" button and the box that hides Try it jobs. */
export function initJobs() {
  byId("jobs-more").addEventListener("click", () => load(nextToken, true).catch(() => {}));
  byId("jobs-hide-try").addEventListener("change", showJobs);
}

/** Show the first page of jobs and keep it fresh while the list is on screen. */
export function showJobs() {
  load(null, false).catch((error) => {
    byId("jobs-empty").textContent = `The jobs could not be listed: ${error.message}`;
    byId("jobs-empty").hidden = false;
  });
}

/** Stop refreshing (the list left the screen). */
export function hideJobs() {
  clearTimeout(timer);
}

/** Load a page of jobs, appending it or replacing the list. */
async function load(token, append) {
  clearTimeout(timer);
  const hideTry = byId("jobs-hide-try").checked ? "&try_it=false" : "";
  const query = `?page_size=50${hideTry}${token ? `&page_token=${encodeURIComponent(token)}` : ""}`;
  const page = await api(`/v1/jobs${query}`);
  const body = byId("jobs-body");
  const rows = page.jobs.map(jobRow);
  append ? body.append(...rows) : body.replaceChildren(...rows);
  nextToken = page.next_page_token;
  byId("jobs-more").hidden = !nextToken;
  byId("jobs-empty").textContent = "No jobs yet.";
  byId("jobs-empty").hidden = body.children.length > 0;
  if (!append && page.jobs.some((job) => !ENDED.includes(job.status))) timer = setTimeout(showJobs, REFRESH_MS);
}

/** Return the table row of a job. */
function jobRow(job) {
  const { images_total: total, images_done: done, images_failed: failed, faces } = job.counts;
  const progress = el("progress", { max: Math.max(total, 1), value: done + failed, "aria-label": "images processed" });
  const created = el("a", { href: `#/jobs/${job.id}`, text: new Date(job.created_at).toLocaleString() });
  const label = el("td", { class: "job-label", text: job.label ?? "" });
  if (job.try_it) label.prepend(el("span", { class: "badge try-it", text: "Try it" }), " ");
  return el("tr", { "data-job": job.id },
    el("td", {}, created),
    label,
    el("td", {}, el("span", { class: `badge ${job.status}`, text: job.open ? `${job.status} (open)` : job.status })),
    el("td", {}, progress, el("span", { class: "muted", text: ` ${done + failed}/${total}` })),
    el("td", { text: failed ? `${total} (${failed} failed)` : String(total) }),
    el("td", { text: String(faces) }));
}
