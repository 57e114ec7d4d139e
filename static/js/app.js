// coachapp's page behaviour: the session clock and the phone's time on each entry.
// No inline scripts anywhere (strict CSP): everything the pages do lives here.
"use strict";

function formatElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

function tickRunningClocks() {
  for (const el of document.querySelectorAll("[data-running-since]")) {
    const since = Date.parse(el.dataset.runningSince);
    if (!Number.isNaN(since)) el.textContent = formatElapsed(Date.now() - since);
  }
}

// The phone's own clock says when an entry happened, even if it reaches the server later.
function stampPhoneTime(event) {
  const form = event.target.closest ? event.target.closest("form") : null;
  const field = form && form.querySelector("[data-phone-time]");
  if (field && event.detail && event.detail.parameters) {
    event.detail.parameters[field.name] = new Date().toISOString();
  }
}

function stampOnPlainSubmit(event) {
  const field = event.target.querySelector && event.target.querySelector("[data-phone-time]");
  if (field) field.value = new Date().toISOString();
}

// htmx leaves a page alone when the server refuses a request (4xx/5xx other than the form
// answers it swaps in): say why in the page's alert area instead of failing silently.
function showRefusal(event) {
  const xhr = event.detail && event.detail.xhr;
  const area = document.getElementById("alerts");
  if (!xhr || !area) return;
  const doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
  const message = doc.querySelector(".field-error, .error-page p");
  area.textContent = message ? message.textContent.trim() : area.dataset.fallback;
  area.hidden = false;
}

function showNetworkFailure() {
  const area = document.getElementById("alerts");
  if (!area) return;
  area.textContent = area.dataset.offline;
  area.hidden = false;
}

function clearAlerts() {
  const area = document.getElementById("alerts");
  if (area) area.hidden = true;
}

document.addEventListener("htmx:responseError", showRefusal);
document.addEventListener("htmx:sendError", showNetworkFailure);
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail && event.detail.successful) clearAlerts();
});

document.addEventListener("DOMContentLoaded", () => {
  tickRunningClocks();
  setInterval(tickRunningClocks, 1000);
});
document.addEventListener("htmx:configRequest", stampPhoneTime);
document.addEventListener("submit", stampOnPlainSubmit, true);

// Today's "Find an agent": the list narrows as the manager types. Without JavaScript the same
// box is a GET filter, so the button stays for that case and leaves once this runs.
function filterAgents(form) {
  const list = document.querySelector("[data-agent-list]");
  const none = document.querySelector("[data-agent-none]");
  if (!list) return;
  const wanted = form.elements.q.value.trim().toLowerCase();
  let shown = 0;
  for (const item of list.children) {
    const match = !wanted || item.dataset.agentName.includes(wanted);
    item.hidden = !match;
    if (match) shown += 1;
  }
  if (none) none.hidden = shown > 0;
}

function setUpAgentSearch() {
  const form = document.querySelector("form[data-agent-search]");
  if (!form) return;
  const button = form.querySelector("[data-search-submit]");
  if (button) button.hidden = true;
  form.elements.q.addEventListener("input", () => filterAgents(form));
  form.addEventListener("submit", (event) => {
    // Filtering in place keeps what the server sent (all agents); Enter just closes the keyboard.
    if (document.querySelector("[data-agent-list]")) {
      event.preventDefault();
      filterAgents(form);
      form.elements.q.blur();
    }
  });
  filterAgents(form);
}

document.addEventListener("DOMContentLoaded", setUpAgentSearch);

// A thread's "Reply or ask" (or "Answer"): a plain link to the thread's page, which one listener
// opens in place through htmx. An hx-get on each link had htmx process every one of them as an
// agent's log loaded, a long task on a phone; the link itself still works without JavaScript.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[data-thread-open]");
  if (!link || !self.htmx || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  self.htmx.ajax("GET", link.href, { source: link, target: link.closest(".thread"), swap: "outerHTML" });
});
