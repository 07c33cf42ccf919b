// The result section: the swapped picture or video shown whole as it comes; the comparison with
// the original it was made from only on demand (before/after with labels and a divider for a
// picture, side by side in step for a video); Download; the list of results.

import { h, flag, replaceChildren } from "./dom.js";
import { formatElapsed } from "./text.js";

/** The result shown: the one chosen (`shown`, an id), else the latest; null before any. */
export function shownEntry(history, shown) {
  if (!history.length) return null;
  return history.find((e) => e.id === shown) || history[history.length - 1];
}

export class ResultSection {
  /** @param {{media: import("./media.js").MediaStore, onShow: (id: number) => void}} options */
  constructor({ media, onShow }) {
    this.media = media;
    this.onShow = onShow;
    this.compare = 50;
    this.comparing = false; // the result is first shown whole
    this.lastResultId = null;
    this.last = { entry: null, history: [], mainMedia: "" };
    this.resultMedia = h("div", { class: "mio-result-media" });
    this.compareSlider = h("input", {
      type: "range",
      min: 0,
      max: 100,
      value: this.compare,
      class: "mio-compare",
      "aria-label": "Before and after: slide left to see more of the original",
      oninput: () => {
        this.compare = Number(this.compareSlider.value);
        this.applyCompare();
      },
    });
    this.compareButton = h(
      "button",
      {
        type: "button",
        class: "mio-button mio-secondary",
        "aria-pressed": "false",
        onclick: () => {
          this.comparing = !this.comparing;
          this.resultKey = null;
          this.render(this.last);
        },
      },
      "Compare with the original",
    );
    this.downloadButton = h("button", { type: "button", class: "mio-button", onclick: () => this.download() }, "Download");
    this.resultPath = h("p", { class: "mio-path" });
    this.historyList = h("ol", { class: "mio-history", "aria-label": "Results" });
    this.el = h(
      "section",
      { class: "mio-section", "aria-label": "Result section" },
      h("h3", { class: "mio-heading" }, "4. Result"),
      this.resultMedia,
      h("div", { class: "mio-row" }, this.compareButton, this.compareSlider, this.downloadButton),
      this.resultPath,
      this.historyList,
    );
  }

  download() {
    const entry = this.last && this.last.entry;
    const url = entry && this.media.url(entry.media);
    if (!url) return;
    const a = h("a", { href: url, download: entry.name, class: "mio-visually-hidden" });
    this.el.append(a);
    a.click();
    a.remove();
  }

  applyCompare() {
    const top = this.resultMedia.querySelector(".mio-compare-after");
    if (top) top.style.clipPath = `inset(0 0 0 ${100 - this.compare}%)`;
    const divider = this.resultMedia.querySelector(".mio-compare-divider");
    if (divider) divider.style.left = `${100 - this.compare}%`;
  }

  /** @param {{entry: object|null, history: object[], mainMedia: string}} s */
  render(s) {
    this.last = s;
    const { entry, history, mainMedia } = s;
    flag(this.el, "hidden", !entry);
    if (!entry) {
      replaceChildren(this.resultMedia);
      replaceChildren(this.historyList);
      this.resultKey = null;
      return;
    }
    const url = this.media.url(entry.media);
    // Compared only with the original it was made from (not with an original chosen since).
    const sameOriginal = !entry.original || entry.original === mainMedia;
    const before = sameOriginal ? this.media.url(mainMedia) : null;
    const comparing = this.comparing && Boolean(before);
    const key = `${entry.media}|${url || ""}|${comparing ? before : ""}|${comparing}`;
    if (key !== this.resultKey) {
      this.resultKey = key;
      if (!url) {
        replaceChildren(this.resultMedia, h("p", { class: "mio-muted" }, "Receiving the result…"));
      } else if (entry.kind === "video") {
        replaceChildren(this.resultMedia, comparing ? videoComparison(url, before) : resultVideo(url));
        this.revealResult(entry.id);
      } else {
        const after = h("img", { src: url, alt: "Swap result", class: comparing ? "mio-compare-after" : "mio-result-img" });
        after.addEventListener("load", () => this.revealResult(entry.id), { once: true });
        replaceChildren(this.resultMedia, comparing ? imageComparison(before, after) : after);
        this.applyCompare();
      }
    }
    flag(this.compareSlider, "hidden", !(comparing && entry.kind === "image"));
    flag(this.compareButton, "hidden", !before);
    this.compareButton.setAttribute("aria-pressed", comparing ? "true" : "false");
    this.compareButton.textContent = comparing ? "Show the result alone" : "Compare with the original";
    flag(this.downloadButton, "disabled", !url);
    this.resultPath.textContent = entry.path ? `Saved in the kernel at ${entry.path}` : "";

    const historyKey = history.map((e) => e.id).join(",") + `|${entry.id}`;
    if (historyKey !== this.historyKey) {
      this.historyKey = historyKey;
      replaceChildren(
        this.historyList,
        history.map((e) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "mio-link",
                "aria-current": e.id === entry.id ? "true" : false,
                onclick: () => this.onShow(e.id),
              },
              `Result ${e.id}: ${e.kind}, ${e.pairs}${e.hd ? ", HD" : ""}, ${formatElapsed(e.elapsed || 0)}`,
            ),
          ),
        ),
      );
    }
  }

  /** A new result is brought into view (once), where the notebook scrolls. */
  revealResult(id) {
    if (this.lastResultId === id) return;
    this.lastResultId = id;
    this.el.scrollIntoView({ block: "nearest", behavior: "auto" });
  }
}

function resultVideo(url) {
  return h("video", { src: url, controls: true, playsinline: true, preload: "auto", "aria-label": "Swap result" });
}

/** The result and the original side by side, the original following the result's playback. */
function videoComparison(url, before) {
  const result = resultVideo(url);
  const original = h("video", { src: before, muted: true, playsinline: true, preload: "auto", "aria-label": "Original video, in step with the result" });
  original.muted = true;
  const follow = () => {
    if (Math.abs(original.currentTime - result.currentTime) > 0.1) original.currentTime = result.currentTime;
  };
  result.addEventListener("play", () => {
    follow();
    original.play().catch(() => {});
  });
  result.addEventListener("pause", () => original.pause());
  result.addEventListener("seeked", follow);
  result.addEventListener("timeupdate", follow);
  return h(
    "div",
    { class: "mio-side-by-side" },
    h("figure", {}, result, h("figcaption", {}, "After (result)")),
    h("figure", {}, original, h("figcaption", {}, "Before (original)")),
  );
}

/** Before on the left of a visible divider, after on its right, each labelled. */
function imageComparison(before, after) {
  return h(
    "div",
    { class: "mio-compare-stage" },
    h("img", { src: before, alt: "Original, before the swap", class: "mio-compare-before" }),
    after,
    h("span", { class: "mio-compare-divider", "aria-hidden": "true" }),
    h("span", { class: "mio-compare-label mio-compare-label-before" }, "Before"),
    h("span", { class: "mio-compare-label mio-compare-label-after" }, "After"),
  );
}
