// Pairing by clicks, as pure functions of (selection, pairs): the view keeps the selection, the
// kernel keeps the pairs (the `pair_list` trait, [[face_index, "A"], ...]); a click returns the new
// selection and, when it changes a pair, the message to send to the kernel.
import { MSG } from "./shared.js";

/** How many pair colours the CSS defines (--mio-pair-0 ... --mio-pair-7). */
export const PAIR_COLOURS = 8;

/** 0 -> "A", 25 -> "Z", 26 -> "AA": the labels of new faces (the kernel makes the same ones). */
export function labelFor(i) {
  let n = i;
  let label = "";
  do {
    label = String.fromCharCode(65 + (n % 26)) + label;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return label;
}

/** The inverse of labelFor: "A" -> 0, "AA" -> 26. */
export function labelIndex(label) {
  let n = 0;
  for (const ch of label) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** The colour slot of a pair: the new face's, so every face paired with "A" shares A's colour. */
export function colourSlot(label) {
  return labelIndex(label) % PAIR_COLOURS;
}

/** face index -> label. */
export function pairMap(pairs) {
  return new Map(pairs.map(([face, label]) => [face, label]));
}

/**
 * A click on a detected face ({kind: "face", index}, its card or its box on the photo) or a new
 * face ({kind: "new", label}). Either order works (face then new face, or new face then face);
 * the pair made REPLACES any earlier pair of that face, in one action. A click never undoes a
 * pair: that is explicit (the x on a pair, or Delete on it; see undoKey). Returns
 * {selection, message} where message is null or what to send to the kernel.
 */
export function click(selection, pairs, target) {
  if (target.kind === "face") {
    if (selection && selection.kind === "new") {
      return {
        selection: null,
        message: { type: MSG.PAIR, face: target.index, new_face: selection.label },
      };
    }
    if (selection && selection.kind === "face" && selection.index === target.index) {
      return { selection: null, message: null };
    }
    return { selection: { kind: "face", index: target.index }, message: null };
  }
  if (selection && selection.kind === "face") {
    return {
      selection: null,
      message: { type: MSG.PAIR, face: selection.index, new_face: target.label },
    };
  }
  if (selection && selection.kind === "new" && selection.label === target.label) {
    return { selection: null, message: null };
  }
  return { selection: { kind: "new", label: target.label }, message: null };
}

/**
 * Delete or Backspace on a focused face (card or box) or new face: the message that undoes its
 * pair(s), or null when it has none.
 */
export function undoKey(pairs, target) {
  if (target.kind === "face") {
    return pairs.some(([face]) => face === target.index) ? { type: MSG.UNPAIR, face: target.index } : null;
  }
  return pairs.some(([, label]) => label === target.label)
    ? { type: MSG.UNPAIR_NEW, new_face: target.label }
    : null;
}

/** Drop a selection that no longer points at something shown (new original, face removed). */
export function keepSelection(selection, faces, newFaces) {
  if (!selection) return null;
  if (selection.kind === "face") {
    return faces.some((f) => f.index === selection.index) ? selection : null;
  }
  return newFaces.some((n) => n.label === selection.label) ? selection : null;
}

/** Badges: "1 -> A" on face 1, and "1, 3 -> A" on new face A when faces 1 and 3 use it. */
export function badges(pairs) {
  const faces = new Map();
  const users = new Map();
  for (const [face, label] of [...pairs].sort((a, b) => a[0] - b[0])) {
    faces.set(face, `${face} -> ${label}`);
    if (!users.has(label)) users.set(label, []);
    users.get(label).push(face);
  }
  const labels = new Map();
  for (const [label, list] of users) labels.set(label, `${list.join(", ")} -> ${label}`);
  return { faces, labels };
}

/** "1 -> A, 2 -> B" */
export function describePairs(pairs) {
  return [...pairs]
    .sort((a, b) => a[0] - b[0])
    .map(([face, label]) => `${face} -> ${label}`)
    .join(", ");
}

/** The one-line guidance shown above the Swap button. */
export function hint(selection, faces, newFaces, pairs) {
  if (faces.length === 0) return "Choose an original: its faces appear here.";
  if (newFaces.length === 0) return "Add a new face: the face to put in the original.";
  if (selection && selection.kind === "face") {
    return `Face ${selection.index} selected: now click the new face to put there.`;
  }
  if (selection && selection.kind === "new") {
    return `New face ${selection.label} selected: now click the detected face it replaces.`;
  }
  if (pairs.length === 0) {
    return "Click a face (on the photo or its card), then the new face to put there.";
  }
  const left = faces.length - pairs.length;
  const rest = left === 1 ? " 1 unpaired face stays as it is." : left > 1 ? ` ${left} unpaired faces stay as they are.` : "";
  return `Pairs: ${describePairs(pairs)}.${rest} Click a face then a new face to change its pair; × (or Delete) undoes one.`;
}

/** Swap is possible with at least one pair, a client, and nothing running. */
export function canSwap({ pairs, busy, ready }) {
  return Boolean(ready) && pairs.length > 0 && !(busy && busy.what);
}
