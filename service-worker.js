// coachapp's service worker, served at /service-worker.js so that its scope is the whole app.
// It keeps the app shell and the pages a manager needs on shift, so that the phone opens and
// works with no signal; it sends the outbox on Background Sync; it shows the daily reminder.
"use strict";

importScripts("/static/js/outbox.js");

// Bump to drop the app shell of every older version (on activate).
const CACHE_VERSION = "coachapp-v2";
const SHELL_CACHE = `${CACHE_VERSION}-shell`;
// Pages hold a person's data, not the app's code: they outlive a new version of the worker, are
// named after the person they were made for, and are dropped when someone else signs in or at
// sign-out.
const PAGES_PREFIX = "coachapp-pages-";
const NETWORK_TIMEOUT_MS = 3000;
// A page warmed this recently is not fetched again for the warm-up (a visit always is).
const WARM_AGAIN_AFTER_MS = 2 * 60 * 1000;
const OFFLINE_URL = "/offline";
const USER_HEADER = "X-Coachapp-User";
const KEPT_AT_HEADER = "X-Coachapp-Kept-At";
const SHELL = [
  OFFLINE_URL,
  "/manifest.webmanifest",
  "/static/css/app.css",
  "/static/css/offline.css",
  "/static/vendor/htmx-2.0.11.min.js",
  "/static/js/app.js",
  "/static/js/outbox.js",
  "/static/js/offline.js",
  "/static/js/shadowing.js",
  "/static/icons/icon.svg",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/icon-maskable-512.png",
];
// The pages of a shift, and nothing else: sign-in ceremonies, the calendar feed, the API and
// every other page always go to the network.
const KEPT_PAGES = [/^\/today$/, /^\/agents\/\d+\/shadow$/, /^\/sessions\/\d+$/, /^\/followups\/\d+$/];
const DEFAULT_URL = "/today";
// One tag: a new reminder replaces the one still on the screen instead of stacking up.
const NOTIFICATION_TAG = "coachapp-due";

// --- install and activate -------------------------------------------------------------

// A static file under its content-hashed name (app.0123456789ab.css, as the server writes the
// worker's list): it never changes, so a copy already on the phone is as good as the network's.
const HASHED = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/;

function isHashed(url) {
  return HASHED.test(new URL(url, self.location.origin).pathname);
}

// Each file of the shell is fetched at most once: a hashed file the page has just loaded comes
// from the browser's HTTP cache (cached for a year), one an older worker kept is copied from its
// cache; only the offline page and the manifest, which have no hash, are asked of the server.
async function shellEntry(url) {
  if (isHashed(url)) {
    const kept = await caches.match(url, { ignoreVary: true });
    if (kept) return kept;
    return fetch(new Request(url, { credentials: "same-origin" }));
  }
  // Without cookies: the offline page is the same for everyone and names no one.
  return fetch(new Request(url, { credentials: "omit", cache: "no-cache" }));
}

async function precacheShell() {
  const cache = await caches.open(SHELL_CACHE);
  await Promise.all(
    SHELL.map(async (url) => {
      if (await cache.match(url)) return;
      const response = await shellEntry(url);
      if (!response.ok) throw new Error(`precaching ${url} answered ${response.status}`);
      await cache.put(url, response);
    }),
  );
  await self.skipWaiting();
}

async function removeOldShells() {
  const names = await caches.keys();
  const old = names.filter((name) => name !== SHELL_CACHE && !name.startsWith(PAGES_PREFIX));
  await Promise.all(old.map((name) => caches.delete(name)));
  await self.clients.claim();
}

function onInstall(event) {
  event.waitUntil(precacheShell());
}

function onActivate(event) {
  event.waitUntil(removeOldShells());
}

// --- answering requests ---------------------------------------------------------------

function cacheable(response) {
  return Boolean(response) && response.status === 200 && response.type === "basic" && !response.redirected;
}

function isKept(url) {
  return url.origin === self.location.origin && KEPT_PAGES.some((pattern) => pattern.test(url.pathname));
}

// One copy per page, whatever its query: /agents/7/shadow?session=... is the same screen.
function pageKey(url) {
  return new URL(url.pathname, self.location.origin).href;
}

function waitFor(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pagesCache() {
  const names = (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX));
  return names.length ? caches.open(names[0]) : null;
}

async function forgetPages(exceptFor) {
  const names = (await caches.keys()).filter(
    (name) => name.startsWith(PAGES_PREFIX) && name !== PAGES_PREFIX + exceptFor,
  );
  await Promise.all(names.map((name) => caches.delete(name)));
}

// Only a page the server made for a signed-in person is kept, under that person's name.
async function keepPage(url, response) {
  const user = response.headers.get(USER_HEADER);
  if (!user || !isKept(url) || !cacheable(response)) return;
  await forgetPages(user);
  const headers = new Headers(response.headers);
  headers.set(KEPT_AT_HEADER, String(Date.now()));
  const body = await response.blob();
  const cache = await caches.open(PAGES_PREFIX + user);
  await cache.put(pageKey(url), new Response(body, { status: 200, statusText: "OK", headers }));
}

async function keptPage(url) {
  const cache = await pagesCache();
  if (!cache) return undefined;
  // The installed app starts at /, which sends a manager to Today.
  const key = url.pathname === "/" ? new URL(DEFAULT_URL, self.location.origin) : url;
  return cache.match(pageKey(key), { ignoreSearch: true, ignoreVary: true });
}

