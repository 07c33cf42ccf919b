// Media the kernel sends as binary buffers (pictures, videos), kept as Blob URLs by key.
// The kernel sends each picture as soon as it is made (a view receives it even while the kernel
// runs cells, when requests to it wait); a view asks only for what it cannot have received:
// what was sent before it existed (READY), what it dropped, or what is late (WANT).
import { MediaAssembler } from "./chunks.js";
import { MSG } from "./shared.js";

/** How long a view waits for media the state names before asking for it (ms): the kernel
 * may still be drawing it (a face's picture comes after the face list). */
export const MEDIA_GRACE_MS = 5000;

export class MediaStore {
  /** @param {(content: object) => void} send  posts a message to the kernel */
  constructor(send, onReady, { graceMs = MEDIA_GRACE_MS, now = () => Date.now() } = {}) {
    this.send = send;
    this.onReady = onReady;
    this.graceMs = graceMs;
    this.now = now;
    this.assembler = new MediaAssembler();
    this.urls = new Map(); // key -> object URL
    this.requested = new Set();
    this.dropped = new Set(); // keys this view had and let go
    this.missingSince = new Map(); // key -> when the state named it without its media here
    this.timer = null;
    this.keys = new Set();
  }

  /** A "media" message part; calls onReady(key) when a whole file arrived. */
  add(content, buffers) {
    let done = null;
    try {
      done = this.assembler.add(content, buffers, this.now());
    } catch (err) {
      this.requested.delete(content.key);
      console.warn("mio-nb:", err);
      return;
    }
    if (!done) return;
    const blob = new Blob(done.parts, { type: done.mime });
    const old = this.urls.get(done.key);
    if (old) URL.revokeObjectURL(old);
    this.urls.set(done.key, URL.createObjectURL(blob));
    this.requested.delete(done.key);
    this.missingSince.delete(done.key);
    this.dropped.delete(done.key);
    this.onReady(done.key);
  }

  url(key) {
    return (key && this.urls.get(key)) || null;
  }

  /** Keep only what the state names (`keys`, plus media just arrived that it will name); ask
   * the kernel for named media this view dropped before, or that is later than graceMs. */
  sync(keys) {
    const now = this.now();
    this.keys = keys;
    for (const key of this.assembler.prune(keys, now)) {
      URL.revokeObjectURL(this.urls.get(key));
      this.urls.delete(key);
      this.dropped.add(key);
    }
    for (const key of [...this.requested]) if (!keys.has(key)) this.requested.delete(key);
    for (const key of [...this.missingSince.keys()]) if (!keys.has(key)) this.missingSince.delete(key);
    const ask = [];
    for (const key of keys) {
      if (this.assembler.has(key) || this.requested.has(key) || this.assembler.receiving(key)) continue;
      if (!this.missingSince.has(key)) this.missingSince.set(key, now);
      if (this.dropped.has(key) || now - this.missingSince.get(key) >= this.graceMs) ask.push(key);
    }
    if (ask.length) {
      for (const key of ask) this.requested.add(key);
      this.send({ type: MSG.WANT, keys: ask });
    }
    this.schedule();
  }

  /** Look again when the oldest missing key's grace ends. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    const waiting = [...this.missingSince].filter(([k]) => !this.requested.has(k));
    if (!waiting.length) return;
    const first = Math.min(...waiting.map(([, since]) => since));
    const wait = Math.max(0, first + this.graceMs - this.now());
    this.timer = setTimeout(() => this.sync(this.keys), wait + 10);
  }

  /** The keys to ask for when a view is rendered (media sent before it existed), marked as
   * asked for. */
  expect(keys) {
    for (const key of keys) this.requested.add(key);
    return [...keys];
  }

  destroy() {
    clearTimeout(this.timer);
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
