// The cards: detected faces (with an explicit undo on each pair) and new faces (with what the
// check found, the faces to pick from, and a remove button).
import { h, flag, replaceChildren } from "./dom.js";
import { badges } from "./pairing.js";
import { isUndoKey, markPair } from "./photo.js";

/** Puts the picture `url` in `holder` (an .mio-card-img), or empties it. */
export function fillImage(holder, url) {
  const img = holder.firstElementChild;
  if (url && (!img || img.getAttribute("src") !== url)) {
    replaceChildren(holder, h("img", { src: url, alt: "", draggable: "false" }));
  } else if (!url && img) {
    replaceChildren(holder);
  }
}

export class FaceCards {
  constructor({ uid, onPick, onUndoKey, onUnpair }) {
    this.uid = uid;
    this.onPick = onPick;
    this.onUndoKey = onUndoKey;
    this.onUnpair = onUnpair;
    this.el = h("div", { class: "mio-gallery", role: "group", "aria-label": "Detected faces" });
    this.cards = new Map();
    this.signature = null;
  }

  render({ faces, pairs, selection, media, placeable }) {
    const signature = faces.map((f) => `${f.media}:${f.box ? 1 : 0}`).join("|") + `|${placeable}`;
    if (signature !== this.signature) {
      this.signature = signature;
      this.cards.clear();
      replaceChildren(this.el);
      for (const face of faces) {
        const target = { kind: "face", index: face.index };
        const badge = h("span", { class: "mio-badge", id: this.uid(`face-${face.index}`) });
        const button = h(
          "button",
          {
            type: "button",
            class: "mio-card",
            "aria-label": `Detected face ${face.index}`,
            "aria-describedby": this.uid(`face-${face.index}`),
            "data-face": face.index,
            onclick: () => this.onPick(target),
            onkeydown: (event) => {
              if (isUndoKey(event)) {
                event.preventDefault();
                this.onUndoKey(target);
              }
            },
          },
          h("span", { class: "mio-card-img" }),
          h("span", { class: "mio-card-label" }, String(face.index)),
          badge,
        );
        const undo = h("button", { type: "button", class: "mio-remove", hidden: true }, "×");
        undo.addEventListener("click", () => this.onUnpair(face.index));
        const note =
          placeable && !face.box
            ? h("p", { class: "mio-card-note" }, `Face ${face.index} could not be placed on the photo.`)
            : null;
        this.cards.set(face.index, { button, badge, undo, media: face.media });
        this.el.append(h("div", { class: "mio-card-wrap" }, button, undo, note));
      }
    }
    const { faces: faceBadges } = badges(pairs);
    const byFace = new Map(pairs.map(([f, l]) => [f, l]));
    for (const face of faces) {
      const { button, badge, undo, media: key } = this.cards.get(face.index);
      fillImage(button.firstElementChild, media.url(key));
      const label = byFace.get(face.index);
      markPair(button, label);
      badge.textContent = faceBadges.get(face.index) || "";
      flag(undo, "hidden", !label);
      if (label) {
        undo.setAttribute("aria-label", `Undo pair ${face.index} -> ${label}`);
        undo.title = `Undo pair ${face.index} -> ${label}`;
      }
      const selected = selection && selection.kind === "face" && selection.index === face.index;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
    }
  }
}

export class NewFaceCards {
  constructor({ uid, onPick, onUndoKey, onRemove, onChoose }) {
    this.uid = uid;
    this.onPick = onPick;
    this.onUndoKey = onUndoKey;
    this.onRemove = onRemove;
    this.onChoose = onChoose;
    this.el = h("div", { class: "mio-gallery mio-new-gallery", role: "group", "aria-label": "New faces" });
    this.cards = new Map();
    this.signature = null;
  }

  render({ newFaces, pairs, selection, media, busy }) {
    const signature = newFaces.map((n) => n.label).join("|");
    if (signature !== this.signature) {
      this.signature = signature;
      this.cards.clear();
      replaceChildren(this.el);
      for (const face of newFaces) {
        const target = { kind: "new", label: face.label };
        const badge = h("span", { class: "mio-badge", id: this.uid(`new-${face.label}`) });
        const button = h(
          "button",
          {
            type: "button",
            class: "mio-card",
            "aria-label": `New face ${face.label}`,
            "aria-describedby": `${this.uid(`new-${face.label}`)} ${this.uid(`note-${face.label}`)}`,
            "data-new-face": face.label,
            title: face.name,
            // A new face with no face in it cannot be paired: its note says why.
            onclick: () => this.cards.get(face.label).unusable || this.onPick(target),
            onkeydown: (event) => {
              if (isUndoKey(event)) {
                event.preventDefault();
                this.onUndoKey(target);
              }
            },
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
            onclick: () => this.onRemove(face.label),
          },
          "×",
        );
        const note = h("p", { class: "mio-card-note", id: this.uid(`note-${face.label}`), role: "status" });
        const choices = h("div", { class: "mio-choices", role: "group", "aria-label": `Faces in ${face.name}` });
        this.cards.set(face.label, { button, badge, remove, note, choices, choiceKey: null });
        this.el.append(h("div", { class: "mio-card-wrap mio-new-card" }, button, remove, note, choices));
      }
    }
    const { labels } = badges(pairs);
    const used = new Set(pairs.map(([, l]) => l));
    for (const face of newFaces) {
      const card = this.cards.get(face.label);
      const { button, badge, remove, note, choices } = card;
      fillImage(button.firstElementChild, media.url(face.media));
      markPair(button, used.has(face.label) ? face.label : null);
      badge.textContent = labels.get(face.label) || "";
      const selected = selection && selection.kind === "new" && selection.label === face.label;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      button.classList.toggle("mio-card-bad", face.check === "none" || face.check === "several");
      card.unusable = face.check === "none";
      button.setAttribute("aria-disabled", card.unusable ? "true" : "false");
      flag(remove, "disabled", busy);
      note.textContent = face.note || "";
      flag(note, "hidden", !face.note);
      note.classList.toggle("mio-card-problem", face.check === "none" || face.check === "several" || face.check === "error");
      const list = face.check === "several" ? face.choices || [] : [];
      const choiceKey = list.map((c) => c.media).join("|");
      if (choiceKey !== card.choiceKey) {
        card.choiceKey = choiceKey;
        replaceChildren(
          choices,
          list.map((c) =>
            h(
              "button",
              {
                type: "button",
                class: "mio-choice",
                "aria-label": `Use face ${c.index} of ${face.name}`,
                "data-media": c.media,
                onclick: () => this.onChoose(face.label, c.index),
              },
              h("span", { class: "mio-card-img" }),
            ),
          ),
        );
      }
      for (const el of choices.children) fillImage(el.firstElementChild, media.url(el.dataset.media));
      flag(choices, "hidden", list.length === 0);
    }
  }

  /** Media keys the choices show. */
  static choiceKeys(newFaces) {
    const keys = [];
    for (const n of newFaces) if (n.check === "several") for (const c of n.choices || []) keys.push(c.media);
    return keys;
  }
}
