// Section 3, pair and swap: the hint, the pairs as chips (each with its undo), HD, Swap, Stop
// waiting and Resume, and the feedback of a swap.

import { h, flag, replaceChildren } from "./dom.js";
import { Feedback } from "./feedback.js";
import { canSwap, describePairs, hint } from "./pairing.js";

/** Which of Swap, Stop waiting and Resume can be used: {swap: enabled, stop: shown, resume: shown}. */
export function swapControls({ usable, pairs, busy, stopped }) {
  return {
    swap: canSwap({ pairs, busy, ready: usable }),
    stop: busy.what === "detect" || busy.what === "swap",
    resume: Boolean(stopped.task_id && !busy.what),
  };
}

export class SwapSection {
  /**
   * @param {{uid: (name: string) => string, onHd: (on: boolean) => void, onSwap: () => void,
   *   onStop: () => void, onResume: () => void, onUnpair: (face: number) => void}} handlers
   */
  constructor({ uid, onHd, onSwap, onStop, onResume, onUnpair }) {
    this.onUnpair = onUnpair;
    this.feedback = new Feedback();
    this.hint = h("p", { class: "mio-hint", id: uid("hint") });
    this.pairList = h("ul", { class: "mio-pairs", "aria-label": "Pairs" });
    this.pairsKey = undefined;
    this.hdBox = h("input", { type: "checkbox", id: uid("hd"), onchange: () => onHd(this.hdBox.checked) });
    const button = (cls, text, onclick, more = {}) => h("button", { type: "button", class: `mio-button ${cls}`, ...more, onclick: () => onclick() }, text);
    this.swapButton = button("mio-primary", "Swap", onSwap, { "aria-describedby": uid("hint") });
    this.stopButton = button("mio-secondary", "Stop waiting", onStop, {
      title: "The API cannot cancel a task: it keeps running on the server (and may be charged).",
    });
    this.resumeButton = button("mio-secondary", "Resume", onResume);
    this.el = h(
      "section",
      { class: "mio-section", "aria-label": "Swap section" },
      h("h3", { class: "mio-heading" }, "3. Pair and swap"),
      this.hint,
      this.pairList,
      h(
        "div",
        { class: "mio-row" },
        h("label", { class: "mio-hd", for: uid("hd") }, this.hdBox, "HD"),
        this.swapButton,
        this.stopButton,
        this.resumeButton,
      ),
      ...this.feedback.nodes,
    );
  }

  /**
   * @param {{usable: boolean, faces: object[], newFaces: object[], pairs: any[], selection: object|null,
   *   hd: boolean, busy: object, stopped: object, feedback: object}} s
   */
  render({ usable, faces, newFaces, pairs, selection, hd, busy, stopped, feedback }) {
    this.hint.textContent = hint(selection, faces, newFaces, pairs);
    this.renderPairs(pairs);
    this.hdBox.checked = Boolean(hd);
    const can = swapControls({ usable, pairs, busy, stopped });
    flag(this.swapButton, "disabled", !can.swap);
    flag(this.stopButton, "hidden", !can.stop);
    flag(this.resumeButton, "hidden", !can.resume);
    this.feedback.render(feedback);
  }

  /** The pairs as chips "1 -> A ×", rebuilt only when they change. */
  renderPairs(pairs) {
    const key = describePairs(pairs);
    if (key === this.pairsKey) return;
    this.pairsKey = key;
    const chip = ([face, label]) =>
      h(
        "li",
        { class: "mio-pair-chip" },
        `${face} -> ${label}`,
        h(
          "button",
          {
            type: "button",
            class: "mio-chip-x",
            "aria-label": `Undo pair ${face} -> ${label}`,
            title: `Undo pair ${face} -> ${label}`,
            onclick: () => this.onUnpair(face),
          },
          "×",
        ),
      );
    replaceChildren(this.pairList, [...pairs].sort((a, b) => a[0] - b[0]).map(chip));
    flag(this.pairList, "hidden", pairs.length === 0);
  }
}
