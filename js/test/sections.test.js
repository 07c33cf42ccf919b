// The sections' logic, as pure functions of the state: where feedback goes and what each shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PLACES, errorFor, feedbackByPlace, statusPlace } from "../src/feedback.js";
import { facesNote, mainInfo } from "../src/original.js";
import { removedText } from "../src/newfaces.js";
import { swapControls } from "../src/swap.js";
import { shownEntry } from "../src/result.js";

const idle = { busy: {}, stopped: {}, status: "", status_at: "", error: "", error_at: "" };
const noLocal = { upload: null, localError: { place: "", text: "" }, busySeconds: 0 };
const where = (traits, local = {}) => {
  const shown = feedbackByPlace({ ...idle, ...traits }, { ...noLocal, ...local });
  return PLACES.filter((place) => shown[place].text);
};

test("an upload reports in its role's section, wherever the kernel's status is", () => {
  const upload = (role) => ({ name: "me.png", sent: 500, total: 2000, role });
  for (const statusAt of ["", ...PLACES]) {
    assert.equal(statusPlace({ upload: upload("main"), statusAt }), "original");
    assert.equal(statusPlace({ upload: upload("new_face"), statusAt }), "new_faces");
  }
  const shown = feedbackByPlace({ ...idle, busy: { what: "swap" }, status: "Swapping…", status_at: "swap" }, { ...noLocal, upload: upload("new_face") });
  assert.equal(shown.new_faces.text, "Sending me.png to the kernel: 500 B of 2.0 KB (25%)");
  assert.deepEqual(shown.new_faces.progress, { value: 500, max: 2000 });
  assert.equal(shown.new_faces.busy, true);
  assert.equal(shown.new_faces.elapsed, "", "no kernel time while the browser sends");
  for (const place of ["original", "swap"]) {
    assert.deepEqual(shown[place], { text: "", elapsed: "", progress: null, busy: false, error: "" });
  }
});

test("an empty file's progress bar still has a maximum", () => {
  const shown = feedbackByPlace(idle, { ...noLocal, upload: { name: "e.png", sent: 0, total: 0, role: "main" } });
  assert.deepEqual(shown.original.progress, { value: 0, max: 1 });
});

test("the kernel's status shows where its status_at says, whatever it is doing", () => {
  const states = [
    { busy: { what: "detect" }, status: "Finding faces…" },
    { stopped: { what: "detect", task_id: "d1" }, status: "Stopped waiting." },
    { busy: { what: "swap", task_id: "t1" }, status: "Swapping…" },
    { stopped: { what: "swap", task_id: "t1" }, status: "Stopped waiting." },
    { status: "Found 3 faces in group.png." },
    { status: "Done in 4.2 s." },
  ];
  for (const state of states) {
    for (const place of PLACES) assert.deepEqual(where({ ...state, status_at: place }), [place], JSON.stringify(state));
  }
});

test("the words of a status never move it: the same sentence at every place", () => {
  for (const status of ["Found 3 faces in group.png.", "Choose an original (image or video) to start.", "Swapping…", "Gefunden: 3"]) {
    assert.deepEqual(PLACES.map((place) => where({ status, status_at: place })), PLACES.map((place) => [place]));
  }
});

test("a status that names no place shows at Swap; no status shows nowhere", () => {
  assert.deepEqual(where({ status: "Found 3 faces in group.png." }), ["swap"]);
  assert.deepEqual(where({ status: "", status_at: "original" }), []);
});

test("the elapsed time shows where the kernel's work reports, and says when a task is paid for", () => {
  const swap = feedbackByPlace({ ...idle, busy: { what: "swap", task_id: "t1" }, status: "Swapping…", status_at: "swap" }, { ...noLocal, busySeconds: 65.4 });
  assert.equal(swap.swap.elapsed, " (1 min 05 s since the task was submitted)");
  assert.equal(swap.swap.busy, true);
  assert.equal(swap.original.elapsed, "");
  const detect = feedbackByPlace({ ...idle, busy: { what: "detect" }, status: "Finding faces…", status_at: "original" }, { ...noLocal, busySeconds: 2 });
  assert.equal(detect.original.elapsed, " (2.0 s)");
  assert.equal(detect.swap.elapsed, "");
  const done = feedbackByPlace({ ...idle, status: "Done.", status_at: "swap" }, { ...noLocal, busySeconds: 9 });
  assert.equal(done.swap.elapsed, "");
  assert.equal(done.swap.busy, false);
});

