// coachapp's service worker, served at /service-worker.js so that its scope is the whole app.
// Today it shows the daily reminder; offline caching joins it here later, keyed on CACHE_VERSION.
"use strict";

// Bump to drop every cache of an older version (no caches yet).
const CACHE_VERSION = "coachapp-v1";
const DEFAULT_URL = "/today";
// One tag: a new reminder replaces the one still on the screen instead of stacking up.
const NOTIFICATION_TAG = "coachapp-due";

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
    icon: "/static/icons/icon.svg",
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

self.addEventListener("push", onPush);
self.addEventListener("notificationclick", onNotificationClick);
