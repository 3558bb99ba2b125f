// Signing in: a key from the sign-in link's fragment or from the form, checked, kept in sessionStorage.

import { ApiError, clearKey, getKey, request, setKey } from "./api.js";
import { byId } from "./dom.js";

const REFUSED = "This API key was refused. Check it, or make a new one with: whoru keys create NAME";

/** Take a key from a `#key=...` fragment, removing it from the address bar; return the route that was asked for. */
export function keyFromFragment() {
  const match = /^#key=([^&]+)/.exec(location.hash);
  if (!match) return null;
  setKey(decodeURIComponent(match[1]));
  // The key must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", `${location.pathname}#/try`);
  return "#/try";
}

/** Resolve true if the stored key is accepted, false (forgetting it) if it is refused. */
export async function checkKey() {
  if (!getKey()) return false;
  try {
    await request("/v1/jobs?page_size=1");
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      clearKey();
      refused();
      return false;
    }
    throw error;
  }
}

/** Say on the sign-in form that the key was refused. */
export function refused() {
  byId("signin-error").textContent = REFUSED;
}

/** Wire the form; onSignedIn runs once a typed key is accepted. */
export function initSignIn(onSignedIn) {
  byId("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = byId("key-input");
    byId("signin-error").textContent = "";
    setKey(input.value.trim());
    try {
      if (await checkKey()) {
        input.value = "";
        onSignedIn();
      }
    } catch (error) {
      byId("signin-error").textContent = `The server could not be asked: ${error.message}`;
    }
  });
}
