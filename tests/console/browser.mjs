// The console in a real browser: headless Chromium from Debian's package,
// driven by playwright-core. `tests/api/console.rs` starts the service,
// records the runs this script looks at, and passes them in the
// environment. Each step says what it checks; the first that fails ends
// the script with a message and a screenshot under SCREENSHOTS.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const { chromium } = await import(process.env.PLAYWRIGHT_CORE);
const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
};
const base = env("RUN_LEDGER_URL");
const ownKey = env("TENANT_KEY");
const otherKey = env("OTHER_TENANT_KEY");
const runs = {
  live: env("LIVE_RUN"),
  done: env("DONE_RUN"),
  failedFiles: env("FAILED_FILES_RUN"),
  markup: env("MARKUP_RUN"),
};
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
const problems = [];
// A refused request (a wrong key, another tenant's run) logs a failed
// load, which is the point of those steps; a policy violation or a script
// error is never expected.
page.on("console", (message) => {
  if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
    problems.push(message.text());
  }
});
page.on("pageerror", (error) => problems.push(error.message));

const api = async (method, path, key, body) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", "X-Actor-Id": "ada" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
};

let step = "start";
const check = async (name, body) => {
  step = name;
  await body();
  process.stdout.write(`ok - ${name}\n`);
};
const shoot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

// axe-core, an accessibility checker this project did not write, run on a
// page as it is (evaluated through the browser's protocol, which the
// page's policy does not govern): WCAG 2 A and AA rules.
const axeSource = readFileSync(env("AXE_CORE"), "utf8");
const accessible = async (name) => {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  const violations = results.violations.map(
    (violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join(", ")})`,
  );
  assert.ok(results.passes.length >= 10, `axe checked ${name} (${results.passes.length} rules passed)`);
  assert.deepEqual(violations, [], `${name} has accessibility violations`);
};

async function signIn(key, actor) {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel("API key").fill(key);
  await page.getByLabel("Acting as").fill(actor);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/console/runs`);
}

