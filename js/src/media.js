// Media the kernel sends as binary buffers (pictures, videos), kept as Blob URLs by key.
import { MediaAssembler } from "./chunks.js";
import { MSG } from "./shared.js";

export class MediaStore {
  /** @param {(content: object) => void} send  posts a message to the kernel */
  constructor(send, onReady) {
    this.send = send;
    this.onReady = onReady;
    this.assembler = new MediaAssembler();
    this.urls = new Map(); // key -> object URL
    this.requested = new Set();
  }

  /** A "media" message part; calls onReady(key) when a whole file arrived. */
  add(content, buffers) {
    let done = null;
    try {
      done = this.assembler.add(content, buffers);
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
    this.onReady(done.key);
  }

  url(key) {
    return (key && this.urls.get(key)) || null;
  }

  /** Keep only `keys`; ask the kernel for those not here or asked for yet. */
  sync(keys) {
    for (const key of this.assembler.prune(keys)) {
      URL.revokeObjectURL(this.urls.get(key));
      this.urls.delete(key);
    }
    for (const key of [...this.requested]) if (!keys.has(key)) this.requested.delete(key);
    const missing = [...keys].filter((k) => !this.assembler.has(k) && !this.requested.has(k));
    if (missing.length) {
      for (const k of missing) this.requested.add(k);
      this.send({ type: MSG.WANT, keys: missing });
    }
  }

  /** Mark keys as asked for (the "ready" message asks for everything current). */
  expect(keys) {
    for (const key of keys) this.requested.add(key);
  }

  destroy() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
