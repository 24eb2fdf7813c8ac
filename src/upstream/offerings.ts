import type {
  Client,
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  RequestOptions,
  Resource,
  ResourceTemplateType as ResourceTemplate,
} from "@modelcontextprotocol/client";
import type { Logger } from "../log/logger.js";
import type { RequestSender } from "./request.js";
import { CoalescedReload } from "./coalesced-reload.js";

export type {
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
};

/** How many resources the document names as examples of `uri`: a server may list thousands. */
export const DOCUMENTED_RESOURCES = 50;

/** A server that keeps handing out cursors is cut off here rather than listed forever (prompts, templates). */
const MAX_PAGES = 20;

/**
 * What an upstream offers besides tools, as its last session declared and listed it: whether it has resources and
 * prompts at all (its capabilities), its prompts (all of them: each is a documented route), its resource templates,
 * and its first DOCUMENTED_RESOURCES resources (examples in the document; the list route pages through the rest).
 */
export interface Offerings {
  readonly resources: boolean;
  readonly prompts: boolean;
  readonly resourceList: readonly Resource[];
  readonly templates: readonly ResourceTemplate[];
  readonly promptList: readonly Prompt[];
}

/** Before the first session: nothing known, nothing offered. */
export const NO_OFFERINGS: Offerings = {
  resources: false,
  prompts: false,
  resourceList: [],
  templates: [],
  promptList: [],
};

/** What a 2026-07-28 client asks its listen stream for, besides tools: the lists the server says may change. */
export function listChangedFilter(client: Client): { promptsListChanged?: true; resourcesListChanged?: true } {
  const capabilities = client.getServerCapabilities();
  return {
    ...(capabilities?.prompts?.listChanged ? { promptsListChanged: true as const } : {}),
    ...(capabilities?.resources?.listChanged ? { resourcesListChanged: true as const } : {}),
  };
}

/**
 * Lists what the document needs (see Offerings), each list on its own: a server whose prompts/list fails still
 * has its resources documented, and the failure is logged, never fatal to the connection.
 */
export async function loadOfferings(client: Client, options: RequestOptions, log?: Logger): Promise<Offerings> {
  const capabilities = client.getServerCapabilities();
  const resources = capabilities?.resources !== undefined;
  const prompts = capabilities?.prompts !== undefined;
  const settle = async <T>(what: string, offered: boolean, list: () => Promise<T[]>): Promise<T[]> => {
    if (!offered) return [];
    try {
      return await list();
    } catch (error) {
      log?.warn({ err: error }, `could not list the upstream's ${what}; the document leaves them out`);
      return [];
    }
  };
  const [resourceList, templates, promptList] = await Promise.all([
    settle("resources", resources, () => pages(client, "resources/list", "resources", options, DOCUMENTED_RESOURCES)),
    settle("resource templates", resources, () =>
      pages(client, "resources/templates/list", "resourceTemplates", options),
    ),
    settle("prompts", prompts, () => pages(client, "prompts/list", "prompts", options)),
  ]);
  return {
    resources,
    prompts,
    resourceList: resourceList as Resource[],
    templates: templates as ResourceTemplate[],
    promptList: promptList as Prompt[],
  };
}

/** Items of a list method, page after page, up to `limit` items or MAX_PAGES pages. */
async function pages(
  client: Client,
  method: "resources/list" | "resources/templates/list" | "prompts/list",
  key: "resources" | "resourceTemplates" | "prompts",
  options: RequestOptions,
  limit = Infinity,
): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES && items.length < limit; page++) {
    const result = (await client.request({ method, params: cursor === undefined ? {} : { cursor } }, options)) as {
      nextCursor?: string;
    } & Record<string, unknown>;
    items.push(...((result[key] as unknown[] | undefined) ?? []));
    cursor = result.nextCursor;
    if (cursor === undefined || seen.has(cursor)) break;
    seen.add(cursor);
  }
  return items.slice(0, limit);
}

/** One page of a list, as the upstream gave it: its items and, when there are more, the cursor to the next. */
export type Page<K extends string, T> = { [key in K]: T[] } & { nextCursor?: string };

