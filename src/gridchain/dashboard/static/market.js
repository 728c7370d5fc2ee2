// The Market page: draws the cleared intervals' prices and volume, and polls for what changed (new intervals,
// reveals, clearings, states that move with the chain's clock), swapping in the rows the server renders.
"use strict";
(function () {
  const script = document.getElementById("market-js");
  const pollMs = Number(script.dataset.pollMs);
  const live = document.getElementById("live");
  if (!live) return;  // nothing deployed or indexed yet: the page says so

  const C = window.gridchainCharts;
  const chartEl = document.getElementById("chart");
  const tbody = document.querySelector("#intervals tbody");
  const maxRows = Number(document.getElementById("intervals").dataset.rows);
  function say(text) { live.textContent = text; }
  function element(html) {  // one element from the server's own template
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function traces(c) {
    const price = (name, y, dash) => ({
      name: name, x: c.time, y: y, type: "scatter", mode: "lines+markers", line: { width: 2, dash: dash },
      hovertemplate: name + " %{y} coin/kWh<extra></extra>",
    });
    return [
      price("buy price", c.buy, "solid"),
      price("sell price", c.sell, "dot"),
      { name: "volume", x: c.time, y: c.volume, type: "bar", yaxis: "y2", opacity: 0.45,
        width: c.time.map(() => c.interval_s * 1000), offset: 0,  // a bar spans its delivery interval
        marker: { color: "#5b7fa6" }, hovertemplate: "volume %{y} kWh<extra></extra>" },
    ];
  }
  const layout = C.layout({
    xaxis: { title: { text: "interval start (UTC)" }, type: "date", automargin: true },
    yaxis: { title: { text: "price (coin/kWh)" }, rangemode: "tozero" },
    yaxis2: { title: { text: "volume (kWh)" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false,
              tickmode: "auto" },
    margin: { l: 60, r: 60, t: 30, b: 45 },
  });
  let drawn = document.getElementById("chart-data").textContent;
  Plotly.newPlot(chartEl, traces(JSON.parse(drawn)), layout, C.config);

  function place(fresh, number) {  // newest first: before the first row with a smaller interval number
    const after = [...tbody.rows].find(tr => Number(tr.dataset.interval) < number);
    tbody.insertBefore(fresh, after || null);
    while (tbody.rows.length > maxRows) tbody.deleteRow(tbody.rows.length - 1);
  }

  let since = Number(script.dataset.since);
  const rows = {};  // interval -> the row's HTML as the server sent it last
  let summaryHtml = null;  // the summary as the server sent it last
  async function step() {
    const response = await fetch("/api/market?since=" + since, { cache: "no-store" });
    const state = response.ok ? await response.json() : null;
    if (!state || state.checkpoint === undefined) return;
    if (state.checkpoint < since) { window.location.reload(); return; }  // the chain went back: start afresh
    for (const r of state.rows) {
      if (rows[r.number] === r.html) continue;
      const fresh = element(r.html);
      const old = tbody.querySelector('tr[data-interval="' + r.number + '"]');
      const first = !(r.number in rows);
      rows[r.number] = r.html;
      if (first && old && old.outerHTML === fresh.outerHTML) continue;  // as the page was rendered
      if (old) old.replaceWith(fresh);
      else place(fresh, r.number);
      fresh.classList.add("fresh");
      document.getElementById("no-intervals").hidden = true;
      say("Interval " + r.number + ": " + r.state + ".");
    }
    if (summaryHtml !== state.summary_html) {
      document.getElementById("market-summary").innerHTML = state.summary_html;
      summaryHtml = state.summary_html;
    }
    const chart = JSON.stringify(state.chart);
    if (chart !== JSON.stringify(JSON.parse(drawn))) {
      Plotly.react(chartEl, traces(state.chart), layout, C.config);
      drawn = chart;
    }
    since = state.checkpoint;
  }
  async function loop() {
    try {
      await step();
    } catch (e) {
      say("Live updates paused: the dashboard server does not answer.");
    } finally {
      setTimeout(loop, pollMs);
    }
  }
  setTimeout(loop, pollMs);
})();
