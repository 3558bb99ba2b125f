// The page's entry: sign-in, then routes #/try, #/bulk, #/jobs and #/jobs/ID, each a section of the page.

import { clearKey, getKey } from "./api.js";
import { initBulk } from "./bulk.js";
import { byId } from "./dom.js";
import { hideJob, initJob, showJob } from "./job.js";
import { hideJobs, initJobs, showJobs } from "./jobs.js";
import { checkKey, initSignIn, keyFromFragment, refused } from "./signin.js";
import { initTry } from "./tryit.js";

const VIEWS = ["signin", "try", "bulk", "jobs", "job"];

/** Show one section, hide the rest, and move the focus to its heading for keyboard and screen-reader users.
 * Only when the section changes: routing again to the section already shown (a late start-up check,
 * a repeated hash) must not pull the focus back from where the user has tabbed. */
function showView(name) {
  const changed = byId(name).hidden;
  for (const view of VIEWS) byId(view).hidden = view !== name;
  byId("nav").hidden = name === "signin";
  for (const link of byId("nav").querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${name === "job" ? "jobs" : name}`);
  }
  if (changed) byId(name).querySelector("h1").focus();
}

/** Show the section the address names (the sign-in form while there is no key). */
function route() {
  hideJobs();
  hideJob();
  if (!getKey()) return showView("signin");
  const [, name = "try", id] = location.hash.split("/");
  if (name === "jobs" && id) {
    showView("job");
    return showJob(decodeURIComponent(id));
  }
  showView(VIEWS.includes(name) && name !== "signin" ? name : "try");
  if (name === "jobs") showJobs();
}

/** Start the page: take a key from the link if there is one, check it, then route. */
async function start() {
  keyFromFragment();
  initSignIn(route);
  initTry();
  initBulk();
  initJobs();
  initJob();
  byId("sign-out").addEventListener("click", () => {
    clearKey();
    byId("signin-error").textContent = "Signed out.";
    route();
  });
  window.addEventListener("hashchange", async () => {
    if (keyFromFragment()) await checkKey().catch(() => {});
    route();
  });
  window.addEventListener("whoru:refused", () => {
    clearKey();
    refused();
    route();
  });
  await checkKey().catch(() => {});
  route();
}

start();