/**
 * The requests of the resource and prompt routes, each one page or one item: the SDK's list methods walk every
 * page when given no cursor, so the first page is asked for as such (as the spec's explicit paging does).
 */
export const OPERATIONS = {
  listResources:
    (cursor: string | undefined): RequestSender<Page<"resources", Resource>> =>
    async (client, options) => {
      const { resources, nextCursor } = await client.request(
        { method: "resources/list", params: cursorOf(cursor) },
        options,
      );
      return { resources, ...(nextCursor === undefined ? {} : { nextCursor }) };
    },
  listResourceTemplates:
    (cursor: string | undefined): RequestSender<Page<"resourceTemplates", ResourceTemplate>> =>
    async (client, options) => {
      const { resourceTemplates, nextCursor } = await client.request(
        { method: "resources/templates/list", params: cursorOf(cursor) },
        options,
      );
      return { resourceTemplates, ...(nextCursor === undefined ? {} : { nextCursor }) };
    },
  listPrompts:
    (cursor: string | undefined): RequestSender<Page<"prompts", Prompt>> =>
    async (client, options) => {
      const { prompts, nextCursor } = await client.request(
        { method: "prompts/list", params: cursorOf(cursor) },
        options,
      );
      return { prompts, ...(nextCursor === undefined ? {} : { nextCursor }) };
    },
  /** Never served from the SDK's response cache: a REST read is a read now. */
  readResource:
    (uri: string): RequestSender<ReadResourceResult> =>
    (client, options) =>
      client.readResource({ uri }, { ...options, cacheMode: "bypass" }),
  /** The whole result, `_meta` included, for the MCP face (which passes a prompt on as the upstream made it). */
  getWholePrompt:
    (params: { name: string; arguments?: Record<string, string> }): RequestSender<GetPromptResult> =>
    (client, options) =>
      client.getPrompt(params, options),
  /** `completion/complete`, passed on as it came (the MCP face). */
  complete:
    (params: CompleteRequest["params"]): RequestSender<CompleteResult> =>
    (client, options) =>
      client.complete(params, options),
  /** The result's description and messages (not its `_meta`, which says who answered: the upstream's business). */
  getPrompt:
    (name: string, args: Record<string, string>): RequestSender<Pick<GetPromptResult, "description" | "messages">> =>
    async (client, options) => {
      const { description, messages } = await client.getPrompt({ name, arguments: args }, options);
      return { ...(description === undefined ? {} : { description }), messages };
    },
};

function cursorOf(cursor: string | undefined): Record<string, unknown> {
  return cursor === undefined ? {} : { cursor };
}

export interface OfferingsKeeperOptions {
  /** Bound of each reload's requests. */
  timeoutMs: number;
  log: Logger;
  /** A reload after `list_changed` found new lists. */
  onChange: (offerings: Offerings) => void;
}

/**
 * Holds a connection's Offerings, set by each session's dial and reloaded on `prompts/list_changed` and
 * `resources/list_changed`, coalesced as tools/list_changed is (coalesced-reload.ts); a reload for a session since
 * replaced is dropped.
 */
export class OfferingsKeeper {
  #current: Offerings = NO_OFFERINGS;
  #client: Client | undefined;
  readonly #options: OfferingsKeeperOptions;
  readonly #reload = new CoalescedReload(
    (client) => this.#load(client),
    (client) => client === this.#client,
  );

  constructor(options: OfferingsKeeperOptions) {
    this.#options = options;
  }

  get current(): Offerings {
    return this.#current;
  }

  /** A new session, with what its dial listed. */
  reset(client: Client, offerings: Offerings): void {
    this.#client = client;
    this.#current = offerings;
  }

  /** A list_changed notification on `client`'s session. */
  changed(client: Client): void {
    if (client === this.#client) this.#reload.changed(client);
  }

  async #load(client: Client): Promise<void> {
    const offerings = await loadOfferings(client, { timeout: this.#options.timeoutMs }, this.#options.log);
    if (client !== this.#client) return;
    this.#current = offerings;
    this.#options.log.info(
      { prompts: offerings.promptList.length, resource_templates: offerings.templates.length },
      "prompt or resource list changed upstream; reloaded",
    );
    this.#options.onChange(offerings);
  }
}
