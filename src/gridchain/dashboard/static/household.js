// The household page: reads a wallet's public view (a file or pasted text), sends only its public fields to
// /api/household, shows the server's explanation and draws the energy chart from the numbers it carries.
"use strict";
(function () {
  const form = document.getElementById("household-form");
  const fileInput = document.getElementById("view-file");
  const text = document.getElementById("view-text");
  const errorEl = document.getElementById("household-error");
  const statusEl = document.getElementById("household-status");
  const result = document.getElementById("household-result");
  const TOP = ["format", "chain_id", "community"];
  const FIELDS = ["pseudonym", "arrival", "slot", "tx"];

  function pick(object, keys) {
    const out = {};
    for (const k of keys) if (object && Object.prototype.hasOwnProperty.call(object, k)) out[k] = object[k];
    return out;
  }
  // Only the public view's own fields leave the browser, whatever else the chosen file holds.
  function publicPart(view) {
    if (!view || typeof view !== "object" || Array.isArray(view)) throw new Error("file: not a JSON object");
    const out = pick(view, TOP);
    if (Array.isArray(view.requests)) {
      out.requests = view.requests.map((r, i) => {
        if (r && typeof r.arrival === "number" && !Number.isSafeInteger(r.arrival)) {
          throw new Error("requests[" + i + "].arrival: " + r.arrival + " is too large for this browser");
        }
        return r && typeof r === "object" ? pick(r, FIELDS) : r;
      });
    } else if (view.requests !== undefined) out.requests = view.requests;
    return out;
  }
  async function source() {  // pasted text, else the chosen file (choosing a file clears the text)
    if (text.value.trim() || !fileInput.files.length) return { name: "pasted text", text: text.value };
    return { name: "file " + fileInput.files[0].name, text: await fileInput.files[0].text() };
  }
  function drawChart() {
    const el = document.getElementById("household-chart");
    if (!el) return;
    const points = JSON.parse(document.getElementById("household-chart-data").textContent);
    const C = window.gridchainCharts;
    const x = points.map((p) => p.start);
    Plotly.newPlot(el, [
      { name: "granted (kW)", x: x, y: points.map((p) => p.granted_w / 1000), type: "bar",
        marker: { color: "#e07b00" }, customdata: points.map((p) => p.slot),
        hovertemplate: "slot %{customdata}: %{y} kW<extra></extra>" },
      { name: "energy so far (kWh)", x: x, y: points.map((p) => p.cumulative_wh / 1000), yaxis: "y2",
        type: "scatter", mode: "lines+markers", line: { shape: "hv", color: "#0b5cad", width: 2 } },
    ], C.layout({
      xaxis: { title: { text: "slot begins (UTC)" }, type: "date" },
      yaxis: { title: { text: "kW" }, rangemode: "tozero" },
      yaxis2: { title: { text: "kWh" }, overlaying: "y", side: "right", rangemode: "tozero" },
      margin: { l: 50, r: 50, t: 30, b: 45 },
    }), C.config);
  }
  async function show(event) {
    if (event) event.preventDefault();
    errorEl.textContent = "";
    let body;
    try {
      const chosen = await source();
      if (!chosen.text.trim()) throw new Error("choose a file or paste a public view");
      try {
        body = JSON.stringify(publicPart(JSON.parse(chosen.text)));
      } catch (e) {
        throw new Error(chosen.name + ": " + (e instanceof SyntaxError ? "not JSON (" + e.message + ")" : e.message));
      }
    } catch (e) {
      errorEl.textContent = e.message;
      return;
    }
    statusEl.textContent = "Reading the chain's records…";
    try {
      const response = await fetch("/api/household", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "text/html" }, body: body,
      });
      if (!response.ok) {
        let detail = response.statusText;
        try { detail = (await response.json()).detail; } catch (e) { /* not JSON: keep the status text */ }
        errorEl.textContent = "The dashboard refused the view: " + (typeof detail === "string" ? detail : JSON.stringify(detail));
        statusEl.textContent = "";
        return;
      }
      result.innerHTML = await response.text();
      drawChart();
      const count = result.querySelectorAll("article.request").length;
      statusEl.textContent = "Showing " + count + " request" + (count === 1 ? "" : "s") + ".";
    } catch (e) {
      errorEl.textContent = "The dashboard server does not answer.";
      statusEl.textContent = "";
    }
  }
  form.addEventListener("submit", show);
  fileInput.addEventListener("change", () => {
    if (!fileInput.files.length) return;
    text.value = "";
    show();
  });
})();
