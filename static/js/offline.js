// Offline on every page: the service worker, the pages it keeps warm, the badge of what waits on
// the phone, when the outbox is sent, the warning at sign-out, and the iPhone home-screen hint.
// Every word shown comes from data attributes of templates/core/_outbox.html (translated there).
"use strict";

(function () {
  const Outbox = self.CoachappOutbox;
  const shell = document.getElementById("offline-shell");
  if (!shell || !Outbox || !self.indexedDB) return;

  const text = shell.dataset;
  const LAST_USER_KEY = "coachapp-user";
  const HINT_KEY = "coachapp-ios-hint-dismissed";
  const MAX_WARMED = 40;
  const discardHooks = [];
  let retryTimer = null;
  let signinNeeded = false;

  function fill(template, values) {
    return Object.entries(values).reduce((out, [key, value]) => out.split(`{${key}}`).join(String(value)), template);
  }

  // The person the page was made for; on a page made for nobody (sign-in, offline) the last one
  // seen here, so that what waits for them is still shown.
  function currentUser() {
    if (text.user) {
      try {
        localStorage.setItem(LAST_USER_KEY, text.user);
      } catch (error) {
        // private mode: nothing to remember
      }
      return text.user;
    }
    try {
      return localStorage.getItem(LAST_USER_KEY) || "";
    } catch (error) {
      return "";
    }
  }

  const user = currentUser();

  async function myItems() {
    return (await Outbox.all()).filter((item) => item.user === user);
  }

  // A count in the page's language: the template renders each plural form of the language
  // (one, few, many, other) from the catalogue, and Intl picks the one for the number.
  function plural(forms, count) {
    const all = JSON.parse(forms);
    const lang = document.documentElement.lang || "en";
    const category = new Intl.PluralRules(lang).select(count);
    return fill(all[category] || all.other, { count });
  }

  function apiUrl(kind, id) {
    const template = shell.dataset[kind];
    if (id === undefined) return template;
    return template.includes(text.placeholderUuid)
      ? template.replace(text.placeholderUuid, id)
      : template.replace(text.placeholderId, `/${id}/`);
  }

  // --- the service worker and the pages it keeps ------------------------------------------

  async function registration() {
    if (!("serviceWorker" in navigator)) return null;
    try {
      await navigator.serviceWorker.register(text.workerUrl, { scope: "/" });
      return await navigator.serviceWorker.ready;
    } catch (error) {
      return null;
    }
  }

  function shiftPages() {
    const urls = [location.pathname];
    for (const link of document.querySelectorAll("a[data-shadow-url]")) urls.push(link.dataset.shadowUrl);
    for (const link of document.querySelectorAll("a[data-warm], a.due-row")) urls.push(link.getAttribute("href"));
    return Array.from(new Set(urls)).slice(0, MAX_WARMED);
  }

  async function warm(urls, force) {
    const ready = await registration();
    if (ready && ready.active && user && navigator.onLine !== false) {
      ready.active.postMessage({ type: "warm", urls, force: Boolean(force) });
    }
  }

  async function forgetKeptPages() {
    if (self.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith("coachapp-pages-")).map((name) => caches.delete(name)));
    }
    const ready = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration("/"));
    if (ready && ready.active) ready.active.postMessage({ type: "signed-out" });
  }

  // --- the badge --------------------------------------------------------------------------

  function ageOf(createdAt) {
    const seconds = Math.max(0, Math.round((Date.now() - createdAt) / 1000));
    const format = new Intl.RelativeTimeFormat(document.documentElement.dataset.locale || document.documentElement.lang || undefined, { numeric: "auto" });
    if (seconds < 60) return format.format(-seconds, "second");
    if (seconds < 3600) return format.format(-Math.round(seconds / 60), "minute");
    if (seconds < 86400) return format.format(-Math.round(seconds / 3600), "hour");
    return format.format(-Math.round(seconds / 86400), "day");
  }

  function itemLine(item) {
    const line = document.createElement("li");
    line.className = `outbox-item outbox-${item.state}`;
    const label = document.createElement("span");
    label.textContent = item.label || item.type;
    line.append(label);
    if (item.state === Outbox.ATTENTION) {
      const reason = document.createElement("span");
      reason.className = "field-error";
      reason.textContent = fill(text.attention, { reason: item.message });
      line.append(" ", reason, " ", ...attentionButtons(item));
    }
    return line;
  }

  function attentionButtons(item) {
    return [
      ["retry", text.tryAgain],
      ["discard", text.discard],
    ].map(([action, words]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small quiet";
      button.dataset.outboxAction = action;
      button.dataset.seq = String(item.seq);
      button.textContent = words;
      return button;
    });
  }

  async function render() {
    const items = await Outbox.all();
    const mine = items.filter((item) => item.user === user);
    const others = items.length - mine.length;
    const box = shell.querySelector("[data-outbox]");
    box.dataset.count = String(mine.length);
    box.hidden = mine.length === 0 && others === 0;
    const count = box.querySelector("[data-outbox-count]");
    count.textContent = plural(text.countForms, mine.length);
    const oldest = mine.reduce((min, item) => Math.min(min, item.created_at), Infinity);
    box.querySelector("[data-outbox-age]").textContent = mine.length ? fill(text.oldest, { age: ageOf(oldest) }) : "";
    const attention = mine.filter((item) => item.state === Outbox.ATTENTION).length;
    const attentionLine = box.querySelector("[data-outbox-attention]");
    attentionLine.hidden = attention === 0;
    attentionLine.textContent = plural(text.attentionForms, attention);
    box.querySelector("[data-outbox-signin]").hidden = !(signinNeeded && mine.length);
    const other = box.querySelector("[data-outbox-other]");
    other.hidden = others === 0;
    other.textContent = text.otherPerson;
    // The lines are drawn only while "What waits" is open: after a day without signal the
    // outbox holds thousands of entries, and it is redrawn as each batch of them is sent.
    const details = box.querySelector(".outbox-details");
    const lines = details && !details.open ? [] : mine.map(itemLine);
    box.querySelector("[data-outbox-list]").replaceChildren(...lines);
  }

  // --- sending ----------------------------------------------------------------------------

  async function flushNow() {
    clearTimeout(retryTimer);
    const result = await Outbox.flush();
    signinNeeded = result.status === "signin";
    if (result.status === "retry") retryTimer = setTimeout(flushNow, result.retryIn);
    if (result.sent && (await myItems()).length === 0) {
      // The server now has everything: keep its view of this page for the next time offline.
      warm([location.pathname + location.search], true);
    }
    await render();
    return result;
  }

  function flushFresh() {
    Outbox.resetBackoff();
    return flushNow();
  }

  async function requestBackgroundSync() {
    const ready = await registration();
    if (ready && ready.sync) {
      try {
        await ready.sync.register(Outbox.SYNC_TAG);
      } catch (error) {
        // refused (no permission): the page's own triggers still send it
      }
    }
  }

  // What the pages call for each write of a shift: it waits in the outbox and goes at once when
  // the server can be reached.
  async function enqueue(item) {
    const stored = await Outbox.add({ user, ...item });
    requestBackgroundSync();
    return stored;
  }

  async function onOutboxAction(event) {
    const button = event.target.closest("[data-outbox-action]");
    if (!button) return;
    event.preventDefault();
    const seq = Number(button.dataset.seq);
    const item = (await Outbox.all()).find((candidate) => candidate.seq === seq);
    if (!item) return;
    if (button.dataset.outboxAction === "discard") {
      if (!confirm(text.discardConfirm)) return;
      await Outbox.discard(seq);
      for (const hook of discardHooks) hook(item);
    } else {
      await Outbox.retry(seq);
      flushFresh();
    }
  }

  // --- sign-out ---------------------------------------------------------------------------

  async function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const action = new URL(form.action || location.href, location.href).pathname;
    if (action === text.signoutUrl && !form.dataset.confirmed) {
      event.preventDefault();
      event.stopImmediatePropagation();
      const waiting = (await myItems()).length;
      // Nothing is dropped: what waits stays on the phone for this person's next sign-in.
      const warning = plural(text.signoutForms, waiting);
      if (waiting && !confirm(warning)) return;
      await forgetKeptPages();
      form.dataset.confirmed = "1";
      form.submit();
      return;
    }
  }

  // "Start shadowing" is a plain link: opening the screen starts nothing. A session with this
  // agent started on the phone and not on the server yet is continued, not started twice; with
  // no signal the phone names the new session, so that its screen opens from the cache at once.
  async function onStartClick(event) {
    const start = event.target.closest ? event.target.closest("a[data-shadow-url]") : null;
    if (!start || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const open = (await sessionsOnThePhone()).find((s) => s.agentId === Number(start.dataset.agentId));
    if (open) location.assign(open.url);
    else if (navigator.onLine === false) location.assign(shadowUrl(start.dataset.shadowUrl, Outbox.newUuid()));
    else location.assign(start.href);
  }

  function shadowUrl(page, session) {
    const url = new URL(page, location.href);
    url.searchParams.set("session", session);
    return url.href;
  }

  // Sessions started on this phone whose start has not reached the server, and not ended.
  async function sessionsOnThePhone() {
    const items = await myItems();
    const ended = new Set(items.filter((item) => item.type === "end").map((item) => item.session));
    return items
      .filter((item) => item.type === "start" && !ended.has(item.session) && item.page)
      .map((item) => ({
        agentId: item.body.agent_id,
        name: item.agentName,
        url: shadowUrl(item.page, item.session),
      }));
  }

  async function listSessionsOnThePhone() {
    const section = document.querySelector("[data-local-sessions]");
    if (!section) return;
    const sessions = await sessionsOnThePhone();
    section.hidden = sessions.length === 0;
    section.querySelector("[data-local-session-list]").replaceChildren(
      ...sessions.map((session) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.className = "button primary wide";
        link.href = session.url;
        link.textContent = fill(section.dataset.continue, { name: session.name || "" });
        item.append(link);
        return item;
      }),
    );
  }

  // A link htmx could not fetch (no signal) opens as a page: the worker may have it.
  function onSendError(event) {
    const element = event.detail && event.detail.elt;
    const href = element && element.getAttribute && element.getAttribute("href");
    if (href && href !== "#" && (element.getAttribute("hx-get") || "") !== "") location.assign(href);
  }

  // --- iPhone: installed, the storage stays --------------------------------------------------

  function showHomeScreenHint() {
    const hint = shell.querySelector("[data-ios-hint]");
    const agent = navigator.userAgent;
    const iOS = /iPhone|iPad|iPod/.test(agent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    const safari = /Safari/.test(agent) && !/CriOS|FxiOS|EdgiOS|OPiOS/.test(agent);
    const standalone = navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
    let dismissed = false;
    try {
      dismissed = localStorage.getItem(HINT_KEY) === "1";
    } catch (error) {
      dismissed = false;
    }
    hint.hidden = !(iOS && safari && !standalone && !dismissed);
    shell.querySelector("[data-dismiss-hint]").addEventListener("click", () => {
      hint.hidden = true;
      try {
        localStorage.setItem(HINT_KEY, "1");
      } catch (error) {
        // shown again next time
      }
    });
  }

  async function askToKeepStorage() {
    if (!user || !navigator.storage || !navigator.storage.persist) return;
    try {
      if (!(await navigator.storage.persisted())) await navigator.storage.persist();
    } catch (error) {
      // not granted: installing to the home screen is the other way
    }
  }

  // `draw` at most once per burst of calls, 150 ms after the first, and never more than a third
  // of the time: after a day without signal the outbox holds thousands of entries, every redraw
  // reads all of them, and redrawing back to back would leave the main thread no time to send.
  function paced(draw) {
    let waiting = null;
    let lastTook = 0;
    return () => {
      waiting =
        waiting ||
        setTimeout(async () => {
          waiting = null; // a change during the draw asks for the next one
          const started = performance.now();
          try {
            await draw();
          } finally {
            lastTook = performance.now() - started;
          }
        }, Math.max(150, 2 * lastTook));
    };
  }

  // --- wiring -------------------------------------------------------------------------------

  self.CoachappOffline = {
    paced,
    user,
    text,
    fill,
    apiUrl,
    enqueue,
    flushNow,
    render,
    warm,
    onDiscard: (hook) => discardHooks.push(hook),
  };

  document.addEventListener("submit", onSubmit, true);
  document.addEventListener("click", onOutboxAction);
  document.addEventListener("click", onStartClick);
  document.addEventListener("htmx:sendError", onSendError);
  shell.querySelector("[data-sync-now]").addEventListener("click", flushFresh);
  window.addEventListener("online", flushFresh);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flushNow();
  });
  // While a long outbox drains, items go by the hundred: draw the badge a few times a second.
  const redrawSoon = paced(async () => {
    await render();
    await listSessionsOnThePhone();
  });
  Outbox.onChange((event) => {
    if (event.type === "status") signinNeeded = event.status === "signin";
    redrawSoon();
  });
  setInterval(render, 30000);
  const details = shell.querySelector("[data-outbox] .outbox-details");
  if (details) details.addEventListener("toggle", render);

  showHomeScreenHint();
  render();
  listSessionsOnThePhone();
  askToKeepStorage();
  registration().then(() => {
    if (user) warm(shiftPages());
  });
  flushNow();
})();
