// Feedback next to the control that caused it: each section has one place (a status line with
// the elapsed time, an upload progress bar, an error box). Which place shows the one status and
// where an error goes is decided here, as a pure function of the state, for all three sections:
// the kernel names the place of its status and its error (traits `status_at`, `error_at`), the
// view that of its own uploads. Nothing here reads the words of a status.

import { h, flag } from "./dom.js";
import { formatElapsed, uploadProgressText } from "./text.js";
import { PLACES, PLACE_OF_ROLE } from "./shared.js";

/** The sections with a feedback place, in page order; where a role's uploads report. */
export { PLACES, PLACE_OF_ROLE };

/**
 * Where the status goes: an upload in its role's section, else where the kernel's `status_at`
 * says (Swap when it says nothing).
 * @param {{upload: {role: string}|null, statusAt: string}} s
 */
export function statusPlace({ upload, statusAt }) {
  if (upload) return PLACE_OF_ROLE[upload.role];
  return statusAt || "swap";
}

/**
 * The error shown in `place`: the view's own (a refused or failed upload, cleared by the next
 * action there) before the kernel's, which names its place in `error_at` (Swap when it does not).
 */
export function errorFor(place, { localError, error, errorAt }) {
  if (localError.text && localError.place === place) return localError.text;
  if (error && (errorAt || "swap") === place) return error;
  return "";
}

/**
 * What every place shows: {text, elapsed, progress: {value, max}|null, busy, error}, from the
 * kernel's traits (busy, status, status_at, error, error_at) and the view's own: the upload in
 * progress, its local error, and how long the kernel has been busy on the browser's clock.
 */
export function feedbackByPlace(traits, { upload, localError, busySeconds }) {
  const { busy, status, status_at: statusAt, error, error_at: errorAt } = traits;
  const here = statusPlace({ upload, statusAt });
  const out = {};
  for (const place of PLACES) {
    const shown = { text: "", elapsed: "", progress: null, busy: false, error: errorFor(place, { localError, error, errorAt }) };
    if (place === here && upload) {
      shown.text = uploadProgressText(upload.name, upload.sent, upload.total);
      shown.progress = { value: upload.sent, max: Math.max(upload.total, 1) };
      shown.busy = true;
    } else if (place === here) {
      shown.text = status || "";
      shown.busy = Boolean(busy.what);
      if (busy.what) {
        const since = busy.task_id ? " since the task was submitted" : "";
        shown.elapsed = ` (${formatElapsed(busySeconds)}${since})`;
      }
    }
    out[place] = shown;
  }
  return out;
}

/** How long the kernel has been busy, on the browser's clock; `onTick` runs twice a second meanwhile. */
export class BusyClock {
  constructor(onTick) {
    this.onTick = onTick;
    this.since = null;
    this.timer = null;
  }

  /** Follows the `busy` trait (on every change of it). */
  follow(busy) {
    if (!busy.what) return this.stop();
    // The kernel's clock may be elsewhere (Colab): count from its elapsed, on our clock.
    this.since = performance.now() - 1000 * (busy.elapsed || 0);
    if (this.timer === null) this.timer = setInterval(this.onTick, 500);
  }

  seconds() {
    return this.since === null ? 0 : (performance.now() - this.since) / 1000;
  }

  stop() {
    this.since = null;
    clearInterval(this.timer);
    this.timer = null;
  }
}

/** One section's feedback place; `nodes` go into the section, `render` shows one feedbackByPlace entry. */
export class Feedback {
  constructor() {
    this.text = h("span", { class: "mio-status-text" });
    this.elapsed = h("span", { class: "mio-elapsed" });
    this.progress = h("progress", { class: "mio-progress", max: 1, value: 0, "aria-label": "Upload progress", hidden: true });
    this.status = h("div", { class: "mio-status", role: "status" }, this.text, this.elapsed);
    this.error = h("div", { class: "mio-error", role: "alert", hidden: true });
    this.nodes = [this.progress, this.status, this.error];
  }

  /** @param {{text: string, elapsed: string, progress: {value: number, max: number}|null, busy: boolean, error: string}} f */
  render({ text, elapsed, progress, busy, error }) {
    // Text is set only when it changes: a redraw lays out the whole notebook page.
    setText(this.text, text);
    setText(this.elapsed, elapsed);
    if (progress) {
      this.progress.max = progress.max;
      this.progress.value = progress.value;
    }
    flag(this.progress, "hidden", !progress);
    this.status.classList.toggle("mio-busy", busy);
    flag(this.status, "hidden", !text);
    setText(this.error, error);
    flag(this.error, "hidden", !error);
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
