// The TypeScript client against a running service (run by
// tests/api/clients.rs): RUN_LEDGER_URL, RUN_LEDGER_KEY (append+read of
// RUN_LEDGER_TENANT), RUN_LEDGER_ADMIN_KEY.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { createClient, followEvents, runWorker, unwrap, LedgerError } from "../src/index.js";

const baseUrl = process.env.RUN_LEDGER_URL;
const tenant = process.env.RUN_LEDGER_TENANT;
const client = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_KEY, actorId: "ada" });
const admin = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_ADMIN_KEY });

test("a run's life through the client, read back with min_position", async () => {
  await unwrap(admin.POST("/v1/accounts/{tenant_id}/grants", {
    params: { path: { tenant_id: tenant } },
    body: { bucket: "monthly", amount: 5 },
  }));
  const key = randomUUID();
  const body = { owner_id: "ada", files: [{ name: "a.pdf" }, { name: "b.pdf" }], stages: ["extract"] };
  const created = await unwrap(client.POST("/v1/runs", { body, params: { header: { "Idempotency-Key": key } } }));
  assert.equal(created.status, "queued");
  assert.ok(created.appended.length > 0);
  const again = await unwrap(client.POST("/v1/runs", { body, params: { header: { "Idempotency-Key": key } } }));
  assert.equal(again.run_id, created.run_id);

  const reported = await unwrap(client.POST("/v1/runs/{run_id}/events", {
    params: { path: { run_id: created.run_id } },
    body: {
      events: [
        { type: "run.started" },
        { type: "run.file_updated", data: { index: 0, status: "failed", error: "timeout" } },
        { type: "run.file_updated", data: { index: 1, status: "completed" } },
        { type: "run.completed" },
      ],
    },
  }));
  const { data: run, response } = await client.GET("/v1/runs/{run_id}", {
    params: { path: { run_id: created.run_id }, query: { min_position: reported.global_position } },
  });
  assert.equal(response.status, 200);
  assert.ok(Number(response.headers.get("x-projection-position")) >= reported.global_position);
  assert.equal(run.status, "completed_with_errors");

  const retried = await unwrap(client.POST("/v1/runs/{run_id}/retry-failed", {
    params: { path: { run_id: created.run_id } },
  }));
  assert.equal(retried.credits_charged, 1);
  const after = retried.global_position;
  const page = await unwrap(client.GET("/v1/runs", {
    params: { query: { status: "running", owner_id: "ada", min_position: after } },
  }));
  assert.deepEqual(page.runs.map((r) => r.run_id), [created.run_id]);
  const balance = await unwrap(client.GET("/v1/accounts/{tenant_id}/balance", {
    params: { path: { tenant_id: tenant }, query: { min_position: after } },
  }));
  assert.equal(balance.consumed, 1);
});

test("problems are LedgerErrors with their stable code", async () => {
  await assert.rejects(
    unwrap(client.GET("/v1/runs/{run_id}", { params: { path: { run_id: randomUUID() } } })),
    (error) => error instanceof LedgerError && error.status === 404 && error.code === "run_not_found",
  );
  await assert.rejects(
    unwrap(client.GET("/v1/runs", { params: { query: { limit: 0 } } })),
    (error) => error instanceof LedgerError && error.code === "invalid_query",
  );
});

test("a retried write is applied once, under the Idempotency-Key the client gave it", async () => {
  let calls = 0;
  const keys = new Set();
  // The first attempt of each request is lost on the way back, as a
  // network error after the service applied it.
  const flaky = async (request) => {
    calls += 1;
    keys.add(request.headers.get("Idempotency-Key"));
    const response = await fetch(request);
    if (calls % 2 === 1) throw new TypeError("connection reset");
    return response;
  };
  const shaky = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_KEY, actorId: "ada", fetch: flaky });
  const run = await unwrap(shaky.POST("/v1/runs", { body: { owner_id: "ada", files: [{ name: "a.pdf" }] } }));
  assert.equal(calls, 2, "one retry");
  assert.equal(keys.size, 1, "the retry reused the call's key");
  const runs = await unwrap(client.GET("/v1/runs", {
    params: { query: { owner_id: "ada", min_position: run.global_position } },
  }));
  assert.equal(runs.runs.filter((r) => r.run_id === run.run_id).length, 1, "applied once");
});

