// Chunked binary transfer between the browser and the kernel, as pure bookkeeping.
// One big comm message fails silently (ipywidgets FileUpload breaks above ~10 MB on Jupyter and
// ~1 MB on Colab), so files go up in UPLOAD_CHUNK_BYTES pieces with a window of unacknowledged
// chunks, and media comes down as numbered parts reassembled here.
import { MSG } from "./shared.js";

/** As big as Colab allows (its websocket frames stay under 1,000,000 bytes: a chunk's frame is
 * ~983,500 with its header, see tests/browser/test_browser_colab.py): fewer messages per MB is
 * what makes uploads fast, each message costs the page and the kernel more than its bytes. */
export const UPLOAD_CHUNK_BYTES = 960 * 1024;
/** Chunks in flight before the kernel must acknowledge: bounds memory on both sides. */
export const UPLOAD_WINDOW = 16;

/** [{offset, length}, ...] covering `size` bytes in pieces of at most `chunkSize`. */
export function planChunks(size, chunkSize = UPLOAD_CHUNK_BYTES) {
  if (!(chunkSize > 0)) throw new RangeError("chunkSize must be positive");
  const out = [];
  for (let offset = 0; offset < size; offset += chunkSize) {
    out.push({ offset, length: Math.min(chunkSize, size - offset) });
  }
  return out;
}

/**
 * Flow control of one upload: `next()` gives the next chunk to send while fewer than `window`
 * chunks are unacknowledged; `ack(received)` records the kernel's count of bytes written.
 */
export class UploadFlow {
  constructor(size, { chunkSize = UPLOAD_CHUNK_BYTES, window = UPLOAD_WINDOW } = {}) {
    this.size = size;
    this.chunkSize = chunkSize;
    this.window = window;
    this.sent = 0;
    this.acked = 0;
  }

  next() {
    if (this.sent >= this.size) return null;
    if (this.sent - this.acked >= this.window * this.chunkSize) return null;
    const chunk = { offset: this.sent, length: Math.min(this.chunkSize, this.size - this.sent) };
    this.sent += chunk.length;
    return chunk;
  }

  ack(received) {
    if (received < this.acked || received > this.sent) {
      throw new Error(`the kernel acknowledged ${received} bytes, but ${this.sent} were sent`);
    }
    this.acked = received;
  }

  /** Send again everything not acknowledged (a chunk was lost on the way): go-back-N. */
  rewind() {
    this.sent = this.acked;
  }

  get done() {
    return this.acked === this.size;
  }
}

function byteLength(buffer) {
  return buffer ? buffer.byteLength : 0;
}

/** How long media the kernel sent before the state named it is kept unnamed (ms). */
export const UNNAMED_KEEP_MS = 60_000;

/**
 * Reassembles media the kernel sends as {type: MSG.MEDIA, key, transfer, part, parts, mime, size}
 * with one buffer each. Keys name immutable content (they carry a revision), so a key, once
 * complete, is never replaced; parts of other transfers of the same key are ignored.
 * The kernel sends media as soon as it is made, usually just before the state that names it:
 * what arrives unnamed is kept a while (UNNAMED_KEEP_MS), what the state named and no longer
 * names is dropped at once.
 */
export class MediaAssembler {
  constructor() {
    this.complete = new Map(); // key -> {mime, size, since}
    this.pending = new Map(); // `${key}#${transfer}` -> {parts: [], got, size, mime, since}
    this.named = new Set(); // keys the state has named
  }

  has(key) {
    return this.complete.has(key);
  }

  /** True while some transfer of `key` is under way. */
  receiving(key) {
    for (const id of this.pending.keys()) if (id.slice(0, id.lastIndexOf("#")) === key) return true;
    return false;
  }

  /** Returns {key, mime, size, parts: [buffers]} when `content` completes a key, else null. */
  add(content, buffers, now = Date.now()) {
    const { key, transfer, part, parts, mime, size } = content;
    if (this.complete.has(key)) return null;
    const id = `${key}#${transfer}`;
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { parts: new Array(parts).fill(null), got: 0, size, mime, since: now };
      this.pending.set(id, entry);
    }
    if (part < 0 || part >= parts) throw new RangeError(`part ${part} of ${parts} for ${key}`);
    if (entry.parts[part] === null) {
      entry.parts[part] = buffers && buffers.length ? buffers[0] : new Uint8Array(0);
      entry.got += 1;
    }
    if (entry.got < parts) return null;
    for (const other of [...this.pending.keys()]) {
      if (other.startsWith(`${key}#`)) this.pending.delete(other);
    }
    const total = entry.parts.reduce((n, b) => n + byteLength(b), 0);
    if (total !== size) throw new Error(`${key}: got ${total} bytes, expected ${size}`);
    this.complete.set(key, { mime, size, since: now });
    return { key, mime, size, parts: entry.parts };
  }

  /** Forget keys not in `keep` that the state named before, or that arrived unnamed over
   * UNNAMED_KEEP_MS ago; returns the completed keys dropped. */
  prune(keep, now = Date.now()) {
    for (const key of keep) this.named.add(key);
    const stale = (key, since) => !keep.has(key) && (this.named.has(key) || now - since > UNNAMED_KEEP_MS);
    const dropped = [];
    for (const [key, { since }] of [...this.complete]) {
      if (stale(key, since)) {
        this.complete.delete(key);
        dropped.push(key);
      }
    }
    for (const [id, { since }] of [...this.pending]) {
      if (stale(id.slice(0, id.lastIndexOf("#")), since)) this.pending.delete(id);
    }
    for (const key of [...this.named]) if (!keep.has(key)) this.named.delete(key);
    return dropped;
  }
}
