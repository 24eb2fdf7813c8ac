import { createHash } from "node:crypto";

/** What Open WebUI (and OpenAI-style function calling) accepts as a tool name. */
export const OPERATION_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_LENGTH = 64;

/**
 * Maps a tool name (optionally prefixed by its server) to a valid operationId.
 * Characters outside [a-zA-Z0-9_-] become "_"; a name too long keeps its head
 * and gets a short hash of the whole, so two long names stay distinct.
 */
export function sanitizeOperationId(name: string): string {
  let id = name.replace(/[^a-zA-Z0-9_-]/g, "_");
  if (id.length === 0) id = "tool";
  if (id.length > MAX_LENGTH) id = `${id.slice(0, MAX_LENGTH - 9)}_${shortHash(name)}`;
  return id;
}

/** Hands out operationIds that are unique within one document. */
export class OperationIdAllocator {
  readonly #taken = new Set<string>();

  allocate(name: string): string {
    const base = sanitizeOperationId(name);
    let id = base;
    for (let n = 2; this.#taken.has(id); n++) {
      const suffix = `_${n}`;
      id = `${base.slice(0, MAX_LENGTH - suffix.length)}${suffix}`;
    }
    this.#taken.add(id);
    return id;
  }
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * operationIds for a list of names, unique among themselves. Names that are
 * valid operationIds already are served first, so "odd_name" keeps its own
 * id even when "odd name" (which sanitizes to the same) is listed before it.
 */
export function allocateOperationIds(names: readonly string[]): Map<string, string> {
  const allocator = new OperationIdAllocator();
  const ids = new Map<string, string>();
  for (const name of names)
    if (OPERATION_ID_PATTERN.test(name) && !ids.has(name)) ids.set(name, allocator.allocate(name));
  for (const name of names) if (!ids.has(name)) ids.set(name, allocator.allocate(name));
  return ids;
}
