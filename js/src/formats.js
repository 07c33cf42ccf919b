import { formatBytes } from "./text.js";
import {
  ACCEPTED,
  HEAD_BYTES,
  MAX_UPLOAD_BYTES,
  OTHER_FILES,
  PICTURE_BRANDS,
  QUICKTIME_ATOMS,
  ROLE_KINDS,
  ROLE_WORDS,
  SENTENCES,
  SUPPORTED,
} from "./shared.js";

// What a file is, by its first bytes: the rules of mio_nb/formats.py (`sniff`, `describe`,
// `refusal`), with its tables and sentences generated into shared.js, so the browser refuses
// exactly what the kernel (and the API) would refuse, in the same words, before a byte is sent.
// tests/widget/test_widget_shared.py runs both on the same files and compares.

export { HEAD_BYTES, MAX_UPLOAD_BYTES };

const byName = Object.fromEntries(SUPPORTED.map((f) => [f.name, Object.freeze(f)]));
export const { jpg: JPG, png: PNG, webp: WEBP, gif: GIF, mp4: MP4, m4v: M4V, mov: MOV, webm: WEBM } = byName;

function ascii(bytes, start, end) {
  let s = "";
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function startsWith(bytes, prefix, offset = 0) {
  if (bytes.length < offset + prefix.length) return false;
  return prefix.every((b, i) => bytes[offset + i] === b);
}

/** The supported format of a file whose first bytes are `head` (a Uint8Array), or null. */
export function sniff(head) {
  const b = head instanceof Uint8Array ? head : new Uint8Array(head);
  if (startsWith(b, [0xff, 0xd8, 0xff])) return JPG;
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return PNG;
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return WEBP;
  const six = ascii(b, 0, 6);
  if (six === "GIF87a" || six === "GIF89a") return GIF;
  if (ascii(b, 4, 8) === "ftyp") {
    const brand = ascii(b, 8, 12);
    if (PICTURE_BRANDS.includes(brand)) return null;
    if (brand === "qt  ") return MOV;
    if (brand === "M4V " || brand === "M4VH" || brand === "M4VP") return M4V;
    return MP4;
  }
  if (b.length >= 8 && QUICKTIME_ATOMS.includes(ascii(b, 4, 8))) return MOV;
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3]) && ascii(b, 0, b.length).includes("webm")) return WEBM;
  return null;
}

/** True when `head` reads as text (UTF-8, no control bytes but tab and line ends). */
export function looksLikeText(head) {
  if (!head.length) return false;
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(head);
  } catch {
    // only a character cut at the end is forgiven
    for (let cut = 1; cut <= 3 && text === undefined; cut++) {
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, head.length - cut));
      } catch {
        /* try a shorter cut */
      }
    }
    if (text === undefined) return false;
  }
  // Python's str.isprintable: no control, format, private or unassigned characters, and no
  // separator but the plain space.
  const rest = text.replace(/[\t\r\n\f]/g, "");
  return !/[\p{C}\p{Zl}\p{Zp}]/u.test(rest) && !/\p{Zs}/u.test(rest.replace(/ /g, ""));
}

/** What a file is: [sentence key, words], as mio_nb/formats.py `describe`. */
export function describe(head) {
  if (!head.length) return ["empty", "empty"];
  const text = looksLikeText(head);
  for (const { offset, magic, what, picture } of OTHER_FILES) {
    if (magic.length <= 2 && text) continue;
    if (startsWith(head, magic, offset)) return [picture ? "other_picture" : "other", what];
  }
  const start = ascii(head, 0, head.length).trimStart().slice(0, 64).toLowerCase();
  if (start.startsWith("<!doctype html") || start.startsWith("<html")) return ["web_page", "a web page"];
  if (start.includes("<svg")) return ["other_picture", "an SVG drawing"];
  if (text) return ["text", "text"];
  return ["unknown", ""];
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

/** Why a file cannot go in slot `role` ("main" or "new_face"), naming what it is; or null. */
export function refusal(name, head, role) {
  const b = head instanceof Uint8Array ? head : new Uint8Array(head);
  const kinds = ROLE_KINDS[role] || ["image", "video"];
  const values = { name, accepted: ACCEPTED[role] || ACCEPTED.main, slot: ROLE_WORDS[role] || "" };
  const format = sniff(b);
  if (format !== null) return kinds.includes(format.kind) ? null : fill(SENTENCES.video_as_face, values);
  const [key, what] = describe(b);
  return fill(SENTENCES[key], { ...values, what });
}

/**
 * Why a file cannot be used, as a sentence saying what to do, or null when it can.
 * `role` is "main" (image or video) or "new_face" (image only).
 */
export function checkFile({ name, size, head, role, maxBytes = MAX_UPLOAD_BYTES }) {
  const limit = Math.min(maxBytes, MAX_UPLOAD_BYTES);
  if (size === 0) return fill(SENTENCES.empty, { name });
  if (size > limit) return fill(SENTENCES.too_large, { name, size: formatBytes(size), limit: formatBytes(limit) });
  return refusal(name, head, role);
}
