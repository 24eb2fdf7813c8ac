import { Ajv, MissingRefError, type AnySchema, type Logger as AjvLogger, type ValidateFunction } from "ajv";
import { createRequire } from "node:module";
import addFormatsModule from "ajv-formats";
import type { ValidationProblem } from "../errors/index.js";
import { subschemas, type JsonSchema } from "./json-schema.js";
import { patternEngine } from "./pattern-engine.js";
import { toProblems } from "./validation-problems.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** Returns the problems with a request body, or null when it is valid. */
export type Validate = (body: unknown) => ValidationProblem[] | null;

type Dialect = "draft-07" | "2019-09" | "2020-12";

/** Reports what could not be validated as the upstream would (a dangling `$ref`, an unknown format, a broken schema). */
export type ValidatorWarning = (message: string, error?: unknown) => void;

/** Keywords only 2019-09/2020-12 know: a schema without `$schema` that uses them is not draft-07. */
const MODERN_KEYWORDS = [
  "prefixItems",
  "$dynamicRef",
  "dependentRequired",
  "dependentSchemas",
  "unevaluatedProperties",
  "unevaluatedItems",
  "minContains",
  "maxContains",
];

/**
 * Base URI for schemas without a usable `$id`: with `addUsedSchema: false`
 * ajv cannot resolve `"$ref": "#"` in a schema that has no id at all.
 */
const SYNTHETIC_ID = "https://mcpo-ts.invalid/tool-schema/";

/** Enough passes to drop every dangling `$ref` of any real schema; a bound, so a pathological one cannot loop. */
const MAX_REPAIRS = 50;

/**
 * Compiles tool input schemas, each in its own JSON Schema dialect, with
 * formats checked, no coercion and no defaults (the body reaches the upstream
 * as sent). One compiler per dialect per catalog, so validators of replaced
 * catalogs are freed with it.
 */
export class ValidatorFactory {
  readonly #compilers = new Map<Dialect, Ajv>();
  #schemas = 0;
  /** Where warnings of the compile in progress go (compiling is synchronous). */
  #warn: ValidatorWarning = ignore;
  // ajv would print to the console (e.g. "unknown format ... ignored"); our log is JSON lines.
  readonly #ajvLogger: AjvLogger = {
    log: ignore,
    warn: (...args: unknown[]) => this.#warn(args.map(String).join(" ")),
    error: (...args: unknown[]) => this.#warn(args.map(String).join(" ")),
  };

  /**
   * A validator for `schema`, compiled once, on its first use: compiling is
   * synchronous (about 1 ms a tool), and 50 servers of 20 tools would block
   * start-up for a second. `warn` hears what will not be validated as the
   * upstream would, when that first use comes.
   */
  readonly #patterns = patternEngine(() => this.#warn);

  compile(schema: JsonSchema, warn: ValidatorWarning = ignore): Validate {
    let validate: Validate | undefined;
    return (input) => (validate ??= this.#compileNow(schema, warn))(input);
  }

  #compileNow(schema: JsonSchema, warn: ValidatorWarning): Validate {
    // $schema only picks the compiler: ajv would look the meta-schema up and fail for dialects it lacks.
    const { $schema: _schema, ...body } = schema;
    if (!("$id" in body)) body.$id = this.#syntheticId();
    this.#warn = warn;
    let validate: ValidateFunction | undefined;
    try {
      validate = this.#compileRepairing(dialectOf(schema), body);
    } finally {
      this.#warn = ignore;
    }
    if (!validate) return requireObject;
    return (input) => {
      const notObject = requireObject(input);
      if (notObject) return notObject;
      if (validate(input)) return null;
      const errors = validate.errors ?? [];
      // ajv keeps the last errors on the function until its next call: a huge body's would stay held.
      validate.errors = null;
      return toProblems(errors, input);
    };
  }

  #syntheticId(): string {
    return `${SYNTHETIC_ID}${++this.#schemas}.json`;
  }

  /**
   * A `$ref` that points nowhere makes ajv refuse the whole schema; the
   * upstream would fail on that part only. So we drop the dangling refs
   * (that part accepts anything, as the OpenAPI document says) and keep
   * validating the rest. Any other failure leaves validation to the upstream.
   */
  #compileRepairing(dialect: Dialect, schema: JsonSchema): ValidateFunction | undefined {
    let current = schema;
    for (let attempt = 0; attempt <= MAX_REPAIRS; attempt++) {
      try {
        return this.#compiler(dialect).compile(current as AnySchema);
      } catch (error) {
        if (error instanceof MissingRefError && attempt < MAX_REPAIRS) {
          const repaired = withoutRef(current, error.missingRef);
          if (repaired) {
            this.#warn(`$ref ${repaired.ref} resolves to nothing: that part of the input is not validated`);
            current = repaired.schema;
            continue;
          }
        }
        // ajv cannot parse some ids ("urn:x" throws in its URI library); local refs work with ours.
        if (!(error instanceof MissingRefError) && !String(current.$id).startsWith(SYNTHETIC_ID)) {
          current = { ...current, $id: this.#syntheticId() };
          continue;
        }
        this.#warn("a tool's input schema could not be compiled; its calls are validated by the upstream only", error);
        return undefined;
      }
    }
    return undefined;
  }

  #compiler(dialect: Dialect): Ajv {
    let compiler = this.#compilers.get(dialect);
    if (!compiler) {
      const options = {
        allErrors: true,
        strict: false,
        validateFormats: true,
        // Two tools may share an $id (or nested ones): never register compiled schemas by id.
        addUsedSchema: false,
        logger: this.#ajvLogger,
        // Patterns come from the upstream and their input from any caller: never backtrack without bound.
        code: { regExp: this.#patterns },
      } as const;
      compiler =
        dialect === "2020-12"
          ? new (loadCompiler("ajv/dist/2020.js", "Ajv2020"))(options)
          : dialect === "2019-09"
            ? new (loadCompiler("ajv/dist/2019.js", "Ajv2019"))(options)
            : new Ajv(options);
      addFormats(compiler);
      this.#compilers.set(dialect, compiler);
    }
    return compiler;
  }
}

