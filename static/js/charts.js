// Renders the Plotly figures a page embeds with Django's json_script: every element with
// data-figure="<id of a JSON script>" gets the figure. No inline script: CSP is script-src 'self'.
"use strict";

(function () {
  if (typeof Plotly === "undefined") {
    return;
  }
  const config = { displayModeBar: false, responsive: true };
  // Below this width (a phone) the figures' layout, made for a laptop, is cut off or overlaps.
  const NARROW = 576;
  const LINE = 14; // characters per line of an axis or spoke label on a phone

  function wrapped(label) {
    if (typeof label !== "string" || label.includes("<br>")) {
      return label;
    }
    const lines = [];
    label.split(" ").forEach(function (word) {
      const last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= LINE) {
        lines[last] += " " + word;
      } else {
        lines.push(word);
      }
    });
    return lines.join("<br>");
  }

  // Smaller type, tighter margins, labels over several lines: the same figure, fitted to a phone.
  function fitted(figure) {
    const layout = Object.assign({}, figure.layout);
    layout.font = Object.assign({}, layout.font, { size: 10 });
    const margin = Object.assign({ l: 90, r: 30 }, layout.margin);
    layout.margin = Object.assign(margin, { l: Math.min(margin.l, 70), r: Math.min(margin.r, 20) });
    layout.annotations = (layout.annotations || []).map(function (note) {
      return Object.assign({}, note, {
        x: wrapped(note.x),
        font: Object.assign({}, note.font, { size: 9 }),
      });
    });
    if (layout.polar) {
      // Spoke labels sit outside the circle: room for them, and less empty space above.
      layout.margin = Object.assign(layout.margin, { l: 95, r: 95, t: 30, b: 30 });
      layout.height = Math.min(layout.height || 450, 450);
      layout.polar = Object.assign({}, layout.polar, {
        angularaxis: Object.assign({}, layout.polar.angularaxis, {
          tickfont: Object.assign({}, (layout.polar.angularaxis || {}).tickfont, { size: 8 }),
        }),
      });
    }
    const data = figure.data.map(function (trace) {
      const copy = Object.assign({}, trace);
      if (trace.type === "heatmap" && Array.isArray(trace.x)) {
        copy.x = trace.x.map(wrapped);
      }
      if (trace.type === "scatterpolar" && Array.isArray(trace.theta)) {
        copy.theta = trace.theta.map(wrapped);
      }
      return copy;
    });
    return { data: data, layout: layout };
  }

  document.querySelectorAll("[data-figure]").forEach(function (container) {
    const source = document.getElementById(container.dataset.figure);
    if (!source) {
      return;
    }
    let figure = JSON.parse(source.textContent);
    if (container.clientWidth < NARROW) {
      figure = fitted(figure);
    }
    Plotly.newPlot(container, figure.data, figure.layout, config);
  });
})();
