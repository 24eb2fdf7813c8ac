/** A Markdown table with padded columns: readable in a terminal, pasted as is into docs/BENCHMARKS.md. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  // Text columns (the first ones) left-aligned, numbers right-aligned.
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => /^[-\d.,×—% ]*$/.test(row[i] ?? "")));
  const cell = (text: string, i: number): string => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((width, i) => (numeric[i] ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/** A number for a table cell: "—" when absent, else fixed to `digits`. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toFixed(digits);
}

/** A ratio for a table cell, e.g. "0.82×". */
export function ratio(value: number, reference: number | undefined): string {
  if (reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return "—";
  return `${(value / reference).toFixed(2)}×`;
}
