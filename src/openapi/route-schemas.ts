import { CONNECTION_STATES } from "../upstream/index.js";
import { z } from "zod";

/** Body of every error but validation: FastAPI's `{"detail": {...}}`, as Python mcpo answers. */
export const errorResponseSchema = z
  .object({
    detail: z.object({
      message: z.string().meta({ description: "What went wrong, in words" }),
      code: z.string().meta({ description: "Stable machine-readable code, e.g. upstream_unavailable" }),
    }),
  })
  .meta({ id: "ErrorResponse" });

/** Body of a 422: every problem with its location in the body. */
export const validationErrorResponseSchema = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number()])),
        msg: z.string(),
        type: z.string(),
      }),
    ),
  })
  .meta({ id: "ValidationErrorResponse" });

export const healthResponseSchema = z
  .object({
    status: z.enum(["healthy", "unhealthy"]),
    connection_name: z.string(),
    message: z.string(),
    details: z.object({
      state: z.enum(CONNECTION_STATES),
      error_count: z.number().int(),
      last_error: z.string().nullable(),
      last_check: z.number().nullable().meta({ description: "Unix time in seconds" }),
      last_success: z.number().nullable().meta({ description: "Unix time in seconds" }),
      seconds_since_success: z.number().nullable().meta({ description: "Seconds since the last success" }),
      reconnect_count: z.number().int(),
      protocol_version: z
        .string()
        .nullable()
        .meta({ description: "MCP revision spoken with the upstream, e.g. 2026-07-28; null before it connects" }),
      era: z
        .enum(["modern", "legacy"])
        .nullable()
        .meta({ description: "modern: 2026-07-28 and later (no initialize); legacy: the 2025 revisions" }),
      versions: z
        .object({ ours: z.array(z.string()), upstream: z.array(z.string()).nullable() })
        .optional()
        .meta({ description: "In state incompatible: the revisions we offered and those the upstream speaks" }),
      check_type: z.literal("on_demand"),
      server: z.object({ name: z.string(), version: z.string() }).nullable(),
      tools: z.number().int(),
    }),
  })
  .meta({ id: "HealthResponse" });

export const aggregateHealthResponseSchema = z
  .object({
    status: z.enum(["healthy", "unhealthy"]),
    message: z.string(),
    servers: z.record(z.string(), healthResponseSchema).meta({ description: "Each enabled server's health, by name" }),
    disabled: z.array(z.string()).meta({ description: "Servers the config disables" }),
  })
  .meta({ id: "AggregateHealthResponse" });
