import { formatBytes } from "./text.js";

// What a file is, by its first bytes: the same rules as mio_nb/formats.py `sniff`, so the browser
// refuses exactly what the kernel (and the API) would refuse, before any byte is sent.

export const HEAD_BYTES = 64;
export const MAX_UPLOAD_BYTES = 500_000_000;
export const SUPPORTED_NAMES = "JPG, PNG, WEBP, GIF, M4V, MP4, MOV and WEBM";

const fmt = (name, kind, mime) => Object.freeze({ name, kind, mime });
export const JPG = fmt("jpg", "image", "image/jpeg");
export const PNG = fmt("png", "image", "image/png");
export const WEBP = fmt("webp", "image", "image/webp");
export const GIF = fmt("gif", "image", "image/gif");
export const MP4 = fmt("mp4", "video", "video/mp4");
export const M4V = fmt("m4v", "video", "video/x-m4v");
export const MOV = fmt("mov", "video", "video/quicktime");
export const WEBM = fmt("webm", "video", "video/webm");

const QUICKTIME_ATOMS = ["moov", "mdat", "wide", "free", "skip", "pnot"];

function ascii(bytes, start, end) {
  let s = "";
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function startsWith(bytes, prefix) {
  if (bytes.length < prefix.length) return false;
  return prefix.every((b, i) => bytes[i] === b);
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
    if (brand === "qt  ") return MOV;
    if (brand === "M4V " || brand === "M4VH" || brand === "M4VP") return M4V;
    return MP4;
  }
  if (b.length >= 8 && QUICKTIME_ATOMS.includes(ascii(b, 4, 8))) return MOV;
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3]) && ascii(b, 0, b.length).includes("webm")) return WEBM;
  return null;
}

/**
 * Why a file cannot be used, as a sentence saying what to do, or null when it can.
 * `role` is "main" (image or video) or "new_face" (image only).
 */
export function checkFile({ name, size, head, role, maxBytes = MAX_UPLOAD_BYTES }) {
  const limit = Math.min(maxBytes, MAX_UPLOAD_BYTES);
  if (size === 0) return `${name} is empty: choose another file.`;
  if (size > limit) {
    return `${name} is ${formatBytes(size)}, over the ${formatBytes(limit)} limit: use a shorter or smaller file.`;
  }
  const format = sniff(head);
  if (format === null) {
    return `${name} is not a supported file: use ${SUPPORTED_NAMES}.`;
  }
  if (role === "new_face" && format.kind !== "image") {
    return `${name} is a video: a new face must be an image (JPG, PNG, WEBP or GIF).`;
  }
  return null;
}
