// A people job's People section: a tile per person, their face cut from a preview; a click filters the gallery.

import { api, request } from "./api.js";
import { byId, el } from "./dom.js";

const SHOWN = 200;
const TILE = 112;

/** Show the job's people once they are grouped (hidden for a job without people); onPick(label) filters the gallery. */
export async function showPeople(job, onPick) {
  const section = byId("job-people");
  section.hidden = !job.people;
  byId("people").replaceChildren();
  const select = byId("job-filters").elements.person;
  select.replaceChildren(el("option", { value: "", text: "any" }));
  select.closest("label").hidden = !job.people;
  if (!job.people) return;
  if (job.people_status !== "done") {
    byId("people-status").textContent = job.people_status === "grouping" ? "Grouping faces by person…" : "People are grouped once every image is analysed.";
    return;
  }
  const page = await api(`/v1/jobs/${job.id}/people?page_size=${SHOWN}`);
  select.append(...page.people.map((person) => el("option", { value: person.person, text: person.person })));
  byId("people").replaceChildren(...page.people.map((person) => tile(job.id, person, onPick)));
  byId("people-status").textContent = page.next_page_token ? `The ${SHOWN} people with most photos.` : `${page.people.length} ${page.people.length === 1 ? "person" : "people"}.`;
}

/** Mark the tile of the person the gallery shows (none: every tile unpressed). */
export function markPerson(label) {
  for (const button of byId("people").querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.dataset.person === label));
}

/** Return one person's tile: their face, photo count, age and gender. */
function tile(jobId, person, onPick) {
  const canvas = el("canvas", { width: TILE, height: TILE, "aria-hidden": "true" });
  const photos = person.images === 1 ? "1 photo" : `${person.images} photos`;
  const button = el("button", { type: "button", "data-person": person.person, "aria-pressed": "false", onclick: () => onPick(person.person) },
    canvas, el("p", { class: "name", text: person.person }), el("p", { text: photos }),
    el("p", { class: "muted", text: `${Math.round(person.age.median)} years, ${person.gender.label}` }));
  drawFace(jobId, person.face, canvas).catch(() => {});
  return el("li", {}, button);
}

/** Draw the person's face, a square about its box, cut from the preview of its image. */
async function drawFace(jobId, face, canvas) {
  const response = await request(`/v1/jobs/${jobId}/images/${face.image}/preview`);
  const bitmap = await createImageBitmap(await response.blob());
  const scale = bitmap.width / face.image_width;
  const { x, y, w, h } = face.box;
  const side = Math.max(w, h) * 1.3 * scale;
  const left = (x + w / 2) * scale - side / 2, top = (y + h / 2) * scale - side / 2;
  canvas.getContext("2d").drawImage(bitmap, left, top, side, side, 0, 0, canvas.width, canvas.height);
  bitmap.close();
}
