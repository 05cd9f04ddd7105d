//! Credit balances (one row per tenant) and the credit ledger (one row per
//! grant, deduction and refund), from account streams.

use ledger_domain::events::{AccountEvent, Bucket, BucketSplit};
use ledger_domain::ACCOUNT_STREAM_PREFIX;
use ledger_store::FeedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;

/// Applies a batch of events (those of account streams; others are ignored).
///
/// # Errors
/// An event that cannot be decoded, or a database failure.
pub async fn apply(conn: &mut PgConnection, events: &[FeedEvent]) -> Result<(), ProjectionError> {
    let mut entries: Vec<(&str, &FeedEvent, LedgerEntry)> = Vec::new();
    for recorded in events {
        let Some(tenant_id) = recorded.stream_id.strip_prefix(ACCOUNT_STREAM_PREFIX) else {
            continue;
        };
        let event: AccountEvent = crate::decode(recorded)?;
        entries.push((tenant_id, recorded, LedgerEntry::of(&event)));
    }
    if entries.is_empty() {
        return Ok(());
    }
    // One balance row per tenant: the last entry's buckets, the batch's sums.
    let mut balances: Vec<Balance> = Vec::new();
    for (tenant_id, recorded, entry) in &entries {
        let index = match balances.iter().position(|b| b.tenant_id == *tenant_id) {
            Some(index) => index,
            None => {
                balances.push(Balance {
                    tenant_id: (*tenant_id).to_owned(),
                    ..Balance::default()
                });
                balances.len() - 1
            }
        };
        let balance = &mut balances[index];
        match entry.kind {
            "grant" => balance.granted += entry.amount,
            "deduction" => balance.consumed += entry.amount,
            _ => balance.refunded += entry.amount,
        }
        balance.monthly = entry.monthly_after;
        balance.purchased = entry.purchased_after;
        balance.updated_at = Some(recorded.recorded_at);
        balance.last_position = recorded.global_position as i64;
    }
    sqlx::query(
        "INSERT INTO credit_balances (tenant_id, monthly, purchased, total, consumed, refunded, granted, updated_at, last_position)
         SELECT tenant_id, monthly, purchased, monthly + purchased, consumed, refunded, granted, updated_at, last_position
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                     $7::timestamptz[], $8::bigint[])
              AS b(tenant_id, monthly, purchased, consumed, refunded, granted, updated_at, last_position)
         ON CONFLICT (tenant_id) DO UPDATE SET
           monthly = EXCLUDED.monthly, purchased = EXCLUDED.purchased, total = EXCLUDED.total,
           consumed = credit_balances.consumed + EXCLUDED.consumed,
           refunded = credit_balances.refunded + EXCLUDED.refunded,
           granted = credit_balances.granted + EXCLUDED.granted,
           updated_at = EXCLUDED.updated_at, last_position = EXCLUDED.last_position",
    )
    .bind(balances.iter().map(|b| b.tenant_id.clone()).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.monthly).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.purchased).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.consumed).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.refunded).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.granted).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.updated_at).collect::<Vec<_>>())
    .bind(balances.iter().map(|b| b.last_position).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO credit_ledger (global_position, tenant_id, kind, amount, monthly, purchased,
                                    run_id, reason, monthly_after, purchased_after, recorded_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
                              $6::bigint[], $7::uuid[], $8::text[], $9::bigint[], $10::bigint[],
                              $11::timestamptz[])",
    )
    .bind(
        entries
            .iter()
            .map(|(_, r, _)| r.global_position as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        entries
            .iter()
            .map(|(t, _, _)| (*t).to_owned())
            .collect::<Vec<_>>(),
    )
    .bind(entries.iter().map(|(_, _, e)| e.kind).collect::<Vec<_>>())
    .bind(entries.iter().map(|(_, _, e)| e.amount).collect::<Vec<_>>())
    .bind(
        entries
            .iter()
            .map(|(_, _, e)| e.split.monthly)
            .collect::<Vec<_>>(),
    )
    .bind(
        entries
            .iter()
            .map(|(_, _, e)| e.split.purchased)
            .collect::<Vec<_>>(),
    )
    .bind(entries.iter().map(|(_, _, e)| e.run_id).collect::<Vec<_>>())
    .bind(
        entries
            .iter()
            .map(|(_, _, e)| e.reason.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        entries
            .iter()
            .map(|(_, _, e)| e.monthly_after)
            .collect::<Vec<_>>(),
    )
    .bind(
        entries
            .iter()
            .map(|(_, _, e)| e.purchased_after)
            .collect::<Vec<_>>(),
    )
    .bind(
        entries
            .iter()
            .map(|(_, r, _)| r.recorded_at)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A tenant's balance row as a batch changes it.
#[derive(Default)]
struct Balance {
    tenant_id: String,
    monthly: i64,
    purchased: i64,
    consumed: i64,
    refunded: i64,
    granted: i64,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    last_position: i64,
}

/// One credit transaction, as the ledger shows it.
struct LedgerEntry {
    kind: &'static str,
    amount: i64,
    split: BucketSplit,
    run_id: Option<Uuid>,
    reason: Option<String>,
    monthly_after: i64,
    purchased_after: i64,
}

impl LedgerEntry {
    fn of(event: &AccountEvent) -> Self {
        match event {
            AccountEvent::CreditsGranted(grant) => LedgerEntry {
                kind: "grant",
                amount: grant.amount,
                split: match grant.bucket {
                    Bucket::Monthly => BucketSplit {
                        monthly: grant.amount,
                        purchased: 0,
                    },
                    Bucket::Purchased => BucketSplit {
                        monthly: 0,
                        purchased: grant.amount,
                    },
                },
                run_id: None,
                reason: grant.reason.clone(),
                monthly_after: grant.monthly_after,
                purchased_after: grant.purchased_after,
            },
            AccountEvent::CreditsDeducted(deduction) => LedgerEntry {
                kind: "deduction",
                amount: deduction.amount,
                split: deduction.split,
                run_id: Some(deduction.run_id),
                reason: None,
                monthly_after: deduction.monthly_after,
                purchased_after: deduction.purchased_after,
            },
            AccountEvent::CreditsRefunded(refund) => LedgerEntry {
                kind: "refund",
                amount: refund.amount,
                split: refund.split,
                run_id: Some(refund.run_id),
                reason: None,
                monthly_after: refund.monthly_after,
                purchased_after: refund.purchased_after,
            },
        }
    }
}
