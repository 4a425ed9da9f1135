// The spend chart on the customer 360 page (templates/customers/profile/_spend.html): fetches the
// monthly totals (customers.views.profile.customer_spend_chart) and draws one bar series per
// currency, named in a legend when there are several. Texts for the empty and error states come
// from the status line's data attributes.
(function () {
  "use strict";
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545"];

  function show(status, text) {
    if (status) {
      status.textContent = text;
    }
  }

  function draw(canvas, chart) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (series, index) {
          return { label: series.label, data: series.data, backgroundColor: palette[index % palette.length] };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { maxTicksLimit: 5 } }, x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } } },
        plugins: { legend: { display: chart.series.length > 1, position: "bottom", labels: { boxWidth: 12 } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.querySelector("[data-spend-chart]");
    if (!box || !window.Chart) {
      return;
    }
    const canvas = box.querySelector("canvas[data-spend-url]");
    const status = box.parentElement.querySelector("[data-spend-status]");
    fetch(canvas.dataset.spendUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (chart) {
        if (chart.series.length === 0) {
          box.hidden = true;
          show(status, status && status.dataset.empty);
          return;
        }
        draw(canvas, chart);
      })
      .catch(function () {
        show(status, status && status.dataset.error);
      });
  });
})();
