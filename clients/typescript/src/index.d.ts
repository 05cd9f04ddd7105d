import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

/** Every schema of the document, by name: `Schemas["RunDetail"]`. */
export type Schemas = components["schemas"];

/** A problem answer (RFC 9457) with its stable `code`. */
export type Problem = Schemas["Problem"];

/** An answer of the API that is a problem, thrown by `unwrap`. */
export declare class LedgerError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;
  readonly code: string | undefined;
  constructor(status: number, problem: Problem | undefined);
}

export interface ClientOptions {
  /** The service, for example `https://ledger.example`. */
  baseUrl: string;
  /** An API key (`Authorization: Bearer`). */
  apiKey?: string;
  /** The person the calls act for (`X-Actor-Id`). */
  actorId?: string;
  /** Defaults to the global `fetch`. */
  fetch?: (input: Request) => Promise<Response>;
  /**
   * Retries of 503, 429 and network errors, with exponential backoff (or
   * the answer's `Retry-After`): 5 attempts from 100 ms, at most 5 s apart.
   */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * Reads from read models ask for at least the newest position this
   * client wrote (`min_position`), unless the call gives its own
   * (default true).
   */
  readYourWrites?: boolean;
}

/**
 * A typed client of every operation: `client.GET("/v1/runs/{run_id}", ...)`.
 * Each POST gets an `Idempotency-Key` (unless the call gives one), reused
 * across its retries.
 */
export type LedgerClient = Client<paths> & {
  /** The newest `global_position` this client's writes answered with. */
  lastPosition(): number;
};

/** A recorded event as the feed serves it. */
export type EventEnvelope = Schemas["EventEnvelope"];

/**
 * Follows `/v1/events/stream` from `after`, reconnecting with
 * `Last-Event-ID` after the last event seen: no event missed or repeated.
 */
export declare function followEvents(
  client: LedgerClient,
  options?: { after?: number; signal?: AbortSignal },
): AsyncGenerator<EventEnvelope>;

type FactsResponse = Schemas["FactsResponse"];

/** What a pipeline worker reports about one run. */
export interface RunWorker {
  start(): Promise<FactsResponse>;
  stage(stage: number): {
    processing(): Promise<FactsResponse>;
    completed(output?: unknown): Promise<FactsResponse>;
    failed(error: string, output?: unknown): Promise<FactsResponse>;
  };
  file(index: number): {
    running(): Promise<FactsResponse>;
    completed(): Promise<FactsResponse>;
    failed(error: string): Promise<FactsResponse>;
    error(error: string): Promise<FactsResponse>;
  };
  charge(amount: number, reason?: string): Promise<FactsResponse>;
  refund(amount: number, reason?: string): Promise<FactsResponse>;
  /** Merges measurements into the run's, key by key. */
  metrics(metrics: components["schemas"]["MetricsData"]["metrics"]): Promise<FactsResponse>;
  complete(completion?: components["schemas"]["CompletedData"]): Promise<FactsResponse>;
  fail(code: string, message: string, detail?: unknown): Promise<FactsResponse>;
  cancel(reason?: string): Promise<FactsResponse>;
}

/** Reports facts about run `runId`, each safely retried. */
export declare function runWorker(client: LedgerClient, runId: string): RunWorker;

export declare function createClient(options: ClientOptions): LedgerClient;

/** The data of a call, or a thrown `LedgerError`. */
export declare function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T>;
