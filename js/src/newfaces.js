// Section 2, the new faces: add or drop them, their feedback, the line that undoes a removal,
// and their cards (gallery.js).

import { h, flag } from "./dom.js";
import { Feedback } from "./feedback.js";
import { dropTarget, filePicker } from "./files.js";
import { NewFaceCards } from "./gallery.js";
import { ACCEPT_ATTRIBUTE } from "./shared.js";

/** "Removed B (me.png).", or "" when nothing was just removed. */
export function removedText(removed) {
  return removed.label ? `Removed ${removed.label} (${removed.name}).` : "";
}

export class NewFacesSection {
  /**
   * @param {{uid: (name: string) => string, onFiles: (files: File[]) => void, onPick: (target: object) => void,
   *   onUndoKey: (target: object) => void, onRemove: (label: string) => void,
   *   onChoose: (label: string, face: number) => void, onUndoRemove: () => void}} handlers
   */
  constructor({ uid, onFiles, onPick, onUndoKey, onRemove, onChoose, onUndoRemove }) {
    this.feedback = new Feedback();
    const picker = filePicker({
      text: "Add new face",
      label: "New face file",
      accept: ACCEPT_ATTRIBUTE.new_face,
      multiple: true,
      onFiles,
    });
    this.addNew = picker.button;
    this.cards = new NewFaceCards({ uid, onPick, onUndoKey, onRemove, onChoose });
    this.removedText = h("span", {});
    const undo = h("button", { type: "button", class: "mio-button mio-secondary", onclick: () => onUndoRemove() }, "Undo");
    this.removedLine = h("p", { class: "mio-removed", role: "status", hidden: true }, this.removedText, " ", undo);
    this.el = h(
      "section",
      { class: "mio-section mio-drop", "aria-label": "New faces section" },
      h("h3", { class: "mio-heading" }, "2. New faces"),
      h("div", { class: "mio-row" }, this.addNew, h("span", { class: "mio-muted" }, "or drop pictures of faces here"), picker.input),
      ...this.feedback.nodes,
      this.removedLine,
      this.cards.el,
    );
    dropTarget(this.el, onFiles);
  }

  /** Media keys this section shows: the new faces and, where a picture has several, their choices. */
  static mediaKeys(newFaces) {
    return newFaces
      .map((n) => n.media)
      .filter(Boolean)
      .concat(NewFaceCards.choiceKeys(newFaces));
  }

  /**
   * @param {{usable: boolean, newFaces: object[], pairs: any[], selection: object|null, busy: object,
   *   removed: object, media: import("./media.js").MediaStore, feedback: object}} s
   */
  render({ usable, newFaces, pairs, selection, busy, removed, media, feedback }) {
    flag(this.addNew, "disabled", !usable);
    this.feedback.render(feedback);
    this.cards.render({ newFaces, pairs, selection, media, busy: busy.what === "swap" });
    const text = removedText(removed);
    flag(this.removedLine, "hidden", !text);
    this.removedText.textContent = text;
  }
}
