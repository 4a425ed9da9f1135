// Draws every <canvas data-chart-url="..."> on the page from its chart JSON (analytics/charts.py):
// one fetch per chart, so a slow figure never holds the others back. A filter form with
// data-chart-filters reloads the charts with its values without reloading the page.
(function () {
  "use strict";
  const drawn = new Map();
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#ffc107", "#6c757d", "#0dcaf0", "#d63384"];

  function datasets(chart) {
    const round = chart.kind === "pie" || chart.kind === "doughnut";
    return chart.series.map(function (series, index) {
      const colour = palette[index % palette.length];
      return {
        label: series.label,
        data: series.data,
        type: series.kind || undefined,
        yAxisID: series.right_axis ? "right" : "y",
        backgroundColor: round ? chart.labels.map(function (_l, i) { return palette[i % palette.length]; }) : colour + (chart.kind === "line" ? "33" : "cc"),
        borderColor: colour,
        fill: false,
        tension: 0.2,
        pointRadius: chart.kind === "scatter" ? 2 : 3,
      };
    });
  }

  function options(chart) {
    if (chart.kind === "pie" || chart.kind === "doughnut") {
      return { responsive: true, maintainAspectRatio: false };
    }
    const scales = {
      x: { stacked: chart.stacked, title: { display: !!chart.x_label, text: chart.x_label } },
      y: { stacked: chart.stacked, beginAtZero: true, title: { display: !!chart.y_label, text: chart.y_label } },
    };
    if (chart.series.some(function (s) { return s.right_axis; })) {
      scales.right = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
    }
    return {
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: chart.horizontal ? "y" : "x",
      scales: scales,
      plugins: { legend: { display: chart.series.length > 1 } },
    };
  }

  function draw(canvas, chart) {
    const old = drawn.get(canvas);
    if (old) { old.destroy(); }
    const config = { type: chart.kind, data: { datasets: datasets(chart) }, options: options(chart) };
    if (chart.kind !== "scatter") { config.data.labels = chart.labels; }
    drawn.set(canvas, new window.Chart(canvas, config));
    const note = canvas.closest("[data-chart]") && canvas.closest("[data-chart]").querySelector("[data-chart-note]");
    if (note) { note.textContent = chart.note; }
  }

  function withQuery(url, query) {
    if (!query) { return url; }
    return url + (url.indexOf("?") === -1 ? "?" : "&") + query;
  }

  function load(canvas, query) {
    const status = canvas.closest("[data-chart]") && canvas.closest("[data-chart]").querySelector("[data-chart-status]");
    fetch(withQuery(canvas.dataset.chartUrl, query), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (chart) {
        if (status) { status.textContent = ""; }
        draw(canvas, chart);
      })
      .catch(function () {
        if (status) { status.textContent = status.dataset.error || "Error"; }
      });
    const csv = canvas.closest("[data-chart]") && canvas.closest("[data-chart]").querySelector("[data-chart-csv]");
    if (csv) { csv.href = withQuery(withQuery(canvas.dataset.chartUrl, "format=csv"), query); }
  }

  function loadAll(query) {
    document.querySelectorAll("canvas[data-chart-url]").forEach(function (canvas) { load(canvas, query); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.querySelector("form[data-chart-filters]");
    const query = function () { return form ? new URLSearchParams(new FormData(form)).toString() : window.location.search.slice(1); };
    loadAll(query());
    if (form) {
      form.addEventListener("change", function () {
        const q = query();
        window.history.replaceState(null, "", "?" + q);
        loadAll(q);
      });
    }
  });
})();
