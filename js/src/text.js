// Small text helpers for the status line and the cards.

/** 1234567 -> "1.2 MB" (decimal units, as the API's "500 MB" limit). */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} KB`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)} MB`;
  return `${(n / 1_000_000_000).toFixed(1)} GB`;
}

/** Seconds -> "4.2 s", "1 min 05 s". */
export function formatElapsed(seconds) {
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.floor(s - m * 60);
  return `${m} min ${String(rest).padStart(2, "0")} s`;
}

/** Upload progress as a sentence: "Sending group.png to the kernel: 1.2 MB of 3.4 MB (35%)". */
export function uploadProgressText(name, sent, total) {
  const pct = total > 0 ? Math.floor((100 * sent) / total) : 100;
  return `Sending ${name} to the kernel: ${formatBytes(sent)} of ${formatBytes(total)} (${pct}%)`;
}
