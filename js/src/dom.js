// Building DOM without innerHTML: every text goes through textContent.

/**
 * h("button", {class: "x", "aria-label": "Swap", onclick: fn}, "Swap") -> HTMLButtonElement.
 * Attributes starting with "on" become listeners; `true` sets a boolean attribute, false/null
 * leave it out; children are nodes or strings (strings become text nodes).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Sets a boolean attribute (disabled, hidden, ...) on or off. */
export function flag(el, name, on) {
  if (on) el.setAttribute(name, "");
  else el.removeAttribute(name);
}

/** Replaces the children of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
