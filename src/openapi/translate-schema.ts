import type { JsonSchema } from "../catalog/index.js";
import { isJsonSchemaObject, SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS } from "../catalog/index.js";
import { limitSchemaDepth, MAX_SCHEMA_DEPTH } from "./schema-depth.js";

export interface TranslatedSchema {
  /** The schema to place in the document; its `$ref`s all point under #/components/schemas. */
  schema: JsonSchema;
  /** Schemas to register under components.schemas, by name. */
  components: Record<string, JsonSchema>;
  /** What could not be carried over (e.g. a `$ref` that points nowhere), for the log. */
  problems: string[];
}

/**
 * Carries a tool's JSON Schema (draft-07 or 2020-12) into an OpenAPI 3.1
 * document without loss: `$defs`/`definitions` become named components,
 * every local `$ref` is rewritten to point at them, other local pointers
 * (`#`, `#/properties/...`) get a component of their own so recursion stays
 * recursive, and draft-07 tuple `items: [...]` becomes `prefixItems`,
 * `dependencies` becomes `dependentRequired`/`dependentSchemas`.
 * `$schema` and `$id` are dropped: the document's dialect is 2020-12.
 * Two rewrites keep Open WebUI's converter alive and mean the same: `true`
 * as a property or items schema becomes `{}`, and refs that would send its
 * resolver round a cycle are wrapped in `allOf` (see breakInliningCycles).
 * Subschemas nested deeper than MAX_SCHEMA_DEPTH become `{}` (a problem says
 * so): every step below recurses, and the generator after it too.
 */
