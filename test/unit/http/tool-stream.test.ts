import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import {
  HEARTBEAT_INTERVAL_MS,
  eventText,
  formatEvent,
  openToolStream,
  startedToolStream,
} from "../../../src/http/tool-stream.js";

/** The part of a ServerResponse a stream uses, recording what was written. */
class RecordingResponse extends EventEmitter {
  status: number | undefined;
  headers: Record<string, string> = {};
  flushed = false;
  chunks: string[] = [];
  writableEnded = false;
  destroyed = false;
  getHeader(name: string): string | undefined {
    return name === "Vary" ? "Origin" : undefined;
  }
  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }
  flushHeaders(): void {
    this.flushed = true;
  }
  write(chunk: string): boolean {
    assert.ok(!this.writableEnded, "no write after the end");
    this.chunks.push(chunk);
    return true;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  get text(): string {
    return this.chunks.join("");
  }
}

function recording(): { res: RecordingResponse; response: ServerResponse } {
  const res = new RecordingResponse();
  return { res, response: res as unknown as ServerResponse };
}

/** Events and comments as a real SSE parser reads them. */
function parse(text: string): { events: EventSourceMessage[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event), onComment: (c) => comments.push(c) });
  parser.feed(text);
  return { events, comments };
}

describe("tool stream events", () => {
  it("carries the data as JSON, integers beyond 2^53 exact", () => {
    const { events } = parse(formatEvent("result", { a: 1, s: "two\nlines" }));
    assert.deepEqual(events, [{ event: "result", data: '{"a":1,"s":"two\\nlines"}', id: undefined }]);
  });

  it("prefixes every line of the data, whatever the line break", () => {
    const text = eventText("log", "one\ntwo\r\nthree\rfour");
    assert.equal(text, "event: log\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
    assert.equal(parse(text).events[0]!.data, "one\ntwo\nthree\nfour");
  });
});

describe("openToolStream", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"] }));
  afterEach(() => mock.timers.reset());

  it("writes nothing until started, then the headers at once", () => {
    const { res, response } = recording();
    const stream = openToolStream(response);
    assert.equal(res.status, undefined);
    assert.equal(startedToolStream(response), undefined);
    stream.start();
    stream.start(); // once
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
      Vary: "Origin, Accept",
    });
    assert.ok(res.flushed, "headers are flushed, not held back until the first event");
    assert.equal(startedToolStream(response), stream);
  });

  it("sends progress (only its own fields) and logs, then the result, and ends", () => {
    const { res, response } = recording();
    const stream = openToolStream(response);
    stream.progress({ progress: 1, total: 2, message: "half", _meta: {} } as never);
    stream.progress({ progress: 2 });
    stream.log({ level: "info", logger: "x", data: { a: 1 } });
    stream.result({ answer: 42 });
    stream.progress({ progress: 3 }); // after the end: dropped
    assert.ok(res.writableEnded);
    assert.deepEqual(
      parse(res.text).events.map((event) => [event.event, JSON.parse(event.data)]),
      [
        ["progress", { progress: 1, total: 2, message: "half" }],
        ["progress", { progress: 2 }],
        ["log", { level: "info", logger: "x", data: { a: 1 } }],
        ["result", { answer: 42 }],
      ],
    );
  });

  it("ends with an error event: the status and the error body", () => {
    const { res, response } = recording();
    const stream = openToolStream(response);
    stream.start();
    stream.error(503, { detail: { message: "gone", code: "upstream_unavailable" } });
    stream.error(500, { detail: "twice" });
    assert.ok(res.writableEnded);
    const { events } = parse(res.text);
    assert.equal(events.length, 1);
    assert.deepEqual(JSON.parse(events[0]!.data), {
      status: 503,
      detail: { message: "gone", code: "upstream_unavailable" },
    });
  });

  it("drops writes to a response that was destroyed (the caller left)", () => {
    const { res, response } = recording();
    const stream = openToolStream(response);
    stream.start();
    res.destroyed = true;
    stream.progress({ progress: 1 });
    stream.result("late");
    assert.equal(res.text, "");
  });

  it(`sends a keep-alive comment after ${HEARTBEAT_INTERVAL_MS / 1000} s without an event`, () => {
    const { res, response } = recording();
    const stream = openToolStream(response);
    stream.start();
    mock.timers.tick(HEARTBEAT_INTERVAL_MS - 1);
    assert.equal(res.text, "");
    mock.timers.tick(1);
    assert.equal(res.text, ": keep-alive\n\n");
    assert.deepEqual(parse(res.text), { events: [], comments: ["keep-alive"] });
    mock.timers.tick(HEARTBEAT_INTERVAL_MS);
    assert.equal(res.chunks.length, 2, "every interval while idle");
    // An event counts as something said: the next comment comes a whole interval after it.
    mock.timers.tick(HEARTBEAT_INTERVAL_MS / 2);
    stream.progress({ progress: 1 });
    mock.timers.tick(HEARTBEAT_INTERVAL_MS - 1);
    assert.equal(res.chunks.length, 3, "the event, no comment yet");
    mock.timers.tick(1);
    assert.equal(res.chunks.length, 4);
    assert.equal(res.chunks[3], ": keep-alive\n\n");
  });

  it("stops the heartbeat when the stream ends and when the caller goes away", () => {
    const ended = recording();
    const stream = openToolStream(ended.response);
    stream.start();
    stream.result(null);
    mock.timers.tick(HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(ended.res.chunks.length, 1, "the result only");

    const gone = recording();
    openToolStream(gone.response).start();
    gone.res.emit("close");
    mock.timers.tick(HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(gone.res.text, "");
  });

  it("takes its interval as an option", () => {
    const { res, response } = recording();
    openToolStream(response, 1000).start();
    mock.timers.tick(1000);
    assert.equal(res.text, ": keep-alive\n\n");
  });
});