/**
 * The dialect named by `$schema`. Without one: draft-07, what MCP servers
 * mostly publish, unless the schema uses keywords draft-07 does not know
 * (the MCP spec's own default is 2020-12, and draft-07 would ignore them).
 */
export function dialectOf(schema: JsonSchema): Dialect {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (uri.includes("2020-12")) return "2020-12";
  if (uri.includes("2019-09")) return "2019-09";
  if (uri !== "") return "draft-07";
  for (const node of subschemas(schema)) {
    if (Array.isArray(node.items) || "additionalItems" in node) return "draft-07";
  }
  for (const node of subschemas(schema)) {
    if (MODERN_KEYWORDS.some((keyword) => keyword in node)) return "2020-12";
  }
  return "draft-07";
}

/** A copy of `schema` without the `$ref`s that resolve to `missingRef`; undefined if there is none. */
function withoutRef(schema: JsonSchema, missingRef: string): { schema: JsonSchema; ref: string } | undefined {
  const copy = structuredClone(schema);
  let removed: string | undefined;
  for (const node of subschemas(copy)) {
    const ref = node.$ref;
    // ajv reports the ref resolved against the base URI: "https://x/tool#/$defs/A" for "#/$defs/A".
    if (typeof ref === "string" && (ref === missingRef || missingRef.endsWith(ref))) {
      delete node.$ref;
      removed = ref;
    }
  }
  return removed === undefined ? undefined : { schema: copy, ref: removed };
}

function ignore(): void {}

/** MCP arguments are always a JSON object. */
function requireObject(body: unknown): ValidationProblem[] | null {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) return null;
  return [{ loc: ["body"], msg: "Input should be a JSON object", type: "model_type" }];
}

const require = createRequire(import.meta.url);

/**
 * The 2019-09 and 2020-12 compilers cost about 5 MB of memory to load, and
 * most servers publish draft-07: they are loaded on first use (ajv is
 * CommonJS, so synchronously).
 */
function loadCompiler(module: string, name: string): typeof Ajv {
  return (require(module) as Record<string, typeof Ajv>)[name]!;
}
