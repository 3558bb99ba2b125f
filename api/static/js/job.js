// One job's page: counts, charts from its summary, a filtered and paged gallery, failures, downloads.

import { ENDED, api, request, saveBlob } from "./api.js";
import { barChart } from "./charts.js";
import { byId, el } from "./dom.js";
import { figure, legend } from "./draw.js";
import { markPerson, showPeople } from "./people.js";

const GALLERY_PAGE = 24;
const REFRESH_MS = 2000;
const FILTERS = ["person", "gender", "age_bin", "ethnicity", "status"];
const view = { id: null, job: null, tokens: [null], page: 0, timer: null, asked: 0 };

/** Wire the buttons and fill the filter choices from the OpenAPI document, so they match the API's. */
export async function initJob() {
  byId("job-csv").addEventListener("click", () => guarded(downloadCsv));
  byId("job-json").addEventListener("click", () => guarded(downloadJson));
  byId("job-cancel").addEventListener("click", () => guarded(cancel));
  byId("job-delete").addEventListener("click", () => guarded(remove));
  byId("job-filters").addEventListener("change", () => {
    markPerson(byId("job-filters").elements.person.value);
    return gallery(0, true);
  });
  byId("gallery-prev").addEventListener("click", () => gallery(view.page - 1));
  byId("gallery-next").addEventListener("click", () => gallery(view.page + 1));
  const spec = await (await fetch("/v1/openapi.json")).json();
  const parameters = spec.paths["/v1/jobs/{job_id}/results"].get.parameters;
  for (const name of FILTERS) {
    const choices = parameters.find((parameter) => parameter.name === name)?.schema.enum ?? [];
    byId("job-filters").elements[name].append(...choices.map((choice) => el("option", { value: choice, text: choice })));
  }
}

/** Show a job from scratch and follow it until it ends. */
export async function showJob(id) {
  hideJob();
  Object.assign(view, { id, job: null, tokens: [null], page: 0 });
  byId("job-title").textContent = `Job ${id.slice(0, 8)}`;
  byId("job-filters").reset();
  byId("job-message").textContent = "";
  byId("job-charts").replaceChildren();
  byId("gallery").replaceChildren();
  byId("job-failed").replaceChildren();
  try {
    await refresh();
  } catch (error) {
    byId("job-message").textContent = error.status === 404 ? "There is no such job (or it belongs to another key)." : error.message;
  }
}

/** Stop following the job (the page left the screen); answers still on their way are then ignored. */
export function hideJob() {
  clearTimeout(view.timer);
  view.id = null;
}

