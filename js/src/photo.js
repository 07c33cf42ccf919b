// The original, shown large: an image with a numbered box (a button) on every located face and
// its five keypoints, or a muted video preview with its duration.
import { h, flag, replaceChildren } from "./dom.js";
import { colourSlot } from "./pairing.js";
import { formatElapsed } from "./text.js";

const pct = (v, total) => `${(100 * v) / total}%`;

/** Whether a key press asks to undo (Delete or Backspace). */
export function isUndoKey(event) {
  return event.key === "Delete" || event.key === "Backspace";
}

/** Marks `button` as paired with new face `label` (its colour), or as unpaired. */
export function markPair(button, label) {
  if (label) {
    button.dataset.pairedWith = label;
    button.style.setProperty("--mio-pair", `var(--mio-pair-${colourSlot(label)})`);
  } else {
    delete button.dataset.pairedWith;
    button.style.removeProperty("--mio-pair");
  }
}

export class Photo {
  /**
   * @param {{onPick: (target: object) => void, onUndoKey: (target: object) => void}} handlers
   */
  constructor({ onPick, onUndoKey }) {
    this.onPick = onPick;
    this.onUndoKey = onUndoKey;
    this.stage = h("div", { class: "mio-photo-stage" });
    this.boxes = h("div", { class: "mio-photo-boxes", role: "group", "aria-label": "Faces on the photo" });
    this.caption = h("p", { class: "mio-muted mio-photo-caption" });
    // A video's people: a frame with each person boxed and numbered, and when they are seen.
    this.people = h("div", { class: "mio-people", role: "group", "aria-label": "People in the video" });
    this.el = h("div", { class: "mio-photo" }, this.stage, this.caption, this.people);
    this.peopleKey = null;
    this.peopleButtons = new Map();
    this.key = null;
    this.boxSignature = null;
    this.buttons = new Map();
    this.video = null;
  }

  /** @param {{main: object, url: string|null, faces: object[], pairs: any[], selection: object|null, media: object}} s */
  render({ main, url, faces, pairs, selection, media }) {
    this.renderPeople(main.kind === "video" ? faces : [], pairs, selection, media);
    const key = `${main.kind}|${url || ""}`;
    if (key !== this.key) {
      this.key = key;
      this.boxSignature = null;
      this.video = null;
      if (!url) {
        replaceChildren(this.stage);
      } else if (main.kind === "video") {
        this.video = h("video", {
          src: url,
          muted: true,
          controls: true,
          playsinline: true,
          preload: "metadata",
          class: "mio-photo-video",
          "aria-label": `Original video ${main.name}`,
          onloadedmetadata: () => this.describeVideo(main),
        });
        this.video.muted = true;
        replaceChildren(this.stage, this.video);
      } else {
        replaceChildren(
          this.stage,
          h("img", { src: url, alt: `Original: ${main.name}`, class: "mio-photo-img", draggable: "false" }),
          this.boxes,
        );
      }
    }
    if (main.kind !== "video") this.caption.textContent = "";
    flag(this.el, "hidden", !main.name);
    if (main.kind === "image" && url && main.width && main.height) this.renderBoxes(main, faces, pairs, selection);
  }

  describeVideo(main) {
    const d = this.video && this.video.duration;
    const duration = Number.isFinite(d) ? formatElapsed(d) : "unknown length";
    this.caption.textContent = `Video, ${duration}, muted preview. Each person found is boxed on a frame below; click a box to pair.`;
  }

