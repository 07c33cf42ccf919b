import { test } from "node:test";
import assert from "node:assert/strict";
import { checkInBrowser, uploadFile } from "../src/upload.js";

// A peer speaking the kernel's side of the upload protocol (mio_nb/transfer.py), so the browser's
// driver is checked for order, windowing and completion without a kernel.
function kernelPeer({ failAt = null, silent = false, lose = null } = {}) {
  const handlers = new Set();
  const peer = { messages: [], received: [], maxInFlight: 0, inFlight: 0 };
  const reply = (msg) => setTimeout(() => handlers.forEach((h) => h(msg)), 0);
  peer.listen = (h) => {
    handlers.add(h);
    return () => handlers.delete(h);
  };
  peer.send = (content, buffers) => {
    peer.messages.push(content.type);
    if (silent) return;
    if (content.type === "upload_chunk" && lose !== null && content.offset === lose) {
      lose = null; // this chunk is lost on the way, once
      return;
    }
    if (content.type === "upload_chunk" && content.offset !== peer.received.reduce((n, b) => n + b.length, 0)) {
      // The kernel keeps what comes after a gap aside and acknowledges only bytes in order.
      const got = peer.received.reduce((n, b) => n + b.length, 0);
      setTimeout(() => reply({ type: "upload_ack", upload: content.upload, received: got }), 1);
      return;
    }
    if (content.type === "upload_chunk") {
      peer.inFlight += 1;
      peer.maxInFlight = Math.max(peer.maxInFlight, peer.inFlight);
      const got = peer.received.reduce((n, b) => n + b.length, 0);
      assert.equal(content.offset, got, "chunks arrive in order");
      peer.received.push(Buffer.from(buffers[0]));
      const total = got + buffers[0].byteLength;
      // Acknowledge later, as a busy kernel would.
      setTimeout(() => {
        peer.inFlight -= 1;
        if (failAt !== null && total > failAt) {
          reply({ type: "upload_error", upload: content.upload, message: "Not a supported file." });
        } else {
          reply({ type: "upload_ack", upload: content.upload, received: total });
        }
      }, 1);
    } else if (content.type === "upload_end") {
      reply({ type: "upload_done", upload: content.upload });
    }
  };
  return peer;
}

function blobOf(n) {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7) % 251;
  return { blob: new File([data], "group.png", { type: "image/png" }), data };
}

test("a file goes up whole, in order, never more than `window` chunks ahead", async () => {
  const peer = kernelPeer();
  const { blob, data } = blobOf(10_000);
  const progress = [];
  const result = await uploadFile({
    file: blob,
    role: "main",
    send: peer.send,
    listen: peer.listen,
    chunkSize: 1000,
    window: 3,
    onProgress: (sent, total) => progress.push([sent, total]),
  });
  assert.equal(result.size, 10_000);
  assert.deepEqual(Buffer.concat(peer.received), Buffer.from(data));
  assert.ok(peer.maxInFlight <= 3, `in flight: ${peer.maxInFlight}`);
  assert.equal(peer.messages[0], "upload_start");
  assert.equal(peer.messages.at(-1), "upload_end");
  assert.equal(peer.messages.filter((t) => t === "upload_chunk").length, 10);
  assert.deepEqual(progress.at(-1), [10_000, 10_000]);
  assert.ok(progress.length >= 10, "progress after each acknowledged chunk");
});

test("the kernel's refusal rejects with its sentence", async () => {
  const peer = kernelPeer({ failAt: 0 });
  const { blob } = blobOf(5000);
  await assert.rejects(
    uploadFile({ file: blob, role: "main", send: peer.send, listen: peer.listen, chunkSize: 1000 }),
    { message: "Not a supported file." },
  );
});

test("a kernel that stops answering ends the upload with a message and a cancel", async () => {
  const peer = kernelPeer({ silent: true });
  const { blob } = blobOf(5000);
  await assert.rejects(
    uploadFile({ file: blob, role: "main", send: peer.send, listen: peer.listen, chunkSize: 1000, stallMs: 30 }),
    /kernel stopped answering/,
  );
  assert.equal(peer.messages.at(-1), "upload_cancel");
});

test("checkInBrowser reads only the head and refuses a PDF", async () => {
  const pdf = new File([new TextEncoder().encode("%PDF-1.7 ...")], "doc.pdf");
  assert.match(await checkInBrowser(pdf, "main", 500_000_000), /doc\.pdf is a PDF document, not a picture or a video/);
});

test("a chunk lost on the way is sent again and the file arrives whole", async () => {
  const peer = kernelPeer({ lose: 3000 });
  const { blob, data } = blobOf(10_000);
  const result = await uploadFile({
    file: blob,
    role: "main",
    send: peer.send,
    listen: peer.listen,
    chunkSize: 1000,
    window: 3,
    resendMs: 50,
  });
  assert.equal(result.size, 10_000);
  assert.deepEqual(Buffer.concat(peer.received), Buffer.from(data));
  assert.ok(peer.messages.filter((t) => t === "upload_chunk").length > 10, "something was resent");
});
