//! Credit balances (one row per tenant) and the credit ledger (one row per
//! grant, deduction and refund), from account streams.

use ledger_domain::events::{AccountEvent, Bucket, BucketSplit};
use ledger_store::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;

/// Applies a batch of events (those of account streams; others are ignored).
///
/// # Errors
/// An event that cannot be decoded, or a database failure.
pub async fn apply(
    conn: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    for recorded in events {
        let Some(tenant_id) = recorded.stream_id.strip_prefix("account-") else {
            continue;
        };
        let event: AccountEvent = crate::decode(recorded)?;
        let entry = LedgerEntry::of(&event);
        let position = recorded.global_position as i64;
        let amount = entry.amount;
        let (granted, consumed, refunded) = match entry.kind {
            "grant" => (amount, 0, 0),
            "deduction" => (0, amount, 0),
            _ => (0, 0, amount),
        };
        sqlx::query(
            "INSERT INTO credit_balances (tenant_id, monthly, purchased, total, consumed, refunded, granted, updated_at, last_position)
             VALUES ($1, $2, $3, $2 + $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id) DO UPDATE SET
               monthly = EXCLUDED.monthly, purchased = EXCLUDED.purchased, total = EXCLUDED.total,
               consumed = credit_balances.consumed + EXCLUDED.consumed,
               refunded = credit_balances.refunded + EXCLUDED.refunded,
               granted = credit_balances.granted + EXCLUDED.granted,
               updated_at = EXCLUDED.updated_at, last_position = EXCLUDED.last_position",
        )
        .bind(tenant_id)
        .bind(entry.monthly_after)
        .bind(entry.purchased_after)
        .bind(consumed)
        .bind(refunded)
        .bind(granted)
        .bind(recorded.recorded_at)
        .bind(position)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO credit_ledger (global_position, tenant_id, kind, amount, monthly, purchased,
                                        run_id, reason, monthly_after, purchased_after, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(position)
        .bind(tenant_id)
        .bind(entry.kind)
        .bind(amount)
        .bind(entry.split.monthly)
        .bind(entry.split.purchased)
        .bind(entry.run_id)
        .bind(entry.reason)
        .bind(entry.monthly_after)
        .bind(entry.purchased_after)
        .bind(recorded.recorded_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
