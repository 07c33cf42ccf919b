import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatElapsed, uploadProgressText } from "../src/text.js";

test("formatBytes uses decimal units", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1500), "1.5 KB");
  assert.equal(formatBytes(250_000), "250 KB");
  assert.equal(formatBytes(3_400_000), "3.4 MB");
  assert.equal(formatBytes(500_000_000), "500 MB");
});

test("formatElapsed switches to minutes after 60 s", () => {
  assert.equal(formatElapsed(4.24), "4.2 s");
  assert.equal(formatElapsed(65), "1 min 05 s");
});

test("upload progress reads as a sentence", () => {
  assert.equal(
    uploadProgressText("group.png", 1_200_000, 3_400_000),
    "Sending group.png to the kernel: 1.2 MB of 3.4 MB (35%)",
  );
});