  /** Frames of a video with its people boxed (numbered like the gallery), clickable to pair. */
  renderPeople(faces, pairs, selection, media) {
    const placed = faces.filter((f) => f.person);
    const frames = [...new Set(placed.map((f) => f.person.frame))];
    const key = placed.map((f) => `${f.index}:${f.person.frame}:${f.person.box.join(",")}`).join("|") + frames.map((k) => (media && media.url(k)) || "").join("|");
    if (key !== this.peopleKey) {
      this.peopleKey = key;
      this.peopleButtons.clear();
      const figures = frames.map((frame) => {
        const here = placed.filter((f) => f.person.frame === frame);
        const { frame_width: fw, frame_height: fh } = here[0].person;
        const boxes = here.map((face) => {
          const entry = this.faceBox(
            face.index,
            face.person.box,
            [fw, fh],
            `Face ${face.index} in the video, seen at ${face.person.seen}`,
          );
          this.peopleButtons.set(face.index, entry);
          return entry.button;
        });
        const url = media && media.url(frame);
        const seen = here.map((f) => `face ${f.index}: seen at ${f.person.seen}`).join("; ");
        return h(
          "figure",
          { class: "mio-people-frame" },
          h(
            "div",
            { class: "mio-photo-stage" },
            url ? h("img", { src: url, alt: "A frame of the video", class: "mio-photo-img", draggable: "false" }) : h("span", {}),
            h("div", { class: "mio-photo-boxes" }, ...boxes),
          ),
          h("figcaption", { class: "mio-muted" }, seen),
        );
      });
      replaceChildren(this.people, ...figures);
    }
    flag(this.people, "hidden", placed.length === 0);
    const byFace = new Map(pairs.map(([f, l]) => [f, l]));
    for (const [index, { button, number }] of this.peopleButtons) {
      const label = byFace.get(index);
      number.textContent = label ? `${index} → ${label}` : String(index);
      markPair(button, label);
      const selected = selection && selection.kind === "face" && selection.index === index;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
    }
  }

  /** Media keys of the frames the people are shown on. */
  static frameKeys(faces) {
    return [...new Set(faces.filter((f) => f.person).map((f) => f.person.frame))];
  }

  /**
   * A numbered box (a button) over face `index` at `box` ([x, y, w, h] in a picture of `size`
   * [width, height]): a click picks it, Delete or Backspace undoes its pair.
   */
  faceBox(index, [x, y, w, hgt], [width, height], label, children = []) {
    const target = { kind: "face", index };
    const number = h("span", { class: "mio-box-number" }, String(index));
    const button = h(
      "button",
      {
        type: "button",
        class: "mio-box",
        "aria-label": label,
        "data-face": index,
        style: `left:${pct(x, width)};top:${pct(y, height)};width:${pct(w, width)};height:${pct(hgt, height)}`,
        onclick: () => this.onPick(target),
        onkeydown: (event) => {
          if (isUndoKey(event)) {
            event.preventDefault();
            this.onUndoKey(target);
          }
        },
      },
      number,
      ...children,
    );
    return { button, number };
  }

  renderBoxes(main, faces, pairs, selection) {
    const located = faces.filter((f) => Array.isArray(f.box));
    const signature = located.map((f) => `${f.index}:${f.box.join(",")}`).join("|") + `|${main.width}x${main.height}`;
    if (signature !== this.boxSignature) {
      this.boxSignature = signature;
      this.buttons.clear();
      replaceChildren(this.boxes);
      for (const face of located) {
        const [x, y, w, hgt] = face.box;
        const dots = (face.kps || []).map(([kx, ky], i) =>
          h("span", {
            class: `mio-kp mio-kp-${i + 1}`,
            style: `left:${pct(kx - x, w)};top:${pct(ky - y, hgt)}`,
            "aria-hidden": "true",
          }),
        );
        const entry = this.faceBox(
          face.index,
          face.box,
          [main.width, main.height],
          `Face ${face.index} on the photo`,
          dots,
        );
        this.buttons.set(face.index, entry);
        this.boxes.append(entry.button);
      }
    }
    const byFace = new Map(pairs.map(([f, l]) => [f, l]));
    for (const [index, { button, number }] of this.buttons) {
      const label = byFace.get(index);
      number.textContent = label ? `${index} → ${label}` : String(index);
      markPair(button, label);
      const selected = selection && selection.kind === "face" && selection.index === index;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
    }
  }

  /** The video element of the original (for comparisons), or null. */
  videoElement() {
    return this.video;
  }
}
