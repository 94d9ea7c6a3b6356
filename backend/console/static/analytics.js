/* Draws the dashboard's charts (Chart.js) from each canvas's data-chart attribute.
   The same numbers are in the table under every chart: without JavaScript, or with a
   screen reader, the tables are the dashboard. No animation (old PCs). */
(function () {
  "use strict";
  var palette = ["#0b4f9c", "#b35c00", "#00703c", "#6f2da8", "#b10e1e"];
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) {
      var spec = JSON.parse(canvases[i].getAttribute("data-chart"));
      var datasets = spec.datasets.map(function (set, n) {
        return { label: set.label, data: set.data, backgroundColor: palette[n % palette.length],
                 borderColor: palette[n % palette.length], borderWidth: 2 };
      });
      new window.Chart(canvases[i], {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
      canvases[i].setAttribute("data-drawn", "true");
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
