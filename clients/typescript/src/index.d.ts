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
}

/** A typed client of every operation: `client.GET("/v1/runs/{run_id}", ...)`. */
export type LedgerClient = Client<paths>;

export declare function createClient(options: ClientOptions): LedgerClient;

/** The data of a call, or a thrown `LedgerError`. */
export declare function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T>;