async function offlinePage() {
  const cache = await caches.open(SHELL_CACHE);
  const page = await cache.match(OFFLINE_URL);
  // The server puts the words for having no signal here, in every language of the app.
  return page || new Response("No signal", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

// Network first, for at most three seconds; then the copy kept on the phone; then the offline page.
async function pageResponse(event) {
  const url = new URL(event.request.url);
  const network = fetch(event.request).then(async (response) => {
    await keepPage(url, response.clone());
    return response;
  });
  // The network answer still refreshes the copy when the kept one was shown first.
  event.waitUntil(network.catch(() => undefined));
  try {
    const first = await Promise.race([network, waitFor(NETWORK_TIMEOUT_MS)]);
    if (first && first.status < 500) return first;
    if (first) return (await keptPage(url)) || first;
    return (await keptPage(url)) || (await network);
  } catch (error) {
    return (await keptPage(url)) || offlinePage();
  }
}

// The app shell: from the cache at once. A hashed file is the same forever: nothing to refresh.
// The others (the offline page, the manifest) are refreshed in the background for the next visit.
async function shellResponse(event) {
  const cache = await caches.open(SHELL_CACHE);
  const kept = await cache.match(event.request, { ignoreSearch: true, ignoreVary: true });
  if (kept && isHashed(event.request.url)) return kept;
  const network = fetch(event.request).then(async (response) => {
    if (cacheable(response)) await cache.put(event.request, response.clone());
    return response;
  });
  if (kept) {
    event.waitUntil(network.catch(() => undefined));
    return kept;
  }
  return network;
}

function onFetch(event) {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(pageResponse(event));
  } else if (url.pathname.startsWith("/static/") || SHELL.includes(url.pathname)) {
    event.respondWith(shellResponse(event));
  }
  // Everything else (the API, htmx fragments, feeds) goes to the network untouched.
}

// --- messages from the pages ----------------------------------------------------------

async function freshEnough(url) {
  const kept = await keptPage(url);
  const at = kept ? Number(kept.headers.get(KEPT_AT_HEADER)) : 0;
  return Date.now() - at < WARM_AGAIN_AFTER_MS;
}

// The kept copy is still the server's page (a 304): it counts as fetched now.
async function keptAgain(url, kept) {
  const headers = new Headers(kept.headers);
  headers.set(KEPT_AT_HEADER, String(Date.now()));
  const cache = await pagesCache();
  if (cache) {
    const body = await kept.blob();
    await cache.put(pageKey(url), new Response(body, { status: 200, statusText: "OK", headers }));
  }
}

// Fetch the pages of a shift while there is signal, one at a time, so they are there without.
// A page already kept is asked for with its ETag: unchanged, the server answers 304 and no body.
async function warm(urls, force) {
  for (const href of urls) {
    const url = new URL(href, self.location.origin);
    if (!isKept(url) || (!force && (await freshEnough(url)))) continue;
    try {
      const kept = await keptPage(url);
      const etag = kept && kept.headers.get("ETag");
      const headers = etag ? { "If-None-Match": etag } : {};
      const response = await fetch(url.href, { credentials: "same-origin", cache: "no-store", headers });
      if (response.status === 304 && kept) await keptAgain(url, kept);
      else await keepPage(url, response);
    } catch (error) {
      return; // no signal: the next visit warms them again
    }
  }
}

function onMessage(event) {
  const data = event.data || {};
  if (data.type === "warm" && Array.isArray(data.urls)) {
    // A page that loaded while this worker was still installing is taken into its care now.
    event.waitUntil(self.clients.claim().then(() => warm(data.urls, Boolean(data.force))));
  } else if (data.type === "signed-out") {
    event.waitUntil(forgetPages(null));
  }
}

// --- Background Sync (Chromium): send the outbox even with no page open -----------------

async function flushOutbox() {
  const result = await self.CoachappOutbox.flush();
  // Rejecting tells the browser to try again later; a sign-in it cannot give, so that waits.
  if (result.status === "retry") throw new Error("the server could not be reached");
}

function onSync(event) {
  if (event.tag === self.CoachappOutbox.SYNC_TAG) event.waitUntil(flushOutbox());
}

// --- reminders --------------------------------------------------------------------------

function readPayload(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch (error) {
    return {};
  }
}

// Only pages of this app are opened from a notification.
function appUrl(candidate) {
  try {
    const url = new URL(candidate || DEFAULT_URL, self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch (error) {
    // fall through to the default page
  }
  return new URL(DEFAULT_URL, self.location.origin).href;
}

async function showReminder(payload) {
  await self.registration.showNotification(payload.title || "coachapp", {
    body: payload.body || "",
    tag: NOTIFICATION_TAG,
    renotify: true,
    icon: "/static/icons/icon-192.png",
    data: { url: appUrl(payload.url) },
  });
}

async function focusOrOpen(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.filter((client) => new URL(client.url).origin === self.location.origin);
  // A window already on the page, else any window of the app (never navigated away: a manager
  // may be halfway through a note), else a new one.
  const target = ours.find((client) => client.url === url) || ours[0];
  if (target && "focus" in target) return target.focus();
  return self.clients.openWindow(url);
}

function onPush(event) {
  event.waitUntil(showReminder(readPayload(event)));
}

function onNotificationClick(event) {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(focusOrOpen(appUrl(data.url)));
}

self.addEventListener("install", onInstall);
self.addEventListener("activate", onActivate);
self.addEventListener("fetch", onFetch);
self.addEventListener("message", onMessage);
self.addEventListener("sync", onSync);
self.addEventListener("push", onPush);
self.addEventListener("notificationclick", onNotificationClick);
