// CPTS pickers (templates/dashboards/_cpts_picker.html): search as the user types, instead of
// the "Chercher" round trip the page makes without JavaScript. The matches come from
// dashboards:cpts_search (the user's scope only) and are drawn as unchecked boxes; a checked
// one joins the chosen list. The server checks the ids and the maximum again.
(function () {
  "use strict";

  const DELAY_MS = 250;

  function checkbox(picker, cpts, checked) {
    const field = picker.dataset.field;
    const wrapper = document.createElement("div");
    wrapper.className = "form-check";
    const input = document.createElement("input");
    input.className = "form-check-input";
    input.type = "checkbox";
    input.name = field;
    input.value = String(cpts.id);
    input.id = "id_" + field + "_" + cpts.id;
    input.checked = checked;
    const label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = input.id;
    label.textContent = cpts.name + " (" + cpts.department + ")";
    wrapper.append(input, label);
    return wrapper;
  }

  function message(text) {
    const paragraph = document.createElement("p");
    paragraph.className = "small text-muted mb-0 mt-1";
    paragraph.textContent = text;
    return paragraph;
  }

  function chosenBoxes(picker) {
    return picker.querySelectorAll("[data-picker-chosen] input[type=checkbox]");
  }

  function enforceMaximum(picker) {
    const maximum = Number(picker.dataset.max);
    const checked = picker.querySelectorAll("input[type=checkbox]:checked").length;
    picker.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.disabled = !box.checked && checked >= maximum;
    });
  }

  function setUp(picker) {
    const input = picker.querySelector("input[type=search]");
    const results = picker.querySelector("[data-picker-results]");
    const chosen = picker.querySelector("[data-picker-chosen]");
    const minimum = 2;
    let timer = null;
    let latest = 0;

    async function search() {
      const term = input.value.trim();
      const request = ++latest;
      if (term.length < minimum) {
        results.replaceChildren(
          term ? message("Tapez au moins " + minimum + " caractères.") : document.createTextNode(""),
        );
        return;
      }
      let found;
      try {
        const url = picker.dataset.searchUrl + "?q=" + encodeURIComponent(term);
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        found = (await response.json()).results;
      } catch (error) {
        results.replaceChildren(message("La recherche n’a pas abouti ; réessayez."));
        return;
      }
      if (request !== latest) return; // a later keystroke has its own answer
      const taken = new Set(Array.from(chosenBoxes(picker), function (box) { return box.value; }));
      const boxes = found
        .filter(function (cpts) { return !taken.has(String(cpts.id)); })
        .map(function (cpts) { return checkbox(picker, cpts, false); });
      results.replaceChildren(
        ...(boxes.length ? boxes : [message("Aucune autre CPTS ne correspond à « " + term + " ».")]),
      );
      enforceMaximum(picker);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        search();
      }
    });
    picker.querySelector("[data-picker-search]").addEventListener("click", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      search();
    });
    results.addEventListener("change", function (event) {
      const box = event.target;
      if (box.type === "checkbox" && box.checked) {
        chosen.append(box.closest(".form-check"));
      }
    });
    picker.addEventListener("change", function () { enforceMaximum(picker); });
    enforceMaximum(picker);
  }

  document.querySelectorAll("[data-cpts-picker]").forEach(setUp);
})();
