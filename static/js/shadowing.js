// The shift's writes, online and offline alike: every entry, change, removal, outcome, start and
// end goes into the outbox with a UUID made here, shows on the page at once, and is sent when the
// server can be reached. What the server already has comes in the page's HTML; what waits on the
// phone is drawn beside it from the outbox, from the <template>s of _offline_templates.html.
"use strict";

// The capture screen itself, with or without the outbox (htmx alone, or plain forms): the Note
// toggle, the note's label for an obstacle, the confirmation that goes away by itself, a refusal
// brought into view, and the list's count after an htmx save.
const CaptureScreen = (function () {
  const CONFIRM_MS = 5000;
  let confirmTimer = null;
  let confirmHeld = false;

  function form() {
    return document.querySelector("[data-capture-form]");
  }

  function noteFields(of) {
    return of ? of.querySelector("[data-note-fields]") : null;
  }

  function chosenKind(of) {
    const kind = of && of.querySelector('input[name="kind"]:checked');
    return kind ? kind.value : "";
  }

  function setNoteOpen(of, open, focus) {
    const fields = noteFields(of);
    const toggle = of && of.querySelector("[data-note-toggle]");
    if (!fields || !toggle) return;
    fields.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open && focus) of.elements.note.focus();
  }

  // An obstacle needs its note: the label says so, and the field opens.
  function showKind(of) {
    const label = of && of.querySelector("[data-note-label]");
    if (!label) return;
    const obstacle = chosenKind(of) === "obstacle";
    label.textContent = obstacle ? label.dataset.needed : label.dataset.optional;
    of.elements.note.toggleAttribute("aria-required", obstacle);
    if (obstacle) setNoteOpen(of, true, false);
  }

  // Without this script the note fields simply stay open under the kinds.
  function prepare(of) {
    if (!of || of.dataset.prepared) return;
    of.dataset.prepared = "1";
    const toggle = of.querySelector("[data-note-toggle]");
    if (toggle) toggle.hidden = false;
    setNoteOpen(of, "noteOpen" in of.dataset, false);
    showKind(of);
    const error = of.querySelector("[data-field-error], [data-local-error]");
    if (error) bringIntoView(of, error);
  }

  function bringIntoView(of, error) {
    const field = error.previousElementSibling;
    if (field && field.matches("textarea")) {
      setNoteOpen(of, true, false);
      field.focus({ preventScroll: true });
    }
    const reduce = matchMedia("(prefers-reduced-motion: reduce)").matches;
    error.scrollIntoView({ block: "center", behavior: reduce ? "auto" : "smooth" });
  }

  // After a save the note fields fold away again (an obstacle's stays open) for the next chip.
  function afterSave(of) {
    of.elements.note.value = "";
    of.elements.coached.value = "";
    for (const old of of.querySelectorAll("[data-local-error], [data-field-error]")) old.remove();
    of.elements.note.removeAttribute("aria-invalid");
    setNoteOpen(of, chosenKind(of) === "obstacle", false);
    showKind(of);
  }

  function slot() {
    return document.querySelector("[data-confirm]");
  }

  function clearConfirm() {
    const area = slot();
    clearTimeout(confirmTimer);
    confirmTimer = null;
    if (!area || !area.querySelector(".confirm, .confirm-text")) return;
    // Focus inside would be lost with the buttons: give it back to the form's kinds.
    if (area.contains(document.activeElement)) {
      const kind = form() && form().querySelector('input[name="kind"]:checked, input[name="kind"]');
      if (kind) kind.focus({ preventScroll: true });
    }
    const hint = document.createElement("span");
    hint.className = "confirm-hint";
    hint.textContent = area.dataset.hint || "";
    area.replaceChildren(hint);
  }

  // About five seconds, and never while a finger or the focus is on its buttons.
  function armConfirm() {
    clearTimeout(confirmTimer);
    confirmTimer = null;
    const area = slot();
    if (!area || !area.querySelector(".confirm, .confirm-text") || confirmHeld) return;
    confirmTimer = setTimeout(clearConfirm, CONFIRM_MS);
  }

  function hold(held) {
    confirmHeld = held;
    if (held) {
      clearTimeout(confirmTimer);
      confirmTimer = null;
    } else {
      armConfirm();
    }
  }

  function watchConfirm() {
    const area = slot();
    if (!area || area.dataset.watched) return;
    area.dataset.watched = "1";
    new MutationObserver(armConfirm).observe(area, { childList: true });
    area.addEventListener("focusin", () => hold(true));
    area.addEventListener("focusout", (event) => {
      if (!area.contains(event.relatedTarget)) hold(false);
    });
    area.addEventListener("pointerenter", (event) => {
      if (event.pointerType === "mouse") hold(true);
    });
    area.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") hold(false);
    });
    armConfirm();
  }

  function countEntries() {
    const list = document.querySelector("[data-entry-list]");
    const count = document.querySelector("[data-entry-count]");
    if (!list || !count) return;
    const entries = list.querySelectorAll("li[data-observation]").length;
    count.textContent = String(entries);
    const empty = list.querySelector("[data-empty]");
    if (empty) empty.hidden = entries > 0;
  }

  // Only the entry just saved says Undo and Add a note; the earlier ones go back to Fix, Remove.
  function onlyLatestJustSaved(words) {
    const list = document.querySelector("[data-entry-list]");
    if (!list) return;
    const saved = list.querySelectorAll("li.just-saved");
    for (const older of Array.from(saved).slice(1)) {
      older.classList.remove("just-saved");
      const fix = older.querySelector('[data-action="fix"]');
      if (fix && words.fix) fix.textContent = words.fix;
      const remove = older.querySelector('form[data-action="remove"] button, [data-action="remove"]');
      if (remove && words.remove) remove.textContent = words.remove;
    }
  }

  function words() {
    const texts = document.querySelector("[data-capture-texts]");
    return texts ? texts.dataset : {};
  }

  function start() {
    prepare(form());
    watchConfirm();
    document.addEventListener("click", (event) => {
      const toggle = event.target.closest("[data-note-toggle]");
      if (!toggle) return;
      const of = toggle.closest("form");
      setNoteOpen(of, toggle.getAttribute("aria-expanded") !== "true", true);
    });
    document.addEventListener("change", (event) => {
      if (event.target.matches && event.target.matches('[data-capture-form] input[name="kind"]')) {
        showKind(event.target.form);
      }
    });
    document.addEventListener("htmx:afterRequest", (event) => {
      const source = event.detail && event.detail.elt;
      const xhr = event.detail && event.detail.xhr;
      if (source && source.matches && source.matches("[data-capture-form]") && xhr && xhr.status < 300) {
        afterSave(source);
      }
    });
    document.addEventListener("htmx:afterSettle", () => {
      prepare(form());
      watchConfirm();
      onlyLatestJustSaved(words());
      countEntries();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  return { afterSave, bringIntoView, setNoteOpen, countEntries };
})();

(function () {
  const Outbox = self.CoachappOutbox;
  const Offline = self.CoachappOffline;
  if (!Outbox || !Offline) return;

  const { fill, text } = Offline;
  const root = document.getElementById("shadowing");
  const words = (root && root.querySelector("[data-capture-texts]")) ? root.querySelector("[data-capture-texts]").dataset : {};
  const sent = new Set();
  // `sessions`: every name this screen's session goes by on the phone (the server's, and one the
  // phone gave it before it knew, which the server's start answers with an alias).
  const page = { session: "", known: false, agentId: 0, sessions: new Set() };
  let lastSave = { key: "", at: 0 };

  function mine(items) {
    return items.filter((item) => item.user === Offline.user);
  }

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  function clone(id) {
    const template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  // Labels and ids of a cloned form must be unique on the page.
  function uniqueIds(element, suffix) {
    for (const control of element.querySelectorAll("[id]")) control.id = `${control.id}-${suffix}`;
    for (const label of element.querySelectorAll("label[for]")) label.htmlFor = `${label.htmlFor}-${suffix}`;
  }

  // --- check cards (Today, a follow-up, the shadowing screen) ---------------------------------

  function card(followupId) {
    return document.getElementById(`check-${followupId}`);
  }

  function showOutcome(item) {
    const target = card(item.target);
    if (!target || target.querySelector("[data-local-outcome]")) return;
    const form = target.querySelector("form");
    if (form) form.hidden = true;
    const result = document.createElement("div");
    result.dataset.localOutcome = item.id;
    const recorded = document.createElement("p");
    recorded.className = "check-result";
    recorded.setAttribute("role", "status");
    recorded.textContent = fill(text.recorded, { outcome: item.display || item.body.outcome });
    const status = document.createElement("p");
    status.className = "entry-status";
    status.dataset.field = "status";
    result.append(recorded, status);
    target.append(result);
  }

  function forgetOutcome(item) {
    const target = card(item.target);
    const result = target && target.querySelector(`[data-local-outcome="${item.id}"]`);
    if (!result) return;
    result.remove();
    const form = target.querySelector("form");
    if (form) form.hidden = false;
  }

  async function onCheckSubmit(event) {
    const form = event.target;
    const check = form.closest("article.check");
    const outcome = event.submitter;
    if (!check || !outcome || outcome.name !== "outcome") return;
    stop(event);
    const followupId = check.id.replace("check-", "");
    const body = {
      // Always a new UUID: a page kept on the phone may show a check whose form was used before.
      client_uuid: Outbox.newUuid(),
      outcome: outcome.value,
      note: (form.elements.note ? form.elements.note.value : "").trim(),
      coached: (form.elements.coached ? form.elements.coached.value : "").trim(),
      occurred_at: new Date().toISOString(),
    };
    const item = await Offline.enqueue({
      type: "outcome",
      method: "POST",
      url: Offline.apiUrl("apiOutcome", followupId),
      body,
      target: followupId,
      display: outcome.textContent.trim(),
      label: fill(text.labelOutcome, { outcome: outcome.textContent.trim() }),
    });
    showOutcome(item);
    await reconcile();
    Offline.flushNow();
  }

  // Once the server has it, the server's card says what comes next (the next check's date).
  function refreshCard(item) {
    const target = card(item.target);
    const url = item.answer && item.answer.followup ? item.answer.followup.url : null;
    if (target && url && self.htmx) self.htmx.ajax("GET", url, { target, swap: "outerHTML" });
  }

  // --- entries ------------------------------------------------------------------------------

  function list() {
    return root.querySelector("[data-entry-list]");
  }

  // The kind's own name, without the "selected" its label also holds for the chosen one (a
  // selector list would match the label first: querySelector goes by document order).
  function kindLabel(kind) {
    const label = root.querySelector(`label[for="kind-${kind}"]`);
    const name = label && (label.querySelector(".kind-name") || label);
    return name ? name.textContent.trim() : kind;
  }

  function behaviourName(id) {
    if (!id) return "";
    const chip = root.querySelector(`.capture-form button.chip[value="${id}"]`);
    return chip ? chip.textContent.trim() : "";
  }

  function clockTime(iso) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: root.dataset.timezone || undefined };
    try {
      return new Intl.DateTimeFormat(document.documentElement.dataset.locale || document.documentElement.lang || undefined, options).format(new Date(iso));
    } catch (error) {
      return new Date(iso).toTimeString().slice(0, 5);
    }
  }

  function entryValues(li) {
    const field = (name) => {
      const element = li.querySelector(`[data-field="${name}"]`);
      return element && !element.hidden ? element.textContent : "";
    };
    return {
      client_uuid: li.dataset.observation,
      kind: li.dataset.kind,
      behaviour_id: li.dataset.behaviourId ? Number(li.dataset.behaviourId) : null,
      note: field("note"),
      coached: field("coached"),
      occurred_at: li.dataset.occurredAt,
    };
  }

  function drawEntry(entry) {
    const li = clone("entry-template");
    li.classList.add(`entry-${entry.kind}`);
    li.dataset.observation = entry.client_uuid;
    li.dataset.kind = entry.kind;
    li.dataset.behaviourId = entry.behaviour_id || "";
    li.dataset.occurredAt = entry.occurred_at;
    li.dataset.local = "1";
    const badge = li.querySelector(".badge");
    badge.classList.add(`badge-${entry.kind}`);
    badge.textContent = kindLabel(entry.kind);
    const behaviour = li.querySelector('[data-field="behaviour"]');
    behaviour.textContent = behaviourName(entry.behaviour_id);
    if (!behaviour.textContent) behaviour.remove();
    const time = li.querySelector("time");
    time.dateTime = entry.occurred_at;
    time.textContent = clockTime(entry.occurred_at);
    const note = li.querySelector('[data-field="note"]');
    note.textContent = entry.note || "";
    note.hidden = !entry.note;
    const coached = entry.kind === "correction" ? entry.coached || "" : "";
    li.querySelector('[data-field="coached"]').textContent = coached;
    li.querySelector(".entry-coached").hidden = !coached;
    li.querySelector('[data-action="fix"]').textContent = words.fix;
    li.querySelector('[data-action="remove"]').textContent = words.remove;
    return li;
  }

  function countEntries() {
    const entries = list().querySelectorAll("li[data-observation]").length;
    root.querySelector("[data-entry-count]").textContent = String(entries);
    const empty = list().querySelector("[data-empty]");
    if (empty) empty.hidden = entries > 0;
  }

  function entryFor(uuid) {
    return list().querySelector(`li[data-observation="${uuid}"]`);
  }

  function markJustSaved(li) {
    for (const other of list().querySelectorAll("li.just-saved")) {
      other.classList.remove("just-saved");
      const fix = other.querySelector('[data-action="fix"]');
      if (fix) fix.textContent = words.fix;
      const remove = other.querySelector('[data-action="remove"], form[data-action="remove"] button');
      if (remove) remove.textContent = words.remove;
    }
    li.classList.add("just-saved");
    const values = entryValues(li);
    li.querySelector('[data-action="fix"]').textContent = values.note ? words.fix : words.addNote;
    li.querySelector('[data-action="remove"]').textContent = words.undo;
  }

  // The confirmation goes in its own line of the form (a live region that is always there).
  function confirm(content) {
    const area = root.querySelector("[data-confirm]");
    if (area) area.replaceChildren(content);
  }

  function savedWords(kind) {
    return { strength: words.savedStrength, correction: words.savedCorrection, obstacle: words.savedObstacle }[kind] || "";
  }

  function savedConfirm(entry) {
    const bar = clone("confirm-template");
    bar.querySelector('[data-field="saved"]').textContent = savedWords(entry.kind);
    const name = behaviourName(entry.behaviour_id);
    bar.querySelector('[data-field="behaviour"]').textContent = name ? `: ${name}` : "";
    const fix = bar.querySelector('[data-action="fix"]');
    fix.textContent = entry.note ? words.fix : words.addNote;
    fix.dataset.target = entry.client_uuid;
    bar.querySelector('[data-action="undo"]').dataset.target = entry.client_uuid;
    confirm(bar);
  }

  function undoneConfirm() {
    const message = document.createElement("p");
    message.className = "confirm-text";
    message.textContent = words.undone;
    confirm(message);
  }

  // --- what the form checks before anything leaves the phone --------------------------------

  function problemWith(values) {
    if (!values.kind) return { field: "kind", message: words.kindMissing };
    if (values.kind === "obstacle" && !values.note) return { field: "note", message: words.obstacleNeedsNote };
    if (!values.note && !values.behaviour_id) return { field: "note", message: words.behaviourOrNote };
    return null;
  }

  function showProblem(form, problem) {
    for (const old of form.querySelectorAll("[data-local-error]")) old.remove();
    if (!problem) return;
    const error = document.createElement("p");
    error.className = "field-error";
    error.setAttribute("role", "alert");
    error.dataset.localError = "";
    error.textContent = problem.message;
    const anchor = problem.field === "kind" ? form.querySelector("fieldset") : form.querySelector('textarea[name="note"]');
    anchor.after(error);
    if (problem.field === "note" && form.matches("[data-capture-form]")) CaptureScreen.bringIntoView(form, error);
  }

  function formValues(form, behaviourId) {
    const kind = form.querySelector('input[name="kind"]:checked');
    const values = {
      kind: kind ? kind.value : "",
      behaviour_id: behaviourId ? Number(behaviourId) : null,
      note: form.elements.note.value.trim(),
      coached: form.elements.coached.value.trim(),
    };
    if (values.kind !== "correction") values.coached = "";
    return values;
  }

  function entryLabel(entry) {
    const what = behaviourName(entry.behaviour_id) || (entry.note || "").slice(0, 40);
    return `${kindLabel(entry.kind)} · ${what} · ${root.dataset.agentName}`;
  }

  // --- the writes ---------------------------------------------------------------------------

  async function ensureStarted(items) {
    if (page.known || items.some((item) => item.type === "start" && item.session === page.session)) return;
    await Offline.enqueue({
      type: "start",
      method: "POST",
      url: Offline.apiUrl("apiStart"),
      body: { client_uuid: page.session, agent_id: page.agentId, started_at: new Date().toISOString() },
      session: page.session,
      target: page.session,
      page: root.dataset.pageUrl,
      agentName: root.dataset.agentName,
      label: fill(text.labelStart, { name: root.dataset.agentName }),
    });
  }

  async function onCaptureSubmit(event) {
    stop(event);
    const form = event.target;
    const chip = event.submitter && event.submitter.name === "behaviour_id" ? event.submitter.value : "";
    const values = formValues(form, chip);
    const problem = problemWith(values);
    showProblem(form, problem);
    if (problem) return;
    // A double tap saves once.
    const key = JSON.stringify(values);
    if (key === lastSave.key && Date.now() - lastSave.at < 1000) return;
    lastSave = { key, at: Date.now() };
    const entry = { client_uuid: Outbox.newUuid(), ...values, occurred_at: new Date().toISOString() };
    const li = drawEntry(entry);
    list().prepend(li);
    markJustSaved(li);
    countEntries();
    savedConfirm(entry);
    // The kind stays chosen: the next strength is one tap.
    CaptureScreen.afterSave(form);
    // The first entry starts the session (offline too): merely opening the screen starts nothing.
    const waiting = mine(await Outbox.all());
    await ensureStarted(waiting);
    runClock(mine(await Outbox.all()));
    await Offline.enqueue({
      type: "observe",
      method: "POST",
      url: Offline.apiUrl("apiObservations", page.session),
      body: entry,
      session: page.session,
      target: entry.client_uuid,
      label: entryLabel(entry),
    });
    await reconcile();
    Offline.flushNow();
  }

  function openEditor(li) {
    const values = entryValues(li);
    const editor = clone("entry-editor-template");
    uniqueIds(editor, values.client_uuid);
    editor.dataset.editing = values.client_uuid;
    const form = editor.querySelector("form");
    for (const radio of form.querySelectorAll('input[name="kind"]')) radio.checked = radio.value === values.kind;
    form.elements.behaviour_id.value = values.behaviour_id ? String(values.behaviour_id) : "";
    form.elements.note.value = values.note;
    form.elements.coached.value = values.coached;
    editor.original = li;
    li.replaceWith(editor);
    form.elements.note.focus();
  }

  async function onEditorSubmit(event) {
    stop(event);
    const form = event.target;
    const editor = form.closest("li");
    const before = entryValues(editor.original);
    const values = formValues(form, form.elements.behaviour_id.value);
    const problem = problemWith(values);
    showProblem(form, problem);
    if (problem) return;
    const entry = { ...before, ...values };
    const li = drawEntry(entry);
    editor.replaceWith(li);
    const items = mine(await Outbox.all());
    const refused = items.find((item) => item.type === "observe" && item.target === entry.client_uuid && item.state === Outbox.ATTENTION);
    if (refused) {
      // It never reached the server: fix the entry itself, dated now if its time was refused.
      const occurred = Date.parse(refused.body.occurred_at) > Date.now() ? new Date().toISOString() : refused.body.occurred_at;
      await Outbox.retry(refused.seq, { ...refused.body, ...values, occurred_at: occurred });
    } else {
      await Offline.enqueue({
        type: "edit",
        method: "PUT",
        url: Offline.apiUrl("apiObservation", entry.client_uuid),
        body: values,
        session: page.session,
        target: entry.client_uuid,
        label: `${text.labelChange} · ${entryLabel(entry)}`,
      });
    }
    await reconcile();
    Offline.flushNow();
  }

  async function removeEntry(li, undo) {
    const uuid = li.dataset.observation;
    li.remove();
    countEntries();
    if (undo) undoneConfirm();
    const items = mine(await Outbox.all());
    const refused = items.find((item) => item.type === "observe" && item.target === uuid && item.state === Outbox.ATTENTION);
    if (refused) {
      await Outbox.discard(refused.seq); // it never reached the server
    } else {
      await Offline.enqueue({
        type: "remove",
        method: "DELETE",
        url: Offline.apiUrl("apiObservation", uuid),
        session: page.session,
        target: uuid,
        label: text.labelRemove,
      });
    }
    await reconcile();
    Offline.flushNow();
  }

  async function onEndSubmit(event) {
    stop(event);
    const started = mine(await Outbox.all()).some((item) => item.type === "start" && item.session === page.session);
    if (!page.known && !started) {
      // Nothing was logged: there is no session to end.
      location.assign(root.dataset.todayUrl);
      return;
    }
    const summary = event.target.elements.summary_note.value.trim();
    await Offline.enqueue({
      type: "end",
      method: "POST",
      url: Offline.apiUrl("apiEnd", page.session),
      body: { summary_note: summary, ended_at: new Date().toISOString() },
      session: page.session,
      target: page.session,
      label: fill(text.labelEnd, { name: root.dataset.agentName }),
    });
    showEnded();
    await reconcile();
    Offline.flushNow();
  }

  function showEnded() {
    root.classList.add("is-ended");
    root.querySelector("[data-session-ended]").hidden = false;
    root.querySelector("[data-capture-form]").hidden = true;
    root.querySelector("[data-end-section]").hidden = true;
  }

  // --- what waits, drawn on the page ----------------------------------------------------------

  function setStatus(element, item, waitingWords) {
    let status = element.querySelector('[data-field="status"]');
    if (!item) {
      if (status) status.hidden = true;
      return;
    }
    if (!status) {
      status = document.createElement("p");
      status.className = "entry-status";
      status.dataset.field = "status";
      const actions = element.querySelector(".entry-actions");
      if (actions) actions.before(status);
      else element.append(status);
    }
    status.hidden = false;
    status.classList.toggle("needs-attention", item.state === Outbox.ATTENTION);
    if (item.state === Outbox.ATTENTION) {
      status.replaceChildren(fill(text.attention, { reason: item.message }), " ");
      for (const [action, label] of [["retry", text.tryAgain], ["discard", text.discard]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button small quiet";
        button.dataset.outboxAction = action;
        button.dataset.seq = String(item.seq);
        button.textContent = label;
        status.append(button, " ");
      }
    } else {
      status.textContent = waitingWords;
    }
  }

  function drawWaiting(items) {
    const session = items.filter((item) => page.sessions.has(item.session));
    for (const item of session) {
      if (item.type === "observe" && !entryFor(item.target)) {
        list().prepend(drawEntry(item.body));
      } else if (item.type === "edit" && entryFor(item.target)) {
        const li = entryFor(item.target);
        li.replaceWith(drawEntry({ ...entryValues(li), ...item.body }));
      } else if (item.type === "remove" && entryFor(item.target)) {
        entryFor(item.target).remove();
      } else if (item.type === "end") {
        showEnded();
      }
    }
    countEntries();
  }

  async function reconcile() {
    const items = mine(await Outbox.all());
    for (const item of items.filter((candidate) => candidate.type === "outcome")) showOutcome(item);
    for (const result of document.querySelectorAll("[data-local-outcome]")) {
      const item = items.find((candidate) => candidate.id === result.dataset.localOutcome);
      setStatus(result, item, text.waiting);
    }
    if (!root) return;
    // Grouped once: a long outbox (thousands of entries after a day without signal) is read
    // again every time one of them is sent, and a search per entry made that quadratic.
    const byTarget = new Map();
    for (const item of items) {
      if (!byTarget.has(item.target)) byTarget.set(item.target, []);
      byTarget.get(item.target).push(item);
    }
    for (const li of list().querySelectorAll("li[data-observation]")) {
      const related = byTarget.get(li.dataset.observation) || [];
      const refused = related.find((item) => item.state === Outbox.ATTENTION);
      const adding = related.find((item) => item.type === "observe");
      const changing = related.find((item) => item.type === "edit");
      setStatus(li, refused || adding || changing, changing && !adding ? words.changeWaiting : text.waiting);
    }
  }

  function onSent(event) {
    const { item, answer, alias } = event;
    sent.add(item.id);
    if (item.type === "outcome") refreshCard({ ...item, answer });
    if (!root || !page.sessions.has(item.session)) return;
    if (item.type === "start") {
      page.known = true;
      if (alias) adoptSession(alias);
    }
    keepPagesFresh(item);
    if (item.type === "end" && answer.session && answer.session.url) location.assign(answer.session.url);
  }

  // The page itself is kept fresh by offline.js once the outbox is empty; the other address of
  // this screen (by the agent, or by the session) is fetched again when the manager leaves it, so
  // that offline it shows every entry too: once a visit, not once a save.
  let keptStale = false;
  function keepPagesFresh(item) {
    if (item.type !== "end") keptStale = true;
  }

  function refreshOtherPage() {
    if (!keptStale || !Offline.warm) return;
    keptStale = false;
    const here = location.pathname;
    const urls = [root.dataset.pageUrl, root.dataset.sessionUrl].filter((url) => url && url !== here);
    if (urls.length) Offline.warm(urls, true);
  }

  function adoptSession(uuid) {
    page.session = uuid;
    page.sessions.add(uuid);
    root.dataset.sessionUuid = uuid;
    const url = new URL(location.href);
    url.searchParams.set("session", uuid);
    history.replaceState(history.state, "", url.href);
  }

  function onDiscard(item) {
    if (item.type === "outcome") forgetOutcome(item);
    if (root && item.type === "observe" && entryFor(item.target)) {
      entryFor(item.target).remove();
      countEntries();
    }
    reconcile();
  }

  // --- clicks and submits --------------------------------------------------------------------

  function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.closest("article.check")) return onCheckSubmit(event);
    if (!root || !root.contains(form)) return;
    if (form.matches("[data-capture-form]")) return onCaptureSubmit(event);
    if (form.matches("[data-entry-editor]")) return onEditorSubmit(event);
    if (form.matches("[data-end-session]")) return onEndSubmit(event);
    if (form.matches('form[data-action="remove"]')) {
      stop(event);
      const li = form.closest("li");
      return removeEntry(li, li.classList.contains("just-saved"));
    }
  }

  function onClick(event) {
    if (!root) return;
    const control = event.target.closest("[data-action]");
    if (!control || !root.contains(control) || control.tagName === "FORM") return;
    const action = control.dataset.action;
    if (action === "fix") {
      stop(event);
      const li = control.dataset.target ? entryFor(control.dataset.target) : control.closest("li");
      if (li) openEditor(li);
    } else if (action === "remove" || action === "undo") {
      stop(event);
      const li = control.dataset.target ? entryFor(control.dataset.target) : control.closest("li");
      if (li) removeEntry(li, action === "undo" || li.classList.contains("just-saved"));
    } else if (action === "cancel") {
      stop(event);
      const editor = control.closest("li");
      editor.replaceWith(editor.original);
    }
  }

  // --- the session this page is for ------------------------------------------------------------

  // The address names the session; a page kept on the phone may have been made for another one
  // (or for none). The server shows the open session with this agent whatever name the phone
  // used: that is the session, and its entries stay. Only a page made for another, ended or
  // unknown session is emptied down to what waits on the phone.
  function whichSession(items) {
    const named = new URLSearchParams(location.search).get("session");
    const rendered = root.dataset.sessionUuid;
    page.agentId = Number(root.dataset.agentId);
    const startedHere = (uuid) => items.some((item) => item.type === "start" && item.session === uuid);
    if (rendered) {
      page.sessions.add(rendered);
      page.known = true;
      if (named && named !== rendered && startedHere(named)) {
        // Started on this phone while the server had this one open: the start will be answered
        // with the server's session; until then new entries follow the phone's start.
        page.sessions.add(named);
        page.session = named;
      } else if (named !== rendered) {
        adoptSession(rendered); // the address now names the session it shows
      } else {
        page.session = rendered;
      }
    } else if (named) {
      page.session = named;
      page.sessions.add(named);
      page.known = false;
    } else {
      adoptSession(Outbox.newUuid());
      page.known = false;
    }
    root.dataset.sessionUuid = page.session;
  }

  // The header says whom and since when, once the session exists (here or on the server).
  function runClock(items) {
    const line = root.querySelector("[data-session-since]");
    if (!line || page.known || line.dataset.startedAt) return;
    const start = items.find((item) => item.type === "start" && page.sessions.has(item.session));
    if (!start) return;
    line.dataset.startedAt = start.body.started_at;
    line.textContent = fill(words.since, { time: clockTime(start.body.started_at) });
  }

  async function start() {
    document.addEventListener("submit", onSubmit, true);
    document.addEventListener("click", onClick, true);
    Offline.onDiscard(onDiscard);
    const redraw = Offline.paced(reconcile);
    Outbox.onChange((event) => {
      if (event.type === "sent") onSent(event);
      redraw();
    });
    if (root) {
      addEventListener("pagehide", refreshOtherPage);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") refreshOtherPage();
      });
      const items = mine(await Outbox.all());
      whichSession(items);
      runClock(items);
      drawWaiting(items);
    }
    await reconcile();
  }

  start();
})();
