// Draws the service dashboard's charts from the JSON the page embeds (json_script, with the
// series names already translated), so no inline script is needed; the trend table next to the charts carries the same numbers.
(function () {
  "use strict";

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) {
      new window.Chart(canvas, config);
    }
  }

  function lineOptions(suggestedMax) {
    const scale = { beginAtZero: true };
    if (suggestedMax) {
      scale.suggestedMax = suggestedMax;
    }
    return {
      maintainAspectRatio: false,
      spanGaps: true,
      scales: { y: scale },
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    const source = document.getElementById("service-dashboard-data");
    if (!source || !window.Chart) {
      return;
    }
    const data = JSON.parse(source.textContent);
    const text = data.text;

    draw("chart-volume", {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.created, data: data.created },
          { label: text.resolved, data: data.resolved },
        ],
      },
      options: lineOptions(),
    });
    draw("chart-response", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.first_response, data: data.first_response_median_hours },
        ],
      },
      options: lineOptions(),
    });
    draw("chart-csat", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: text.csat, data: data.csat_average }],
      },
      options: lineOptions(5),
    });
    draw("chart-backlog", {
      type: "bar",
      data: {
        labels: data.backlog_ages.labels,
        datasets: [{ label: text.backlog, data: data.backlog_ages.counts }],
      },
      options: lineOptions(),
    });
  });
})();