test("503 and 429 are retried after Retry-After", async () => {
  let refusals = 2;
  const busy = async (request) => {
    if (refusals-- > 0) {
      return new Response(JSON.stringify({ code: "store_unavailable" }), {
        status: 503,
        headers: { "Retry-After": "0", "Content-Type": "application/problem+json" },
      });
    }
    return fetch(request);
  };
  const patient = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_KEY, fetch: busy });
  const page = await unwrap(patient.GET("/v1/runs", { params: { query: { limit: 1 } } }));
  assert.ok(Array.isArray(page.runs));
});

test("a read after a write sees it without naming min_position", async () => {
  const reader = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_KEY, actorId: "ada" });
  const run = await unwrap(reader.POST("/v1/runs", { body: { owner_id: "ada", stages: ["a", "b"] } }));
  const worker = runWorker(reader, run.run_id);
  await worker.start();
  await worker.stage(1).completed({ pages: 3 });
  assert.ok(reader.lastPosition() > run.global_position);
  const detail = await unwrap(reader.GET("/v1/runs/{run_id}", { params: { path: { run_id: run.run_id } } }));
  assert.equal(detail.status, "running");
  assert.deepEqual(detail.stages[0].output, { pages: 3 });
});

test("a worker reports a run's life, and the follower resumes without a gap or a repeat", async () => {
  const worker_client = createClient({ baseUrl, apiKey: process.env.RUN_LEDGER_KEY, actorId: "ada" });
  const run = await unwrap(worker_client.POST("/v1/runs", {
    body: { owner_id: "ada", stages: ["extract", "load"], files: [{ name: "a.pdf" }, { name: "b.pdf" }] },
  }));
  const worker = runWorker(worker_client, run.run_id);
  await worker.start();
  await worker.stage(1).processing();
  await worker.file(0).completed();
  await worker.file(1).failed("timeout");
  await worker.stage(1).completed("# extracted");
  await worker.charge(1, "pages");
  await worker.refund(1, "goodwill");
  await worker.metrics({ pages: 2, tokens: { in: 10 } });
  // Completing the last stage completes the run.
  await worker.stage(2).completed();
  const detail = await unwrap(worker_client.GET("/v1/runs/{run_id}", { params: { path: { run_id: run.run_id } } }));
  assert.equal(detail.status, "completed_with_errors");
  assert.equal(detail.credits_charged, 1);
  assert.deepEqual(detail.metrics, { pages: 2, tokens: { in: 10 } });
  assert.ok(detail.started_at && detail.finished_at && detail.stages[0].started_at && detail.stages[0].completed_at);

  const summarized = await unwrap(worker_client.POST("/v1/runs", { body: { owner_id: "ada" } }));
  const summary = runWorker(worker_client, summarized.run_id);
  await summary.start();
  await summary.complete({ output: "# summary", metrics: { seconds: 3 } });
  const ended = await unwrap(worker_client.GET("/v1/runs/{run_id}", { params: { path: { run_id: summarized.run_id } } }));
  assert.equal(ended.status, "completed");
  assert.equal(ended.output, "# summary");
  assert.deepEqual(ended.metrics, { seconds: 3 });

  const stream = `run-${run.run_id}`;
  const first = [];
  const controller = new AbortController();
  for await (const event of followEvents(client, { signal: controller.signal })) {
    if (event.stream_id === stream) first.push(event.global_position);
    if (first.length === 4) break;
  }
  controller.abort();
  const resumed = [];
  const again = new AbortController();
  for await (const event of followEvents(client, { after: first[3], signal: again.signal })) {
    if (event.stream_id === stream) resumed.push(event.global_position);
    if (event.event_type === "run.completed" && event.stream_id === stream) break;
  }
  again.abort();
  const positions = [...first, ...resumed];
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b), "in order");
  assert.equal(new Set(positions).size, positions.length, "no repeat");
  assert.equal(positions.length, detail.version + 1, "every event of the run");

  // A rerun, its lineage, and the tenant's credit ledger.
  const rerun = await unwrap(worker_client.POST("/v1/runs/{run_id}/rerun", {
    params: { path: { run_id: run.run_id } },
  }));
  assert.equal(rerun.rerun_of, run.run_id);
  const lineage = await unwrap(worker_client.GET("/v1/runs/{run_id}/lineage", {
    params: { path: { run_id: run.run_id } },
  }));
  assert.equal(lineage.run_count, 2);
  const ledger = await unwrap(worker_client.GET("/v1/accounts/{tenant_id}/ledger", {
    params: { path: { tenant_id: tenant } },
  }));
  const kinds = new Set(ledger.entries.map((entry) => entry.kind));
  assert.ok(kinds.has("grant") && kinds.has("deduction") && kinds.has("refund"), [...kinds].join());
});