test("the kernel's error goes where it names, Swap when it names none", () => {
  const local = { place: "", text: "" };
  for (const place of PLACES) assert.equal(errorFor(place, { localError: local, error: "Bad", errorAt: place }), "Bad");
  assert.equal(errorFor("swap", { localError: local, error: "Bad", errorAt: "" }), "Bad");
  assert.equal(errorFor("original", { localError: local, error: "Bad", errorAt: "" }), "");
  assert.equal(errorFor("swap", { localError: local, error: "", errorAt: "swap" }), "");
});

test("the view's own error wins in its place, and the kernel's still shows in another", () => {
  const localError = { place: "new_faces", text: "notes.txt: not a picture" };
  const shown = feedbackByPlace({ ...idle, error: "Swap failed", error_at: "swap" }, { ...noLocal, localError });
  assert.equal(shown.new_faces.error, "notes.txt: not a picture");
  assert.equal(shown.swap.error, "Swap failed");
  assert.equal(shown.original.error, "");
  const over = feedbackByPlace({ ...idle, error: "Too big", error_at: "new_faces" }, { ...noLocal, localError });
  assert.equal(over.new_faces.error, "notes.txt: not a picture");
  // An action there clears the view's own error (text ""), and the kernel's shows again.
  const cleared = feedbackByPlace({ ...idle, error: "Too big", error_at: "new_faces" }, { ...noLocal, localError: { place: "new_faces", text: "" } });
  assert.equal(cleared.new_faces.error, "Too big");
});

test("the original's info line", () => {
  assert.equal(mainInfo({}), "No original yet.");
  assert.equal(mainInfo({ name: "group.png", kind: "image", size: 1_234_567, width: 640, height: 480 }), "group.png: image, 1.2 MB, 640×480");
  assert.equal(mainInfo({ name: "clip.mp4", kind: "video", size: 999 }), "clip.mp4: video, 999 B");
});

test("the faces' note and Find faces again", () => {
  const main = { name: "group.png", kind: "image" };
  assert.deepEqual(facesNote({ main: {}, faces: [], busy: {} }), { text: "Faces in the original appear here.", detectAgain: false });
  assert.deepEqual(facesNote({ main, faces: [], busy: { what: "detect" } }), { text: "Finding faces…", detectAgain: false });
  assert.deepEqual(facesNote({ main, faces: [], busy: {} }), { text: "No faces to show.", detectAgain: true });
  assert.deepEqual(facesNote({ main, faces: [], busy: { what: "swap" } }), { text: "No faces to show.", detectAgain: false });
  assert.deepEqual(facesNote({ main, faces: [{ index: 1 }], busy: {} }), { text: "", detectAgain: false });
});

test("the removed line", () => {
  assert.equal(removedText({}), "");
  assert.equal(removedText({ label: "B", name: "me.png" }), "Removed B (me.png).");
});

test("Swap, Stop waiting and Resume", () => {
  const pairs = [[1, "A"]];
  assert.deepEqual(swapControls({ usable: true, pairs, busy: {}, stopped: {} }), { swap: true, stop: false, resume: false });
  assert.deepEqual(swapControls({ usable: false, pairs, busy: {}, stopped: {} }), { swap: false, stop: false, resume: false });
  assert.deepEqual(swapControls({ usable: true, pairs: [], busy: {}, stopped: {} }), { swap: false, stop: false, resume: false });
  for (const what of ["swap", "detect"]) {
    assert.deepEqual(swapControls({ usable: true, pairs, busy: { what }, stopped: { task_id: "t1" } }), { swap: false, stop: true, resume: false });
  }
  assert.deepEqual(swapControls({ usable: true, pairs, busy: {}, stopped: { what: "swap", task_id: "t1" } }), { swap: true, stop: false, resume: true });
});

test("the result shown is the one chosen, else the latest", () => {
  const history = [{ id: 1 }, { id: 2 }, { id: 3 }];
  assert.equal(shownEntry([], 2), null);
  assert.equal(shownEntry(history, 2).id, 2);
  assert.equal(shownEntry(history, null).id, 3);
  assert.equal(shownEntry(history, 9).id, 3);
});