export function translateSchema(original: JsonSchema, componentPrefix: string): TranslatedSchema {
  const problems: string[] = [];
  const { schema: input, pruned } = limitSchemaDepth(original);
  if (pruned > 0) {
    problems.push(
      `the schema is nested deeper than ${MAX_SCHEMA_DEPTH} levels; ${pruned} part(s) below that are documented as {}`,
    );
  }
  const root = structuredClone(input);
  const components: Record<string, JsonSchema> = {};
  const names = new ComponentNames(componentPrefix);
  const rootId = typeof input.$id === "string" ? input.$id.replace(/#$/, "") : undefined;

  const rewriteRef = (original: string): string | undefined => {
    // "https://x/tool#/$defs/A" where the root's $id is "https://x/tool" is the local "#/$defs/A".
    const local = rootId !== undefined && (original === rootId || original.startsWith(`${rootId}#`));
    const ref = local ? original.slice(rootId.length) || "#" : original;
    if (!ref.startsWith("#")) {
      problems.push(`external $ref ${JSON.stringify(ref)} is not supported; that part is left untyped`);
      return undefined;
    }
    const segments = parsePointer(ref);
    if (segments === undefined) {
      problems.push(`$ref ${JSON.stringify(ref)} is not a JSON pointer; that part is left untyped`);
      return undefined;
    }
    // "#/$defs/X/..." points into a named definition: its component, then the rest of the pointer.
    const [head, name, ...rest] = segments;
    const isDefinition = (head === "$defs" || head === "definitions") && name !== undefined;
    const componentName = componentFor(isDefinition ? [head, name] : segments);
    if (componentName === undefined) {
      problems.push(`$ref ${JSON.stringify(ref)} points nowhere; that part is left untyped`);
      return undefined;
    }
    const tail = isDefinition ? rest : [];
    return `#/components/schemas/${componentName}${tail.map((s) => `/${escapePointer(s)}`).join("")}`;
  };

  /** The component holding the schema at `path` in the input, created on first use; undefined if none is there. */
  const componentFor = (path: string[]): string | undefined => {
    const key = path.join("/");
    const known = names.existing(key);
    if (known !== undefined) return known;
    const target = resolvePointer(input, path);
    if (!isJsonSchemaObject(target) && typeof target !== "boolean") return undefined;
    const [head, name] = path;
    const isDefinition = (head === "$defs" || head === "definitions") && path.length === 2 && name !== undefined;
    const componentName = names.allocate(key, isDefinition ? name : path.length === 0 ? "root" : path.join("_"));
    components[componentName] = {}; // placeholder first: the target may refer to itself
    const copy: JsonSchema = typeof target === "boolean" ? (target ? {} : { not: {} }) : structuredClone(target);
    if (path.length === 0) {
      delete copy.$defs;
      delete copy.definitions;
    }
    components[componentName] = walk(copy);
    return componentName;
  };

  const walk = (node: JsonSchema): JsonSchema => {
    delete node.$schema;
    delete node.$id;
    if (typeof node.$ref === "string") {
      const rewritten = rewriteRef(node.$ref);
      if (rewritten === undefined) {
        const note = `Untyped: the upstream schema referred to ${node.$ref}, which could not be resolved.`;
        delete node.$ref;
        node.description = typeof node.description === "string" ? `${node.description} (${note})` : note;
      } else {
        node.$ref = rewritten;
      }
    }
    translateDraft07(node);
    if (node.items === true) node.items = {};
    if (isJsonSchemaObject(node.properties)) {
      for (const [key, value] of Object.entries(node.properties)) {
        if (typeof value === "boolean") node.properties[key] = value ? {} : { not: {} };
      }
    }
    for (const keyword of SCHEMA_KEYWORDS) {
      const value = node[keyword];
      if (isJsonSchemaObject(value)) node[keyword] = walk(value);
    }
    for (const keyword of SCHEMA_LIST_KEYWORDS) {
      const value = node[keyword];
      if (Array.isArray(value)) node[keyword] = value.map((item: unknown) => (isJsonSchemaObject(item) ? walk(item) : item));
    }
    for (const keyword of SCHEMA_MAP_KEYWORDS) {
      const value = node[keyword];
      if (isJsonSchemaObject(value)) {
        for (const [key, item] of Object.entries(value)) if (isJsonSchemaObject(item)) value[key] = walk(item);
      }
    }
    return node;
  };

  // Every root definition becomes a component, referenced or not (they document the shapes).
  for (const keyword of ["$defs", "definitions"] as const) {
    const container = input[keyword];
    if (!isJsonSchemaObject(container)) continue;
    for (const key of Object.keys(container)) componentFor([keyword, key]);
  }
  delete root.$defs;
  delete root.definitions;
  const schema = walk(root);
  breakInliningCycles(schema, components);
  return { schema, components, problems };
}

/** draft-07 keywords as 2020-12 spells them (the document's dialect); one node, in place. */
function translateDraft07(node: JsonSchema): void {
  // Tuples: items: [a, b] (+ additionalItems) is prefixItems: [a, b] (+ items).
  if (Array.isArray(node.items)) {
    node.prefixItems = node.items;
    delete node.items;
    if ("additionalItems" in node) {
      node.items = node.additionalItems;
      delete node.additionalItems;
    }
  }
  // dependencies: {a: ["b"]} is dependentRequired, {a: {schema}} is dependentSchemas.
  if (isJsonSchemaObject(node.dependencies)) {
    for (const [key, value] of Object.entries(node.dependencies)) {
      const keyword = Array.isArray(value) ? "dependentRequired" : "dependentSchemas";
      node[keyword] = { ...(isJsonSchemaObject(node[keyword]) ? node[keyword] : {}), [key]: value };
    }
    delete node.dependencies;
  }
}

/**
 * Open WebUI inlines every `$ref` it meets on a schema, its `properties` and
 * its `items`, without a guard against recursion: one recursive tool makes
 * it fail on the whole server. A depth-first walk along exactly those
 * positions finds the refs that close a cycle; each is wrapped as
 * `allOf: [{$ref}]`, which validates the same and stays recursive, but which
 * Open WebUI does not follow. Removing the back edges of a depth-first walk
 * leaves no cycle.
 */
function breakInliningCycles(root: JsonSchema, components: Record<string, JsonSchema>): void {
  const open = new Set<string>();
  const finished = new Set<string>();
  const visit = (node: unknown): void => {
    if (!isJsonSchemaObject(node)) return;
    const ref = node.$ref;
    if (typeof ref === "string") {
      if (open.has(ref)) {
        delete node.$ref;
        node.allOf = [...(Array.isArray(node.allOf) ? node.allOf : []), { $ref: ref }];
        return;
      }
      const path = ref.startsWith(COMPONENTS) ? parsePointer(`#/${ref.slice(COMPONENTS.length)}`) : undefined;
      if (finished.has(ref) || path === undefined) return;
      open.add(ref);
      visit(resolvePointer(components, path));
      open.delete(ref);
      finished.add(ref);
      return; // like Open WebUI, ignore the siblings of a $ref
    }
    if (isJsonSchemaObject(node.properties)) for (const value of Object.values(node.properties)) visit(value);
    visit(node.items);
  };
  visit(root);
}

const COMPONENTS = "#/components/schemas/";

/**
 * Component names, one per pointer target: "<prefix>_<name>", made unique
 * when two targets would share one ($defs/a and definitions/a, "a b" and "a_b").
 */
class ComponentNames {
  readonly #byTarget = new Map<string, string>();
  readonly #taken = new Set<string>();

  constructor(private readonly prefix: string) {}

  existing(target: string): string | undefined {
    return this.#byTarget.get(target);
  }

  allocate(target: string, name: string): string {
    const base = `${this.prefix}_${safeName(name)}`;
    let candidate = base;
    for (let n = 2; this.#taken.has(candidate); n++) candidate = `${base}_${n}`;
    this.#taken.add(candidate);
    this.#byTarget.set(target, candidate);
    return candidate;
  }
}

/** "#/a/b~1c" → ["a", "b/c"]; undefined when not a pointer. */
function parsePointer(ref: string): string[] | undefined {
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined; // a stray "%": not a valid URI fragment
  }
  if (fragment === "" || fragment === "/") return [];
  if (!fragment.startsWith("/")) return undefined;
  return fragment
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function resolvePointer(root: unknown, segments: string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Component names must match ^[a-zA-Z0-9._-]+$. */
function safeName(text: string): string {
  return text.replace(/[^a-zA-Z0-9._-]/g, "_");
}
