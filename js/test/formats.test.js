import { test } from "node:test";
import assert from "node:assert/strict";
import { checkFile, sniff } from "../src/formats.js";

const bytes = (...parts) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

// The same cases as mio_nb/formats.py: the browser must agree with the kernel and the API.
test("sniff tells every supported format by its magic bytes", () => {
  const cases = [
    [bytes([0xff, 0xd8, 0xff, 0xe0], "JFIF"), "jpg"],
    [bytes([0x89], "PNG", [0x0d, 0x0a, 0x1a, 0x0a], "IHDR"), "png"],
    [bytes("RIFF", [1, 2, 3, 4], "WEBPVP8 "), "webp"],
    [bytes("GIF89a", [1, 0]), "gif"],
    [bytes("GIF87a"), "gif"],
    [bytes([0, 0, 0, 0x20], "ftypisom", [0, 0, 2, 0]), "mp4"],
    [bytes([0, 0, 0, 0x18], "ftypqt  "), "mov"],
    [bytes([0, 0, 0, 0x18], "ftypM4V "), "m4v"],
    [bytes([0, 0, 0, 8], "moov"), "mov"],
    [bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1], "B", [0x82, 0x84], "webm"), "webm"],
  ];
  for (const [head, name] of cases) assert.equal(sniff(head)?.name, name, name);
});

test("sniff refuses what the API refuses", () => {
  assert.equal(sniff(bytes("%PDF-1.7")), null);
  assert.equal(sniff(bytes([0x1a, 0x45, 0xdf, 0xa3], "matroska")), null, "mkv is not webm");
  assert.equal(sniff(bytes("BM")), null, "bmp");
  assert.equal(sniff(new Uint8Array(0)), null);
});

const png = bytes([0x89], "PNG", [0x0d, 0x0a, 0x1a, 0x0a]);
const mp4 = bytes([0, 0, 0, 0x20], "ftypisom");

test("checkFile explains a file over the size limit", () => {
  const msg = checkFile({ name: "big.mp4", size: 600_000_000, head: mp4, role: "main" });
  assert.equal(msg, "big.mp4 is 600 MB, over the 500 MB limit: use a shorter or smaller file.");
  const low = checkFile({ name: "a.png", size: 2000, head: png, role: "main", maxBytes: 1000 });
  assert.equal(low, "a.png is 2.0 KB, over the 1.0 KB limit: use a shorter or smaller file.");
});

test("checkFile explains an unsupported format and a video given as a new face", () => {
  assert.equal(
    checkFile({ name: "doc.pdf", size: 10, head: bytes("%PDF"), role: "main" }),
    "doc.pdf is a PDF document, not a picture or a video: use JPG, PNG, WEBP, GIF, MP4, M4V, MOV or WEBM.",
  );
  assert.match(checkFile({ name: "v.mp4", size: 10, head: mp4, role: "new_face" }), /a new face must be a picture/);
  assert.match(checkFile({ name: "e.png", size: 0, head: png, role: "main" }), /is empty/);
  assert.equal(checkFile({ name: "v.mp4", size: 10, head: mp4, role: "main" }), null);
  assert.equal(checkFile({ name: "f.png", size: 10, head: png, role: "new_face" }), null);
});
