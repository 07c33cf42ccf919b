// FaceSwapWidget's view: the core that holds the sections together. The kernel owns the state
// (traits, see traits.js); this view keeps only what is local to it: the selection, uploads
// (queue.js), the media it received (media.js), and how long the kernel has been busy. It reads
// the traits, routes messages, decides where feedback goes (feedback.js) and hands each section
// (original.js, newfaces.js, swap.js, result.js) what it shows.

import { h, flag } from "./dom.js";
import { UploadQueue } from "./queue.js";
import { click, keepSelection, undoKey } from "./pairing.js";
import { MediaStore } from "./media.js";
import { BusyClock, feedbackByPlace } from "./feedback.js";
import { OriginalSection } from "./original.js";
import { NewFacesSection } from "./newfaces.js";
import { SwapSection } from "./swap.js";
import { ResultSection, shownEntry } from "./result.js";
import { TRAIT_NAMES, readTraits } from "./traits.js";
import { MSG } from "./shared.js";

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
    this.uploads = new UploadQueue({
      send: (content, buffers) => this.send(content, buffers),
      listen: (handler) => this.listen(handler),
      maxBytes: () => this.model.get("max_upload_bytes"),
      onError: (place, text) => (this.localError = { place, text }),
      onChange: () => this.update(),
      onProgress: () => this.renderFeedback(readTraits(this.model)),
    });
    this.localError = { place: "", text: "" };
    this.clock = new BusyClock(() => this.renderFeedback(readTraits(this.model)));
    this.idPrefix = `mio-${Math.random().toString(36).slice(2, 9)}`;
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
    const entry = this.shownEntry();
    return new Set([
      ...OriginalSection.mediaKeys(t),
      ...NewFacesSection.mediaKeys(t.new_faces),
      ...(entry && entry.media ? [entry.media] : []),
    ]);
  }

  shownEntry() {
    return shownEntry(this.model.get("history") || [], this.model.get("shown"));
  }

  // ---- building -------------------------------------------------------------------------

  build() {
    const act = (place, type, fields = {}) => this.action({ type, ...fields }, place);
    const setTrait = (name, value) => {
      this.model.set(name, value);
      this.model.save_changes();
    };
    // What every section with faces on it does with them: ids, pick for a pair, undo a pair.
    const pairing = {
      uid: (name) => `${this.idPrefix}-${name}`,
      onPick: (target) => this.onClickPair(target),
      onUndoKey: (target) => {
        const message = undoKey(readTraits(this.model).pair_list, target);
        if (message) this.action(message, "swap");
      },
      onUnpair: (face) => act("swap", MSG.UNPAIR, { face }),
    };
    this.sections = {
      original: new OriginalSection({
        ...pairing,
        onFile: (file) => this.uploads.add(file, "main"),
        onDetect: () => act("original", MSG.DETECT),
      }),
      new_faces: new NewFacesSection({
        ...pairing,
        onFiles: (files) => files.forEach((file) => this.uploads.add(file, "new_face")),
        onRemove: (label) => act("new_faces", MSG.REMOVE_NEW_FACE, { new_face: label }),
        onChoose: (label, face) => act("new_faces", MSG.CHOOSE_NEW_FACE, { new_face: label, face }),
        onUndoRemove: () => act("new_faces", MSG.UNDO_REMOVE),
      }),
      swap: new SwapSection({
        ...pairing,
        onHd: (on) => setTrait("hd", on),
        onSwap: () => act("swap", MSG.SWAP),
        onStop: () => act("swap", MSG.STOP),
        onResume: () => act("swap", MSG.RESUME),
      }),
    };
    this.result = new ResultSection({ media: this.media, onShow: (id) => setTrait("shown", id) });
    this.notice = h("p", { class: "mio-notice", role: "note" });
    // The photo and the new faces side by side (the tray stays in view while the page scrolls),
    // so a pair is two clicks; stacked when the notebook is narrow.
    const { original, new_faces, swap } = this.sections;
    const workspace = h("div", { class: "mio-workspace" }, original.el, h("div", { class: "mio-tray" }, new_faces.el, swap.el));
    this.el.classList.add("mio-fsw");
    this.el.append(this.notice, workspace, this.result.el);
  }

  // ---- actions --------------------------------------------------------------------------

  action(message, place = "swap") {
    this.localError = { place, text: "" };
    this.send(message);
    this.update();
  }

  onClickPair(target) {
    const { selection, message } = click(this.selection, readTraits(this.model).pair_list, target);
    this.selection = selection;
    if (message) this.action(message, "swap");
    else this.update();
  }

  onBusyChange() {
    this.clock.follow(this.model.get("busy") || {});
    this.update();
  }

  // ---- rendering ------------------------------------------------------------------------

  /** What each section's feedback place shows now (feedback.js decides where). */
  feedback(t) {
    return feedbackByPlace(t, { upload: this.uploads.current, localError: this.localError, busySeconds: this.clock.seconds() });
  }

  /** Only the feedback places (upload progress, the elapsed time): nothing else changed. */
  renderFeedback(t) {
    const shown = this.feedback(t);
    for (const [place, section] of Object.entries(this.sections)) section.feedback.render(shown[place]);
  }

  update() {
    const t = readTraits(this.model);
    const usable = t.mode !== "unavailable";
    this.selection = keepSelection(this.selection, t.faces, t.new_faces);
    this.notice.textContent = t.notice || "";
    flag(this.notice, "hidden", !t.notice);
    this.notice.classList.toggle("mio-notice-warn", !usable);
    // One view of the state for every section; each takes what it shows.
    const state = {
      usable, selection: this.selection, media: this.media,
      main: t.main, faces: t.faces, newFaces: t.new_faces, pairs: t.pair_list,
      busy: t.busy, stopped: t.stopped, removed: t.removed, hd: t.hd,
    };
    const feedback = this.feedback(t);
    for (const [place, section] of Object.entries(this.sections)) section.render({ ...state, feedback: feedback[place] });
    this.result.render({ entry: this.shownEntry(), history: t.history, mainMedia: t.main.media });
    this.media.sync(this.wantedKeys());
  }

  destroy() {
    this.clock.stop();
    this.uploads.stop();
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
