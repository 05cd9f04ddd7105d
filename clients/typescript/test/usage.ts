// Compiled with `tsc --noEmit --strict` by tests/api/clients.rs: the
// client's types are enough to use the API without a single cast.
import { createClient, unwrap, LedgerError, type Schemas } from "../src/index.js";

export async function usage(baseUrl: string, apiKey: string): Promise<number> {
  const client = createClient({ baseUrl, apiKey, actorId: "ada" });
  const created = await unwrap(
    client.POST("/v1/runs", {
      body: { owner_id: "ada", files: [{ name: "a.pdf" }], stages: ["extract"] },
      params: { header: { "Idempotency-Key": "k-1" } },
    }),
  );
  const status: Schemas["RunStatus"] = created.status;
  const run = await unwrap(
    client.GET("/v1/runs/{run_id}", {
      params: { path: { run_id: created.run_id }, query: { min_position: created.global_position ?? 0 } },
    }),
  );
  const failed: Schemas["FileStatus"][] = run.files.map((file) => file.status);
  // Each fact's data is typed by its `type`.
  await unwrap(
    client.POST("/v1/runs/{run_id}/events", {
      params: { path: { run_id: created.run_id } },
      body: {
        events: [
          { type: "run.stage_updated", data: { stage: 1, status: "completed", output: "# Done" } },
          { type: "run.file_updated", data: { index: 0, status: "failed", error: "timeout" } },
          { type: "run.completed" },
        ],
      },
    }),
  );
  const page = await unwrap(client.GET("/v1/runs", { params: { query: { status: "running", limit: 10 } } }));
  try {
    await unwrap(client.GET("/v1/accounts/{tenant_id}/balance", { params: { path: { tenant_id: "other" } } }));
  } catch (error) {
    if (error instanceof LedgerError && error.code === "account_not_found") return -1;
  }
  return page.runs.length + failed.length + (status === "queued" ? 1 : 0);
}
