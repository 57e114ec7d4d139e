// The outbox: every write made on the phone waits here (IndexedDB) until the server answers 2xx.
// Loaded by the pages and by the service worker (importScripts), so it touches no DOM.
//
// Items are sent oldest first, and each is removed only after its own 2xx. When more than one
// waits they go together to POST /api/batch (up to 100 a request), which applies each one as if
// it had been sent alone and answers each one's own status. A network failure, a timeout or a
// 5xx keeps everything not yet answered 2xx and backs off; a 401 keeps everything and asks the
// person to sign in again; a refusal (4xx with a reason) keeps only that item as "needs
// attention" with the server's words until the person fixes or discards it. Nothing leaves the
// outbox any other way.
"use strict";

(function (scope) {
  const DB_NAME = "coachapp";
  const DB_VERSION = 1;
  const STORE = "outbox";
  const LOCK_NAME = "coachapp-outbox";
  const CHANNEL_NAME = "coachapp-outbox";
  const SYNC_TAG = "coachapp-outbox";
  const SESSION_URL = "/api/session";
  const BATCH_URL = "/api/batch";
  // What the server takes in one batch (coachapp/sync/batch.py, coachapp/bodies.py).
  const BATCH_MAX_ITEMS = 100;
  const BATCH_MAX_BYTES = 900 * 1024;
  const ITEM_MAX_BYTES = 64 * 1024;
  const SEND_TIMEOUT_MS = 15000;
  const FIRST_RETRY_MS = 2000;
  const LONGEST_RETRY_MS = 5 * 60 * 1000;

  const WAITING = "waiting";
  const ATTENTION = "attention";

  const listeners = new Set();
  const channel = "BroadcastChannel" in scope ? new BroadcastChannel(CHANNEL_NAME) : null;
  let database = null;
  let running = null;
  let failures = 0;

  // --- IndexedDB, in promises ------------------------------------------------------------

  function opened() {
    if (!database) {
      database = new Promise((resolve, reject) => {
        const request = scope.indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = () => {
          const store = request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
          store.createIndex("id", "id", { unique: true });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return database;
  }

  function settled(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function inStore(mode, work) {
    const db = await opened();
    const transaction = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await work(transaction.objectStore(STORE));
    await done;
    return result;
  }

  // --- what the pages use --------------------------------------------------------------

  function newUuid() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    const bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // item: {user, type, method, url, body, session, target, label}; `user` is the tag of the person
  // signed in when it was made: it is only ever sent while that person is signed in.
  async function add(item) {
    const stored = { id: newUuid(), created_at: Date.now(), state: WAITING, attempts: 0, ...item };
    stored.seq = await inStore("readwrite", (store) => settled(store.add(stored)));
    emit({ type: "changed" });
    return stored;
  }

  function all() {
    return inStore("readonly", (store) => settled(store.getAll()));
  }

  async function change(seq, changes) {
    await inStore("readwrite", async (store) => {
      const item = await settled(store.get(seq));
      if (item) await settled(store.put({ ...item, ...changes }));
    });
    emit({ type: "changed" });
  }

  async function discard(seq) {
    await inStore("readwrite", (store) => settled(store.delete(seq)));
    emit({ type: "changed" });
  }

  // A fixed or retried item goes back in the queue, in its old place.
  function retry(seq, body) {
    const changes = { state: WAITING, message: "" };
    if (body) changes.body = body;
    return change(seq, changes);
  }

  function onChange(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  function emit(event) {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        // one broken listener must not stop the queue
      }
    }
    if (channel) channel.postMessage(event);
  }

  if (channel) {
    channel.onmessage = (message) => {
      for (const listener of listeners) listener(message.data);
    };
  }

  // --- sending -------------------------------------------------------------------------

  async function answerOf(url, options) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error",
        signal: controller.signal,
        ...options,
      });
      const body = await response.json().catch(() => ({}));
      return { ok: response.ok, status: response.status, body, code: body.code, message: body.error || "" };
    } catch (error) {
      return { ok: false, status: 0, network: true, body: {}, message: "" };
    } finally {
      clearTimeout(timer);
    }
  }

  function whoIsSignedIn() {
    return answerOf(SESSION_URL, { method: "GET", headers: { Accept: "application/json" } });
  }

  function send(item, token) {
    return answerOf(item.url, {
      method: item.method,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: item.body === undefined ? undefined : JSON.stringify(item.body),
    });
  }

  function sendBatch(items, token) {
    return answerOf(BATCH_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify({
        items: items.map((item) => ({ method: item.method, url: item.url, body: item.body === undefined ? null : item.body })),
      }),
    });
  }

  const encoder = "TextEncoder" in scope ? new TextEncoder() : null;

  function sizeOf(item) {
    const text = JSON.stringify(item.body === undefined ? null : item.body) + item.url;
    return encoder ? encoder.encode(text).length : text.length * 3;
  }

  // The next items to send together, oldest first: as many as one batch takes. An item too
  // large for a batch goes alone, to its own address, and meets that address's own answer.
  // A cursor, oldest first, that stops when the batch is full: reading the whole outbox for
  // each batch made a long queue quadratic.
  function nextBatch(user) {
    return inStore("readonly", (store) => new Promise((resolve, reject) => {
      const batch = [];
      let bytes = 0;
      const request = store.openCursor();
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        const cursor = request.result;
        if (!cursor) return resolve(batch);
        const item = cursor.value;
        if (item.state !== ATTENTION && item.user === user) {
          const size = sizeOf(item);
          if (size > ITEM_MAX_BYTES) return resolve(batch.length ? batch : [item]);
          if (batch.length === BATCH_MAX_ITEMS || bytes + size > BATCH_MAX_BYTES) return resolve(batch);
          batch.push(item);
          bytes += size;
        }
        cursor.continue();
      };
    }));
  }

  function mustWait(answer) {
    return answer.network || answer.status >= 500 || answer.status === 408 || answer.status === 429;
  }

  function backOff() {
    failures += 1;
    const delay = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
    // A little jitter, so that a whole team coming back into signal does not knock at once.
    return { status: "retry", retryIn: Math.round(delay * (0.75 + Math.random() * 0.5)) };
  }

  // The start of a session may answer with the session already open with that agent: the items
  // after it are rewritten to that session, in the same transaction that removes the start.
  async function settle(item, answer) {
    const given = item.type === "start" && answer.body.session ? answer.body.session.client_uuid : null;
    const alias = given && given !== item.session ? given : null;
    await inStore("readwrite", async (store) => {
      await settled(store.delete(item.seq));
      if (!alias) return;
      for (const other of await settled(store.getAll())) {
        if (other.session !== item.session) continue;
        await settled(store.put({ ...other, session: alias, url: other.url.split(item.session).join(alias) }));
      }
    });
    emit({ type: "sent", item, answer: answer.body, alias });
  }

  async function sendWaiting() {
    const items = (await all()).filter((item) => item.state !== ATTENTION);
    if (items.length === 0) {
      failures = 0;
      return { status: "done", sent: 0 };
    }
    let who = await whoIsSignedIn();
    if (who.status === 401) return { status: "signin" };
    if (!who.ok) return backOff();
    let sent = 0;
    const mine = items.filter((item) => item.user === who.body.user);
    if (mine.length > 1) {
      for (;;) {
        const batch = await nextBatch(who.body.user);
        if (batch.length < 2) break;
        let answer = await sendBatch(batch, who.body.csrf_token);
        if (answer.status === 403 && answer.code === "csrf") {
          who = await whoIsSignedIn();
          if (!who.ok) return who.status === 401 ? { status: "signin", sent } : backOff();
          answer = await sendBatch(batch, who.body.csrf_token);
        }
        if (answer.status === 401 || answer.code === "csrf") return { status: "signin", sent };
        if (!answer.ok || !Array.isArray(answer.body.results)) return { ...backOff(), sent };
        const outcome = await settleBatch(batch, answer.body.results);
        sent += outcome.sent;
        if (outcome.wait) return { ...backOff(), sent };
      }
    }
    for (const seq of (await all()).map((item) => item.seq)) {
      // Read again: an alias may have rewritten it, the person may have discarded it.
      const item = await inStore("readonly", (store) => settled(store.get(seq)));
      if (!item || item.state === ATTENTION || item.user !== who.body.user) continue;
      let answer = await send(item, who.body.csrf_token);
      if (answer.status === 403 && answer.code === "csrf") {
        who = await whoIsSignedIn();
        if (!who.ok) return who.status === 401 ? { status: "signin" } : backOff();
        answer = await send(item, who.body.csrf_token);
      }
      // A removal whose first answer was lost meets a 404 on replay: the entry is gone either way
      // (the server answers any entry it does not hold, or that is not yours, with the same 404).
      const gone = item.method === "DELETE" && answer.status === 404;
      if (answer.ok || gone) {
        await settle(item, gone ? { ...answer, ok: true, body: { removed: true } } : answer);
        sent += 1;
        continue;
      }
      if (answer.status === 401 || answer.code === "csrf") return { status: "signin", sent };
      await change(item.seq, { attempts: (item.attempts || 0) + 1 });
      if (mustWait(answer)) return { ...backOff(), sent };
      await change(item.seq, { state: ATTENTION, message: answer.message || `HTTP ${answer.status}` });
      emit({ type: "attention", item });
    }
    failures = 0;
    return { status: "done", sent };
  }

  // Each item of a batch by its own answer, as if it had been sent alone. Items without an
  // answer (the server stopped at a 5xx) stay, for the next flush.
  async function settleBatch(batch, results) {
    let sent = 0;
    // Answered items leave the phone together, in one IndexedDB transaction, before anything
    // after them changes: one transaction per item made a long outbox drain slowly. A session's
    // start goes alone, as it may rewrite the items after it.
    let answered = [];
    async function removeAnswered() {
      if (!answered.length) return;
      const removing = answered;
      answered = [];
      await inStore("readwrite", (store) =>
        Promise.all(removing.map(([item]) => settled(store.delete(item.seq)))),
      );
      for (const [item, answer] of removing) emit({ type: "sent", item, answer: answer.body, alias: null });
    }
    for (const [index, result] of results.entries()) {
      const item = batch[index];
      if (!item) break;
      const answer = {
        ok: result.status >= 200 && result.status < 300,
        status: result.status,
        body: result.body || {},
        code: (result.body || {}).code,
        message: (result.body || {}).error || "",
      };
      const gone = item.method === "DELETE" && answer.status === 404;
      if (answer.ok || gone) {
        const final = gone ? { ...answer, ok: true, body: { removed: true } } : answer;
        if (item.type === "start") {
          await removeAnswered();
          await settle(item, final);
        } else {
          answered.push([item, final]);
        }
        sent += 1;
        continue;
      }
      await removeAnswered();
      await change(item.seq, { attempts: (item.attempts || 0) + 1 });
      if (mustWait(answer)) return { sent, wait: true };
      await change(item.seq, { state: ATTENTION, message: answer.message || `HTTP ${answer.status}` });
      emit({ type: "attention", item });
    }
    await removeAnswered();
    return { sent, wait: results.length < batch.length };
  }

  // One flush at a time across every tab and the service worker (Web Locks where the browser has
  // them), so that two senders never overtake each other.
  function flush() {
    if (running) return running;
    const locks = scope.navigator && scope.navigator.locks;
    const work = locks ? locks.request(LOCK_NAME, sendWaiting) : sendWaiting();
    running = work
      .catch(() => backOff())
      .then((result) => {
        emit({ type: "status", ...result });
        return result;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  function resetBackoff() {
    failures = 0;
  }

  scope.CoachappOutbox = {
    WAITING,
    ATTENTION,
    SYNC_TAG,
    add,
    all,
    change,
    discard,
    retry,
    flush,
    onChange,
    newUuid,
    resetBackoff,
  };
})(self);
