// The metering page's proof check, in the browser: a reading's EIP-712 digest (the Merkle leaf) hashed up its
// proof path with keccak256 over sorted pairs (gridchain.metering.model.verify_proof), compared with the day's
// root the server read on chain. keccak256 is @noble/hashes, served by this dashboard (make setup copies it).
const VENDOR = "/static/vendor/noble-hashes/";
const MISSING = "The browser's keccak256 (@noble/hashes) did not load: run `make setup` in the gridchain checkout " +
  "(npm ci, then its files are copied into src/gridchain/dashboard/static/vendor/noble-hashes/) and reload.";
const READING_TYPE = "Reading(address meter,uint256 intervalStart,uint256 activeWh,uint256 reactiveVarh)";
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const U256 = (1n << 256n) - 1n;

class FieldError extends Error {}

const $ = (id) => document.getElementById(id);

function show(kind, text) {
  const out = $("proof-result");
  out.className = kind;
  out.textContent = text;
}

// -- encoding (hex strings without 0x, lower case) ----------------------------------------------------------
function word(value, field) {
  let n;
  try {
    n = BigInt(value);
  } catch (e) {
    throw new FieldError(field + ": " + JSON.stringify(value) + " is not an integer");
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new FieldError(field + ": " + value + " is too large for a JSON number: quote it");
  if (n < 0n || n > U256) throw new FieldError(field + ": " + value + " is outside 0 .. 2^256 - 1");
  return n.toString(16).padStart(64, "0");
}

function addressWord(value, field) {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw new FieldError(field + ": " + JSON.stringify(value) + " is not an address (0x and 40 hex digits)");
  return value.slice(2).toLowerCase().padStart(64, "0");
}

function pick(data, names) {
  for (const name of names) if (data[name] !== undefined) return data[name];
  throw new FieldError(names[0] + ": missing");
}

// A reading as the archive prints it (meter, intervalStart, activeWh, reactiveVarh) or as `meter prove --json`
// does (meter, interval_start, active_wh, reactive_varh, proof).
function parseReading(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FieldError("reading: not JSON (" + e.message + ")");
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new FieldError("reading: not a JSON object");
  return {
    meter: pick(data, ["meter"]),
    intervalStart: pick(data, ["intervalStart", "interval_start"]),
    activeWh: pick(data, ["activeWh", "active_wh"]),
    reactiveVarh: pick(data, ["reactiveVarh", "reactive_varh"]),
    proof: Array.isArray(data.proof) ? data.proof : null,
  };
}

export function verifier(noble) {
  const { keccak_256 } = noble.sha3;
  const { bytesToHex, hexToBytes, utf8ToBytes } = noble.utils;
  const keccak = (hex) => bytesToHex(keccak_256(hexToBytes(hex)));
  const keccakText = (text) => bytesToHex(keccak_256(utf8ToBytes(text)));
  const hashPair = (a, b) => (a < b ? keccak(a + b) : keccak(b + a));  // equal-length lower-case hex: byte order
  return {
    leaf(domain, r) {
      const separator = keccak(keccakText(DOMAIN_TYPE) + keccakText(domain.name) + keccakText(domain.version) +
        word(domain.chainId, "chain id") + addressWord(domain.contract, "contract"));
      const struct = keccak(keccakText(READING_TYPE) + addressWord(r.meter, "meter") +
        word(r.intervalStart, "intervalStart") + word(r.activeWh, "activeWh") + word(r.reactiveVarh, "reactiveVarh"));
      return keccak("1901" + separator + struct);
    },
    // every node on the way up: [sibling, the hash of the sorted pair]
    path(leaf, proof) {
      const steps = [];
      let node = leaf;
      proof.forEach((sibling, i) => {
        if (typeof sibling !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(sibling)) throw new FieldError("proof[" + i + "]: not 32 bytes of hex");
        node = hashPair(node, sibling.slice(2).toLowerCase());
        steps.push([sibling.toLowerCase(), node]);
      });
      return steps;
    },
  };
}

function pathRows(leaf, steps) {
  const tbody = document.querySelector("#proof-path tbody");
  tbody.replaceChildren();
  const row = (cells) => {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  };
  row([["leaf", ""], ["-", "mono"], ["0x" + leaf, "mono"]]);
  steps.forEach(([sibling, node], i) => row([[String(i + 1), "num"], [sibling, "mono"], ["0x" + node, "mono"]]));
}

async function fetchProof(reading) {
  const query = new URLSearchParams({ meter: reading.meter, interval_start: String(reading.intervalStart) });
  const response = await fetch("/api/metering/proof?" + query, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.loc.slice(-1)[0] + ": " + d.msg).join("; ") : body.detail;
    throw new FieldError("the server refused: " + (detail || response.status));
  }
  return body;
}

function report(v, form, reading, server) {
  const domain = { name: form.dataset.domainName, version: form.dataset.domainVersion, chainId: server.chain_id, contract: server.contract };
  const leaf = v.leaf(domain, reading);
  const proof = server.archive ? server.archive.proof : reading.proof;
  $("proof-detail").hidden = false;
  $("proof-leaf").textContent = "0x" + leaf;
  $("proof-day").textContent = String(server.day);
  $("proof-version").textContent = server.root_version === null ? "-" : String(server.root_version);
  $("proof-onchain").textContent = server.root || "none anchored";
  if (!proof) {
    $("proof-recomputed").textContent = "-";
    $("proof-source").textContent = "none: " + server.note + ", and the pasted JSON has no proof";
    pathRows(leaf, []);
    return show("bad", "✗ No proof path for this reading: " + server.note + ".");
  }
  $("proof-source").textContent = server.archive
    ? "from the gateway's archive: leaf " + server.archive.index + " of " + server.archive.leaves + ", " + proof.length + " siblings"
    : "from the pasted JSON, " + proof.length + " siblings";
  const steps = v.path(leaf, proof);
  pathRows(leaf, steps);
  const recomputed = "0x" + (steps.length ? steps[steps.length - 1][1] : leaf);
  $("proof-recomputed").textContent = recomputed;
  if (server.root === null) return show("bad", "✗ No root is anchored on chain for day " + server.day + " of this meter.");
  if (recomputed === server.root.toLowerCase()) return show("ok", "✓ The reading matches the root on chain.");
  show("bad", "✗ The reading does not match the root on chain: recomputed " + recomputed + ", on chain " + server.root + ".");
}

async function main() {
  const form = $("proof-form");
  if (!form) return;
  let noble;
  try {
    noble = { sha3: await import(VENDOR + "sha3.js"), utils: await import(VENDOR + "utils.js") };
  } catch (e) {
    $("prove-button").disabled = true;
    return show("bad", MISSING);
  }
  const v = verifier(noble);
  const readings = $("readings-data") ? JSON.parse($("readings-data").textContent) : [];
  const picker = $("reading-pick");
  if (picker) picker.addEventListener("change", () => {
    const r = readings[Number(picker.value)];
    if (picker.value !== "" && r) $("reading-json").value = JSON.stringify(r, null, 1);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show("", "Proving…");
    try {
      const reading = parseReading($("reading-json").value);
      addressWord(reading.meter, "meter");
      word(reading.intervalStart, "intervalStart");
      report(v, form, reading, await fetchProof(reading));
    } catch (e) {
      $("proof-detail").hidden = true;
      show("bad", e instanceof FieldError ? "✗ " + e.message : "✗ The proof could not be checked: " + e.message);
    }
  });
  form.dataset.ready = "true";
}

main();
