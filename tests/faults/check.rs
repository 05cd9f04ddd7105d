//! The checker, run after quiescence: every acknowledged operation's
//! events, found by the ids its answer names, in the log exactly once; no
//! failed operation's events present; chains and read models verified
//! against a fresh replay; and no bucket below zero at any position of the
//! log, folded from the amounts alone, with the `*_after` fields the
//! service wrote equal to that fold.

use std::collections::{BTreeSet, HashMap};

use ledger_domain::events::{AccountEvent, Bucket, StreamEvent};
use serde_json::{json, Value};

use crate::load::{Op, Outcome};
use crate::rig::Rig;

/// One logged event, as the checker needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Logged {
    pub position: i64,
    pub event_id: uuid::Uuid,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    /// `{tenant}/{idempotency key}`: keys are scoped by tenant.
    pub key: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The whole log, in position order.
pub async fn read_log(rig: &Rig) -> Vec<Logged> {
    let pool = rig.pool().await;
    let log = sqlx::query_as(
        "SELECT global_position AS position, event_id, stream_id, stream_version AS version,
                event_type, schema_version, data,
                COALESCE(tenant_id, '') || '/' || (metadata->>'idempotency_key') AS key,
                recorded_at
         FROM events ORDER BY global_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    log
}

/// What the checker found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Ok operations whose effect is missing from the log.
    pub lost: Vec<String>,
    /// Operations applied more than once.
    pub duplicated: Vec<String>,
    /// Failed operations whose events are in the log.
    pub failed_present: Vec<String>,
    /// Operations still unknown after settling.
    pub unknown: usize,
    /// Positions are not 1..n, or a stream's versions are not 0..n.
    pub gaps: Vec<String>,
    /// The lowest bucket of any account at any position, folded from the
    /// amounts alone.
    pub minimum_balance: i64,
    /// Account events whose `*_after` fields are not that fold.
    pub balance_disagreements: Vec<String>,
    /// `run-ledger verify`'s verdict and report.
    pub verified: bool,
    pub verify_report: String,
}

impl Findings {
    pub fn passed(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.failed_present.is_empty()
            && self.unknown == 0
            && self.gaps.is_empty()
            && self.minimum_balance >= 0
            && self.balance_disagreements.is_empty()
            && self.verified
    }

    pub fn figures(&self) -> Value {
        json!({
            "lost": self.lost.len(),
            "duplicated": self.duplicated.len(),
            "failed_present": self.failed_present.len(),
            "unknown_after_settling": self.unknown,
            "gaps": self.gaps.len(),
            "minimum_balance": self.minimum_balance,
            "balance_disagreements": self.balance_disagreements.len(),
            "verify": self.verified,
        })
    }

    pub fn explain(&self) -> String {
        format!(
            "lost {:?}\nduplicated {:?}\nfailed present {:?}\ngaps {:?}\nunknown {}\nminimum balance {}\nbalance disagreements {:?}\n{}",
            self.lost.iter().take(5).collect::<Vec<_>>(),
            self.duplicated.iter().take(5).collect::<Vec<_>>(),
            self.failed_present.iter().take(5).collect::<Vec<_>>(),
            self.gaps.iter().take(5).collect::<Vec<_>>(),
            self.unknown,
            self.minimum_balance,
            self.balance_disagreements.iter().take(5).collect::<Vec<_>>(),
            self.verify_report
        )
    }
}

