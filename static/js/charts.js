// Renders the Plotly figures a page embeds with Django's json_script: every element with
// data-figure="<id of a JSON script>" gets the figure. No inline script: CSP is script-src 'self'.
"use strict";

(function () {
  if (typeof Plotly === "undefined") {
    return;
  }
  const config = { displayModeBar: false, responsive: true };
  document.querySelectorAll("[data-figure]").forEach(function (container) {
    const source = document.getElementById(container.dataset.figure);
    if (!source) {
      return;
    }
    const figure = JSON.parse(source.textContent);
    Plotly.newPlot(container, figure.data, figure.layout, config);
  });
})();
