"""Helpers for the FaceSwapWidget v2 browser tests: light/dark screenshots of a step, the
theme switch, and contrast measured from the page's computed colours (WCAG 2.x formula)."""

from __future__ import annotations

import re
from typing import Any

DARK, LIGHT = "JupyterLab Dark", "JupyterLab Light"

# The colours an element shows: its text colour and the background under it (its own and its
# ancestors', alpha-composited), as [r, g, b, a] in 0..1; computed values may be rgb(), rgba()
# or color(srgb ...) (color-mix results).
_JS_COLOURS = """
(el) => {
  const parse = (s) => {
    let m = s.match(/^rgba?\\(([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0] / 255, p[1] / 255, p[2] / 255, p.length > 3 ? p[3] : 1];
    }
    m = s.match(/^color\\(srgb ([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[ /]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    return null;
  };
  const over = (top, under) => {
    const a = top[3] + under[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg && bg[3] > 0) layers.push(bg);
    if (bg && bg[3] >= 1) break;
  }
  let bg = [1, 1, 1, 1];
  for (const layer of layers.reverse()) bg = over(layer, bg);
  const fg = over(parse(getComputedStyle(el).color) || [0, 0, 0, 1], bg);
  return {fg, bg, raw: [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]};
}
"""


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(locator: Any) -> float:
    """The contrast ratio of ``locator``'s text against what is behind it."""
    colours = locator.evaluate(_JS_COLOURS)
    a, b = _luminance(colours["fg"]), _luminance(colours["bg"])
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def set_theme(lab: Any, theme: str) -> None:
    lab.page.evaluate(
        "(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme
    )
    light = "true" if theme == LIGHT else "false"
    lab.page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    lab.page.wait_for_timeout(400)  # the theme's CSS applies


def shots(lab: Any, step: str, element: Any = None) -> None:
    """Screenshots of this step in the light theme, then the dark one (back to light after)."""
    lab.shot(f"{step}-light", element=element)
    set_theme(lab, DARK)
    try:
        lab.shot(f"{step}-dark", element=element)
    finally:
        set_theme(lab, LIGHT)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
