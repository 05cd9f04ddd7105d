//! The load client: a seeded mixed workload over HTTP, every operation with
//! an idempotency key of its own, each recorded as ok, fail or unknown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::rig::ADMIN_KEY;

/// A small deterministic generator (SplitMix64): the workload is a function
/// of the seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    pub fn uuid(&mut self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(
            ((u128::from(self.next()) << 64) | u128::from(self.next())).to_be_bytes(),
        )
        .into_uuid()
    }
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 2xx, with the body.
    Ok(u16, Value),
    /// A definite refusal (4xx other than 408/429).
    Fail(u16, Value),
    /// Timeout, reset, refused connection or 5xx: it may or may not have happened.
    Unknown(String),
}

impl Outcome {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_))
    }
}

/// One operation and what became of it.
#[derive(Debug, Clone)]
pub struct Op {
    pub kind: &'static str,
    /// The tenant the key acts for.
    pub tenant: String,
    pub key: String,
    pub bearer: String,
    pub path: String,
    pub body: Option<Value>,
    pub actor: Option<String>,
    /// The tenant index and run a create makes.
    pub creates: Option<(usize, uuid::Uuid)>,
    pub outcome: Outcome,
    /// Statuses seen, first attempt first.
    pub attempts: Vec<String>,
}

impl Op {
    pub fn new(kind: &'static str, tenant: &Tenant, path: String, body: Option<Value>) -> Self {
        Op {
            kind,
            tenant: tenant.id.clone(),
            key: uuid::Uuid::new_v4().to_string(),
            bearer: tenant.key.clone(),
            path,
            body,
            actor: None,
            creates: None,
            outcome: Outcome::Unknown("not sent".into()),
            attempts: vec![],
        }
    }
}

/// Sends `op` once and records the outcome.
pub async fn send(client: &reqwest::Client, base: &str, op: &mut Op) {
    let mut request = client
        .post(format!("{base}{}", op.path))
        .bearer_auth(&op.bearer)
        .header("Idempotency-Key", &op.key);
    if let Some(actor) = &op.actor {
        request = request.header("X-Actor-Id", actor);
    }
    if let Some(body) = &op.body {
        request = request.json(body);
    }
    op.outcome = match request.send().await {
        Err(error) => Outcome::Unknown(error.to_string()),
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            match status {
                200..=299 => Outcome::Ok(status, body),
                408 | 429 => Outcome::Unknown(status.to_string()),
                400..=499 => Outcome::Fail(status, body),
                _ => Outcome::Unknown(status.to_string()),
            }
        }
    };
    op.attempts.push(match &op.outcome {
        Outcome::Ok(status, _) | Outcome::Fail(status, _) => status.to_string(),
        Outcome::Unknown(why) if why.len() <= 3 => why.clone(),
        Outcome::Unknown(_) => "error".into(),
    });
}

/// Retries every unknown operation with its own key until each is ok or
/// fail, or `deadline` passes.
pub async fn settle(client: &reqwest::Client, base: &str, ops: &mut [Op], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut unknown = 0;
        for op in ops.iter_mut().filter(|op| op.outcome.is_unknown()) {
            send(client, base, op).await;
            unknown += usize::from(op.outcome.is_unknown());
        }
        if unknown == 0 || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A tenant with an append+read key.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub key: String,
}

