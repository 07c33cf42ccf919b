// Section 1, the original: choose or drop it, its info line and feedback, the photo with its
// faces boxed and numbered (photo.js), and the cards of the faces found (gallery.js).

import { h, flag } from "./dom.js";
import { Feedback } from "./feedback.js";
import { dropTarget, filePicker } from "./files.js";
import { FaceCards } from "./gallery.js";
import { Photo } from "./photo.js";
import { formatBytes } from "./text.js";
import { ACCEPT_ATTRIBUTE } from "./shared.js";

/** "group.png: image, 1.2 MB, 640×480", or "No original yet.". */
export function mainInfo(main) {
  if (!main.name) return "No original yet.";
  const dims = main.width && main.height ? `, ${main.width}×${main.height}` : "";
  return `${main.name}: ${main.kind}, ${formatBytes(main.size)}${dims}`;
}

/** The line where face cards go when there are none ("" when there are), and whether to offer "Find faces again". */
export function facesNote({ main, faces, busy }) {
  let text = "";
  if (busy.what === "detect") text = "Finding faces…";
  else if (main.name && !faces.length) text = "No faces to show.";
  else if (!main.name) text = "Faces in the original appear here.";
  return { text, detectAgain: Boolean(main.name && !faces.length && !busy.what) };
}

export class OriginalSection {
  /**
   * @param {{uid: (name: string) => string, onFile: (file: File) => void, onPick: (target: object) => void,
   *   onUndoKey: (target: object) => void, onUnpair: (face: number) => void, onDetect: () => void}} handlers
   */
  constructor({ uid, onFile, onPick, onUndoKey, onUnpair, onDetect }) {
    this.feedback = new Feedback();
    const picker = filePicker({
      text: "Choose original",
      label: "Original file",
      accept: ACCEPT_ATTRIBUTE.main,
      onFiles: (files) => onFile(files[0]),
    });
    this.chooseMain = picker.button;
    this.mainInfo = h("p", { class: "mio-main-info" });
    this.photo = new Photo({ onPick, onUndoKey });
    const original = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "Original" },
      h("h3", { class: "mio-heading" }, "1. Original"),
      h("div", { class: "mio-row" }, this.chooseMain, h("span", { class: "mio-muted" }, "or drop a picture or a video here"), picker.input),
      this.mainInfo,
      ...this.feedback.nodes,
      this.photo.el,
    );
    dropTarget(original, (files) => onFile(files[0]));

    this.faceCards = new FaceCards({ uid, onPick, onUndoKey, onUnpair });
    this.faceEmpty = h("p", { class: "mio-muted" });
    this.detectAgain = h("button", { type: "button", class: "mio-button mio-secondary", onclick: () => onDetect() }, "Find faces again");
    const faces = h(
      "section",
      { class: "mio-section", "aria-label": "Detected faces section" },
      h("h3", { class: "mio-heading" }, "Faces found"),
      this.faceEmpty,
      this.detectAgain,
      this.faceCards.el,
    );
    this.el = h("div", { class: "mio-work-main" }, original, faces);
  }

  /** Media keys this section shows: the original, the face crops, a video's frames of its people. */
  static mediaKeys({ main, faces }) {
    return [main.media, ...faces.map((f) => f.media)].filter(Boolean).concat(Photo.frameKeys(faces));
  }

  /**
   * @param {{usable: boolean, main: object, faces: object[], pairs: any[], selection: object|null,
   *   busy: object, media: import("./media.js").MediaStore, feedback: object}} s
   */
  render({ usable, main, faces, pairs, selection, busy, media, feedback }) {
    flag(this.chooseMain, "disabled", !usable);
    this.mainInfo.textContent = mainInfo(main);
    this.photo.render({ main, url: media.url(main.media), faces, pairs, selection, media });
    this.feedback.render(feedback);
    this.faceCards.render({ faces, pairs, selection, media, placeable: main.kind === "image" });
    const note = facesNote({ main, faces, busy });
    this.faceEmpty.textContent = note.text;
    flag(this.faceEmpty, "hidden", !note.text);
    flag(this.detectAgain, "hidden", !note.detectAgain);
  }
}
