// An experiment's page: draws each chart the server described (plotly traces and layout in #charts-data).
"use strict";
(function () {
  const block = document.getElementById("charts-data");
  if (!block || !window.Plotly) return;
  const specs = JSON.parse(block.textContent);
  const C = window.gridchainCharts;
  const shorten = (s) => (s.length <= 16 ? s : s.slice(0, 15) + "…");
  for (const el of document.querySelectorAll(".chart[data-chart]")) {
    const spec = specs[el.dataset.chart];
    if (!spec) continue;
    const layout = C.layout(spec.layout);
    const bars = spec.traces.find((t) => t.orientation === "h");
    if (bars && el.clientWidth < 560) {  // a phone: long function names would leave no room for the bars
      layout.yaxis = Object.assign({}, layout.yaxis, { tickmode: "array", tickvals: bars.y, ticktext: bars.y.map(shorten) });
    }
    Plotly.newPlot(el, spec.traces, layout, C.config);
  }
})();