/// Creates `count` tenants with keys and grants each `credits`.
pub async fn tenants(
    client: &reqwest::Client,
    base: &str,
    count: usize,
    credits: i64,
) -> Vec<Tenant> {
    let mut tenants = Vec::new();
    for index in 0..count {
        let id = format!("tenant-{index}");
        let created: Value = client
            .post(format!("{base}/v1/keys"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({ "tenant_id": id, "scopes": ["append", "read"] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = created["key"].as_str().expect("a key").to_owned();
        let granted = client
            .post(format!("{base}/v1/accounts/{id}/grants"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({ "bucket": "monthly", "amount": credits }))
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 201);
        tenants.push(Tenant { id, key });
    }
    tenants
}

/// A run body with three files and two stages.
pub fn run_body(run_id: uuid::Uuid) -> Value {
    json!({
        "run_id": run_id,
        "owner_id": "rig",
        "stages": ["extract", "load"],
        "files": [{"name": "a.pdf"}, {"name": "b.pdf"}, {"name": "c.pdf"}],
        "credits_per_file": 1,
    })
}

fn facts(events: Value) -> Option<Value> {
    Some(json!({ "events": events }))
}

/// The mixed workload of F1 and F2: creates, stage and file updates,
/// charges, refunds, retry-failed and reruns over many runs and tenants.
pub fn next_op(rng: &mut Rng, tenants: &[Tenant], runs: &Mutex<Vec<(usize, uuid::Uuid)>>) -> Op {
    let roll = rng.below(100);
    let picked = {
        let known = runs.lock().unwrap();
        (!known.is_empty()).then(|| known[rng.below(known.len() as u64) as usize])
    };
    if picked.is_none() || roll < 20 {
        let tenant = rng.below(tenants.len() as u64) as usize;
        let run_id = rng.uuid();
        let mut op = Op::new(
            "create",
            &tenants[tenant],
            "/v1/runs".into(),
            Some(run_body(run_id)),
        );
        op.creates = Some((tenant, run_id));
        return op;
    }
    let (tenant, run_id) = picked.expect("a known run");
    let key = &tenants[tenant];
    let path = format!("/v1/runs/{run_id}/events");
    match roll {
        20..=39 => Op::new(
            "charge",
            key,
            path,
            facts(json!([{"type": "run.credits_deducted", "data": {"amount": 1 + rng.below(3)}}])),
        ),
        40..=49 => Op::new(
            "refund",
            key,
            path,
            facts(json!([{"type": "run.refunded", "data": {"amount": 1}}])),
        ),
        50..=64 => {
            let status = ["processing", "completed", "failed"][rng.below(3) as usize];
            Op::new(
                "stage",
                key,
                path,
                facts(
                    json!([{"type": "run.stage_updated", "data": {"stage": rng.below(2), "status": status}}]),
                ),
            )
        }
        65..=84 => {
            let status = ["completed", "failed"][rng.below(2) as usize];
            Op::new(
                "file",
                key,
                path,
                facts(
                    json!([{"type": "run.file_updated", "data": {"index": rng.below(3), "status": status}}]),
                ),
            )
        }
        85..=94 => Op::new(
            "retry_failed",
            key,
            format!("/v1/runs/{run_id}/retry-failed"),
            None,
        ),
        _ => {
            let mut op = Op::new("rerun", key, format!("/v1/runs/{run_id}/rerun"), None);
            op.actor = Some("rig".into());
            op
        }
    }
}

/// Runs `clients` loops of the mixed workload until `stop` is set; the
/// base URL is read for every request, so the service may move.
pub async fn mixed_load(
    client: reqwest::Client,
    base: String,
    tenants: Vec<Tenant>,
    clients: usize,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> Vec<Op> {
    let runs: Arc<Mutex<Vec<(usize, uuid::Uuid)>>> = Arc::default();
    let tasks: Vec<_> = (0..clients)
        .map(|index| {
            let (client, base, tenants, runs, stop) = (
                client.clone(),
                base.clone(),
                tenants.clone(),
                runs.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
                let mut ops = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let mut op = next_op(&mut rng, &tenants, &runs);
                    send(&client, &base, &mut op).await;
                    if let (Some(created), Outcome::Ok(..)) = (op.creates, &op.outcome) {
                        runs.lock().unwrap().push(created);
                    }
                    if op.outcome.is_unknown() {
                        // The service is down or failing: do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    ops.push(op);
                }
                ops
            })
        })
        .collect();
    let mut ops = Vec::new();
    for task in tasks {
        ops.extend(task.await.unwrap());
    }
    ops
}

/// Counts of outcomes.
pub fn tally(ops: &[Op]) -> Value {
    let count = |test: fn(&Outcome) -> bool| ops.iter().filter(|op| test(&op.outcome)).count();
    json!({
        "ops": ops.len(),
        "ok": count(|outcome| matches!(outcome, Outcome::Ok(..))),
        "fail": count(|outcome| matches!(outcome, Outcome::Fail(..))),
        "unknown": count(Outcome::is_unknown),
        "retried": ops.iter().filter(|op| op.attempts.len() > 1).count(),
    })
}

/// The mixed workload running in the background until stopped.
pub struct BackgroundLoad {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Op>>,
}

impl BackgroundLoad {
    /// Starts `clients` loops of the mixed workload against `base`.
    pub fn start(
        client: &reqwest::Client,
        base: String,
        tenants: &[Tenant],
        clients: usize,
        seed: u64,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(mixed_load(
            client.clone(),
            base,
            tenants.to_vec(),
            clients,
            seed,
            stop.clone(),
        ));
        BackgroundLoad { stop, task }
    }

    /// Stops the clients and returns every operation they made.
    pub async fn stop(self) -> Vec<Op> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the load finished")
    }
}
