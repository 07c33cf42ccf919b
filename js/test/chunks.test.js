import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaAssembler, planChunks, UNNAMED_KEEP_MS, UploadFlow } from "../src/chunks.js";

test("planChunks covers every byte once, in order", () => {
  assert.deepEqual(planChunks(0, 4), []);
  assert.deepEqual(planChunks(10, 4), [
    { offset: 0, length: 4 },
    { offset: 4, length: 4 },
    { offset: 8, length: 2 },
  ]);
  assert.deepEqual(planChunks(8, 4).length, 2);
  assert.throws(() => planChunks(8, 0), RangeError);
});

test("UploadFlow keeps at most `window` chunks unacknowledged", () => {
  const flow = new UploadFlow(10, { chunkSize: 2, window: 2 });
  assert.deepEqual(flow.next(), { offset: 0, length: 2 });
  assert.deepEqual(flow.next(), { offset: 2, length: 2 });
  assert.equal(flow.next(), null, "window full");
  flow.ack(2);
  assert.deepEqual(flow.next(), { offset: 4, length: 2 });
  assert.equal(flow.next(), null);
  flow.ack(6);
  assert.deepEqual(flow.next(), { offset: 6, length: 2 });
  assert.deepEqual(flow.next(), { offset: 8, length: 2 });
  assert.equal(flow.next(), null, "all sent");
  assert.equal(flow.done, false);
  flow.ack(10);
  assert.equal(flow.done, true);
});

test("UploadFlow refuses an acknowledgement of bytes never sent or going backwards", () => {
  const flow = new UploadFlow(10, { chunkSize: 4, window: 1 });
  flow.next();
  assert.throws(() => flow.ack(5), /acknowledged 5 bytes, but 4 were sent/);
  flow.ack(4);
  assert.throws(() => flow.ack(3));
});

const part = (key, transfer, i, n, bytes, mime = "image/png") => [
  { type: "media", key, transfer, part: i, parts: n, mime, size: 5 },
  [new DataView(new Uint8Array(bytes).buffer)],
];

function joined(parts) {
  return Buffer.concat(parts.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
}

test("MediaAssembler rebuilds parts arriving in any order", () => {
  const m = new MediaAssembler();
  assert.equal(m.add(...part("face-1-1", 1, 1, 2, [4, 5])), null);
  const done = m.add(...part("face-1-1", 1, 0, 2, [1, 2, 3]));
  assert.equal(done.key, "face-1-1");
  assert.equal(done.mime, "image/png");
  assert.deepEqual([...joined(done.parts)], [1, 2, 3, 4, 5]);
  assert.equal(m.has("face-1-1"), true);
});

test("MediaAssembler ignores a second transfer of a key it already has", () => {
  const m = new MediaAssembler();
  m.add(...part("k", 1, 0, 2, [1, 2, 3]));
  m.add(...part("k", 2, 0, 2, [1, 2, 3]));
  assert.ok(m.add(...part("k", 1, 1, 2, [4, 5])));
  assert.equal(m.add(...part("k", 2, 1, 2, [4, 5])), null);
  assert.equal(m.pending.size, 0);
});

test("MediaAssembler rejects a transfer whose size does not add up", () => {
  const m = new MediaAssembler();
  m.add(...part("k", 1, 0, 2, [1]));
  assert.throws(() => m.add(...part("k", 1, 1, 2, [2])), /got 2 bytes, expected 5/);
  assert.throws(() => m.add(...part("j", 1, 3, 2, [2])), RangeError);
});

test("MediaAssembler.prune forgets at once what the state named and no longer names", () => {
  const m = new MediaAssembler();
  m.add(...part("a", 1, 0, 1, [1, 2, 3, 4, 5]), 0);
  m.add(...part("b", 1, 0, 1, [1, 2, 3, 4, 5]), 0);
  m.add(...part("c", 1, 0, 2, [1, 2, 3]), 0);
  assert.deepEqual(m.prune(new Set(["a", "b", "c"]), 10), []);
  assert.deepEqual(m.prune(new Set(["b"]), 20), ["a"]);
  assert.equal(m.has("a"), false);
  assert.equal(m.has("b"), true);
  assert.equal(m.pending.size, 0, "c's transfer stopped: c is no longer named");
});

test("MediaAssembler.prune keeps media sent before the state names it, for a while", () => {
  const m = new MediaAssembler();
  m.add(...part("early", 1, 0, 1, [1, 2, 3, 4, 5]), 1000);
  m.add(...part("half", 1, 0, 2, [1, 2, 3]), 1000);
  assert.deepEqual(m.prune(new Set(), 1000 + UNNAMED_KEEP_MS - 1), []);
  assert.ok(m.has("early") && m.receiving("half"));
  assert.deepEqual(m.prune(new Set(["early"]), 1000 + UNNAMED_KEEP_MS + 1), []);
  assert.ok(m.has("early"), "named now: kept");
  assert.equal(m.receiving("half"), false, "never named: dropped after UNNAMED_KEEP_MS");
  assert.deepEqual(m.prune(new Set(), 1000 + UNNAMED_KEEP_MS + 2), ["early"]);
});
