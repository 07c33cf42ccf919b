// Ways in for files: a button that opens a hidden file input, and a section that takes drops.

import { h } from "./dom.js";

/**
 * A visible button and the hidden file input it opens; `onFiles` gets the chosen files (the
 * input is emptied after, so choosing the same file again works).
 * @returns {{button: HTMLButtonElement, input: HTMLInputElement}}
 */
export function filePicker({ text, label, accept, multiple = false, onFiles }) {
  const input = h("input", {
    type: "file",
    multiple,
    class: "mio-visually-hidden",
    tabindex: "-1",
    "aria-label": label,
    accept,
    onchange: () => {
      const files = [...(input.files || [])];
      input.value = "";
      if (files.length) onFiles(files);
    },
  });
  const button = h("button", { type: "button", class: "mio-button", onclick: () => input.click() }, text);
  return { button, input };
}

/** Files dropped on `section` go to `onFiles`; the section is marked while something is over it. */
export function dropTarget(section, onFiles) {
  section.addEventListener("dragover", (event) => {
    event.preventDefault();
    section.classList.add("mio-dragging");
  });
  section.addEventListener("dragleave", () => section.classList.remove("mio-dragging"));
  section.addEventListener("drop", (event) => {
    event.preventDefault();
    section.classList.remove("mio-dragging");
    const files = [...((event.dataTransfer && event.dataTransfer.files) || [])];
    if (files.length) onFiles(files);
  });
}
