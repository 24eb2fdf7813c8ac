import type { ErrorObject } from "ajv";
import type { ValidationProblem } from "../errors/index.js";

/**
 * Most problems listed in one 422. A 3 MB body of wrong types has some
 * 100,000; listing them all made an 88 MB answer. The rest are counted in
 * one last entry of the same shape.
 */
export const MAX_PROBLEMS = 100;

/** ajv's errors in FastAPI's shape, at most MAX_PROBLEMS of them plus one that counts the rest. */
export function toProblems(errors: readonly ErrorObject[], body: unknown): ValidationProblem[] {
  const problems = errors.slice(0, MAX_PROBLEMS).map((error) => toProblem(error, body));
  const left = errors.length - problems.length;
  if (left > 0) {
    problems.push({
      loc: ["body"],
      msg: `${left} more problem${left === 1 ? "" : "s"} not listed (at most ${MAX_PROBLEMS} are)`,
      type: "too_many_errors",
    });
  }
  return problems;
}

/**
 * ajv's error in FastAPI's shape: `loc` is the path from the body (a missing
 * or forbidden field's own name included), `type` a stable snake_case code
 * in pydantic's style where one exists, else the JSON Schema keyword.
 */
export function toProblem(error: ErrorObject, body: unknown): ValidationProblem {
  const loc: (string | number)[] = ["body", ...locate(error.instancePath, body)];
  const params = error.params as Record<string, unknown>;
  // propertyNames names the offending key beside the instance path, not in it.
  const key = error.propertyName ?? (error.keyword === "propertyNames" ? params.propertyName : undefined);
  if (key !== undefined) loc.push(String(key));
  switch (error.keyword) {
    case "required":
    case "dependencies":
    case "dependentRequired":
      if (params.missingProperty === undefined) break; // a draft-07 schema dependency: its own errors follow
      return { loc: [...loc, String(params.missingProperty)], msg: "Field required", type: "missing" };
    case "additionalProperties":
      return {
        loc: [...loc, String(params.additionalProperty)],
        msg: "Extra inputs are not permitted",
        type: "extra_forbidden",
      };
    case "unevaluatedProperties":
      return {
        loc: [...loc, String(params.unevaluatedProperty)],
        msg: "Extra inputs are not permitted",
        type: "extra_forbidden",
      };
    case "type": {
      const types = Array.isArray(params.type) ? params.type.map(String) : String(params.type).split(",");
      return { loc, msg: `Input should be of type ${types.join(" or ")}`, type: `${types.join("_or_")}_type` };
    }
    case "enum":
      return { loc, msg: `Input should be one of ${JSON.stringify(params.allowedValues)}`, type: "enum" };
    case "const":
      return { loc, msg: `Input should be ${JSON.stringify(params.allowedValue)}`, type: "const" };
  }
  return { loc, msg: `Input ${error.message ?? "is invalid"}`, type: error.keyword };
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