/// Checks the log against the operations, after waiting for the read
/// models to catch up.
pub async fn check(rig: &Rig, ops: &[Op]) -> Findings {
    rig.wait_caught_up().await;
    let log = read_log(rig).await;
    let (minimum_balance, balance_disagreements) = balances(&log);
    let mut findings = Findings {
        minimum_balance,
        balance_disagreements,
        ..Findings::default()
    };
    for (index, event) in log.iter().enumerate() {
        if event.position != index as i64 + 1 {
            findings
                .gaps
                .push(format!("position {} at index {index}", event.position));
            break;
        }
    }
    let mut versions: HashMap<&str, i64> = HashMap::new();
    for event in &log {
        let next = versions.entry(&event.stream_id).or_insert(0);
        if event.version != *next {
            findings.gaps.push(format!(
                "{} version {} after {}",
                event.stream_id,
                event.version,
                *next - 1
            ));
        }
        *next = event.version + 1;
    }
    let mut by_id: HashMap<uuid::Uuid, usize> = HashMap::new();
    for event in &log {
        *by_id.entry(event.event_id).or_default() += 1;
    }
    let mut by_key: HashMap<String, Vec<&Logged>> = HashMap::new();
    for event in &log {
        if let Some(key) = &event.key {
            by_key.entry(key.clone()).or_default().push(event);
        }
    }
    for op in ops {
        let events = by_key
            .get(format!("{}/{}", op.tenant, op.key).as_str())
            .map_or(&[][..], Vec::as_slice);
        // One application of a command is one append: one recorded_at.
        let appends: BTreeSet<_> = events.iter().map(|event| event.recorded_at).collect();
        if appends.len() > 1 {
            findings.duplicated.push(format!(
                "{} {} applied {} times",
                op.kind,
                op.key,
                appends.len()
            ));
        }
        match &op.outcome {
            Outcome::Unknown(_) => findings.unknown += 1,
            Outcome::Fail(status, _) if !events.is_empty() => {
                findings.failed_present.push(format!(
                    "{} {} answered {status} but has {} events",
                    op.kind,
                    op.key,
                    events.len()
                ))
            }
            Outcome::Fail(..) => {}
            Outcome::Ok(status, body) => {
                let expected = expected_events(body);
                if expected.is_empty() && *status == 201 {
                    findings.lost.push(format!(
                        "{} {}: answered {status} naming no event",
                        op.kind, op.key
                    ));
                }
                for id in &expected {
                    match by_id.get(id).copied().unwrap_or(0) {
                        1 => {}
                        0 => findings
                            .lost
                            .push(format!("{} {}: event {id} missing", op.kind, op.key)),
                        n => findings.duplicated.push(format!(
                            "{} {}: event {id} in the log {n} times",
                            op.kind, op.key
                        )),
                    }
                }
            }
        }
    }
    let (verified, report) = rig.verify();
    findings.verified = verified;
    findings.verify_report = report;
    findings
}

/// The event ids an ok answer says were appended: every command answers
/// with `appended`.
fn expected_events(body: &Value) -> Vec<uuid::Uuid> {
    body["appended"]
        .as_array()
        .map(|appended| {
            appended
                .iter()
                .filter_map(|event| event["event_id"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Buckets folded from the amounts of account events alone.
#[derive(Debug, Default, Clone, Copy)]
struct Buckets {
    monthly: i64,
    purchased: i64,
}

/// Folds every account stream along the log from the amounts alone (a
/// grant's bucket and amount, a deduction's or refund's split), never from
/// the `monthly_after` / `purchased_after` fields the service wrote: the
/// lowest bucket seen, and every event whose `*_after` fields disagree with
/// that fold.
pub fn balances(log: &[Logged]) -> (i64, Vec<String>) {
    let mut accounts: HashMap<&str, Buckets> = HashMap::new();
    let mut minimum = i64::MAX;
    let mut disagreements = Vec::new();
    for event in log
        .iter()
        .filter(|event| event.stream_id.starts_with("account-"))
    {
        let decoded = AccountEvent::decode(
            &event.event_type,
            event.schema_version as u32,
            event.data.clone(),
        )
        .expect("account events decode");
        let buckets = accounts.entry(event.stream_id.as_str()).or_default();
        let (monthly_after, purchased_after) = match &decoded {
            AccountEvent::CreditsGranted(grant) => {
                match grant.bucket {
                    Bucket::Monthly => buckets.monthly += grant.amount,
                    Bucket::Purchased => buckets.purchased += grant.amount,
                }
                (grant.monthly_after, grant.purchased_after)
            }
            AccountEvent::CreditsDeducted(deduction) => {
                buckets.monthly -= deduction.split.monthly;
                buckets.purchased -= deduction.split.purchased;
                (deduction.monthly_after, deduction.purchased_after)
            }
            AccountEvent::CreditsRefunded(refund) => {
                buckets.monthly += refund.split.monthly;
                buckets.purchased += refund.split.purchased;
                (refund.monthly_after, refund.purchased_after)
            }
        };
        minimum = minimum.min(buckets.monthly).min(buckets.purchased);
        if (monthly_after, purchased_after) != (buckets.monthly, buckets.purchased) {
            disagreements.push(format!(
                "{} version {}: says monthly {monthly_after} purchased {purchased_after}, \
                 the amounts fold to {} and {}",
                event.stream_id, event.version, buckets.monthly, buckets.purchased
            ));
        }
    }
    (if minimum == i64::MAX { 0 } else { minimum }, disagreements)
}
