// The view's uploads, one file after the other, in the order they were given: each is checked in
// the browser first (a refused file says why in its role's section and the next one goes on),
// then sent to the kernel (upload.js). `current` is the upload in progress, for the feedback.

import { checkInBrowser, uploadFile } from "./upload.js";
import { PLACE_OF_ROLE } from "./shared.js";

export class UploadQueue {
  /**
   * @param {{send: Function, listen: Function, maxBytes: () => number, onChange: () => void,
   *   onProgress: () => void, onError: (place: string, text: string) => void, redrawMs?: number,
   *   check?: Function, upload?: Function}} options
   *   `onError` sets the error of a place ("" when a file is queued there: the last one is
   *   cleared), `onChange` redraws after it or when an upload begins or ends, `onProgress`
   *   redraws the progress, at most once every `redrawMs`.
   */
  constructor({ send, listen, maxBytes, onChange, onProgress, onError, redrawMs = 200, check = checkInBrowser, upload = uploadFile }) {
    Object.assign(this, { send, listen, maxBytes, onChange, onProgress, onError, redrawMs, check, upload });
    /** @type {{name: string, sent: number, total: number, role: string}|null} */
    this.current = null;
    this.tail = Promise.resolve();
    this.timer = null;
  }

  /** Queues `file` for `role` ("main" or "new_face"); resolves when its turn is over. */
  add(file, role) {
    this.onError(PLACE_OF_ROLE[role], "");
    const turn = () => this.run(file, role);
    this.tail = this.tail.then(turn, turn); // after the one before, however that one ended
    this.onChange();
    return this.tail;
  }

  /** One file's turn: never rejects, so a file that fails does not stop the ones after it. */
  async run(file, role) {
    const place = PLACE_OF_ROLE[role];
    try {
      const problem = await this.check(file, role, this.maxBytes());
      if (problem) {
        this.onError(place, problem);
        return;
      }
      this.current = { name: file.name, sent: 0, total: file.size, role };
      this.onChange();
      await this.upload({
        file,
        role,
        send: this.send,
        listen: this.listen,
        onProgress: (sent, total) => {
          this.current = { name: file.name, sent, total, role };
          this.progressSoon();
        },
      });
    } catch (err) {
      this.onError(place, `${file.name}: ${err.message}`);
    } finally {
      this.current = null;
      this.onChange();
    }
  }

  /** Redraws the progress at most once every `redrawMs`: every redraw lays out the whole
   * notebook page, which costs the browser more than the bytes themselves. */
  progressSoon() {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.current) this.onProgress();
    }, this.redrawMs);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
