// Questionnaire section: autosave each question as it is answered, apply the questionnaire's
// rules (conditions, exclusive options, "Autre" text) in the browser, and say plainly when a
// save fails. The server applies the same rules again and is the authority.
(function () {
  "use strict";

  const form = document.getElementById("section-form");
  if (!form) return;
  const saveUrl = form.dataset.autosaveUrl;
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const banner = document.getElementById("save-banner");
  const timers = new Map();
  const inFlight = new Map();
  const failed = new Set();
  let retryDelay = 2000;

  const fieldsets = () => Array.from(form.querySelectorAll("fieldset.question"));
  const fieldsetOf = (questionId) => form.querySelector(`fieldset[data-question="${questionId}"]`);

  function showBanner(kind, text) {
    banner.className = `alert alert-${kind}`;
    banner.textContent = text;
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

  function setStatus(fieldset, text, ok) {
    const status = fieldset.querySelector(".save-status");
    status.textContent = text;
    status.className = `small save-status ${ok ? "text-success" : "text-danger"}`;
  }

  function setError(fieldset, text) {
    fieldset.querySelector(".field-error").textContent = text || "";
    fieldset.classList.toggle("border-danger", Boolean(text));
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

  function updateProgress(data) {
    const bar = document.getElementById("progress-bar");
    const text = document.getElementById("progress-text");
    if (bar) {
      bar.max = data.applicable;
      bar.value = data.answered;
    }
    if (text) text.textContent = `${data.answered} / ${data.applicable} questions`;
  }

  async function save(fieldset) {
    const questionId = fieldset.dataset.question;
    timers.delete(questionId);
    const body = new FormData();
    body.append("question", questionId);
    fieldset.querySelectorAll("input, select, textarea").forEach((input) => {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      body.append(input.name, input.value);
    });
    const request = fetch(saveUrl, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      credentials: "same-origin",
    });
    inFlight.set(questionId, request);
    setStatus(fieldset, "Enregistrement…", true);
    let response;
    let data;
    try {
      response = await request;
      data = await response.json();
    } catch (error) {
      failed.add(questionId);
      setStatus(fieldset, "Non enregistré", false);
      showBanner(
        "danger",
        `Échec de l'enregistrement (connexion au serveur impossible). Nouvel essai dans ${Math.round(retryDelay / 1000)} s…`,
      );
      setTimeout(() => save(fieldset), retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
      return;
    } finally {
      inFlight.delete(questionId);
    }
    failed.delete(questionId);
    retryDelay = 2000;
    if (!failed.size) hideBanner();
    if (data.status === "saved") {
      fieldset.querySelector("[data-revision]").value = data.revision;
      setError(fieldset, "");
      const time = new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
      setStatus(fieldset, `Enregistré à ${time}`, true);
      updateProgress(data);
    } else if (data.status === "invalid") {
      setError(fieldset, data.error);
      setStatus(fieldset, "Non enregistré : corrigez la réponse.", false);
    } else if (data.status === "conflict") {
      fieldset.querySelector("[data-revision]").value = data.revision;
      applyServerValue(fieldset, data.value, data.other_text);
      setError(fieldset, data.error);
      setStatus(fieldset, "Non enregistré : réponse modifiée par quelqu'un d'autre.", false);
    } else {
      setStatus(fieldset, "Non enregistré", false);
      showBanner("danger", data.error || "Enregistrement impossible.");
    }
  }

  function schedule(fieldset, delay) {
    const questionId = fieldset.dataset.question;
    clearTimeout(timers.get(questionId));
    timers.set(questionId, setTimeout(() => save(fieldset), delay));
    setStatus(fieldset, "Modifications en attente…", true);
  }

  async function flush() {
    const pending = Array.from(timers.keys());
    pending.forEach((questionId) => {
      clearTimeout(timers.get(questionId));
      timers.delete(questionId);
    });
    await Promise.all(pending.map((questionId) => save(fieldsetOf(questionId))));
    await Promise.allSettled(Array.from(inFlight.values()));
    return failed.size === 0;
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
      if (!timers.size && !inFlight.size && !failed.size) return;
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
    if (timers.size || inFlight.size || failed.size) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  fieldsets().forEach(applyOtherText);
  applyConditions();
})();
