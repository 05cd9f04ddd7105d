// The official run-ledger client: openapi-fetch over the types generated
// from the service's OpenAPI document (schema.d.ts), with what every caller
// of a ledger needs done once: the key and the acting person, an
// Idempotency-Key per logical call reused across its retries, retries with
// backoff on 503, 429 and network errors (honouring Retry-After),
// read-your-writes, problem+json as typed errors, a feed follower that
// resumes with Last-Event-ID, and a helper for pipeline workers.
import createFetchClient from "openapi-fetch";

/** An answer of the API that is a problem (RFC 9457) with a stable `code`. */
export class LedgerError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem?.code ?? "error"}: ${problem?.detail ?? ""}`);
    this.name = "LedgerError";
    this.status = status;
    this.problem = problem;
    this.code = problem?.code;
  }
}

/** Paths answered from read models: they take `min_position`. */
const READ_MODEL_PATHS = [/^\/v1\/runs(\/|$|\?)/, /^\/v1\/accounts\//, /^\/v1\/projects\//];
const STREAMS = /\/(watch|events\/stream)$/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait before retry `attempt` (1-based) of an answer. */
function delay(attempt, response, retry) {
  const after = Number(response?.headers.get("retry-after"));
  if (Number.isFinite(after) && after >= 0) return Math.min(after * 1000, retry.maxDelayMs);
  const backoff = retry.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(backoff * (0.5 + Math.random() / 2), retry.maxDelayMs);
}

/**
 * A fetch that retries what may be retried, gives each POST an
 * Idempotency-Key (so a retry is applied once), and remembers the newest
 * position written, to read at least there.
 */
function ledgerFetch(base, options, state) {
  const retry = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5_000, ...options.retry };
  return async (input) => {
    let request = input;
    const url = new URL(request.url);
    const path = url.pathname.slice(new URL(options.baseUrl).pathname.replace(/\/$/, "").length);
    if (request.method === "POST" && !request.headers.has("Idempotency-Key")) {
      const headers = new Headers(request.headers);
      headers.set("Idempotency-Key", globalThis.crypto.randomUUID());
      request = new Request(request, { headers });
    }
    if (
      request.method === "GET" &&
      options.readYourWrites !== false &&
      state.position > 0 &&
      !STREAMS.test(path) &&
      READ_MODEL_PATHS.some((pattern) => pattern.test(path)) &&
      !url.searchParams.has("min_position")
    ) {
      url.searchParams.set("min_position", String(state.position));
      request = new Request(url, request);
    }
    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await base(request.clone());
      } catch (error) {
        if (attempt >= retry.attempts) throw error;
        await sleep(delay(attempt, undefined, retry));
        continue;
      }
      if ((response.status === 503 || response.status === 429) && attempt < retry.attempts) {
        await sleep(delay(attempt, response, retry));
        continue;
      }
      if (response.ok && request.method === "POST") {
        const body = await response.clone().json().catch(() => undefined);
        const position = body?.global_position ?? body?.run?.global_position;
        if (typeof position === "number" && position > state.position) state.position = position;
      }
      return response;
    }
  };
}

/**
 * A client of the run-ledger at `baseUrl`, calling with `apiKey`, acting for
 * `actorId` when given (`X-Actor-Id`).
 */
export function createClient(options = {}) {
  const { baseUrl, apiKey, actorId } = options;
  if (!baseUrl) throw new TypeError("baseUrl is required");
  const headers = {};
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (actorId) headers["X-Actor-Id"] = actorId;
  const state = { position: 0 };
  const client = createFetchClient({
    baseUrl: baseUrl.replace(/\/$/, ""),
    headers,
    fetch: ledgerFetch(options.fetch ?? globalThis.fetch, options, state),
  });
  client.lastPosition = () => state.position;
  client.options = { ...options, headers };
  return client;
}

/** The data of a client call, or a `LedgerError` with the problem answered. */
export async function unwrap(call) {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    throw new LedgerError(response.status, error);
  }
  return data;
}

/**
 * Follows `/v1/events/stream` from `after`: yields each recorded event (the
 * envelope), reconnecting with `Last-Event-ID` after the last one seen, so
 * nothing is missed or repeated. Stops when `signal` aborts.
 */
export async function* followEvents(client, { after = 0, signal } = {}) {
  const { baseUrl, headers } = client.options;
  const fetch = client.options.fetch ?? globalThis.fetch;
  let last = after;
  for (let attempt = 1; !signal?.aborted; ) {
    let response;
    try {
      response = await fetch(
        new Request(`${baseUrl.replace(/\/$/, "")}/v1/events/stream?after=${last}`, {
          headers: { ...headers, Accept: "text/event-stream", "Last-Event-ID": String(last) },
          signal,
        }),
      );
    } catch (error) {
      if (signal?.aborted) return;
      await sleep(Math.min(100 * 2 ** attempt++, 5_000));
      continue;
    }
    if (!response.ok) {
      if (response.status === 503 || response.status === 429) {
        await sleep(delay(attempt++, response, { baseDelayMs: 100, maxDelayMs: 5_000 }));
        continue;
      }
      throw new LedgerError(response.status, await response.json().catch(() => undefined));
    }
    attempt = 1;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = {};
          for (const line of frame.split("\n")) {
            const colon = line.indexOf(":");
            if (colon <= 0) continue;
            const name = line.slice(0, colon);
            fields[name] = (fields[name] ?? "") + line.slice(colon + 1).trimStart();
          }
          if (fields.data === undefined || fields.id === undefined) continue;
          last = Number(fields.id);
          yield JSON.parse(fields.data);
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
    }
  }
}

/**
 * What a pipeline worker reports about one run, each call a fact with its
 * own Idempotency-Key (retried safely): `start()`, `stage(n).processing()`,
 * `.completed(output)`, `.failed(error, output)`, `file(i).running()`,
 * `.completed()`, `.failed(error)`, `.error(error)`, `charge(amount)`,
 * `refund(amount)`, `complete()`, `fail(code, message, detail)`, `cancel()`.
 */
export function runWorker(client, runId) {
  const report = (type, data) =>
    unwrap(
      client.POST("/v1/runs/{run_id}/events", {
        params: { path: { run_id: runId } },
        body: { events: [data === undefined ? { type } : { type, data }] },
      }),
    );
  return {
    start: () => report("run.started"),
    stage: (stage) => ({
      processing: () => report("run.stage_updated", { stage, status: "processing" }),
      completed: (output) => report("run.stage_updated", { stage, status: "completed", output }),
      failed: (error, output) => report("run.stage_updated", { stage, status: "failed", error, output }),
    }),
    file: (index) => ({
      running: () => report("run.file_updated", { index, status: "running" }),
      completed: () => report("run.file_updated", { index, status: "completed" }),
      failed: (error) => report("run.file_updated", { index, status: "failed", error }),
      error: (error) => report("run.file_updated", { index, status: "error", error }),
    }),
    charge: (amount, reason) => report("run.credits_deducted", { amount, reason }),
    refund: (amount, reason) => report("run.refunded", { amount, reason }),
    metrics: (metrics) => report("run.metrics_updated", { metrics }),
    complete: ({ output, metrics } = {}) => report("run.completed", { output, metrics }),
    fail: (code, message, detail) => report("run.failed", { code, message, detail }),
    cancel: (reason) => report("run.cancelled", { reason }),
  };
}
