// The model's traits, declared once (mio_nb/widget.py's synced traits). The kernel owns them;
// the view reads them with model.get(name) and writes only `hd` and `shown`.

/**
 * @typedef {Object} MainInfo        The original: `main`.
 * @property {string} name
 * @property {"image"|"video"} kind
 * @property {number} size           bytes
 * @property {string} media          media key of its preview ("" if none)
 * @property {string} [mime]         a video preview's type
 * @property {number} [width]        image pixels (EXIF orientation applied)
 * @property {number} [height]
 *
 * @typedef {Object} DetectedFace    One of `faces`.
 * @property {number} index          1, 2, ... as shown
 * @property {string} media          its card's picture
 * @property {number[]} [box]        [x, y, w, h] on the original, in its pixels (absent: not located)
 * @property {number[][]} [kps]      five [x, y] on the original
 *
 * @typedef {Object} NewFace         One of `new_faces`.
 * @property {string} label          "A", "B", ...
 * @property {string} name           file name
 * @property {string} media
 * @property {"checking"|"ok"|"none"|"several"|"error"} check
 * @property {string} note           what the check found, shown on the card
 * @property {{index: number, media: string}[]} choices  faces to pick from ("several")
 *
 * @typedef {Object} Traits
 * @property {string} mode           "api", "sandbox" or "unavailable"
 * @property {string} notice
 * @property {string} status
 * @property {string} error
 * @property {""|"original"|"new_faces"|"swap"} error_at  where the error is shown
 * @property {{what?: "detect"|"swap", state?: string, task_id?: number, elapsed?: number}} busy
 * @property {MainInfo|{}} main
 * @property {DetectedFace[]} faces
 * @property {NewFace[]} new_faces
 * @property {[number, string][]} pair_list  [[face, label], ...]
 * @property {boolean} hd
 * @property {Object[]} history      results: {id, kind, name, path, media, mime, size, elapsed, pairs, hd, task_id}
 * @property {number} shown          the id of the result shown
 * @property {{what?: string, task_id?: number, since_submitted?: number}} stopped
 * @property {{label?: string, name?: string}} removed  the new face removed last (one undo)
 * @property {number} max_upload_bytes
 */

/** Every trait the view redraws on. */
export const TRAIT_NAMES = [
  "mode",
  "notice",
  "status",
  "error",
  "error_at",
  "main",
  "faces",
  "new_faces",
  "pair_list",
  "hd",
  "history",
  "shown",
  "stopped",
  "removed",
];

/**
 * The traits as one object (a snapshot).
 * @returns {Traits}
 */
export function readTraits(model) {
  const out = {};
  for (const name of [...TRAIT_NAMES, "busy", "max_upload_bytes"]) out[name] = model.get(name);
  out.main = out.main || {};
  out.faces = out.faces || [];
  out.new_faces = out.new_faces || [];
  out.pair_list = out.pair_list || [];
  out.busy = out.busy || {};
  out.stopped = out.stopped || {};
  out.removed = out.removed || {};
  out.history = out.history || [];
  return /** @type {Traits} */ (out);
}
