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

// Shades each word of the review by its attribution: green toward the explained label, red away, the alpha by its
// share of the largest |attribution|. Text nodes and spans only; the words are slices of the review itself.
function renderExplanation(text, body) {
  const box = $("explanation-text");
  box.replaceChildren();
  const scale = Math.max(1e-12, ...body.words.map((w) => Math.abs(w.attribution)));
  let at = 0;
  for (const word of body.words) {
    if (word.start > at) box.append(document.createTextNode(text.slice(at, word.start)));
    const span = document.createElement("span");
    span.className = "word " + (word.attribution >= 0 ? "toward" : "against");
    span.textContent = text.slice(word.start, word.end);
    span.dataset.attribution = String(word.attribution);
    span.title = (word.attribution >= 0 ? "+" : "") + word.attribution.toFixed(4);
    const alpha = (0.85 * Math.abs(word.attribution) / scale).toFixed(3);
    span.style.backgroundColor = word.attribution >= 0 ? `rgba(46, 158, 91, ${alpha})` : `rgba(214, 69, 69, ${alpha})`;
    box.append(span);
    at = word.end;
  }
  if (at < text.length) {
    const rest = document.createElement("span");
    rest.className = "unread";
    rest.textContent = text.slice(at);
    if (body.truncated) rest.title = "not read: after the model's maximum length";
    box.append(rest);
  }
  $("explanation-target").textContent = body.target_label;
  const top = (list) => list.slice(0, 5).map((w) => w.word + " (" + (w.attribution >= 0 ? "+" : "") + w.attribution.toFixed(3) + ")").join(", ") || "none";
  const toward = body.words.filter((w) => w.attribution > 0).sort((a, b) => b.attribution - a.attribution);
  const against = body.words.filter((w) => w.attribution < 0).sort((a, b) => a.attribution - b.attribution);
  $("explanation-top").textContent = "Most toward " + body.target_label + ": " + top(toward) + " · most against: " + top(against);
  $("explanation-summary").textContent = "Integrated Gradients, " + body.steps + " steps: the attributions add up to " +
    body.attribution_sum.toFixed(4) + "; the logit moved " + (body.target_logit - body.baseline_logit).toFixed(4) +
    " from the [PAD] baseline (convergence delta " + body.convergence_delta.toExponential(2) + ")" +
    (body.truncated ? " · truncated: only the beginning was read" : "");
  $("explanation").hidden = false;
}

async function post(path, payload) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify(payload),
  });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) throw new Error((body && (body.detail || body.title)) || ("The server answered " + response.status + "."));
  return body;
}

async function explain() {
  const text = $("review").value;
  if (text.trim() === "") {
    showError("Type or paste a review first.");
    return;
  }
  const buttons = [$("classify"), $("explain")];
  buttons.forEach((b) => { b.disabled = true; });
  $("status").textContent = "Explaining…";
  try {
    const body = await post("/api/explain", { text });
    render(text, body);
    renderExplanation(text, body);
  } catch (e) {
    showError(e.message.startsWith("Failed to fetch") ? "Could not reach the server: " + e.message : e.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    $("status").textContent = "";
  }
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
    $("explanation").hidden = true;
  } catch (e) {
    showError("Could not reach the server: " + e.message);
  } finally {
    button.disabled = false;
    $("status").textContent = "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("classify").addEventListener("click", classify);
  $("explain").addEventListener("click", explain);
  $("example").addEventListener("click", () => {
    $("review").value = examples[nextExample];
    nextExample = (nextExample + 1) % examples.length;
    $("review").focus();
  });
  $("review").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) classify();
  });
});
