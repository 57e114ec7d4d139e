// The reminders page: turn Web Push on or off for this browser, and copy the calendar link.
// Every word shown comes from the page's data attributes, so it is translated on the server.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function base64UrlToBytes(text) {
  const base64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function sameBytes(buffer, bytes) {
  if (!buffer) return false;
  const view = new Uint8Array(buffer);
  return view.length === bytes.length && view.every((value, index) => value === bytes[index]);
}

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    // A 422 says in words what was wrong; anything else gets the page's own message.
    const answer = await response.json().catch(() => ({}));
    const refusal = new Error(answer.error || "");
    refusal.fromServer = true;
    throw refusal;
  }
  return response.json();
}

async function workerRegistration(panel) {
  await navigator.serviceWorker.register(panel.dataset.workerUrl, { scope: "/" });
  return navigator.serviceWorker.ready;
}

async function serverKey(panel) {
  const response = await fetch(panel.dataset.keyUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const { publicKey } = await response.json();
  return base64UrlToBytes(publicKey);
}

async function subscribe(panel) {
  const registration = await workerRegistration(panel);
  const key = await serverKey(panel);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made for another key cannot carry our messages: replace it.
  if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key,
    });
  }
  await postJson(panel.dataset.subscribeUrl, subscription.toJSON());
}

async function unsubscribe(panel) {
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription) return;
  await postJson(panel.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}

async function browserSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration ? registration.pushManager.getSubscription() : null;
}

function showState(panel, state, detail) {
  const status = panel.querySelector("[data-push-status]");
  const button = panel.querySelector("[data-push-toggle]");
  const messages = {
    on: panel.dataset.statusOn,
    off: panel.dataset.statusOff,
    working: panel.dataset.statusWorking,
    denied: panel.dataset.statusDenied,
    unsupported: panel.dataset.statusUnsupported,
    failed: panel.dataset.statusFailed,
  };
  status.textContent = detail || messages[state] || "";
  panel.dataset.pushState = state;
  if (state === "unsupported") {
    button.hidden = true;
    return;
  }
  button.hidden = false;
  button.disabled = state === "working";
  button.textContent = state === "on" ? panel.dataset.labelOff : panel.dataset.labelOn;
}

async function refreshState(panel) {
  if (!pushSupported()) return showState(panel, "unsupported");
  if (Notification.permission === "denied") return showState(panel, "denied");
  const subscription = await browserSubscription();
  if (subscription && Notification.permission === "granted") {
    // The server may have lost it, or another account used this browser before: the
    // notifications of this browser go to whoever is signed in on it now.
    showState(panel, "on");
    return subscribe(panel).catch(() => showState(panel, "failed"));
  }
  return showState(panel, "off");
}

async function togglePush(panel) {
  const wasOn = panel.dataset.pushState === "on";
  showState(panel, "working");
  try {
    if (wasOn) {
      await unsubscribe(panel);
      return showState(panel, "off");
    }
    // Asked from the tap itself: browsers (Safari above all) want a user gesture.
    const permission = await Notification.requestPermission();
    if (permission !== "granted") return showState(panel, permission === "denied" ? "denied" : "off");
    await subscribe(panel);
    return showState(panel, "on");
  } catch (error) {
    // Browser errors are technical and untranslated: only the server's words are shown.
    return showState(panel, "failed", error.fromServer ? error.message : "");
  }
}

async function copyCalendarLink(button) {
  const source = document.querySelector("[data-copy-source]");
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.value);
    button.textContent = button.dataset.copiedLabel;
  } catch (error) {
    source.select();
  }
}

function showCopyButtons() {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("[data-copy-button]")) button.hidden = false;
}

function onClick(event) {
  const toggle = event.target.closest("[data-push-toggle]");
  if (toggle) {
    togglePush(toggle.closest("[data-push-panel]"));
    return;
  }
  const copy = event.target.closest("[data-copy-button]");
  if (copy) copyCalendarLink(copy);
}

function start() {
  const panel = document.querySelector("[data-push-panel]");
  if (panel) refreshState(panel).catch(() => showState(panel, "off"));
  showCopyButtons();
}

document.addEventListener("DOMContentLoaded", start);
document.addEventListener("click", onClick);
// The calendar section is swapped in by htmx after "Make a new link".
document.addEventListener("htmx:afterSwap", showCopyButtons);
