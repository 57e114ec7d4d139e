// The shift's writes, online and offline alike: every entry, change, removal, outcome, start and
// end goes into the outbox with a UUID made here, shows on the page at once, and is sent when the
// server can be reached. What the server already has comes in the page's HTML; what waits on the
// phone is drawn beside it from the outbox, from the <template>s of _offline_templates.html.
"use strict";

(function () {
  const Outbox = self.CoachappOutbox;
  const Offline = self.CoachappOffline;
  if (!Outbox || !Offline) return;

  const { fill, text } = Offline;
  const root = document.getElementById("shadowing");
  const words = (root && root.querySelector("[data-capture-texts]")) ? root.querySelector("[data-capture-texts]").dataset : {};
  const sent = new Set();
  const page = { session: "", known: false, agentId: 0 };
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

  function kindLabel(kind) {
    const label = root.querySelector(`label[for="kind-${kind}"]`);
    return label ? label.textContent.trim() : kind;
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

  function snackbar(content) {
    const form = root.querySelector("[data-capture-form]");
    for (const old of form.querySelectorAll(".snackbar")) old.remove();
    if (content) form.append(content);
  }

  function savedSnackbar(entry) {
    const bar = clone("snackbar-template");
    const badge = bar.querySelector(".badge");
    badge.classList.add(`badge-${entry.kind}`);
    badge.textContent = kindLabel(entry.kind);
    const name = behaviourName(entry.behaviour_id);
    bar.querySelector('[data-field="saved"]').textContent = name ? fill(words.savedBehaviour, { behaviour: name }) : words.saved;
    const fix = bar.querySelector('[data-action="fix"]');
    fix.textContent = entry.note ? words.fix : words.addNote;
    fix.dataset.target = entry.client_uuid;
    bar.querySelector('[data-action="undo"]').dataset.target = entry.client_uuid;
    snackbar(bar);
  }

  function undoneSnackbar() {
    const bar = document.createElement("div");
    bar.className = "snackbar";
    bar.setAttribute("role", "status");
    const message = document.createElement("span");
    message.textContent = words.undone;
    bar.append(message);
    snackbar(bar);
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
    savedSnackbar(entry);
    form.reset();
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
    if (undo) undoneSnackbar();
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
    const session = items.filter((item) => item.session === page.session);
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
    for (const li of list().querySelectorAll("li[data-observation]")) {
      const related = items.filter((item) => item.target === li.dataset.observation);
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
    if (!root || item.session !== page.session) return;
    if (item.type === "start") {
      page.known = true;
      if (alias) adoptSession(alias);
    }
    if (item.type === "end" && answer.session && answer.session.url) location.assign(answer.session.url);
  }

  function adoptSession(uuid) {
    page.session = uuid;
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
  // (or for none), and then only what waits on the phone is shown.
  function whichSession() {
    const named = new URLSearchParams(location.search).get("session");
    const rendered = root.dataset.sessionUuid;
    page.agentId = Number(root.dataset.agentId);
    if (named && named !== rendered) {
      for (const li of list().querySelectorAll("li[data-observation]")) li.remove();
      page.session = named;
      page.known = false;
    } else if (rendered) {
      page.session = rendered;
      page.known = true;
    } else {
      adoptSession(Outbox.newUuid());
      page.known = false;
    }
    root.dataset.sessionUuid = page.session;
  }

  function runClock(items) {
    const clock = root.querySelector("[data-session-clock]");
    if (clock.dataset.runningSince) return;
    const start = items.find((item) => item.type === "start" && item.session === page.session);
    const since = start ? start.body.started_at : new Date().toISOString();
    clock.dateTime = since;
    clock.dataset.runningSince = since;
    clock.textContent = fill(words.since, { time: clockTime(since) });
  }

  async function start() {
    document.addEventListener("submit", onSubmit, true);
    document.addEventListener("click", onClick, true);
    Offline.onDiscard(onDiscard);
    let reconciling = null;
    Outbox.onChange((event) => {
      if (event.type === "sent") onSent(event);
      reconciling =
        reconciling ||
        setTimeout(() => {
          reconciling = null;
          reconcile();
        }, 150);
    });
    if (root) {
      whichSession();
      const items = mine(await Outbox.all());
      await ensureStarted(items);
      runClock(mine(await Outbox.all()));
      drawWaiting(items);
    }
    await reconcile();
  }

  start();
})();
