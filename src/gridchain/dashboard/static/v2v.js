// The V2V pages: the market page polls for new auctions and bids and swaps in the rows the server renders; an
// auction's page draws its bid timeline (one series per bidder) and adds the bids placed since, without a reload.
"use strict";
(function () {
  const script = document.getElementById("v2v-js");
  const pollMs = Number(script.dataset.pollMs);
  const live = document.getElementById("live");
  if (!live) return;  // nothing indexed yet: the page says so

  function say(text) { live.textContent = text; }
  function element(html) {  // one element from the server's own template (a row or a section's content)
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }
  const shown = {};  // section id -> the HTML the server sent last (only a change is swapped in)
  function replace(id, html) {
    const el = document.getElementById(id);
    if (el && shown[id] !== html) el.innerHTML = html;
    shown[id] = html;
  }
  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store" });
    return response.ok ? response.json() : null;
  }
  function every(step) {
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
  }

  // -- the market page -----------------------------------------------------------------------------------
  function market() {
    let since = Number(script.dataset.since);
    const bodies = { open: document.querySelector("#open tbody"), ended: document.querySelector("#ended tbody") };
    const rows = {};  // auction number -> the row's HTML as the server sent it last
    every(async function () {
      const state = await getJson("/api/v2v?since=" + since);
      if (!state || state.checkpoint === undefined) return;
      if (state.checkpoint < since) { window.location.reload(); return; }  // the chain went back: start afresh
      for (const r of state.rows) {
        if (rows[r.number] === r.html) continue;
        const fresh = element(r.html);
        const old = document.querySelector('tr[data-auction="' + r.number + '"]');
        const first = !(r.number in rows);
        rows[r.number] = r.html;
        if (first && old && old.outerHTML === fresh.outerHTML) continue;  // as the page was rendered
        if (old && old.parentNode === bodies[r.table]) old.replaceWith(fresh);
        else {
          if (old) old.remove();
          bodies[r.table].insertBefore(fresh, bodies[r.table].firstChild);
        }
        fresh.classList.add("fresh");
        say("Auction " + r.number + ": " + r.state + ".");
      }
      replace("v2v-summary", state.summary_html);
      replace("v2v-pending", state.pending_html);
      since = state.checkpoint;
    });
  }

  // -- an auction's page ----------------------------------------------------------------------------------
  function auction() {
    const number = script.dataset.number;
    let after = Number(script.dataset.after);
    const chartEl = document.getElementById("chart");
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    const C = window.gridchainCharts;
    const series = {};  // provider -> trace index (trace 0: the rate a bid must undercut)
    const best = {
      name: "rate to undercut", x: [data.started_block], y: [data.start_rate_twei], type: "scatter",
      mode: "lines", line: { shape: "hv", color: "#4a4a4a", width: 2, dash: "dot" },
      hovertemplate: "rate to undercut %{y} Twei/kWh<br>block %{x}<extra></extra>",
    };
    const traces = [best];
    function trace(provider) {
      return { name: provider.slice(0, 10) + "…", x: [], y: [], type: "scatter", mode: "markers",
               marker: { size: 10 }, hovertemplate: provider + "<br>%{y} Twei/kWh<br>block %{x}<extra></extra>" };
    }
    function blocks() {  // whole blocks on the axis, about eight ticks
      const xs = chartEl.data ? chartEl.data[0].x : best.x;
      const span = Math.max(...xs) - Math.min(...xs);
      return { tickformat: "d", tick0: 0, dtick: Math.max(1, Math.ceil(span / 8)), title: { text: "block" } };
    }
    for (const b of data.bids) {
      if (!(b.provider in series)) { series[b.provider] = traces.length; traces.push(trace(b.provider)); }
      traces[series[b.provider]].x.push(b.block);
      traces[series[b.provider]].y.push(b.rate_twei);
      best.x.push(b.block);
      best.y.push(b.rate_twei);
    }
    Plotly.newPlot(chartEl, traces, C.layout({
      hovermode: "closest",
      xaxis: blocks(),
      yaxis: { title: { text: "rate (Twei/kWh)" }, rangemode: "tozero" },
    }), C.config);

    const tbody = document.querySelector("#bids tbody");
    function addBid(b) {
      tbody.appendChild(element(b.html)).classList.add("fresh");
      if (!(b.provider in series)) {
        series[b.provider] = chartEl.data.length;
        Plotly.addTraces(chartEl, trace(b.provider));
      }
      Plotly.extendTraces(chartEl, { x: [[b.block], [b.block]], y: [[b.rate_twei], [b.rate_twei]] },
                          [0, series[b.provider]]);
      Plotly.relayout(chartEl, { xaxis: blocks() });
    }
    every(async function () {
      const state = await getJson("/api/v2v/auctions/" + number + "?after=" + after);
      if (!state || !state.bids) return;
      if (state.bids.length && state.bids[0].n !== after + 1) { window.location.reload(); return; }
      for (const b of state.bids) addBid(b);
      if (state.bids.length) {
        after = state.bids[state.bids.length - 1].n;
        const last = state.bids[state.bids.length - 1];
        say("Bid " + last.n + ": " + last.rate + " Twei/kWh.");
        document.getElementById("no-bids").hidden = true;
      }
      if (state.state !== script.dataset.state) {
        say("The auction is now: " + state.state + ".");
        script.dataset.state = state.state;
      }
      replace("facts", state.facts_html);
      replace("trade", state.trade_html);
      replace("v2v-pending", state.pending_html);
    });
  }

  if (script.dataset.page === "auction") auction();
  else market();
})();
