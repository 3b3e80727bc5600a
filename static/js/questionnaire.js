// Questionnaire section: autosave each question as it is answered, apply the questionnaire's
// rules (conditions, exclusive options, "Autre" text) in the browser, and say plainly what
// happened to each save. The server applies the same rules again and is the authority.
//
// Nothing typed is lost: every answer not yet acknowledged by the server is kept in
// localStorage (one entry per response and question) until the server acknowledges it, and sent
// again when the page comes back (reload, reopened tab, connection back, new login). Each
// failure is told apart:
// - network down: retry with backoff (2 s … 30 s), at once when the browser is back online;
// - session expired (redirect to the login page) or CSRF refused (a login in another tab):
//   say so, link to the login page in a new tab, resume when this page gets the focus again;
// - answer refused (400): the French message beside the question;
// - server error (5xx, a proxy's error page): say so, try again once a minute only.
(function () {
  "use strict";

  const form = document.getElementById("section-form");
  if (!form) return;
  const saveUrl = form.dataset.autosaveUrl;
  const loginUrl = form.dataset.loginUrl;
  // Per user too: on a shared computer, no one sends another account's unsaved answers.
  const storagePrefix = `cpts-autosave:${form.dataset.user}:${form.dataset.response}:`;
  const pageToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const banner = document.getElementById("save-banner");
  const timers = new Map(); // question id -> debounce timer
  const pending = new Map(); // question id -> entry not yet acknowledged
  const sending = new Set(); // question ids with a request in flight
  const again = new Set(); // question ids edited while their request was in flight
  let retryTimer = null;
  let retryDelay = 2000;
  let waitingForLogin = false;
  const SERVER_ERROR_RETRY = 60000;

  const fieldsets = () => Array.from(form.querySelectorAll("fieldset.question"));
  const fieldsetOf = (questionId) => form.querySelector(`fieldset[data-question="${questionId}"]`);

  // --- Local copy of unacknowledged answers --------------------------------------------------

  function storeEntry(questionId, entry) {
    pending.set(questionId, entry);
    try {
      localStorage.setItem(storagePrefix + questionId, JSON.stringify(entry));
    } catch (error) {
      // Storage full or disabled: the answer is still kept in this page and sent.
    }
  }

  function forgetEntry(questionId, entry) {
    if (pending.get(questionId) !== entry) return; // edited again meanwhile: keep the new one
    pending.delete(questionId);
    try {
      localStorage.removeItem(storagePrefix + questionId);
    } catch (error) {
      // Nothing stored, nothing to remove.
    }
  }

  function storedEntries() {
    const entries = [];
    try {
      for (let index = 0; index < localStorage.length; index += 1) {
        const key = localStorage.key(index);
        if (!key.startsWith(storagePrefix)) continue;
        try {
          entries.push([key.slice(storagePrefix.length), JSON.parse(localStorage.getItem(key))]);
        } catch (error) {
          localStorage.removeItem(key);
        }
      }
    } catch (error) {
      // No storage: nothing kept from an earlier visit.
    }
    return entries;
  }

  // --- The page ------------------------------------------------------------------------------

  function showBanner(kind, text, link) {
    banner.className = `alert alert-${kind}`;
    banner.textContent = text;
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.target = "_blank";
      anchor.rel = "noopener";
      anchor.textContent = link.text;
      banner.append(" ", anchor);
    }
  }

  function hideBanner() {
    banner.className = "alert d-none";
    banner.textContent = "";
  }

  function selectedValues(fieldset) {
    return Array.from(fieldset.querySelectorAll("input:checked")).map((input) => input.value);
  }

  function applyConditions() {
    fieldsets().forEach((fieldset) => {
      const target = fieldsetOf(fieldset.dataset.conditionQuestion);
      if (!target) return; // the condition's question is on another page: the server decided
      const allowed = fieldset.dataset.conditionValues.split(",");
      fieldset.hidden = !selectedValues(target).some((code) => allowed.includes(code));
    });
  }

  function applyOtherText(fieldset) {
    const wrapper = fieldset.querySelector(".other-text");
    if (!wrapper) return;
    const needed = Array.from(fieldset.querySelectorAll("input[data-requires-text]")).some(
      (input) => input.checked,
    );
    wrapper.hidden = !needed;
  }

  function applyExclusive(fieldset, changed) {
    if (fieldset.dataset.type !== "multiple_choice" || !changed.checked) return;
    fieldset.querySelectorAll("input[type=checkbox]").forEach((box) => {
      if (box === changed) return;
      if ("exclusive" in changed.dataset || "exclusive" in box.dataset) box.checked = false;
    });
  }

  function setStatus(questionId, text, ok) {
    const fieldset = fieldsetOf(questionId);
    if (!fieldset) return;
    const status = fieldset.querySelector(".save-status");
    status.textContent = text;
    status.className = `small save-status ${ok ? "text-success" : "text-danger"}`;
  }

  function setError(questionId, text) {
    const fieldset = fieldsetOf(questionId);
    if (!fieldset) return;
    fieldset.querySelector(".field-error").textContent = text || "";
    fieldset.classList.toggle("border-danger", Boolean(text));
  }

  function answerInputs(fieldset) {
    return Array.from(fieldset.querySelectorAll("input, select, textarea")).filter(
      (input) => !("revision" in input.dataset),
    );
  }

  function readFields(fieldset) {
    const fields = [];
    answerInputs(fieldset).forEach((input) => {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      fields.push([input.name, input.value]);
    });
    return fields;
  }

  function writeFields(fieldset, fields) {
    answerInputs(fieldset).forEach((input) => {
      const values = fields.filter(([name]) => name === input.name).map(([, value]) => value);
      if (input.type === "radio" || input.type === "checkbox") {
        input.checked = values.includes(input.value);
      } else {
        input.value = values.length ? values[0] : "";
      }
    });
    applyOtherText(fieldset);
    applyConditions();
  }

  function applyServerValue(fieldset, value, otherText) {
    const values = Array.isArray(value) ? value : [value];
    fieldset.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) => {
      input.checked = values.includes(input.value);
    });
    fieldset.querySelectorAll("input[type=number], input[type=month], textarea").forEach((input) => {
      input.value = value === null || value === undefined ? "" : value;
    });
    fieldset.querySelectorAll("select").forEach((select) => {
      const row = select.name.split("-").pop();
      select.value = value && typeof value === "object" ? value[row] || "" : "";
    });
    const other = fieldset.querySelector(".other-text input");
    if (other) other.value = otherText || "";
    applyOtherText(fieldset);
    applyConditions();
  }

  function setRevision(questionId, revision) {
    const fieldset = fieldsetOf(questionId);
    if (fieldset) fieldset.querySelector("[data-revision]").value = revision;
  }

  function updateProgress(data) {
    const bar = document.getElementById("progress-bar");
    const text = document.getElementById("progress-text");
    if (bar) {
      bar.max = data.applicable;
      bar.value = data.answered;
    }
    if (text) text.textContent = `${data.answered} / ${data.applicable} questions`;
  }

  // --- Sending --------------------------------------------------------------------------------

  function csrfToken() {
    // A login in another tab rotates the token: the cookie has the current one.
    const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : pageToken;
  }

  function record(fieldset) {
    const questionId = fieldset.dataset.question;
    const revision = Number(fieldset.querySelector("[data-revision]").value) || 0;
    const unanswered = pending.get(questionId)?.unanswered || [];
    storeEntry(questionId, { fields: readFields(fieldset), revision, unanswered, at: Date.now() });
  }

  function retryLater(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(sendAll, delay);
  }

  async function send(questionId) {
    const entry = pending.get(questionId);
    if (!entry) return;
    if (sending.has(questionId)) {
      again.add(questionId); // sent once this request is answered, on its revision
      return;
    }
    sending.add(questionId);
    const body = new FormData();
    body.append("question", questionId);
    entry.fields.forEach(([name, value]) => body.append(name, value));
    body.append(`q${questionId}-revision`, String(entry.revision));
    const token = csrfToken();
    setStatus(questionId, "Enregistrement…", true);
    let response = null;
    let data = null;
    try {
      response = await fetch(saveUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": token, Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if ((response.headers.get("Content-Type") || "").includes("application/json")) {
        data = await response.json();
      }
    } catch (error) {
      response = null;
    } finally {
      sending.delete(questionId);
    }
    handle(questionId, entry, token, response, data);
    if (again.delete(questionId)) send(questionId);
  }

  function handle(questionId, entry, token, response, data) {
    if (response === null) {
      // No answer at all: the network (or the server) is unreachable. The request may still
      // have reached the server: what it carried is remembered, so that a conflict with it
      // later is recognised as this page's own edit.
      const current = pending.get(questionId);
      if (current) {
        current.unanswered = [...(current.unanswered || []), entry.fields].slice(-5);
        storeEntry(questionId, current);
      }
      setStatus(questionId, "Non enregistré (hors connexion) : gardé dans ce navigateur.", false);
      showBanner(
        "warning",
        `Connexion au serveur impossible : vos réponses sont gardées dans ce navigateur et seront envoyées dès le retour de la connexion. Nouvel essai dans ${Math.round(retryDelay / 1000)} s…`,
      );
      retryLater(retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
      return;
    }
    retryDelay = 2000;
    if (response.type === "opaqueredirect" || response.status === 401 || data?.status === "csrf") {
      if (data?.status === "csrf" && csrfToken() !== token) {
        send(questionId); // a new login in another tab: its token is the one to send
        return;
      }
      waitingForLogin = true;
      setStatus(questionId, "Non enregistré : reconnectez-vous. Réponse gardée dans ce navigateur.", false);
      showBanner(
        "warning",
        "Votre session a expiré ou a changé : vos réponses ne sont plus enregistrées sur le serveur, mais elles sont gardées dans ce navigateur. Reconnectez-vous dans un nouvel onglet, puis revenez sur cette page : elles seront envoyées.",
        { href: loginUrl, text: "Se reconnecter (nouvel onglet)" },
      );
      return;
    }
    if (response.status === 403 && data === null) {
      setStatus(questionId, "Non enregistré : accès refusé.", false);
      showBanner("danger", "Votre compte ne permet pas de modifier ce questionnaire.");
      return;
    }
    if (response.status >= 500 || data === null) {
      setStatus(questionId, "Non enregistré : erreur du serveur. Réponse gardée dans ce navigateur.", false);
      showBanner(
        "danger",
        "Le serveur a rencontré une erreur : vos réponses sont gardées dans ce navigateur. Nouvel essai dans une minute ; si l'erreur persiste, signalez-la à l'équipe FCPTS.",
      );
      retryLater(SERVER_ERROR_RETRY);
      return;
    }
    waitingForLogin = false;
    if (data.status === "saved") {
      forgetEntry(questionId, entry);
      const next = pending.get(questionId);
      if (next) {
        next.revision = data.revision; // the next edit builds on this one
        storeEntry(questionId, next);
      }
      setRevision(questionId, data.revision);
      setError(questionId, "");
      const time = new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
      setStatus(questionId, `Enregistré à ${time}`, true);
      updateProgress(data);
    } else if (data.status === "conflict" && sentByThisPage(questionId, entry, data)) {
      // The newer answer is one this page sent without hearing back (the reply was lost):
      // nothing of anyone else's would be overwritten, so the edit is sent on its revision.
      const current = pending.get(questionId) || entry;
      current.revision = data.revision;
      current.unanswered = [];
      storeEntry(questionId, current);
      setRevision(questionId, data.revision);
      send(questionId);
      return;
    } else if (data.status === "conflict") {
      forgetEntry(questionId, entry);
      setRevision(questionId, data.revision);
      const fieldset = fieldsetOf(questionId);
      if (fieldset) applyServerValue(fieldset, data.value, data.other_text);
      setError(questionId, data.error);
      setStatus(questionId, "Non enregistré : réponse modifiée par quelqu'un d'autre.", false);
    } else if (data.status === "invalid") {
      forgetEntry(questionId, entry);
      setError(questionId, data.error);
      setStatus(questionId, "Non enregistré : corrigez la réponse.", false);
    } else {
      forgetEntry(questionId, entry);
      setStatus(questionId, "Non enregistré", false);
      showBanner("danger", data.error || "Enregistrement impossible.");
      return;
    }
    if (!pending.size || Array.from(pending.keys()).every((id) => sending.has(id))) hideBanner();
  }

  function fieldsMatch(questionId, fields, value, otherText) {
    const name = `q${questionId}`;
    const chosen = fields.filter(([field]) => field === name).map(([, v]) => String(v).trim());
    const other = (fields.find(([field]) => field === `${name}-other`) || [null, ""])[1];
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const rows = fields.filter(
        ([field, v]) => field.startsWith(`${name}-`) && field !== `${name}-other` && v,
      );
      return (
        rows.length === Object.keys(value).length &&
        rows.every(([field, v]) => value[field.slice(name.length + 1)] === v)
      );
    }
    const values = (Array.isArray(value) ? value : [value]).map((v) => String(v));
    return (
      chosen.length === values.length &&
      values.every((v) => chosen.includes(v)) &&
      String(other).trim() === (otherText || "")
    );
  }

  function sentByThisPage(questionId, entry, data) {
    const current = pending.get(questionId) || entry;
    return (current.unanswered || []).some((fields) =>
      fieldsMatch(questionId, fields, data.value, data.other_text),
    );
  }

  function sendAll() {
    clearTimeout(retryTimer);
    retryTimer = null;
    Array.from(pending.keys()).forEach(send);
  }

  function schedule(fieldset, delay) {
    const questionId = fieldset.dataset.question;
    record(fieldset);
    clearTimeout(timers.get(questionId));
    timers.set(
      questionId,
      setTimeout(() => {
        timers.delete(questionId);
        send(questionId);
      }, delay),
    );
    setStatus(questionId, "Modifications en attente…", true);
  }

  function settled() {
    return new Promise((resolve) => {
      const check = () => (sending.size ? setTimeout(check, 50) : resolve());
      check();
    });
  }

  async function flush() {
    Array.from(timers.keys()).forEach((questionId) => {
      clearTimeout(timers.get(questionId));
      timers.delete(questionId);
    });
    sendAll();
    await settled();
    return pending.size === 0;
  }

  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.question");
    if (!fieldset) return;
    applyExclusive(fieldset, event.target);
    applyOtherText(fieldset);
    applyConditions();
    schedule(fieldset, 300);
  });

  form.addEventListener("input", (event) => {
    const fieldset = event.target.closest("fieldset.question");
    if (fieldset && event.target.matches("input[type=text], input[type=number], textarea")) {
      schedule(fieldset, 800);
    }
  });

  // Leaving the section (another section, review, submit): finish every save first.
  document.querySelectorAll("[data-section-link]").forEach((link) => {
    link.addEventListener("click", async (event) => {
      if (!timers.size && !pending.size) return;
      event.preventDefault();
      if (await flush()) window.location.href = link.href;
    });
  });

  form.addEventListener("submit", async (event) => {
    if (form.dataset.flushed) return;
    event.preventDefault();
    const submitter = event.submitter;
    if (!(await flush())) return;
    form.dataset.flushed = "1";
    form.requestSubmit(submitter);
  });

  window.addEventListener("beforeunload", (event) => {
    if (timers.size || sending.size || pending.size) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Coming back: the connection, or this tab after a login in another one.
  window.addEventListener("online", sendAll);
  window.addEventListener("focus", () => {
    if (pending.size) sendAll();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && pending.size) sendAll();
  });
  setInterval(() => {
    if (waitingForLogin && pending.size) sendAll();
  }, 15000);

  fieldsets().forEach(applyOtherText);
  applyConditions();

  // What an earlier visit typed and the server never acknowledged: shown again, then sent.
  storedEntries().forEach(([questionId, entry]) => {
    if (!entry || !Array.isArray(entry.fields)) return;
    pending.set(questionId, entry);
    const fieldset = fieldsetOf(questionId);
    if (fieldset) writeFields(fieldset, entry.fields);
  });
  if (pending.size) sendAll();
})();
