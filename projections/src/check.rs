//! Comparing the read models with a fresh fold of the log, for
//! `run-ledger verify`.

use std::collections::BTreeMap;

use ledger_domain::account::{self, AccountState};
use ledger_domain::events::{AccountEvent, RunEvent};
use ledger_domain::run::{self, RunState};
use ledger_store::{EventStore, PgEventStore, ReadUntil};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::ProjectionError;

/// Folds every run and account stream afresh, each up to its read model's
/// checkpoint (so events not applied yet are no difference), and lists
/// where the read models differ (empty: they agree).
///
/// # Errors
/// Database failures and events that cannot be decoded.
pub async fn compare_with_log(
    pool: &PgPool,
    store: &PgEventStore,
) -> Result<Vec<String>, ProjectionError> {
    let run_history = crate::checkpoint(pool, crate::ReadModel::RunHistory).await?;
    let credits = crate::checkpoint(pool, crate::ReadModel::Credits).await?;
    let mut differences = Vec::new();
    let mut projected_runs: BTreeMap<Uuid, (RunState, i64)> = BTreeMap::new();
    for row in sqlx::query("SELECT run_id, state, version FROM runs")
        .fetch_all(pool)
        .await?
    {
        projected_runs.insert(
            row.try_get("run_id")?,
            (
                crate::run_history::json_column(&row, "state")?,
                row.try_get("version")?,
            ),
        );
    }
    for stream_id in store.stream_ids(None).await? {
        let applied_up_to = if stream_id.starts_with("run-") {
            run_history
        } else {
            credits
        };
        let mut events = match store.read_stream(&stream_id, 0, ReadUntil::End).await {
            Ok(events) => events,
            // An unreadable event the read model has not reached yet is no
            // difference (the projector stops there and says so); one it
            // has passed cannot be checked.
            Err(ledger_store::ReadError::Undecodable {
                position,
                stream_version,
                reason,
                ..
            }) => {
                if position <= applied_up_to || stream_version == 0 {
                    differences.push(format!(
                        "{stream_id}: the event at position {position} cannot be read: {reason}"
                    ));
                    continue;
                }
                store
                    .read_stream(&stream_id, 0, ReadUntil::Version(stream_version - 1))
                    .await?
            }
            Err(error) => return Err(error.into()),
        };
        events.retain(|event| event.global_position <= applied_up_to);
        if events.is_empty() {
            continue;
        }
        if let Some(run_id) = stream_id
            .strip_prefix("run-")
            .and_then(|id| id.parse::<Uuid>().ok())
        {
            let mut state = RunState::default();
            for event in &events {
                let decoded: RunEvent = crate::decode_recorded(event)?;
                state = run::evolve(state, &decoded);
            }
            match projected_runs.remove(&run_id) {
                None => differences.push(format!("runs: {run_id} is missing")),
                Some((projected, version)) => {
                    // Compared as states, not as text: rows written by
                    // an earlier version spell unset fields out.
                    if projected != state {
                        differences.push(format!("runs: {run_id} differs from its events"));
                    }
                    let last = events
                        .last()
                        .map_or(-1, |event| event.stream_version as i64);
                    if version != last {
                        differences.push(format!(
                            "runs: {run_id} is at version {version}, its stream at {last}"
                        ));
                    }
                }
            }
        } else if let Some(tenant) = stream_id.strip_prefix("account-") {
            let mut state = AccountState::default();
            for event in &events {
                let decoded: AccountEvent = crate::decode_recorded(event)?;
                state = account::evolve(state, &decoded);
            }
            let row = sqlx::query("SELECT monthly, purchased, consumed, refunded, granted FROM credit_balances WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(pool)
                .await?;
            let projected = match row {
                Some(row) => Some(AccountState {
                    monthly: row.try_get("monthly")?,
                    purchased: row.try_get("purchased")?,
                    consumed: row.try_get("consumed")?,
                    refunded: row.try_get("refunded")?,
                    granted: row.try_get("granted")?,
                }),
                None => None,
            };
            if projected.as_ref() != Some(&state) {
                differences.push(format!(
                    "credit_balances: {tenant} is {projected:?}, its events give {state:?}"
                ));
            }
            let entries: i64 =
                sqlx::query_scalar("SELECT count(*) FROM credit_ledger WHERE tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(pool)
                    .await?;
            if entries as usize != events.len() {
                differences.push(format!(
                    "credit_ledger: {tenant} has {entries} entries for {} events",
                    events.len()
                ));
            }
        }
    }
    for run_id in projected_runs.keys() {
        differences.push(format!("runs: {run_id} has no events"));
    }
    Ok(differences)
}
