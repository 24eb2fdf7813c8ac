import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ValidationProblem } from "../errors/index.js";
import type { JsonSchema } from "./json-schema.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** Returns the problems with a request body, or null when it is valid. */
export type Validate = (body: unknown) => ValidationProblem[] | null;

type Dialect = "draft-07" | "2019-09" | "2020-12";

/**
 * Compiles tool input schemas, each in its own JSON Schema dialect (chosen by
 * `$schema`; draft-07 when absent, as MCP servers mostly publish). One
 * compiler per catalog, so validators of replaced catalogs are freed with it.
 */
export class ValidatorFactory {
  readonly #compilers = new Map<Dialect, Ajv>();

  constructor(private readonly onCompileError: (schema: JsonSchema, error: unknown) => void = () => undefined) {}

  compile(schema: JsonSchema): Validate {
    let validate: ValidateFunction;
    try {
      // $schema picked the compiler; $id would make two tools with the same id collide in one compiler.
      const { $schema: _schema, $id: _id, ...body } = schema;
      validate = this.#compiler(dialectOf(schema)).compile(body as AnySchema);
    } catch (error) {
      // A schema ajv cannot compile must not take the tool down: the upstream still validates.
      this.onCompileError(schema, error);
      return requireObject;
    }
    return (body) => {
      const notObject = requireObject(body);
      if (notObject) return notObject;
      return validate(body) ? null : (validate.errors ?? []).map((error) => toProblem(error, body));
    };
  }

  #compiler(dialect: Dialect): Ajv {
    let compiler = this.#compilers.get(dialect);
    if (!compiler) {
      const options = { allErrors: true, strict: false, validateFormats: true } as const;
      compiler =
        dialect === "2020-12" ? new Ajv2020(options) : dialect === "2019-09" ? new Ajv2019(options) : new Ajv(options);
      addFormats(compiler);
      this.#compilers.set(dialect, compiler);
    }
    return compiler;
  }
}

function dialectOf(schema: JsonSchema): Dialect {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (uri.includes("2020-12")) return "2020-12";
  if (uri.includes("2019-09")) return "2019-09";
  return "draft-07";
}

/** MCP arguments are always a JSON object. */
function requireObject(body: unknown): ValidationProblem[] | null {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) return null;
  return [{ loc: ["body"], msg: "Input should be a JSON object", type: "model_type" }];
}

/** An ajv instance path as loc segments: array indices as numbers, property names (even "123") as strings. */
function locate(instancePath: string, body: unknown): (string | number)[] {
  const loc: (string | number)[] = [];
  let node: unknown = body;
  for (const raw of instancePath.split("/").slice(1)) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const isIndex = Array.isArray(node);
    loc.push(isIndex ? Number(segment) : segment);
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return loc;
}

/** ajv's error in FastAPI's shape: loc is the path from the body, a missing field's name included. */
function toProblem(error: ErrorObject, body: unknown): ValidationProblem {
  const loc: (string | number)[] = ["body", ...locate(error.instancePath, body)];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { loc: [...loc, String(params.missingProperty)], msg: "Field required", type: "missing" };
    case "additionalProperties":
      return {
        loc: [...loc, String(params.additionalProperty)],
        msg: "Extra inputs are not permitted",
        type: "extra_forbidden",
      };
    case "type":
      return { loc, msg: `Input should be of type ${String(params.type)}`, type: `${String(params.type)}_type` };
    default:
      return { loc, msg: `Input ${error.message ?? "is invalid"}`, type: error.keyword };
  }
}
