// Sends one File (or Blob) from the browser to the kernel in acknowledged chunks.
// `send(content, buffers)` posts a custom message; `listen(handler)` subscribes to the kernel's
// custom messages and returns an unsubscribe function. Resolves when the kernel says
// "upload_done"; rejects with an Error whose message is a sentence for the user.

import { checkFile, HEAD_BYTES } from "./formats.js";
import { UploadFlow, UPLOAD_CHUNK_BYTES, UPLOAD_WINDOW } from "./chunks.js";
import { MSG } from "./shared.js";

/** Bytes read from the file at once (then sent in chunks). */
export const READ_AHEAD = 4 * 1024 * 1024;

let counter = 0;

function newUploadId() {
  counter += 1;
  const rand = Math.random().toString(36).slice(2, 10);
  return `u${Date.now().toString(36)}-${counter}-${rand}`;
}

/** Checks a file in the browser: a sentence saying what is wrong, or null. */
export async function checkInBrowser(file, role, maxBytes) {
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  return checkFile({ name: file.name || "the file", size: file.size, head, role, maxBytes });
}

export function uploadFile({
  file,
  role,
  send,
  listen,
  onProgress = () => {},
  chunkSize = UPLOAD_CHUNK_BYTES,
  window = UPLOAD_WINDOW,
  stallMs = 60_000,
  resendMs = 2_000,
}) {
  const upload = newUploadId();
  const name = file.name || (role === "main" ? "original" : "new-face");
  const flow = new UploadFlow(file.size, { chunkSize, window });
  return new Promise((resolve, reject) => {
    let finished = false;
    let ended = false;
    let stallTimer = null;

    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(stallTimer);
      clearInterval(resendTimer);
      unsubscribe();
      if (error) reject(error);
      else resolve({ upload, name, size: file.size });
    };

    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        send({ type: MSG.UPLOAD_CANCEL, upload }, []);
        finish(new Error(`The kernel stopped answering while ${name} was sent: is it still running? Try again.`));
      }, stallMs);
    };

    // A chunk can get lost between the page and the kernel: when the acknowledged count stops
    // moving while chunks are out, send again from there (the kernel ignores what it has).
    let resendTimer = null;
    let lastAcked = -1;
    const watchProgress = () => {
      resendTimer = setInterval(() => {
        if (finished) return;
        if (flow.acked === lastAcked && flow.sent > flow.acked) {
          flow.rewind();
          pump();
        }
        lastAcked = flow.acked;
      }, resendMs);
    };

    // The file is read READ_AHEAD bytes at a time (each read is a round trip to the browser's
    // own process, which costs more than the bytes) and cut into chunks from there.
    let block = null;
    const readChunk = async (chunk) => {
      const end = chunk.offset + chunk.length;
      if (!block || chunk.offset < block.offset || end > block.offset + block.data.byteLength) {
        const upTo = Math.min(file.size, Math.max(end, chunk.offset + READ_AHEAD));
        block = { offset: chunk.offset, data: await file.slice(chunk.offset, upTo).arrayBuffer() };
      }
      const start = chunk.offset - block.offset;
      return block.data.slice(start, start + chunk.length);
    };

    // One pump at a time, so chunks go out in order; an ack that arrives while the pump awaits
    // a read is seen by its next `flow.next()`.
    let pumping = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        for (let chunk = flow.next(); chunk && !finished; chunk = flow.next()) {
          const data = await readChunk(chunk);
          if (finished) return;
          send({ type: MSG.UPLOAD_CHUNK, upload, offset: chunk.offset }, [data]);
        }
        if (flow.done && !ended && !finished) {
          ended = true;
          send({ type: MSG.UPLOAD_END, upload }, []);
        }
      } catch (err) {
        send({ type: MSG.UPLOAD_CANCEL, upload }, []);
        finish(new Error(`${name} could not be read in the browser (${err.message}): choose it again.`));
      } finally {
        pumping = false;
      }
    };

    const unsubscribe = listen((msg) => {
      if (!msg || msg.upload !== upload || finished) return;
      if (msg.type === MSG.UPLOAD_ACK) {
        try {
          flow.ack(msg.received);
        } catch (err) {
          finish(new Error(`${name} was not received intact (${err.message}): try again.`));
          return;
        }
        armStall();
        onProgress(flow.acked, file.size);
        pump();
      } else if (msg.type === MSG.UPLOAD_DONE) {
        onProgress(file.size, file.size);
        finish(null);
      } else if (msg.type === MSG.UPLOAD_ERROR) {
        finish(new Error(msg.message));
      }
    });

    send({ type: MSG.UPLOAD_START, upload, role, name, size: file.size }, []);
    armStall();
    watchProgress();
    onProgress(0, file.size);
    pump();
  });
}
