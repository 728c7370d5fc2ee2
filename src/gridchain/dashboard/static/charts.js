// Shared chart settings for the dashboard's pages (plotly.js, served by this server).
"use strict";
window.gridchainCharts = {
  layout: function (extra) {
    return Object.assign({
      margin: { l: 50, r: 10, t: 30, b: 45 },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      font: { family: "system-ui, sans-serif", size: 13, color: "#1a1a1a" },
      paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
      hovermode: "x unified",
    }, extra || {});
  },
  config: { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] },
};
