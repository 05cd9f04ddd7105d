// The run-ledger console's one script: confirmation dialogs, and live
// updates over server-sent events. Pages work without it (but for the
// dialogs, which hold the action forms). It never sees the API key: a live
// page asks the console for a short-lived stream token with the session's
// CSRF token, opens the stream with it, and on news fetches the page again
// from the server and puts its live region in place.
"use strict";

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-opens]");
  if (opener) {
    document.getElementById(opener.dataset.opens)?.showModal();
    return;
  }
  const closer = event.target.closest("[data-closes]");
  if (closer) closer.closest("dialog")?.close();
});

const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

async function streamToken() {
  const response = await fetch("/console/stream-token", {
    method: "POST",
    headers: { "X-CSRF-Token": csrf },
    credentials: "same-origin",
  });
  if (response.redirected || response.status === 403) {
    // The session ended (signed out elsewhere, expired, its key revoked).
    location.assign("/console/sign-in");
    throw new SignedOut();
  }
  if (!response.ok) throw new Error(`stream token: ${response.status}`);
  return (await response.json()).token;
}

class SignedOut extends Error {}

// Fetches this page again and swaps `selector`'s content for the new one
// (markup the server rendered and escaped).
let refreshing = null;
async function refresh(selector) {
  const response = await fetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(selector);
  const current = document.querySelector(selector);
  if (fresh && current && fresh.innerHTML !== current.innerHTML) {
    const open = current.querySelector("dialog[open]");
    if (open) return; // Never pull a dialog away from under a person.
    current.replaceWith(fresh);
  }
}

function refreshSoon(selector) {
  if (refreshing) return;
  refreshing = setTimeout(async () => {
    refreshing = null;
    try {
      await refresh(selector);
    } catch (error) {
      console.warn("refresh failed", error);
    }
  }, 150);
}

// Opens `path` with a fresh token, calls `onMessage` for each named event
// in `names`, and opens again (new token) when the stream fails; a 204
// (a finished run) ends it for good, as EventSource does.
async function follow(path, names, onMessage) {
  let delay = 500;
  for (;;) {
    let source;
    try {
      const token = await streamToken();
      const separator = path.includes("?") ? "&" : "?";
      source = new EventSource(`${path}${separator}token=${encodeURIComponent(token)}`);
    } catch (error) {
      if (error instanceof SignedOut) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
      continue;
    }
    const ended = await new Promise((resolve) => {
      for (const name of names) source.addEventListener(name, onMessage);
      source.onmessage = onMessage;
      source.onopen = () => {
        delay = 500;
        document.body.dataset.live = "open";
      };
      source.onerror = () => {
        // CLOSED: the server refused or ended it (204, an expired token).
        if (source.readyState === EventSource.CLOSED) resolve(false);
      };
    });
    source.close();
    if (ended) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15000);
    if (!document.querySelector("[data-live]")) return;
  }
}

const live = document.querySelector("[data-live]");
if (live && csrf) {
  if (live.dataset.live === "run") {
    follow(`/v1/runs/${encodeURIComponent(live.dataset.run)}/watch`, ["run"], () => refreshSoon("main"));
  } else if (live.dataset.live === "feed") {
    // Only what is recorded after the page was read: the feed's events are
    // named by type, and the page lists the run types it follows.
    const names = (live.dataset.events || "").split(" ").filter(Boolean);
    follow(`/v1/events/stream?after=${encodeURIComponent(live.dataset.after || "0")}`, names, () =>
      refreshSoon("#live"),
    );
  }
}
