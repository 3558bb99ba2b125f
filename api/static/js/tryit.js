// Try it: one photo up as part 0 of an open job, then the photo drawn back with its faces.

import { api, contentDigest, putPart, request, waitJob } from "./api.js";
import { byId, dropTarget } from "./dom.js";
import { figure, legend } from "./draw.js";
import { IMAGE_EXTENSIONS } from "./image-types.js";

/** Wire the photo picker and the drop zone. */
export function initTry() {
  const input = byId("try-file");
  input.accept = IMAGE_EXTENSIONS.join(",");
  input.addEventListener("change", () => input.files[0] && tryPhoto(input.files[0]));
  dropTarget(byId("try-drop"), (data) => data.files[0] && tryPhoto(data.files[0]));
}

/** Send one photo, wait for its job and show the photo with its faces. */
async function tryPhoto(file) {
  const status = byId("try-status");
  const result = byId("try-result");
  result.replaceChildren();
  status.textContent = "Uploading…";
  try {
    const job = await api("/v1/jobs", { method: "POST", json: { open: true } });
    await putPart(job.id, 0, file, file.name, await contentDigest(file));
    await api(`/v1/jobs/${job.id}/close`, { method: "POST" });
    status.textContent = "Looking for faces…";
    await waitJob(job.id);
    const [image] = (await api(`/v1/jobs/${job.id}/results?page_size=1`)).images;
    if (image.status === "failed") {
      status.textContent = `This file could not be analysed: ${image.error.message}`;
      return;
    }
    const bitmap = await bitmapOf(file, job.id, image.position);
    result.append(figure(bitmap, image.width, image.height, image.faces), legend(image.faces));
    status.textContent = faceCount(image.faces.length);
  } catch (error) {
    status.textContent = `That did not work: ${error.message}`;
  }
}

/** Return the photo as an upright bitmap: the file itself, or the server's preview where the browser cannot decode it. */
async function bitmapOf(file, jobId, position) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    const response = await request(`/v1/jobs/${jobId}/images/${position}/preview`).catch(() => null);
    return response ? createImageBitmap(await response.blob()) : null;
  }
}

const faceCount = (n) => (n === 0 ? "No face found in this photo." : n === 1 ? "1 face found." : `${n} faces found.`);
