// FaceSwapWidget's view: original, detected faces, new faces, pairing by clicks, swap, result.
// The kernel owns the state (traits); this view keeps only what is local to it: the click
// selection, uploads in progress, and the media (Blob URLs) it received as binary buffers.

import { h, flag, replaceChildren } from "./dom.js";
import { MediaAssembler } from "./chunks.js";
import { checkInBrowser, uploadFile } from "./upload.js";
import { badges, canSwap, click, colourSlot, hint, keepSelection } from "./pairing.js";
import { formatBytes, formatElapsed, uploadProgressText } from "./text.js";

class View {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.selection = null;
    this.media = new MediaAssembler();
    this.urls = new Map(); // media key -> object URL
    this.requested = new Set();
    this.listeners = new Set();
    this.uploadQueue = Promise.resolve();
    this.upload = null; // {name, sent, total}
    this.localError = "";
    this.showBefore = false;
    this.busySince = null;
    this.timer = null;
    this.faceButtons = new Map();
    this.newFaceCards = new Map();
    this.build();
  }

  // ---- messages -------------------------------------------------------------------------

  send(content, buffers = []) {
    this.model.send(content, undefined, buffers);
  }

  listen(handler) {
    this.listeners.add(handler);
    return () => this.listeners.delete(handler);
  }

  onCustom(content, buffers) {
    if (!content || typeof content !== "object") return;
    if (content.type === "media") {
      let done = null;
      try {
        done = this.media.add(content, buffers);
      } catch (err) {
        this.requested.delete(content.key);
        console.warn("mio-nb:", err);
        return;
      }
      if (done) {
        const blob = new Blob(done.parts, { type: done.mime });
        const old = this.urls.get(done.key);
        if (old) URL.revokeObjectURL(old);
        this.urls.set(done.key, URL.createObjectURL(blob));
        this.update();
      }
      return;
    }
    for (const handler of [...this.listeners]) handler(content);
  }

  /** Media keys the current state shows. */
  wantedKeys() {
    const keys = new Set();
    const main = this.model.get("main") || {};
    if (main.media) keys.add(main.media);
    for (const f of this.model.get("faces") || []) if (f.media) keys.add(f.media);
    for (const n of this.model.get("new_faces") || []) if (n.media) keys.add(n.media);
    const entry = this.shownEntry();
    if (entry && entry.media) keys.add(entry.media);
    return keys;
  }

  syncMedia() {
    const keys = this.wantedKeys();
    for (const key of this.media.prune(keys)) {
      URL.revokeObjectURL(this.urls.get(key));
      this.urls.delete(key);
    }
    for (const key of [...this.requested]) if (!keys.has(key)) this.requested.delete(key);
    const missing = [...keys].filter((k) => !this.media.has(k) && !this.requested.has(k));
    if (missing.length) {
      for (const k of missing) this.requested.add(k);
      this.send({ type: "want", keys: missing });
    }
  }

  // ---- building -------------------------------------------------------------------------

  build() {
    const el = this.el;
    el.classList.add("mio-fsw");

    this.notice = h("p", { class: "mio-notice", role: "note" });

    // 1. Original
    this.mainInput = h("input", {
      type: "file",
      class: "mio-visually-hidden",
      "aria-label": "Original file",
      accept: "image/jpeg,image/png,image/webp,image/gif,video/mp4,video/x-m4v,video/quicktime,video/webm,.jpg,.jpeg,.png,.webp,.gif,.mp4,.m4v,.mov,.webm",
      onchange: () => {
        const file = this.mainInput.files && this.mainInput.files[0];
        if (file) this.queueUpload(file, "main");
        this.mainInput.value = "";
      },
    });
    this.chooseMain = h(
      "button",
      { type: "button", class: "mio-button", onclick: () => this.mainInput.click() },
      "Choose original",
    );
    this.mainPreview = h("div", { class: "mio-main-preview" });
    this.mainInfo = h("p", { class: "mio-main-info" });
    const original = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "Original" },
      h("h3", { class: "mio-heading" }, "1. Original"),
      h(
        "div",
        { class: "mio-row" },
        this.chooseMain,
        h("span", { class: "mio-muted" }, "or drop an image or video here"),
        this.mainInput,
      ),
      h("div", { class: "mio-row mio-main" }, this.mainPreview, this.mainInfo),
    );
    this.dropTarget(original, (files) => files[0] && this.queueUpload(files[0], "main"));

    // 2. Detected faces
    this.faceGallery = h("div", { class: "mio-gallery", role: "group", "aria-label": "Detected faces" });
    this.faceEmpty = h("p", { class: "mio-muted" });
    this.detectAgain = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: "detect" }) },
      "Find faces again",
    );
    const facesSection = h(
      "section",
      { class: "mio-section", "aria-label": "Detected faces section" },
      h("h3", { class: "mio-heading" }, "2. Detected faces"),
      this.faceEmpty,
      this.detectAgain,
      this.faceGallery,
    );

    // 3. New faces
    this.newInput = h("input", {
      type: "file",
      multiple: true,
      class: "mio-visually-hidden",
      "aria-label": "New face file",
      accept: "image/jpeg,image/png,image/webp,image/gif,.jpg,.jpeg,.png,.webp,.gif",
      onchange: () => {
        for (const file of this.newInput.files || []) this.queueUpload(file, "new_face");
        this.newInput.value = "";
      },
    });
    this.addNew = h(
      "button",
      { type: "button", class: "mio-button", onclick: () => this.newInput.click() },
      "Add new face",
    );
    this.newGallery = h("div", { class: "mio-gallery", role: "group", "aria-label": "New faces" });
    const newSection = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "New faces section" },
      h("h3", { class: "mio-heading" }, "3. New faces"),
      h(
        "div",
        { class: "mio-row" },
        this.addNew,
        h("span", { class: "mio-muted" }, "or drop face photos here"),
        this.newInput,
      ),
      this.newGallery,
    );
    this.dropTarget(newSection, (files) => {
      for (const file of files) this.queueUpload(file, "new_face");
    });

    // 4. Swap
    this.hint = h("p", { class: "mio-hint", id: this.uid("hint") });
    this.hdBox = h("input", {
      type: "checkbox",
      id: this.uid("hd"),
      onchange: () => {
        this.model.set("hd", this.hdBox.checked);
        this.model.save_changes();
      },
    });
    this.swapButton = h(
      "button",
      {
        type: "button",
        class: "mio-button mio-primary",
        "aria-describedby": this.uid("hint"),
        onclick: () => this.action({ type: "swap" }),
      },
      "Swap",
    );
    this.stopButton = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: "stop" }) },
      "Stop",
    );
    this.resumeButton = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: "resume" }) },
      "Resume",
    );
    const swapSection = h(
      "section",
      { class: "mio-section", "aria-label": "Swap section" },
      h("h3", { class: "mio-heading" }, "4. Pair and swap"),
      this.hint,
      h(
        "div",
        { class: "mio-row" },
        h("label", { class: "mio-hd", for: this.uid("hd") }, this.hdBox, "HD"),
        this.swapButton,
        this.stopButton,
        this.resumeButton,
      ),
    );

    // Status and errors
    this.progress = h("progress", { class: "mio-progress", max: 1, value: 0, "aria-label": "Upload progress" });
    this.statusText = h("span", { class: "mio-status-text" });
    this.elapsed = h("span", { class: "mio-elapsed" });
    this.status = h("div", { class: "mio-status", role: "status" }, this.statusText, this.elapsed);
    this.errorBox = h("div", { class: "mio-error", role: "alert" });

    // 5. Result
    this.resultMedia = h("div", { class: "mio-result-media" });
    this.beforeButton = h(
      "button",
      {
        type: "button",
        class: "mio-button mio-secondary",
        "aria-pressed": "false",
        onclick: () => {
          this.showBefore = !this.showBefore;
          this.update();
        },
      },
      "Show original",
    );
    this.downloadButton = h(
      "button",
      { type: "button", class: "mio-button", onclick: () => this.download() },
      "Download",
    );
    this.resultPath = h("p", { class: "mio-path" });
    this.historyList = h("ol", { class: "mio-history", "aria-label": "Results" });
    this.resultSection = h(
      "section",
      { class: "mio-section", "aria-label": "Result section" },
      h("h3", { class: "mio-heading" }, "5. Result"),
      this.resultMedia,
      h("div", { class: "mio-row" }, this.beforeButton, this.downloadButton),
      this.resultPath,
      this.historyList,
    );

    el.append(
      this.notice,
      original,
      facesSection,
      newSection,
      swapSection,
      this.progress,
      this.status,
      this.errorBox,
      this.resultSection,
    );
  }

  uid(name) {
    if (!this.idPrefix) this.idPrefix = `mio-${Math.random().toString(36).slice(2, 9)}`;
    return `${this.idPrefix}-${name}`;
  }

  dropTarget(section, onFiles) {
    section.addEventListener("dragover", (event) => {
      event.preventDefault();
      section.classList.add("mio-dragging");
    });
    section.addEventListener("dragleave", () => section.classList.remove("mio-dragging"));
    section.addEventListener("drop", (event) => {
      event.preventDefault();
      section.classList.remove("mio-dragging");
      const files = [...((event.dataTransfer && event.dataTransfer.files) || [])];
      if (files.length) onFiles(files);
    });
  }

  // ---- actions --------------------------------------------------------------------------

  action(message) {
    this.localError = "";
    this.send(message);
    this.update();
  }

  queueUpload(file, role) {
    this.localError = "";
    this.uploadQueue = this.uploadQueue.then(() => this.runUpload(file, role));
    this.update();
  }

  async runUpload(file, role) {
    const problem = await checkInBrowser(file, role, this.model.get("max_upload_bytes"));
    if (problem) {
      this.localError = problem;
      this.update();
      return;
    }
    this.upload = { name: file.name, sent: 0, total: file.size };
    this.update();
    try {
      await uploadFile({
        file,
        role,
        send: (content, buffers) => this.send(content, buffers),
        listen: (handler) => this.listen(handler),
        onProgress: (sent, total) => {
          this.upload = { name: file.name, sent, total };
          this.updateStatus();
        },
      });
    } catch (err) {
      this.localError = err.message;
    } finally {
      this.upload = null;
      this.update();
    }
  }

  onClickPair(target) {
    const { selection, message } = click(this.selection, this.model.get("pair_list") || [], target);
    this.selection = selection;
    if (message) this.action(message);
    else this.update();
  }

  shownEntry() {
    const history = this.model.get("history") || [];
    if (!history.length) return null;
    const shown = this.model.get("shown");
    return history.find((e) => e.id === shown) || history[history.length - 1];
  }

  download() {
    const entry = this.shownEntry();
    const url = entry && this.urls.get(entry.media);
    if (!url) return;
    const a = h("a", { href: url, download: entry.name, class: "mio-visually-hidden" });
    this.el.append(a);
    a.click();
    a.remove();
  }

  // ---- rendering ------------------------------------------------------------------------

  update() {
    const m = this.model;
    const faces = m.get("faces") || [];
    const newFaces = m.get("new_faces") || [];
    const pairs = m.get("pair_list") || [];
    const busy = m.get("busy") || {};
    const usable = m.get("mode") !== "unavailable";
    this.selection = keepSelection(this.selection, faces, newFaces);

    this.notice.textContent = m.get("notice") || "";
    flag(this.notice, "hidden", !m.get("notice"));
    this.notice.classList.toggle("mio-notice-warn", !usable);

    flag(this.chooseMain, "disabled", !usable);
    flag(this.addNew, "disabled", !usable);
    this.renderMain();
    this.renderFaces(faces, pairs, busy);
    this.renderNewFaces(newFaces, pairs);

    this.hint.textContent = hint(this.selection, faces, newFaces, pairs);
    this.hdBox.checked = Boolean(m.get("hd"));
    flag(this.swapButton, "disabled", !canSwap({ pairs, busy, ready: usable }));
    const waiting = busy.what === "detect" || busy.what === "swap";
    flag(this.stopButton, "hidden", !waiting);
    const stopped = m.get("stopped") || {};
    flag(this.resumeButton, "hidden", !(stopped.task_id && !busy.what));

    this.updateStatus();
    const error = this.localError || m.get("error") || "";
    this.errorBox.textContent = error;
    flag(this.errorBox, "hidden", !error);

    this.renderResult();
    this.syncMedia();
  }

  updateStatus() {
    const busy = this.model.get("busy") || {};
    if (this.upload) {
      const { name, sent, total } = this.upload;
      this.statusText.textContent = uploadProgressText(name, sent, total);
      this.progress.max = Math.max(total, 1);
      this.progress.value = sent;
      flag(this.progress, "hidden", false);
    } else {
      this.statusText.textContent = this.model.get("status") || "";
      flag(this.progress, "hidden", true);
    }
    this.status.classList.toggle("mio-busy", Boolean(busy.what || this.upload));
    this.tickElapsed();
  }

  tickElapsed() {
    const busy = this.model.get("busy") || {};
    if (!busy.what || this.upload) {
      this.elapsed.textContent = "";
      return;
    }
    const seconds = this.busySince === null ? 0 : (performance.now() - this.busySince) / 1000;
    this.elapsed.textContent = ` (${formatElapsed(seconds)})`;
  }

  onBusyChange() {
    const busy = this.model.get("busy") || {};
    if (busy.what) {
      // The kernel's clock may be elsewhere (Colab): count from its elapsed, on our clock.
      this.busySince = performance.now() - 1000 * (busy.elapsed || 0);
      if (this.timer === null) this.timer = setInterval(() => this.tickElapsed(), 500);
    } else {
      this.busySince = null;
      clearInterval(this.timer);
      this.timer = null;
    }
    this.update();
  }

  renderMain() {
    const main = this.model.get("main") || {};
    if (!main.name) {
      this.mainInfo.textContent = "No original yet.";
      replaceChildren(this.mainPreview);
      return;
    }
    const dims = main.width && main.height ? `, ${main.width}×${main.height}` : "";
    this.mainInfo.textContent = `${main.name}: ${main.kind}, ${formatBytes(main.size)}${dims}`;
    const url = main.media && this.urls.get(main.media);
    const current = this.mainPreview.firstElementChild;
    if (url && (!current || current.getAttribute("src") !== url)) {
      replaceChildren(this.mainPreview, h("img", { src: url, alt: "Original", class: "mio-thumb" }));
    } else if (!url) {
      replaceChildren(this.mainPreview);
    }
  }

  renderFaces(faces, pairs, busy) {
    const main = this.model.get("main") || {};
    const { faces: faceBadges } = badges(pairs);
    const byFace = new Map(pairs.map(([f, l]) => [f, l]));
    const signature = faces.map((f) => f.media).join("|");
    if (signature !== this.faceSignature) {
      this.faceSignature = signature;
      this.faceButtons.clear();
      replaceChildren(this.faceGallery);
      for (const face of faces) {
        const badge = h("span", { class: "mio-badge", id: this.uid(`face-${face.index}`) });
        const button = h(
          "button",
          {
            type: "button",
            class: "mio-card",
            "aria-label": `Detected face ${face.index}`,
            "aria-describedby": this.uid(`face-${face.index}`),
            "data-face": face.index,
            onclick: () => this.onClickPair({ kind: "face", index: face.index }),
          },
          h("span", { class: "mio-card-img" }),
          h("span", { class: "mio-card-label" }, String(face.index)),
          badge,
        );
        this.faceButtons.set(face.index, { button, badge, media: face.media });
        this.faceGallery.append(button);
      }
    }
    for (const face of faces) {
      const { button, badge, media } = this.faceButtons.get(face.index);
      this.fillImage(button.firstElementChild, media);
      const label = byFace.get(face.index);
      this.markPair(button, label);
      badge.textContent = faceBadges.get(face.index) || "";
      const selected = this.selection && this.selection.kind === "face" && this.selection.index === face.index;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
    }
    let empty = "";
    if (busy.what === "detect") empty = "Finding faces…";
    else if (main.name && !faces.length) empty = "No faces to show.";
    else if (!main.name) empty = "Faces in the original appear here.";
    this.faceEmpty.textContent = empty;
    flag(this.faceEmpty, "hidden", !empty);
    flag(this.detectAgain, "hidden", !(main.name && !faces.length && !busy.what));
  }

  renderNewFaces(newFaces, pairs) {
    const { labels } = badges(pairs);
    const used = new Set(pairs.map(([, l]) => l));
    const signature = newFaces.map((n) => n.media).join("|");
    if (signature !== this.newSignature) {
      this.newSignature = signature;
      this.newFaceCards.clear();
      replaceChildren(this.newGallery);
      for (const face of newFaces) {
        const badge = h("span", { class: "mio-badge", id: this.uid(`new-${face.label}`) });
        const button = h(
          "button",
          {
            type: "button",
            class: "mio-card",
            "aria-label": `New face ${face.label}`,
            "aria-describedby": this.uid(`new-${face.label}`),
            "data-new-face": face.label,
            title: face.name,
            onclick: () => this.onClickPair({ kind: "new", label: face.label }),
          },
          h("span", { class: "mio-card-img" }),
          h("span", { class: "mio-card-label" }, face.label),
          badge,
        );
        const remove = h(
          "button",
          {
            type: "button",
            class: "mio-remove",
            "aria-label": `Remove new face ${face.label}`,
            title: `Remove new face ${face.label}`,
            onclick: () => this.action({ type: "remove_new_face", new_face: face.label }),
          },
          "×",
        );
        this.newFaceCards.set(face.label, { button, badge, remove, media: face.media });
        this.newGallery.append(h("div", { class: "mio-card-wrap" }, button, remove));
      }
    }
    const busy = (this.model.get("busy") || {}).what === "swap";
    for (const face of newFaces) {
      const { button, badge, remove, media } = this.newFaceCards.get(face.label);
      this.fillImage(button.firstElementChild, media);
      this.markPair(button, used.has(face.label) ? face.label : null);
      badge.textContent = labels.get(face.label) || "";
      const selected = this.selection && this.selection.kind === "new" && this.selection.label === face.label;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      flag(remove, "disabled", busy);
    }
  }

  markPair(button, label) {
    if (label) {
      button.dataset.pairedWith = label;
      button.style.setProperty("--mio-pair", `var(--mio-pair-${colourSlot(label)})`);
    } else {
      delete button.dataset.pairedWith;
      button.style.removeProperty("--mio-pair");
    }
  }

  fillImage(holder, key) {
    const url = key && this.urls.get(key);
    const img = holder.firstElementChild;
    if (url && (!img || img.getAttribute("src") !== url)) {
      replaceChildren(holder, h("img", { src: url, alt: "", draggable: "false" }));
    } else if (!url && img) {
      replaceChildren(holder);
    }
  }

  renderResult() {
    const entry = this.shownEntry();
    flag(this.resultSection, "hidden", !entry);
    if (!entry) {
      replaceChildren(this.resultMedia);
      replaceChildren(this.historyList);
      this.resultKey = null;
      return;
    }
    const url = this.urls.get(entry.media);
    const main = this.model.get("main") || {};
    const before = entry.kind === "image" && main.media ? this.urls.get(main.media) : null;
    if (!before) this.showBefore = false;
    const key = `${entry.media}|${url || ""}|${this.showBefore}`;
    if (key !== this.resultKey) {
      this.resultKey = key;
      if (!url) {
        replaceChildren(this.resultMedia, h("p", { class: "mio-muted" }, "Receiving the result…"));
      } else if (entry.kind === "video") {
        replaceChildren(
          this.resultMedia,
          h("video", { src: url, controls: true, playsinline: true, preload: "auto", "aria-label": "Swap result" }),
        );
      } else if (this.showBefore) {
        replaceChildren(this.resultMedia, h("img", { src: before, alt: "Original, before the swap" }));
      } else {
        replaceChildren(this.resultMedia, h("img", { src: url, alt: "Swap result" }));
      }
    }
    flag(this.beforeButton, "hidden", !before);
    this.beforeButton.setAttribute("aria-pressed", this.showBefore ? "true" : "false");
    flag(this.downloadButton, "disabled", !url);
    this.resultPath.textContent = entry.path ? `Saved in the kernel at ${entry.path}` : "";

    const history = this.model.get("history") || [];
    const historyKey = history.map((e) => e.id).join(",") + `|${entry.id}`;
    if (historyKey !== this.historyKey) {
      this.historyKey = historyKey;
      replaceChildren(
        this.historyList,
        history.map((e) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "mio-link",
                "aria-current": e.id === entry.id ? "true" : false,
                onclick: () => {
                  this.model.set("shown", e.id);
                  this.model.save_changes();
                },
              },
              `Result ${e.id}: ${e.kind}, ${e.pairs}${e.hd ? ", HD" : ""}, ${formatElapsed(e.elapsed || 0)}`,
            ),
          ),
        ),
      );
    }
  }

  destroy() {
    clearInterval(this.timer);
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}

function render({ model, el }) {
  const view = new View(model, el);
  model.on("msg:custom", (content, buffers) => view.onCustom(content, buffers));
  model.on("change:busy", () => view.onBusyChange());
  model.on("change:error", () => {
    view.localError = "";
    view.update();
  });
  for (const name of [
    "mode",
    "notice",
    "status",
    "main",
    "faces",
    "new_faces",
    "pair_list",
    "hd",
    "history",
    "shown",
    "stopped",
  ]) {
    model.on(`change:${name}`, () => view.update());
  }
  // Media sent before this view existed was lost: ask for everything current at once.
  for (const key of view.wantedKeys()) view.requested.add(key);
  view.send({ type: "ready" });
  view.onBusyChange();
  return () => view.destroy();
}

export default { render };
