// Passkeys in the browser: sign in (button and autofill) and create a passkey (from an invitation
// or on the account page). No library: current browsers parse the server's JSON options and turn
// the credential back into JSON themselves. Every message shown comes translated from the page.
"use strict";

(() => {
  const supported = () =>
    typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

  // The autofill request waits in the background; a button press must cancel it first.
  let pendingAutofill = null;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function postJSON(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null; // an HTML error page (CSRF, rate limit): fall back to the page's own words
    }
    return { ok: response.ok, status: response.status, data };
  }

  function say(box, text) {
    const out = box.querySelector("[data-passkey-message]");
    if (!out) return;
    out.textContent = text || box.dataset.msgFailed;
    out.hidden = false;
  }

  function quiet(box) {
    const out = box.querySelector("[data-passkey-message]");
    if (out) out.hidden = true;
  }

  function serverMessage(box, result) {
    if (result.data && typeof result.data.error === "string") return result.data.error;
    if (result.status === 429) return box.dataset.msgTooMany;
    if (result.status === 0) return box.dataset.msgOffline;
    return box.dataset.msgFailed;
  }

  function browserMessage(box, error) {
    if (error && error.name === "InvalidStateError") return box.dataset.msgExists;
    if (error && error.name === "NotAllowedError") return box.dataset.msgCancelled;
    return box.dataset.msgFailed;
  }

  function busy(box, on) {
    const button = box.querySelector("[data-passkey-start]");
    if (!button) return;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  async function finish(box, credential, extra) {
    const result = await postJSON(box.dataset.verifyUrl, {
      ...extra,
      credential: credential.toJSON(),
    });
    if (result.ok && result.data && result.data.redirect) {
      window.location.assign(result.data.redirect);
      return true;
    }
    say(box, serverMessage(box, result));
    return false;
  }

  async function signIn(box, autofill) {
    const options = await postJSON(box.dataset.optionsUrl, {}); // never rejects
    if (!options.ok || !options.data) {
      if (!autofill) say(box, serverMessage(box, options));
      return;
    }
    const request = {
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.data.options),
    };
    let controller = null;
    if (autofill) {
      controller = new AbortController();
      pendingAutofill = controller;
      request.mediation = "conditional";
      request.signal = controller.signal;
    }
    let credential;
    try {
      credential = await navigator.credentials.get(request);
    } catch (error) {
      if (error && error.name === "AbortError") return; // the button took over
      say(box, browserMessage(box, error));
      return;
    } finally {
      if (pendingAutofill === controller) pendingAutofill = null;
    }
    if (credential) {
      busy(box, true);
      const done = await finish(box, credential, {});
      busy(box, false);
      if (!done && autofill) startAutofill(box);
    }
  }

  async function register(box) {
    const invitation = box.dataset.invitation ? { invitation: box.dataset.invitation } : {};
    const options = await postJSON(box.dataset.optionsUrl, invitation);
    if (!options.ok || !options.data) {
      say(box, serverMessage(box, options));
      return;
    }
    let credential;
    try {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.data.options),
      });
    } catch (error) {
      say(box, browserMessage(box, error));
      return;
    }
    if (credential) await finish(box, credential, invitation);
  }

  async function startAutofill(box) {
    if (!("autofill" in box.dataset)) return;
    const available =
      typeof PublicKeyCredential.isConditionalMediationAvailable === "function" &&
      (await PublicKeyCredential.isConditionalMediationAvailable());
    if (available) signIn(box, true);
  }

  async function onPress(box) {
    quiet(box);
    if (pendingAutofill) {
      pendingAutofill.abort();
      pendingAutofill = null;
    }
    busy(box, true);
    try {
      if (box.dataset.passkey === "signin") await signIn(box, false);
      else await register(box);
    } finally {
      busy(box, false);
    }
  }

  function setUp(box) {
    const button = box.querySelector("[data-passkey-start]");
    if (!supported()) {
      if (button) button.disabled = true;
      say(box, box.dataset.msgUnsupported);
      return;
    }
    if (button) button.addEventListener("click", () => onPress(box));
    if (box.dataset.passkey === "signin") startAutofill(box);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll("[data-passkey]")) setUp(box);
  });
})();