async function signOut() {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/console/sign-in`);
}

try {
  await check("the sign-in form has its labelled fields and a strict policy", async () => {
    const response = await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, "/console/sign-in");
    const policy = response.headers()["content-security-policy"];
    assert.match(policy, /script-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    await page.getByLabel("API key").waitFor();
    await page.getByLabel("Acting as").waitFor();
    await shoot("sign-in");
    await accessible("sign-in");
  });

  await check("a wrong key is refused with a message", async () => {
    await page.getByLabel("API key").fill("rlk_nope");
    await page.getByLabel("Acting as").fill("ada");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Unknown, revoked or expired key/);
  });

  await check("signing in opens the list of the tenant's runs, newest first", async () => {
    await signIn(ownKey, "ada");
    const rows = page.locator("table.runs tbody tr");
    assert.equal(await rows.count(), 4);
    const first = await rows.first().getAttribute("data-run");
    assert.equal(first, runs.markup, "the newest run first");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "rl_console");
    assert.ok(session.httpOnly, "the session cookie is HttpOnly");
    assert.equal(session.sameSite, "Strict");
    const visible = await page.evaluate(() => document.cookie);
    assert.equal(visible, "", "no cookie reaches page scripts");
    await shoot("runs");
    await accessible("runs");
  });

  await check("filters narrow the list", async () => {
    await page.getByLabel("Status").selectOption("running");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=running/);
    const rows = page.locator("table.runs tbody tr");
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute("data-run"), runs.live);
  });

  await check("a new run appears in the list without a reload", async () => {
    await page.goto(`${base}/console/runs`);
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    await page.waitForFunction(() => document.body.dataset.live === "open");
    const created = await api("POST", "/v1/runs", ownKey, {
      owner_id: "ada",
      document: { name: "Arrived live.pdf", url: "https://blob/live.pdf" },
    });
    assert.equal(created.status, 201);
    await page.getByRole("link", { name: "Arrived live.pdf" }).waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
  });

  await check("a document name with markup shows as text and runs no script", async () => {
    await page.goto(`${base}/console/runs`);
    const cell = page.locator(`tr[data-run="${runs.markup}"] td a`).first();
    assert.equal(await cell.innerText(), `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`);
    await page.goto(`${base}/console/runs/${runs.markup}`);
    assert.match(await page.locator("h1").innerText(), /<script>window.__xss=2<\/script>/);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  await check("opening a run shows its stages, files and times", async () => {
    await page.goto(`${base}/console/runs`);
    await page.getByRole("link", { name: "Q3 report.pdf" }).click();
    await page.waitForURL(`${base}/console/runs/${runs.live}`);
    assert.equal(await page.locator("h1").innerText(), "Q3 report.pdf");
    const stages = page.locator("table.stages tbody tr");
    assert.match(await stages.nth(0).innerText(), /extract\s+processing/);
    await page.locator("svg.timeline rect").first().waitFor();
    await shoot("run");
    await accessible("run");
  });

  await check("a stage update made through the API appears without a reload", async () => {
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    await page.waitForFunction(() => document.body.dataset.live === "open");
    const reported = await api("POST", `/v1/runs/${runs.live}/events`, ownKey, {
      events: [{ type: "run.stage_updated", data: { stage: 1, status: "completed", output: "# extracted" } }],
    });
    assert.equal(reported.status, 200);
    await page.locator("table.stages tbody tr", { hasText: "extract" }).filter({ hasText: "completed" }).waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
  });

  await check("rerun through the dialog shows the new run with (rerun)", async () => {
    await page.goto(`${base}/console/runs/${runs.done}`);
    assert.equal(await page.getByRole("button", { name: "Retry run" }).count(), 0, "a completed run has no retry");
    await page.getByRole("button", { name: "Rerun" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await shoot("rerun-dialog");
    await accessible("rerun-dialog");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(runs.done) && url.pathname.startsWith("/console/runs/"));
    assert.match(await page.locator("h1").innerText(), / \(rerun\)$/);
    assert.match(await page.getByRole("status").innerText(), /Rerun started/);
    const newRun = new URL(page.url()).pathname.split("/").pop();
    const stored = await api("GET", `/v1/runs/${newRun}`, ownKey);
    assert.equal(stored.body.rerun_of, runs.done);
  });

  await check("retry-failed without enough credits says so and changes nothing", async () => {
    const before = await api("GET", `/v1/runs/${runs.failedFiles}/events`, ownKey);
    await page.goto(`${base}/console/runs/${runs.failedFiles}`);
    await page.getByRole("button", { name: "Retry failed files" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.equal(await alert.innerText(), "Insufficient credits");
    const after = await api("GET", `/v1/runs/${runs.failedFiles}/events`, ownKey);
    assert.equal(after.body.events.length, before.body.events.length, "no event was appended");
    await shoot("refused");
  });

  await check("the credits page shows the balance and the ledger", async () => {
    await page.getByRole("link", { name: "Credits" }).click();
    await page.waitForURL(`${base}/console/credits`);
    assert.match(await page.locator("h1").innerText(), /Credits of acme/);
    await page.locator("dl.balance").waitFor();
    await shoot("credits");
    await accessible("credits");
  });

  await check("a project page shows its latest run and its history", async () => {
    await page.goto(`${base}/console/runs/${runs.done}`);
    await page.getByRole("link", { name: "quarterly" }).click();
    await page.waitForURL(`${base}/console/projects/quarterly`);
    assert.match(await page.locator("h1").innerText(), /Project quarterly/);
    assert.ok((await page.locator("table.runs tbody tr").count()) >= 1);
    await shoot("project");
    await accessible("project");
  });

  await check("the documented browser snippet follows a run with a stream token", async () => {
    const snippet = env("EVENTSOURCE_SNIPPET");
    await page.evaluate(`(async () => {
      const baseUrl = ${JSON.stringify(base)};
      const runId = ${JSON.stringify(runs.live)};
      const ledger = { POST: (path) => fetch(baseUrl + path, { method: "POST",
        headers: { Authorization: "Bearer " + ${JSON.stringify(ownKey)} } }).then(async (response) => ({ data: await response.json(), response })) };
      const unwrap = async (call) => (await call).data;
      window.__followed = [];
      const render = (run) => window.__followed.push(run);
      ${snippet}
    })()`);
    await page.waitForFunction(() => window.__followed.length > 0);
    const first = await page.evaluate(() => window.__followed[0]);
    assert.equal(first.run_id, runs.live);
  });

  const sessionCookie = (await context.cookies()).find((cookie) => cookie.name === "rl_console");

  await check("sign-out ends the session, and its cookie opens nothing", async () => {
    await signOut();
    await page.goto(`${base}/console/runs`);
    assert.equal(new URL(page.url()).pathname, "/console/sign-in");
    await context.addCookies([sessionCookie]);
    await page.goto(`${base}/console/runs`);
    assert.equal(new URL(page.url()).pathname, "/console/sign-in", "the old cookie no longer works");
  });

  await check("a key of another tenant cannot open the run", async () => {
    await signIn(otherKey, "eve");
    assert.equal(await page.locator("table.runs tbody tr").count(), 0);
    const response = await page.goto(`${base}/console/runs/${runs.live}`);
    assert.equal(response.status(), 404);
    assert.match(await page.getByRole("alert").innerText(), /Run not found/);
    await signOut();
  });

  await check("an admin key sees operations: projections, checkpoint, a whole-log verification", async () => {
    await signIn(env("ADMIN_KEY"), "root");
    await page.getByRole("link", { name: "Operations" }).click();
    await page.waitForURL(`${base}/console/operations`);
    assert.match(await page.locator("table.projections").innerText(), /run_history/);
    await page.getByRole("button", { name: "Verify the whole log" }).click();
    const verified = page.getByRole("status");
    await verified.waitFor();
    assert.match(await verified.innerText(), /^Verified: \d+ streams, \d+ events/);
    await shoot("operations");
    await accessible("operations");
    await signOut();
  });

  await check("at 360 px wide the run page still fits", async () => {
    await signIn(ownKey, "ada");
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`${base}/console/runs/${runs.live}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    await shoot("run-narrow");
  });

  await check("no page broke its content security policy or threw", async () => {
    assert.deepEqual(problems, []);
  });
} catch (error) {
  await shoot("failure").catch(() => {});
  process.stdout.write(`not ok - ${step}\n${error.stack}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
