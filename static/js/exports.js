// Polls a background export's state and updates its progress bar; shows the download link
// when the file is ready. No inline script: CSP is script-src 'self'.
"use strict";

(function () {
  const box = document.querySelector("[data-export-status-url]");
  if (!box) {
    return;
  }
  const url = box.dataset.exportStatusUrl;
  const bar = box.querySelector("progress");
  const link = box.querySelector("[data-export-download]");

  function field(name) {
    return box.querySelector('[data-export-field="' + name + '"]');
  }

  function show(state) {
    bar.value = state.percent;
    bar.textContent = state.percent + " %";
    field("status_label").textContent = state.status_label;
    field("done").textContent = state.done;
    field("total").textContent = state.total;
    if (state.error) {
      field("error").textContent = state.error;
      field("error").hidden = false;
    }
    if (state.download_url) {
      link.href = state.download_url;
      link.hidden = false;
    }
    return state.status === "done" || state.status === "failed";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (state) {
        if (!show(state)) {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  poll();
})();
