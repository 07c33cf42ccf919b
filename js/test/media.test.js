import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaStore } from "../src/media.js";
import { MSG } from "../src/shared.js";

globalThis.URL.createObjectURL ??= () => `blob:${Math.random()}`;
globalThis.URL.revokeObjectURL ??= () => {};

const part = (key, transfer = 1) => [
  { type: MSG.MEDIA, key, transfer, part: 0, parts: 1, mime: "image/webp", size: 3 },
  [new DataView(new Uint8Array([1, 2, 3]).buffer)],
];

function store(graceMs = 1000) {
  const clock = { t: 0 };
  const sent = [];
  const ready = [];
  const media = new MediaStore((m) => sent.push(m), (k) => ready.push(k), { graceMs, now: () => clock.t });
  return { media, sent, ready, clock };
}

test("media sent before the state names it is shown without asking", (t) => {
  const { media, sent, ready } = store();
  t.after(() => media.destroy());
  media.add(...part("result-1"));
  media.sync(new Set()); // the state does not name it yet
  media.sync(new Set(["result-1"]));
  assert.deepEqual(ready, ["result-1"]);
  assert.ok(media.url("result-1"));
  assert.deepEqual(sent, [], "nothing asked for: the kernel sent it when it was made");
});

test("named media that is late is asked for once, after the grace", (t) => {
  const { media, sent, clock } = store(1000);
  t.after(() => media.destroy());
  media.sync(new Set(["face-1-1"]));
  clock.t = 999;
  media.sync(new Set(["face-1-1"]));
  assert.deepEqual(sent, [], "still in its grace: the kernel is drawing it");
  clock.t = 1000;
  media.sync(new Set(["face-1-1"]));
  clock.t = 5000;
  media.sync(new Set(["face-1-1"]));
  assert.deepEqual(sent, [{ type: MSG.WANT, keys: ["face-1-1"] }]);
});

test("media on its way is not asked for again", (t) => {
  const { media, sent, clock } = store(1000);
  t.after(() => media.destroy());
  media.add({ ...part("video")[0], parts: 2, size: 6 }, part("video")[1]);
  media.sync(new Set(["video"]));
  clock.t = 10_000;
  media.sync(new Set(["video"]));
  assert.deepEqual(sent, []);
});

test("media this view let go is asked for at once when named again", (t) => {
  const { media, sent } = store(1000);
  t.after(() => media.destroy());
  media.add(...part("result-1"));
  media.sync(new Set(["result-1"]));
  media.sync(new Set(["result-2"])); // another result shown: result-1 dropped
  assert.equal(media.url("result-1"), null);
  sent.length = 0;
  media.sync(new Set(["result-1"]));
  assert.deepEqual(sent, [{ type: MSG.WANT, keys: ["result-1"] }]);
});

test("a new view asks for what its state names, once", (t) => {
  const { media, sent, clock } = store(1000);
  t.after(() => media.destroy());
  const keys = media.expect(new Set(["main-1", "face-1-1"]));
  assert.deepEqual(keys, ["main-1", "face-1-1"]);
  clock.t = 10_000;
  media.sync(new Set(["main-1", "face-1-1"]));
  assert.deepEqual(sent, [], "asked for by READY already");
});
