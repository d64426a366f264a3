// dreamreel studio: plain JS over the studio's JSON API. Every request carries the token (the
// cookie the page set, and the header from the address it was opened with).
"use strict";
const token = new URLSearchParams(location.search).get("token") || sessionStorage.getItem("studio-token") || "";
if (token) sessionStorage.setItem("studio-token", token);
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = Object.assign({ "X-Studio-Token": token }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
  const text = await response.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch (e) { body = { error: text }; }
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(error) { $("error").textContent = error ? String(error.message || error) : ""; }
function fileUrl(path) { return "/api/file?path=" + encodeURIComponent(path) + "&v=" + Date.now(); }

// The look as the API takes it: every field with a data-key is a setting by that key.
function look(mode) {
  const settings = {};
  for (const field of document.querySelectorAll("input[data-key], select[data-key]")) {
    if (field.value.trim() !== "") settings[field.dataset.key] = field.value.trim();
  }
  if ($("input").value !== "noise") delete settings.height;
  const frames = parseInt($("frames").value, 10);
  return {
    mode: mode || $("mode").value,
    input: $("input").value,
    output: $("output").value.trim(),
    preset: $("preset").value || null,
    frames: Number.isFinite(frames) ? frames : null,
    settings,
  };
}

function fillSelect(select, values, keep) {
  const chosen = select.value;
  for (const option of [...select.options]) if (!keep.includes(option.value)) option.remove();
  for (const value of values) {
    const option = document.createElement("option");
    option.value = option.textContent = value;
    select.appendChild(option);
  }
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

async function loadState() {
  const state = await api("/api/state");
  $("folder").textContent = state.folder;
  const media = state.files.filter((f) => /\.(png|jpe?g|webp|tiff?|mp4|mov|mkv|webm|avi|gif)$/i.test(f));
  fillSelect($("input"), ["noise", ...media], []);
  fillSelect($("mask"), state.files.filter((f) => /\.(png|jpe?g|webp)$/i.test(f)), [""]);
  fillSelect($("audio"), state.files.filter((f) => /\.(wav|mp3|flac|ogg|m4a|aac|mp4|mkv|mov)$/i.test(f)), [""]);
  fillSelect($("deforum"), state.files.filter((f) => /\.(json|txt)$/i.test(f)), [""]);
  fillSelect($("model"), state.models, [""]);
  const preset = $("preset");
  if (preset.options.length <= 1) {
    for (const p of state.presets) {
      const option = document.createElement("option");
      option.value = p.name;
      option.textContent = p.name;
      option.title = p.description;
      preset.appendChild(option);
    }
  }
  return state;
}

let previewId = 0;
async function preview() {
  showError("");
  const width = parseInt($("preview-width").value, 10) || 256;
  try {
    const started = await api("/api/preview", { method: "POST", body: JSON.stringify({ look: look("still"), width }) });
    previewId = started.id;
    $("preview-pictures").innerHTML = "";
    $("preview-status").textContent = "dreaming...";
    pollPreview(started.id, 0);
  } catch (error) { showError(error); }
}

async function pollPreview(id, shown) {
  if (id !== previewId) return;
  let state;
  try { state = await api("/api/preview"); } catch (error) { showError(error); return; }
  if (state.id !== id) return;
  for (let n = shown; n < state.pictures; n++) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.className = "octave";
    img.src = "/api/preview/picture?id=" + id + "&n=" + n;
    img.alt = "octave " + (n + 1);
    const caption = document.createElement("figcaption");
    caption.textContent = "octave " + (n + 1) + "/" + state.octaves + " at " + state.seconds[n].toFixed(1) + " s";
    figure.append(img, caption);
    $("preview-pictures").appendChild(figure);
  }
  if (state.error) { showError(state.error); $("preview-status").textContent = "failed"; return; }
  if (state.done) {
    $("preview-status").textContent = "done" + (state.loaded_network ? " (network loaded)" : " (network kept loaded)");
    return;
  }
  $("preview-status").textContent = "dreaming... " + state.pictures + "/" + (state.octaves || "?") + " octaves";
  setTimeout(() => pollPreview(id, state.pictures), 250);
}

async function plot() {
  showError("");
  $("plan-status").textContent = "planning...";
  try {
    const plan = await api("/api/plan", { method: "POST", body: JSON.stringify(look()) });
    $("plan-img").src = "/api/plan.png?v=" + Date.now();
    $("plan-status").textContent = plan.frames + " frames";
  } catch (error) { showError(error); $("plan-status").textContent = ""; }
}

async function importDeforum() {
  showError("");
  const path = $("deforum").value;
  if (!path) { showError("pick a Deforum settings file or Parseq frames in the folder"); return; }
  try {
    const imported = await api("/api/deforum", { method: "POST", body: JSON.stringify({ path, frames: null }) });
    for (const [key, value] of Object.entries(imported.settings)) {
      const field = document.querySelector('[data-key="' + key + '"]');
      if (field) field.value = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    if (imported.frames) $("frames").value = imported.frames;
    $("plan-status").textContent = imported.ignored.length ? "ignored: " + imported.ignored.join(", ") : "imported";
  } catch (error) { showError(error); }
}

// A few small frames of the motion: a short render queued like any other, shown when done.
let motionId = null;
async function previewMotion() {
  showError("");
  const width = parseInt($("preview-width").value, 10) || 256;
  try {
    const queued = await api("/api/motion", { method: "POST", body: JSON.stringify({ look: look(), width }) });
    motionId = queued.id;
    $("motion-frames").textContent = "motion preview queued (render " + queued.id + ")";
    refreshRenders();
  } catch (error) { showError(error); }
}

async function exportLook(mode) {
  const exports = await api("/api/look", { method: "POST", body: JSON.stringify(look(mode)) });
  $("export-command").textContent = exports.command;
  $("export-manifest").textContent = exports.manifest;
  $("export-preset").textContent = exports.preset;
  return exports;
}

async function queueRender() {
  showError("");
  try {
    await exportLook();
    await api("/api/renders", { method: "POST", body: JSON.stringify(look()) });
    refreshRenders();
  } catch (error) { showError(error); }
}

async function act(id, action) {
  showError("");
  try { await api("/api/renders/" + id + "/" + action, { method: "POST", body: "{}" }); refreshRenders(); }
  catch (error) { showError(error); }
}

function progressText(render) {
  const p = render.progress;
  if (!p) return render.state === "queued" ? "waiting" : "";
  let text = p.done + (p.total ? "/" + p.total : "") + " frames";
  if (p.frames_per_second) text += ", " + p.frames_per_second.toFixed(2) + " fps";
  if (p.eta_seconds != null && render.state === "running") text += ", ETA " + Math.round(p.eta_seconds) + " s";
  return text;
}

const shownOutputs = {};
async function refreshRenders() {
  let list;
  try { list = await api("/api/renders"); } catch (error) { showError(error); return; }
  const body = $("renders").querySelector("tbody");
  for (const render of list.renders) {
    let row = body.querySelector('tr[data-id="' + render.id + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.id = render.id;
      row.innerHTML = '<td class="id"></td><td class="state"></td><td class="progress"></td>' +
        '<td><img class="live" alt=""></td><td class="actions"></td><td class="output"></td>';
      row.title = render.command;
      body.prepend(row);
    }
    row.dataset.state = render.state;
    row.querySelector(".id").textContent = render.id;
    const state = row.querySelector(".state");
    state.textContent = render.state + (render.state === "failed" && render.message ? ": " + render.message : "");
    state.className = "state state-" + render.state;
    row.querySelector(".progress").textContent = progressText(render);
    const p = render.progress;
    if (p && p.preview_frame != null) {
      const live = row.querySelector("img.live");
      const key = render.id + ":" + p.preview_frame;
      if (live.dataset.shown !== key) { live.dataset.shown = key; live.src = "/api/renders/" + render.id + "/preview.png?f=" + p.preview_frame; }
    }
    const actions = row.querySelector(".actions");
    const wanted = render.state === "running" || render.state === "queued" ? "stop"
      : (render.state === "stopped" || render.state === "failed") ? "resume" : "";
    if (actions.dataset.wanted !== wanted) {
      actions.dataset.wanted = wanted;
      actions.innerHTML = "";
      if (wanted) {
        const button = document.createElement("button");
        button.className = wanted;
        button.textContent = wanted === "stop" ? "Stop" : "Resume";
        button.onclick = () => act(render.id, wanted);
        actions.appendChild(button);
      }
    }
    if (render.id === motionId && render.state === "done" && !shownOutputs[render.id]) {
      shownOutputs[render.id] = true;
      $("motion-frames").innerHTML = "";
      for (const frame of render.frames || []) {
        const img = document.createElement("img");
        img.className = "motion-frame";
        img.src = fileUrl(frame);
        $("motion-frames").appendChild(img);
      }
    } else if (render.id === motionId && render.state === "failed") {
      $("motion-frames").textContent = "motion preview failed: " + (render.message || "");
    }
    if (render.state === "done" && !shownOutputs[render.id]) {
      shownOutputs[render.id] = true;
      const cell = row.querySelector(".output");
      const isVideo = /\.(mp4|webm|mov|mkv|m4v)$/i.test(render.output);
      const media = document.createElement(isVideo ? "video" : "img");
      media.className = "out";
      if (isVideo) { media.controls = true; media.loop = true; media.muted = true; media.preload = "auto"; }
      media.src = render.frames && render.frames.length ? fileUrl(render.frames[render.frames.length - 1]) : fileUrl(render.output);
      cell.appendChild(media);
    }
  }
}

$("preview-button").onclick = preview;
$("plan-button").onclick = plot;
$("motion-button").onclick = previewMotion;
$("deforum-button").onclick = importDeforum;
$("queue-button").onclick = queueRender;
$("export-button").onclick = () => exportLook().catch(showError);
$("upload").onchange = async () => {
  const file = $("upload").files[0];
  if (!file) return;
  showError("");
  try {
    const done = await api("/api/upload?name=" + encodeURIComponent(file.name), { method: "POST", body: file });
    await loadState();
    $("input").value = done.path;
  } catch (error) { showError(error); }
};
loadState().catch(showError);
refreshRenders();
setInterval(refreshRenders, 700);
