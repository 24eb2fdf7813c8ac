import express, { type Request, type Response, type Router } from "express";
import { TaskFinishedError, UnknownTaskError, UpstreamTaskError } from "../errors/index.js";
import type { MountedServer } from "./mount-table.js";
import { failureOf, ownerOf } from "./task-call.js";
import { isTerminal, taskStoreOf, type TaskRecord } from "./task-store.js";

/**
 * GET and DELETE /tasks/{id}: the tasks handed out to `Prefer: respond-async` calls (task-call.ts). The pipeline
 * has checked them as tool calls (origin, key, allow-list); a task is found only by the caller who started it.
 */
export function createTaskRoutes(server: MountedServer): Router {
  const router = express.Router({ strict: false });

  router.get("/tasks/:id", function taskStatus(req, res) {
    const record = find(server, req);
    if (!isTerminal(record.status)) {
      res.set("Retry-After", String(Math.max(1, Math.ceil((record.pollIntervalMs ?? 1000) / 1000))));
    }
    send(res, record);
  });

  router.delete("/tasks/:id", async function cancelTask(req, res) {
    const record = find(server, req);
    if (isTerminal(record.status)) {
      throw new TaskFinishedError(`Task ${record.id} has already ended (${record.status}): nothing to cancel`);
    }
    await record.cancel();
    const error = new UpstreamTaskError(
      "task_cancelled",
      `the task of tool "${record.tool}" was cancelled by its caller`,
    );
    taskStoreOf(server.connection).finish(record, { status: "cancelled", error: failureOf(error) });
    send(res, record);
  });

  return router;
}

function find(server: MountedServer, req: Request): TaskRecord {
  const id = String(req.params.id);
  const identity = server.forwarding?.identityOf(req.headers);
  const record = taskStoreOf(server.connection).get(id, ownerOf(req, identity));
  if (!record) {
    throw new UnknownTaskError(
      `No task ${id} here: it never existed, it expired, the proxy restarted, or it belongs to another caller`,
    );
  }
  return record;
}

function send(res: Response, record: TaskRecord): void {
  res.set("Cache-Control", "no-store").json({
    task_id: record.id,
    tool: record.tool,
    status: record.status,
    ...(record.message === undefined ? {} : { status_message: record.message }),
    ...(record.createdAt === undefined ? {} : { created_at: record.createdAt }),
    ...(record.updatedAt === undefined ? {} : { updated_at: record.updatedAt }),
    ...(record.pollIntervalMs === undefined ? {} : { poll_interval_ms: record.pollIntervalMs }),
    ...(record.result === undefined ? {} : { result: record.result }),
    ...(record.error === undefined ? {} : { error: record.error }),
  });
}
