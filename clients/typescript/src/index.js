// The official run-ledger client: openapi-fetch over the types generated
// from the service's OpenAPI document (schema.d.ts), with the key, the
// acting person and problem+json errors handled once.
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

/**
 * A client of the run-ledger at `baseUrl`, calling with `apiKey`, acting for
 * `actorId` when given (`X-Actor-Id`). `fetch` defaults to the global one.
 */
export function createClient({ baseUrl, apiKey, actorId, fetch } = {}) {
  if (!baseUrl) throw new TypeError("baseUrl is required");
  const headers = {};
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (actorId) headers["X-Actor-Id"] = actorId;
  return createFetchClient({ baseUrl: baseUrl.replace(/\/$/, ""), headers, fetch });
}

/**
 * The data of a client call, or a `LedgerError` thrown with the problem the
 * service answered.
 */
export async function unwrap(call) {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    throw new LedgerError(response.status, error);
  }
  return data;
}
