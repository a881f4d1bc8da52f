// BertSharp sentiment page. Everything a user or the server sends is shown with textContent, never parsed as HTML.
"use strict";

const examples = [
  "I went in expecting very little and came out grinning. The cast has real chemistry, the script is sharp and " +
    "funny without trying too hard, and the last act genuinely moved me. One of the best films I've seen this year.",
  "Two hours I will never get back. The plot makes no sense, the dialogue is wooden and the acting is so flat that " +
    "I stopped caring about anyone on screen after ten minutes. Avoid this one.",
  "A beautifully shot film with a haunting score. It drags a little in the middle, but the performances carry it, " +
    "and the ending stayed with me for days.",
];
let nextExample = 0;

function $(id) { return document.getElementById(id); }

function percent(p) { return (100 * p).toFixed(1) + "%"; }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function render(text, prediction) {
  $("error").hidden = true;
  $("result-label").textContent = prediction.label;
  $("result-score").textContent = percent(prediction.score);
  const bars = $("result-bars");
  bars.replaceChildren();
  for (const [label, p] of Object.entries(prediction.probabilities)) {
    const row = document.createElement("div");
    row.className = "bar";
    if (/^(pos|positive)$/i.test(label)) row.classList.add("pos");
    if (/^(neg|negative)$/i.test(label)) row.classList.add("neg");
    row.dataset.label = label;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    const track = document.createElement("div");
    track.className = "track";
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-label", label);
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-valuemax", "100");
    track.setAttribute("aria-valuenow", (100 * p).toFixed(1));
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = (100 * p).toFixed(2) + "%";
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = percent(p);
    row.append(name, track, value);
    bars.append(row);
  }
  $("result-meta").textContent = prediction.num_tokens + " tokens" +
    (prediction.truncated ? " · truncated: only the beginning of the review was read" : "");
  $("result-text").textContent = text;
  $("result").hidden = false;
}

async function classify() {
  const text = $("review").value;
  if (text.trim() === "") {
    showError("Type or paste a review first.");
    return;
  }
  const button = $("classify");
  button.disabled = true;
  $("status").textContent = "Classifying…";
  try {
    const response = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text }),
    });
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    if (!response.ok) {
      showError((body && (body.detail || body.title)) || ("The server answered " + response.status + "."));
      return;
    }
    render(text, body.predictions[0]);
  } catch (e) {
    showError("Could not reach the server: " + e.message);
  } finally {
    button.disabled = false;
    $("status").textContent = "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("classify").addEventListener("click", classify);
  $("example").addEventListener("click", () => {
    $("review").value = examples[nextExample];
    nextExample = (nextExample + 1) % examples.length;
    $("review").focus();
  });
  $("review").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) classify();
  });
});
