// The model's traits: names and typedef generated from Python into shared.js (see
// mio_nb/widget/shared.py). The kernel owns them; the view reads them with model.get(name) and
// writes only `hd` and `shown`.

import { TRAIT_NAMES } from "./shared.js";

export { TRAIT_NAMES };

/**
 * The traits as one object (a snapshot), lists and dicts never missing.
 * @returns {import("./shared.js").Traits}
 */
export function readTraits(model) {
  const out = {};
  for (const name of TRAIT_NAMES) out[name] = model.get(name);
  for (const name of ["main", "busy", "stopped", "removed"]) out[name] = out[name] || {};
  for (const name of ["faces", "new_faces", "pair_list", "history"]) out[name] = out[name] || [];
  return out;
}
