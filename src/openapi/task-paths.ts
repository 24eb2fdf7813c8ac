import type { DocumentMount, OpenAPIObject } from "./build-document.js";

type Json = Record<string, unknown>;

const TASK_STATUSES = ["working", "input_required", "completed", "failed", "cancelled"];

/** The 202 answer of a `Prefer: respond-async` call, and what GET/DELETE /tasks/{id} answer. */
const TASK_ACCEPTED_SCHEMA = {
  type: "object",
  properties: {
    task_id: { type: "string", description: "The proxy's id of the task" },
    status: { type: "string", enum: TASK_STATUSES },
    status_message: { type: "string" },
    poll_interval_ms: { type: "integer", description: "How often the upstream suggests polling" },
    location: { type: "string", description: "Where to poll: the same as the Location header" },
  },
  required: ["task_id", "status", "location"],
};

const TASK_SCHEMA = {
  type: "object",
  properties: {
    task_id: { type: "string" },
    tool: { type: "string", description: "The tool the task runs" },
    status: { type: "string", enum: TASK_STATUSES },
    status_message: { type: "string" },
    created_at: { type: "string", format: "date-time" },
    updated_at: { type: "string", format: "date-time" },
    poll_interval_ms: { type: "integer" },
    result: { description: "Once completed: the body a call without `Prefer: respond-async` would have answered" },
    error: {
      type: "object",
      description: "Once failed or cancelled: the status and `detail` a blocking call would have answered",
      properties: { status: { type: "integer" }, detail: {} },
      required: ["status", "detail"],
    },
  },
  required: ["task_id", "tool", "status"],
};

const PREFER_NOTE =
  "With the header `Prefer: respond-async` (RFC 7240) the call answers 202 at once, with `Location` to poll " +
  "(GET) or cancel (DELETE). Without it the call waits for the task's end and answers as any call.";

/**
 * Documents tools that run as MCP tasks (src/http/task-call.ts): their 202 answer, and GET/DELETE /tasks/{id}
 * of each mount that has one. Done on the generated document, so the tool operations stay as they are built.
 *
 * `Prefer` is described, not declared as a parameter of the tool operation: Open WebUI turns every parameter of
 * an operation, headers included, into an argument the model fills in, and a model that sent `respond-async`
 * would get a 202 where it wanted a result. It is declared under components.parameters for other clients. The
 * task routes have no operationId, so Open WebUI does not offer them to the model either.
 */
export function addTaskPaths(document: OpenAPIObject, mounts: readonly DocumentMount[]): void {
  const paths = (document.paths ?? {}) as Record<string, Json>;
  let any = false;
  for (const mount of mounts) {
    const taskRoutes = mount.catalog?.routes.filter((route) => route.taskSupport !== undefined) ?? [];
    if (taskRoutes.length === 0) continue;
    any = true;
    let errorResponse: unknown;
    let security: unknown;
    for (const route of taskRoutes) {
      const operation = paths[`${mount.prefix}${route.path}`]?.post as Json | undefined;
      if (!operation) continue;
      const responses = operation.responses as Json;
      errorResponse ??= responses["502"];
      security ??= operation.security;
      operation.description = `${String(operation.description)}\n\nRuns as an MCP task${route.taskSupport === "optional" ? " when asked to" : ""}. ${PREFER_NOTE}`;
      responses["202"] = {
        description: "The task was started (only with `Prefer: respond-async`); poll `Location` for its status and result",
        headers: {
          Location: { description: "The task: GET for its status and result, DELETE to cancel it", schema: { type: "string" } },
          "Preference-Applied": { schema: { type: "string", const: "respond-async" } },
        },
        content: { "application/json": { schema: TASK_ACCEPTED_SCHEMA } },
      };
      responses["503"] ??= errorResponse;
    }
    const tags = mount.name ? { tags: [mount.name] } : {};
    const common = {
      ...tags,
      ...(security ? { security } : {}),
      parameters: [
        { name: "id", in: "path", required: true, description: "The task_id of the 202 answer", schema: { type: "string" } },
      ],
    };
    const notFound = { ...(errorResponse as Json), description: "No such task for this caller (unknown, expired, lost in a restart, or another caller's)" };
    // No operationId: Open WebUI turns only operations with one into tools for its model.
    paths[`${mount.prefix}/tasks/{id}`] = {
      get: {
        ...common,
        summary: "Task status and result",
        description:
          "A task started by a `Prefer: respond-async` call: its status and, once it has ended, its result (or " +
          "error). Only the caller who started it sees it. Tasks live in the proxy's memory: a restart loses them.",
        responses: {
          200: {
            description: "The task (with `Retry-After` while it runs)",
            content: { "application/json": { schema: TASK_SCHEMA } },
          },
          404: notFound,
        },
      },
      delete: {
        ...common,
        summary: "Cancel a task",
        description: "Cancels the task upstream (tasks/cancel) and answers it, now cancelled.",
        responses: {
          200: { description: "The task, cancelled", content: { "application/json": { schema: TASK_SCHEMA } } },
          404: notFound,
          409: { ...(errorResponse as Json), description: "The task has already ended" },
        },
      },
    };
  }
  if (!any) return;
  const components = (document.components ??= {}) as Json;
  const parameters = ((components.parameters as Json | undefined) ?? {}) as Json;
  parameters.PreferRespondAsync = {
    name: "Prefer",
    in: "header",
    required: false,
    description: PREFER_NOTE,
    schema: { type: "string", examples: ["respond-async"] },
  };
  components.parameters = parameters;
}