/** Reload status, counts and charts; reload the images while the job runs and once when it ends. */
async function refresh() {
  const id = view.id;
  const [job, summary] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/summary`)]);
  if (id !== view.id) return;
  const wasRunning = !view.job || !ENDED.includes(view.job.status);
  view.job = job;
  showStatus(job);
  showCharts(summary);
  if (wasRunning) await Promise.all([gallery(view.page), failures(), showPeople(job, pickPerson)]);
  if (!ENDED.includes(job.status)) view.timer = setTimeout(() => refresh().catch(() => {}), REFRESH_MS);
}

/** Show the job's status, times, counts and which actions apply. */
function showStatus(job) {
  const { images_total: total, images_done: done, images_failed: failed, faces } = job.counts;
  const badge = byId("job-status");
  badge.textContent = job.open ? `${job.status} (open)` : job.status;
  badge.className = `badge ${job.status}`;
  byId("job-times").textContent = `created ${new Date(job.created_at).toLocaleString()}` +
    (job.finished_at ? `, finished ${new Date(job.finished_at).toLocaleString()}` : "");
  Object.assign(byId("job-progress"), { max: Math.max(total, 1), value: done + failed });
  const counts = [["images", total], ["analysed", done], ["failed", failed], ["faces", faces]];
  byId("job-counts").replaceChildren(...counts.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: String(value), "data-count": name }))));
  byId("job-cancel").hidden = ENDED.includes(job.status);
}

/** Draw the age, gender and ethnicity charts of the faces, and of the people once they are grouped. */
function showCharts(summary) {
  const people = summary.people === null ? [] : [
    barChart("People by age bin", summary.people_age_bins, { shares: true }),
    barChart("People by gender", summary.people_genders, { shares: true }),
    barChart("People by ethnicity", summary.people_ethnicities, { shares: true }),
  ];
  byId("job-charts").replaceChildren(
    barChart("Age (years)", summary.age_decades),
    barChart("Age bins", summary.age_bins, { shares: true }),
    barChart("Gender", summary.genders, { shares: true }),
    barChart("Ethnicity", summary.ethnicities, { shares: true }),
    ...people,
  );
}

/** Show only the images of one person (the tile clicked), or everyone's again when it was already shown. */
function pickPerson(label) {
  const select = byId("job-filters").elements.person;
  select.value = select.value === label ? "" : label;
  markPerson(select.value);
  return gallery(0, true);
}

/** Return the results query for the current filters and a page token. */
function resultsQuery(pageSize, token) {
  const form = byId("job-filters").elements;
  const query = new URLSearchParams({ page_size: pageSize });
  for (const name of FILTERS) if (form[name].value) query.set(name, form[name].value);
  if (token) query.set("page_token", token);
  return `/v1/jobs/${view.id}/results?${query}`;
}

/** Show gallery page n (0 = first; fresh = the filters changed). */
async function gallery(n, fresh = false) {
  if (fresh) Object.assign(view, { tokens: [null], page: 0 });
  n = Math.max(0, Math.min(n, view.tokens.length - 1));
  // Answers can come back out of order (two filters changed at once, a refresh running): only the
  // last page asked for is shown.
  const id = view.id, asked = ++view.asked;
  const page = await api(resultsQuery(GALLERY_PAGE, view.tokens[n]));
  if (id !== view.id || asked !== view.asked) return;
  view.page = n;
  view.tokens = view.tokens.slice(0, n + 1).concat(page.next_page_token ? [page.next_page_token] : []);
  byId("gallery").replaceChildren(...page.images.map(card));
  byId("gallery-status").textContent = page.images.length ? `Page ${n + 1}` : "No image matches.";
  byId("gallery-prev").disabled = n === 0;
  byId("gallery-next").disabled = !page.next_page_token;
}

/** Return the gallery card of an image; its picture arrives when its preview does. */
function card(image) {
  const caption = el("p", { class: "name", text: image.name, title: image.name });
  const detail = image.error ? `${image.error.code}: ${image.error.message}` : image.status === "done" ? faceCount(image.faces.length) : image.status.replace("_", " ");
  const node = el("li", { class: `card ${image.status}`, "data-position": image.position }, caption, el("p", { class: "muted", text: detail }));
  if (image.width && image.height) addPreview(node, image);
  if (image.faces.length) node.append(legend(image.faces));
  return node;
}

/** Put the image's preview, with its boxes, at the top of its card (or say there is none). */
async function addPreview(node, image) {
  const response = await request(`/v1/jobs/${view.id}/images/${image.position}/preview`).catch(() => null);
  if (!response) {
    node.prepend(el("p", { class: "nopreview muted", text: "no preview" }));
    return;
  }
  const bitmap = await createImageBitmap(await response.blob());
  node.prepend(figure(bitmap, image.width, image.height, image.faces, { labels: false }));
  bitmap.close();
}

/** List the failed images with their reasons (the first page of them). */
async function failures() {
  const query = new URLSearchParams({ page_size: 100, status: "failed" });
  const page = await api(`/v1/jobs/${view.id}/results?${query}`);
  const rows = page.images.map((image) => el("li", {}, el("span", { class: "name", text: image.name }), ` — ${image.error.code}: ${image.error.message}`));
  if (page.next_page_token) rows.push(el("li", { class: "muted", text: "… more: filter the images by status failed" }));
  byId("job-failed").replaceChildren(...(rows.length ? rows : [el("li", { class: "muted", text: "None." })]));
}

/** Download the results as CSV, fetched with the key then saved from memory. */
async function downloadCsv() {
  const response = await request(`/v1/jobs/${view.id}/results.csv`);
  saveBlob(await response.blob(), `${view.id}.csv`);
}

/** Download the job and all its results as one JSON file. */
async function downloadJson() {
  const images = [];
  let token = null;
  do {
    const page = await api(`/v1/jobs/${view.id}/results?page_size=1000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
    images.push(...page.images);
    token = page.next_page_token;
  } while (token);
  saveBlob(new Blob([JSON.stringify({ job: view.job, images }, null, 1)], { type: "application/json" }), `${view.id}.json`);
}

/** Cancel the job and show what it has become. */
async function cancel() {
  await api(`/v1/jobs/${view.id}/cancel`, { method: "POST" });
  clearTimeout(view.timer);
  await refresh();
}

/** Delete the job after asking, then go back to the list. */
async function remove() {
  if (!window.confirm("Delete this job, its results and its previews?")) return;
  await api(`/v1/jobs/${view.id}`, { method: "DELETE" });
  location.hash = "#/jobs";
}

/** Run an action, showing its failure on the page. */
async function guarded(action) {
  try {
    await action();
  } catch (error) {
    byId("job-message").textContent = `That did not work: ${error.message}`;
  }
}

const faceCount = (n) => (n === 1 ? "1 face" : `${n} faces`);
