import { test } from "node:test";
import assert from "node:assert/strict";
import {
  badges,
  canSwap,
  click,
  colourSlot,
  describePairs,
  hint,
  keepSelection,
  labelFor,
  labelIndex,
  undoKey,
} from "../src/pairing.js";

const face = (index) => ({ kind: "face", index });
const fresh = (label) => ({ kind: "new", label });

test("labels run A..Z then AA, and labelIndex inverts labelFor", () => {
  assert.deepEqual([0, 1, 25, 26, 27, 51, 52].map(labelFor), ["A", "B", "Z", "AA", "AB", "AZ", "BA"]);
  for (let i = 0; i < 800; i++) assert.equal(labelIndex(labelFor(i)), i);
});

test("a detected face then a new face makes a pair", () => {
  let r = click(null, [], face(2));
  assert.deepEqual(r, { selection: face(2), message: null });
  r = click(r.selection, [], fresh("A"));
  assert.deepEqual(r, { selection: null, message: { type: "pair", face: 2, new_face: "A" } });
});

test("a new face then a detected face makes the same pair", () => {
  const r1 = click(null, [], fresh("B"));
  assert.deepEqual(r1.selection, fresh("B"));
  const r2 = click(r1.selection, [], face(3));
  assert.deepEqual(r2.message, { type: "pair", face: 3, new_face: "B" });
  assert.equal(r2.selection, null);
});

test("clicking the selected face again deselects it", () => {
  assert.deepEqual(click(face(1), [], face(1)), { selection: null, message: null });
  assert.deepEqual(click(fresh("A"), [], fresh("A")), { selection: null, message: null });
});

test("clicking another face moves the selection", () => {
  assert.deepEqual(click(face(1), [], face(2)).selection, face(2));
});

test("clicking a paired face selects it: a click never undoes a pair", () => {
  const pairs = [[1, "A"]];
  assert.deepEqual(click(null, pairs, face(1)), { selection: face(1), message: null });
  assert.deepEqual(click(null, [[1, "A"], [2, "A"]], fresh("A")), { selection: fresh("A"), message: null });
});

test("re-pairing a face is one action and replaces its pair", () => {
  const pairs = [[1, "A"]];
  const r1 = click(null, pairs, face(1));
  assert.deepEqual(click(r1.selection, pairs, fresh("B")).message, { type: "pair", face: 1, new_face: "B" });
  // New face first works the same way.
  assert.deepEqual(click(fresh("B"), pairs, face(1)).message, { type: "pair", face: 1, new_face: "B" });
});

test("Delete on a paired face or a used new face undoes it; on anything else nothing", () => {
  const pairs = [[1, "A"], [2, "A"]];
  assert.deepEqual(undoKey(pairs, face(1)), { type: "unpair", face: 1 });
  assert.deepEqual(undoKey(pairs, fresh("A")), { type: "unpair_new", new_face: "A" });
  assert.equal(undoKey(pairs, face(3)), null);
  assert.equal(undoKey(pairs, fresh("B")), null);
});

test("a used new face can take one more face: select the face first", () => {
  const r = click(face(3), [[1, "A"]], fresh("A"));
  assert.deepEqual(r.message, { type: "pair", face: 3, new_face: "A" });
});

test("badges say which face goes where, on both sides", () => {
  const { faces, labels } = badges([[3, "A"], [1, "A"], [2, "B"]]);
  assert.equal(faces.get(1), "1 -> A");
  assert.equal(faces.get(2), "2 -> B");
  assert.equal(labels.get("A"), "1, 3 -> A");
  assert.equal(labels.get("B"), "2 -> B");
  assert.equal(describePairs([[2, "B"], [1, "A"]]), "1 -> A, 2 -> B");
});

test("faces paired with the same new face share its colour", () => {
  assert.equal(colourSlot("A"), 0);
  assert.equal(colourSlot("B"), 1);
  assert.equal(colourSlot("I"), 0); // 8 colours, then they repeat
  assert.notEqual(colourSlot("A"), colourSlot("B"));
});

test("a selection that no longer exists is dropped", () => {
  const faces = [{ index: 1 }];
  const newFaces = [{ label: "A" }];
  assert.deepEqual(keepSelection(face(1), faces, newFaces), face(1));
  assert.equal(keepSelection(face(2), faces, newFaces), null);
  assert.equal(keepSelection(fresh("B"), faces, newFaces), null);
});

test("the hint guides each step", () => {
  assert.match(hint(null, [], [], []), /Choose an original/);
  assert.match(hint(null, [{ index: 1 }], [], []), /Add a new face/);
  const faces = [{ index: 1 }, { index: 2 }];
  const news = [{ label: "A" }];
  assert.match(hint(null, faces, news, []), /Click a face \(on the photo or its card\), then the new face/);
  assert.match(hint(face(2), faces, news, []), /Face 2 selected/);
  assert.match(hint(fresh("A"), faces, news, []), /New face A selected/);
  assert.equal(
    hint(null, faces, news, [[1, "A"]]),
    "Pairs: 1 -> A. 1 unpaired face stays as it is. Click a face then a new face to change its pair; × (or Delete) undoes one.",
  );
  assert.equal(
    hint(null, [...faces, { index: 3 }], news, [[1, "A"]]),
    "Pairs: 1 -> A. 2 unpaired faces stay as they are. Click a face then a new face to change its pair; × (or Delete) undoes one.",
  );
  assert.equal(
    hint(null, faces, news, [[1, "A"], [2, "A"]]),
    "Pairs: 1 -> A, 2 -> A. Click a face then a new face to change its pair; × (or Delete) undoes one.",
  );
});

test("Swap needs a pair, a usable client and nothing running", () => {
  assert.equal(canSwap({ pairs: [], busy: {}, ready: true }), false);
  assert.equal(canSwap({ pairs: [[1, "A"]], busy: {}, ready: true }), true);
  assert.equal(canSwap({ pairs: [[1, "A"]], busy: { what: "swap" }, ready: true }), false);
  assert.equal(canSwap({ pairs: [[1, "A"]], busy: {}, ready: false }), false);
});
