// The TypeScript client against a running service (run by
// tests/api/clients.rs): RUN_LEDGER_URL, RUN_LEDGER_KEY (append+read of
// RUN_LEDGER_TENANT), RUN_LEDGER_ADMIN_KEY.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { createClient, unwrap, LedgerError } from "../src/index.js";

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
