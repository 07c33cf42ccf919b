// The view's upload queue: files go one after the other in the order given, a refused or failed
// file says why in its section and never holds up the next, progress is redrawn at most once
// every `redrawMs`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UploadQueue } from "../src/queue.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];

function png(name, size = 5000) {
  const data = new Uint8Array(size);
  data.set(PNG_HEAD);
  return new File([data], name, { type: "image/png" });
}

const notes = () => new File([new TextEncoder().encode("Dear Ann,\nthe notes from Tuesday.\n")], "notes.jpg");

/** A queue whose callbacks record what the view would be told. */
function queueFor(options = {}) {
  const seen = { errors: [], changes: [], redraws: [] };
  const queue = new UploadQueue({
    send: () => {},
    listen: () => () => {},
    maxBytes: () => 500_000_000,
    onError: (place, text) => seen.errors.push([place, text]),
    onChange: () => seen.changes.push(queue.current && queue.current.name),
    onProgress: () => seen.redraws.push({ ...queue.current }),
    ...options,
  });
  return { queue, seen };
}

/** A stand-in for uploadFile that logs when each file starts and ends, slow ones first. */
function slowUploads(events, ms = {}) {
  return async ({ file, onProgress }) => {
    events.push(`start ${file.name}`);
    onProgress(0, file.size);
    await sleep(ms[file.name] ?? 0);
    if (file.name.startsWith("broken")) throw new Error("The kernel refused it.");
    events.push(`end ${file.name}`);
  };
}

test("files go up one after the other, in the order given, however long each takes", async () => {
  const events = [];
  const { queue, seen } = queueFor({ upload: slowUploads(events, { "a.png": 40, "c.png": 10 }) });
  queue.add(png("a.png"), "main");
  queue.add(png("b.png"), "new_face");
  const last = queue.add(png("c.png"), "new_face");
  await last;
  assert.deepEqual(events, ["start a.png", "end a.png", "start b.png", "end b.png", "start c.png", "end c.png"]);
  // The view is told when each begins (current names it) and ends (current is null).
  assert.deepEqual(seen.changes.filter(Boolean), ["a.png", "b.png", "c.png"]);
  assert.equal(seen.changes.at(-1), null);
  assert.equal(queue.current, null);
});

test("queueing a file clears the last error of its section", () => {
  const { queue, seen } = queueFor({ upload: async () => {} });
  queue.add(png("a.png"), "main");
  queue.add(png("b.png"), "new_face");
  assert.deepEqual(seen.errors, [["original", ""], ["new_faces", ""]]);
});

test("a file refused in the browser says why in its section, sends nothing, and the next goes on", async () => {
  const events = [];
  const { queue, seen } = queueFor({ upload: slowUploads(events) });
  queue.add(notes(), "new_face");
  await queue.add(png("face.png"), "new_face");
  assert.deepEqual(events, ["start face.png", "end face.png"]);
  const [place, text] = seen.errors.find(([, t]) => t);
  assert.equal(place, "new_faces");
  assert.match(text, /^notes\.jpg is text, not a picture/);
});

test("a refusal by size in the browser uses the kernel's limit of the moment", async () => {
  let limit = 500_000_000;
  const events = [];
  const { queue, seen } = queueFor({ upload: slowUploads(events), maxBytes: () => limit });
  limit = 1000;
  await queue.add(png("big.png", 5000), "main");
  assert.deepEqual(events, []);
  assert.equal(seen.errors.at(-1)[0], "original");
  assert.match(seen.errors.at(-1)[1], /^big\.png/);
});

test("an upload that fails, or a file that cannot be read, says so and the next goes on", async () => {
  const events = [];
  const unreadable = png("gone.png");
  unreadable.slice = () => ({ arrayBuffer: () => Promise.reject(new Error("The file could not be read.")) });
  const { queue, seen } = queueFor({ upload: slowUploads(events, { "broken.png": 10 }) });
  queue.add(png("broken.png"), "main");
  queue.add(unreadable, "new_face");
  await queue.add(png("face.png"), "new_face");
  assert.deepEqual(events, ["start broken.png", "start face.png", "end face.png"]);
  const said = seen.errors.filter(([, t]) => t);
  assert.deepEqual(said, [
    ["original", "broken.png: The kernel refused it."],
    ["new_faces", "gone.png: The file could not be read."],
  ]);
  assert.equal(queue.current, null);
});

test("a view that fails to show an error does not stop the queue", async () => {
  const events = [];
  const { queue } = queueFor({
    upload: slowUploads(events),
    onError: (place, text) => {
      if (text) throw new Error("the view broke");
    },
  });
  const first = queue.add(notes(), "main");
  await queue.add(png("face.png"), "new_face");
  await assert.rejects(first, /the view broke/);
  assert.deepEqual(events, ["start face.png", "end face.png"]);
});

test("progress is redrawn at most once every redrawMs, with the latest figures, never after the end", async () => {
  const redrawMs = 40;
  const steps = 60;
  let began = 0;
  let took = 0;
  const upload = async ({ file, onProgress }) => {
    began = performance.now();
    for (let i = 1; i <= steps; i++) {
      onProgress(Math.round((file.size * i) / steps), file.size);
      await sleep(2);
    }
    took = performance.now() - began;
  };
  const { queue, seen } = queueFor({ upload, redrawMs });
  await queue.add(png("big.png", 60_000), "main");
  const redraws = seen.redraws.length;
  assert.ok(redraws >= 1, "progress was redrawn while the file went up");
  assert.ok(redraws <= Math.floor(took / redrawMs) + 1, `${redraws} redraws in ${took.toFixed(0)} ms`);
  assert.ok(redraws < steps / 4, `${redraws} redraws for ${steps} progress reports`);
  const sent = seen.redraws.map((r) => r.sent);
  assert.deepEqual(sent, [...sent].sort((a, b) => a - b), "figures only go forward");
  assert.ok(seen.redraws.every((r) => r.name === "big.png" && r.total === 60_000));
  await sleep(redrawMs * 3);
  assert.equal(seen.redraws.length, redraws, "no redraw once the upload ended");
});

test("with the real sender: each file reaches the kernel whole, in the order given", async () => {
  // A kernel that acknowledges every chunk and confirms each upload at its end.
  const handlers = new Set();
  const starts = [];
  const bytes = {};
  const reply = (msg) => setTimeout(() => handlers.forEach((h) => h(msg)), 1);
  const send = (content, buffers) => {
    if (content.type === "upload_start") {
      starts.push(content.name);
      bytes[content.upload] = 0;
    } else if (content.type === "upload_chunk") {
      bytes[content.upload] += buffers[0].byteLength;
      reply({ type: "upload_ack", upload: content.upload, received: bytes[content.upload] });
    } else if (content.type === "upload_end") {
      reply({ type: "upload_done", upload: content.upload });
    }
  };
  const listen = (h) => {
    handlers.add(h);
    return () => handlers.delete(h);
  };
  const { queue, seen } = queueFor({ send, listen });
  queue.add(png("first.png", 3_000_000), "main");
  queue.add(notes(), "new_face");
  await queue.add(png("second.png", 1000), "new_face");
  assert.deepEqual(starts, ["first.png", "second.png"]);
  assert.deepEqual(Object.values(bytes), [3_000_000, 1000]);
  assert.deepEqual(seen.changes.filter(Boolean), ["first.png", "second.png"]);
  assert.match(seen.errors.filter(([, t]) => t)[0][1], /^notes\.jpg is text/);
});
