// The community page: draws capacity against granted power per slot and polls for slots closed since.
"use strict";
(function () {
  const script = document.getElementById("community-js");
  const pollMs = Number(script.dataset.pollMs);
  let after = Number(script.dataset.after);
  const chartEl = document.getElementById("chart");
  if (!chartEl) return;  // nothing indexed yet: the page says so
  const kw = (w) => (w === null || w === undefined ? null : w / 1000);
  const points = JSON.parse(document.getElementById("chart-data").textContent);
  const C = window.gridchainCharts;
  Plotly.newPlot(chartEl, [
    { name: "C − P_R (kW)", x: points.map((p) => p.slot), y: points.map((p) => kw(p.capacity_w)),
      type: "scatter", mode: "lines+markers", line: { shape: "hvh", color: "#0b5cad", width: 2 } },
    { name: "granted (kW)", x: points.map((p) => p.slot), y: points.map((p) => kw(p.granted_w)),
      type: "bar", marker: { color: "#e07b00" } },
  ], C.layout({
    xaxis: { title: { text: "slot" }, tickformat: "d", tick0: 0, dtick: Math.max(1, Math.ceil(points.length / 12)) },
    yaxis: { title: { text: "kW" }, rangemode: "tozero" },
  }), C.config);

  const tbody = document.querySelector("#slots tbody");
  const fmtKw = (w) => (w === null || w === undefined ? "-" : String(+(w / 1000).toPrecision(6)));
  const short = (s) => (!s ? "-" : s.length <= 12 ? s : s.slice(0, 10) + "…");
  function cell(tag, text, cls, field) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    if (field) el.dataset.field = field;
    return el;
  }
  function row(r) {
    const tr = document.createElement("tr");
    tr.dataset.slot = r.slot;
    tr.className = "fresh";
    const th = document.createElement("th");
    th.scope = "row";
    const a = document.createElement("a");
    a.href = "/community/slots/" + r.slot;
    a.textContent = r.slot;
    th.appendChild(a);
    tr.appendChild(th);
    tr.appendChild(cell("td", fmtKw(r.capacity_w), "num", "capacity_w"));
    tr.appendChild(cell("td", fmtKw(r.granted_w), "num", "granted_w"));
    for (const k of ["requests", "scheduled"]) tr.appendChild(cell("td", String(r[k]), "num", k));
    tr.appendChild(cell("td", fmtKw(r.partial_w), "num", "partial_w"));
    for (const k of ["carried", "expired"]) tr.appendChild(cell("td", String(r[k]), "num", k));
    tr.appendChild(cell("td", r.gas === null ? "-" : String(r.gas) + (r.paged ? " p" : ""), "num", "gas"));
    const tx = cell("td", short(r.tx), "mono", "tx");
    tx.title = r.tx || "";
    tr.appendChild(tx);
    const v = cell("td", "", null, "verdict");
    if (r.verdict === "ok") v.appendChild(cell("span", "✓ ok", "ok"));
    else {
      v.appendChild(cell("span", "✗ mismatch", "bad"));
      const ul = cell("ul", "", "why");
      for (const m of r.mismatches) ul.appendChild(cell("li", m));
      v.appendChild(ul);
    }
    tr.appendChild(v);
    return tr;
  }
  function setText(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = String(value);
  }
  async function poll() {
    try {
      const response = await fetch("/api/community?after=" + after, { cache: "no-store" });
      if (!response.ok) return;
      const state = await response.json();
      if (state.closed !== undefined && state.closed - 1 < after) {  // the chain went back: start afresh
        window.location.reload();
        return;
      }
      const fresh = state.slots || [];
      if (fresh.length) {
        for (const r of fresh) tbody.insertBefore(row(r), tbody.firstChild);
        Plotly.extendTraces(chartEl, {
          x: [fresh.map((r) => r.slot), fresh.map((r) => r.slot)],
          y: [fresh.map((r) => kw(r.capacity_w)), fresh.map((r) => kw(r.granted_w))],
        }, [0, 1]);
        after = fresh[fresh.length - 1].slot;
        setText("live", "Slot " + after + " closed: " + fmtKw(fresh[fresh.length - 1].granted_w) + " kW granted.");
      }
      for (const k of ["closed", "requests", "verified", "checkpoint"]) setText(k, state[k]);
      setText("closed-2", state.closed);
    } catch (e) {
      setText("live", "Live updates paused: the dashboard server does not answer.");
    } finally {
      setTimeout(poll, pollMs);
    }
  }
  setTimeout(poll, pollMs);
})();
