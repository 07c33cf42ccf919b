// FaceSwapWidget's view: the original shown large with its faces boxed and numbered, the face
// cards, new faces, pairing by clicks (or keys), swap, and the result with a comparison.
// The kernel owns the state (traits, see traits.js); this view keeps only what is local to it:
// the selection, uploads in progress, and the media it received (media.js).

import { h, flag, replaceChildren } from "./dom.js";
import { checkInBrowser, uploadFile } from "./upload.js";
import { canSwap, click, describePairs, hint, keepSelection, undoKey } from "./pairing.js";
import { formatBytes, formatElapsed, uploadProgressText } from "./text.js";
import { MediaStore } from "./media.js";
import { Photo } from "./photo.js";
import { FaceCards, NewFaceCards } from "./gallery.js";
import { ResultSection } from "./result.js";
import { TRAIT_NAMES, readTraits } from "./traits.js";
import { ACCEPT_ATTRIBUTE, MSG } from "./shared.js";


/** Where a role's uploads report: "main" in the original's section, new faces in theirs. */
const PLACE_OF_ROLE = { main: "original", new_face: "new_faces" };

class View {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.selection = null;
    this.media = new MediaStore(
      (content) => this.send(content),
      () => this.update(),
    );
    this.listeners = new Set();
    this.uploadQueue = Promise.resolve();
    this.upload = null; // {name, sent, total, role}
    this.localError = { place: "", text: "" };
    this.busySince = null;
    this.timer = null;
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
    if (content.type === MSG.MEDIA) {
      this.media.add(content, buffers);
      return;
    }
    for (const handler of [...this.listeners]) handler(content);
  }

  /** Media keys the current state shows. */
  wantedKeys() {
    const t = readTraits(this.model);
    const keys = new Set();
    if (t.main.media) keys.add(t.main.media);
    for (const f of t.faces) if (f.media) keys.add(f.media);
    for (const n of t.new_faces) if (n.media) keys.add(n.media);
    for (const k of NewFaceCards.choiceKeys(t.new_faces)) keys.add(k);
    for (const k of Photo.frameKeys(t.faces)) keys.add(k);
    const entry = this.shownEntry();
    if (entry && entry.media) keys.add(entry.media);
    return keys;
  }

  // ---- building -------------------------------------------------------------------------

  uid(name) {
    if (!this.idPrefix) this.idPrefix = `mio-${Math.random().toString(36).slice(2, 9)}`;
    return `${this.idPrefix}-${name}`;
  }

  /** A status line and an error box for one section (feedback next to its control). */
  feedback(place) {
    const text = h("span", { class: "mio-status-text" });
    const elapsed = h("span", { class: "mio-elapsed" });
    const progress = h("progress", { class: "mio-progress", max: 1, value: 0, "aria-label": "Upload progress", hidden: true });
    const status = h("div", { class: "mio-status", role: "status" }, text, elapsed);
    const error = h("div", { class: "mio-error", role: "alert", hidden: true });
    this.places = this.places || {};
    this.places[place] = { text, elapsed, progress, status, error };
    return [progress, status, error];
  }

  build() {
    const el = this.el;
    el.classList.add("mio-fsw");
    const uid = (name) => this.uid(name);
    const pick = (target) => this.onClickPair(target);
    const undoByKey = (target) => {
      const message = undoKey(readTraits(this.model).pair_list, target);
      if (message) this.action(message, "swap");
    };

    this.notice = h("p", { class: "mio-notice", role: "note" });

    // 1. Original, shown large with its faces
    this.mainInput = h("input", {
      type: "file",
      class: "mio-visually-hidden",
      tabindex: "-1",
      "aria-label": "Original file",
      accept: ACCEPT_ATTRIBUTE.main,
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
    this.mainInfo = h("p", { class: "mio-main-info" });
    this.photo = new Photo({ onPick: pick, onUndoKey: undoByKey });
    const original = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "Original" },
      h("h3", { class: "mio-heading" }, "1. Original"),
      h(
        "div",
        { class: "mio-row" },
        this.chooseMain,
        h("span", { class: "mio-muted" }, "or drop a picture or a video here"),
        this.mainInput,
      ),
      this.mainInfo,
      ...this.feedback("original"),
      this.photo.el,
    );
    this.dropTarget(original, (files) => files[0] && this.queueUpload(files[0], "main"));

    // 2. Detected faces
    this.faceCards = new FaceCards({
      uid,
      onPick: pick,
      onUndoKey: undoByKey,
      onUnpair: (face) => this.action({ type: MSG.UNPAIR, face }, "swap"),
    });
    this.faceEmpty = h("p", { class: "mio-muted" });
    this.detectAgain = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: MSG.DETECT }, "original") },
      "Find faces again",
    );
    const facesSection = h(
      "section",
      { class: "mio-section", "aria-label": "Detected faces section" },
      h("h3", { class: "mio-heading" }, "Faces found"),
      this.faceEmpty,
      this.detectAgain,
      this.faceCards.el,
    );

    // 3. New faces
    this.newInput = h("input", {
      type: "file",
      multiple: true,
      class: "mio-visually-hidden",
      tabindex: "-1",
      "aria-label": "New face file",
      accept: ACCEPT_ATTRIBUTE.new_face,
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
    this.newCards = new NewFaceCards({
      uid,
      onPick: pick,
      onUndoKey: undoByKey,
      onRemove: (label) => this.action({ type: MSG.REMOVE_NEW_FACE, new_face: label }, "new_faces"),
      onChoose: (label, face) => this.action({ type: MSG.CHOOSE_NEW_FACE, new_face: label, face }, "new_faces"),
    });
    this.removedText = h("span", {});
    this.undoRemove = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: MSG.UNDO_REMOVE }, "new_faces") },
      "Undo",
    );
    this.removedLine = h("p", { class: "mio-removed", role: "status", hidden: true }, this.removedText, " ", this.undoRemove);
    const newSection = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "New faces section" },
      h("h3", { class: "mio-heading" }, "2. New faces"),
      h(
        "div",
        { class: "mio-row" },
        this.addNew,
        h("span", { class: "mio-muted" }, "or drop pictures of faces here"),
        this.newInput,
      ),
      ...this.feedback("new_faces"),
      this.removedLine,
      this.newCards.el,
    );
    this.dropTarget(newSection, (files) => {
      for (const file of files) this.queueUpload(file, "new_face");
    });

    // 4. Pairs and swap
    this.hint = h("p", { class: "mio-hint", id: this.uid("hint") });
    this.pairList = h("ul", { class: "mio-pairs", "aria-label": "Pairs" });
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
        onclick: () => this.action({ type: MSG.SWAP }, "swap"),
      },
      "Swap",
    );
    this.stopButton = h(
      "button",
      {
        type: "button",
        class: "mio-button mio-secondary",
        title: "The API cannot cancel a task: it keeps running on the server (and may be charged).",
        onclick: () => this.action({ type: MSG.STOP }, "swap"),
      },
      "Stop waiting",
    );
    this.resumeButton = h(
      "button",
      { type: "button", class: "mio-button mio-secondary", onclick: () => this.action({ type: MSG.RESUME }, "swap") },
      "Resume",
    );
    const swapSection = h(
      "section",
      { class: "mio-section", "aria-label": "Swap section" },
      h("h3", { class: "mio-heading" }, "3. Pair and swap"),
      this.hint,
      this.pairList,
      h(
        "div",
        { class: "mio-row" },
        h("label", { class: "mio-hd", for: this.uid("hd") }, this.hdBox, "HD"),
        this.swapButton,
        this.stopButton,
        this.resumeButton,
      ),
      ...this.feedback("swap"),
    );

    this.result = new ResultSection({
      media: this.media,
      onShow: (id) => {
        this.model.set("shown", id);
        this.model.save_changes();
      },
    });
    // The photo and the new faces side by side (the tray stays in view while the page scrolls),
    // so a pair is two clicks; stacked when the notebook is narrow.
    const workspace = h(
      "div",
      { class: "mio-workspace" },
      h("div", { class: "mio-work-main" }, original, facesSection),
      h("div", { class: "mio-tray" }, newSection, swapSection),
    );
    el.append(this.notice, workspace, this.result.el);
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

  action(message, place = "swap") {
    this.localError = { place, text: "" };
    this.send(message);
    this.update();
  }

  queueUpload(file, role) {
    this.localError = { place: PLACE_OF_ROLE[role], text: "" };
    this.uploadQueue = this.uploadQueue.then(() => this.runUpload(file, role));
    this.update();
  }

  async runUpload(file, role) {
    const place = PLACE_OF_ROLE[role];
    const problem = await checkInBrowser(file, role, this.model.get("max_upload_bytes"));
    if (problem) {
      this.localError = { place, text: problem };
      this.update();
      return;
    }
    this.upload = { name: file.name, sent: 0, total: file.size, role };
    this.update();
    try {
      await uploadFile({
        file,
        role,
        send: (content, buffers) => this.send(content, buffers),
        listen: (handler) => this.listen(handler),
        onProgress: (sent, total) => {
          this.upload = { name: file.name, sent, total, role };
          this.progressSoon();
        },
      });
    } catch (err) {
      this.localError = { place, text: `${file.name}: ${err.message}` };
    } finally {
      this.upload = null;
      this.update();
    }
  }

  /** Redraw the upload's progress at most 5 times a second: every redraw lays out the whole
   * notebook page, which costs the browser more than the bytes themselves. */
  progressSoon() {
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      if (this.upload) this.updateStatus();
    }, 200);
  }

  onClickPair(target) {
    const { selection, message } = click(this.selection, readTraits(this.model).pair_list, target);
    this.selection = selection;
    if (message) this.action(message, "swap");
    else this.update();
  }

  shownEntry() {
    const history = this.model.get("history") || [];
    if (!history.length) return null;
    const shown = this.model.get("shown");
    return history.find((e) => e.id === shown) || history[history.length - 1];
  }


  // ---- rendering ------------------------------------------------------------------------

  update() {
    const t = readTraits(this.model);
    const usable = t.mode !== "unavailable";
    this.selection = keepSelection(this.selection, t.faces, t.new_faces);

    this.notice.textContent = t.notice || "";
    flag(this.notice, "hidden", !t.notice);
    this.notice.classList.toggle("mio-notice-warn", !usable);

    flag(this.chooseMain, "disabled", !usable);
    flag(this.addNew, "disabled", !usable);
    this.renderMain(t);
    this.faceCards.render({
      faces: t.faces,
      pairs: t.pair_list,
      selection: this.selection,
      media: this.media,
      placeable: t.main.kind === "image",
    });
    this.renderFaceHint(t);
    this.newCards.render({
      newFaces: t.new_faces,
      pairs: t.pair_list,
      selection: this.selection,
      media: this.media,
      busy: t.busy.what === "swap",
    });
    flag(this.removedLine, "hidden", !t.removed.label);
    this.removedText.textContent = t.removed.label ? `Removed ${t.removed.label} (${t.removed.name}).` : "";

    this.hint.textContent = hint(this.selection, t.faces, t.new_faces, t.pair_list);
    this.renderPairs(t.pair_list);
    this.hdBox.checked = Boolean(t.hd);
    flag(this.swapButton, "disabled", !canSwap({ pairs: t.pair_list, busy: t.busy, ready: usable }));
    const waiting = t.busy.what === "detect" || t.busy.what === "swap";
    flag(this.stopButton, "hidden", !waiting);
    flag(this.resumeButton, "hidden", !(t.stopped.task_id && !t.busy.what));

    this.updateStatus();
    this.renderErrors(t);
    this.result.render({ entry: this.shownEntry(), history: t.history, mainMedia: t.main.media });
    this.media.sync(this.wantedKeys());
  }

  renderErrors(t) {
    for (const [place, parts] of Object.entries(this.places)) {
      let text = "";
      if (this.localError.text && this.localError.place === place) text = this.localError.text;
      else if (t.error && (t.error_at || "swap") === place) text = t.error;
      parts.error.textContent = text;
      flag(parts.error, "hidden", !text);
    }
  }

  /** Where the status goes: uploads in their section, detection in the original's, the rest at Swap. */
  statusPlace(busy) {
    if (this.upload) return PLACE_OF_ROLE[this.upload.role];
    if (busy.what === "detect") return "original";
    const stopped = this.model.get("stopped") || {};
    if (!busy.what && stopped.what === "detect") return "original";
    const status = this.model.get("status") || "";
    if (!busy.what && /^(Found|Choose an original)/.test(status)) return "original";
    return "swap";
  }

  updateStatus() {
    const busy = this.model.get("busy") || {};
    const place = this.statusPlace(busy);
    for (const [name, parts] of Object.entries(this.places)) {
      const here = name === place;
      if (here && this.upload) {
        const { name: file, sent, total } = this.upload;
        parts.text.textContent = uploadProgressText(file, sent, total);
        parts.progress.max = Math.max(total, 1);
        parts.progress.value = sent;
      } else {
        parts.text.textContent = here ? this.model.get("status") || "" : "";
      }
      flag(parts.progress, "hidden", !(here && this.upload));
      parts.status.classList.toggle("mio-busy", here && Boolean(busy.what || this.upload));
      flag(parts.status, "hidden", !parts.text.textContent);
      if (!here) parts.elapsed.textContent = "";
    }
    this.tickElapsed();
  }

  tickElapsed() {
    const busy = this.model.get("busy") || {};
    const parts = this.places[this.statusPlace(busy)];
    if (!busy.what || this.upload) {
      parts.elapsed.textContent = "";
      return;
    }
    const seconds = this.busySince === null ? 0 : (performance.now() - this.busySince) / 1000;
    const since = busy.task_id ? " since the task was submitted" : "";
    parts.elapsed.textContent = ` (${formatElapsed(seconds)}${since})`;
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

  renderMain(t) {
    const main = t.main;
    if (!main.name) {
      this.mainInfo.textContent = "No original yet.";
    } else {
      const dims = main.width && main.height ? `, ${main.width}×${main.height}` : "";
      this.mainInfo.textContent = `${main.name}: ${main.kind}, ${formatBytes(main.size)}${dims}`;
    }
    this.photo.render({
      main,
      url: this.media.url(main.media),
      faces: t.faces,
      pairs: t.pair_list,
      selection: this.selection,
      media: this.media,
    });
  }

  renderFaceHint(t) {
    let empty = "";
    if (t.busy.what === "detect") empty = "Finding faces…";
    else if (t.main.name && !t.faces.length) empty = "No faces to show.";
    else if (!t.main.name) empty = "Faces in the original appear here.";
    this.faceEmpty.textContent = empty;
    flag(this.faceEmpty, "hidden", !empty);
    flag(this.detectAgain, "hidden", !(t.main.name && !t.faces.length && !t.busy.what));
  }

  renderPairs(pairs) {
    const key = describePairs(pairs);
    if (key === this.pairsKey) return;
    this.pairsKey = key;
    replaceChildren(
      this.pairList,
      [...pairs]
        .sort((a, b) => a[0] - b[0])
        .map(([face, label]) =>
          h(
            "li",
            { class: "mio-pair-chip" },
            `${face} -> ${label}`,
            h(
              "button",
              {
                type: "button",
                class: "mio-chip-x",
                "aria-label": `Undo pair ${face} -> ${label}`,
                title: `Undo pair ${face} -> ${label}`,
                onclick: () => this.action({ type: MSG.UNPAIR, face }, "swap"),
              },
              "×",
            ),
          ),
        ),
    );
    flag(this.pairList, "hidden", pairs.length === 0);
  }


  destroy() {
    clearInterval(this.timer);
    this.media.destroy();
  }
}

function render({ model, el }) {
  const view = new View(model, el);
  model.on("msg:custom", (content, buffers) => view.onCustom(content, buffers));
  model.on("change:busy", () => view.onBusyChange());
  model.on("change:error", () => {
    view.localError = { place: "", text: "" };
    view.update();
  });
  for (const name of TRAIT_NAMES) if (name !== "busy") model.on(`change:${name}`, () => view.update());
  // Media sent before this view existed did not reach it: ask for what the state names now.
  const keys = view.media.expect(view.wantedKeys());
  view.result.lastResultId = (view.shownEntry() || {}).id ?? null; // only new results scroll
  view.send({ type: MSG.READY, keys });
  view.onBusyChange();
  return () => view.destroy();
}

export default { render };
