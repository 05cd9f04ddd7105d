//! `Idempotency-Key` (IETF httpapi draft): the first successful response to
//! a command is stored per tenant and key; a repeat with the same request
//! gets it again and appends nothing, also after a restart; the same key
//! with another request is refused with 422.
//!
//! Repeats racing the first execution are safe too: the command's event ids
//! derive from the key (`command_id`), so the event store appends them once.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::auth::Principal;
use crate::ApiError;

const NAMESPACE: Uuid = Uuid::from_u128(0x6b1e_55d0_3c5e_4f0a_9d0e_2a4b_7c3d_1e5f);
/// The longest `Idempotency-Key` (visible ASCII).
pub const MAX_KEY_LEN: usize = 255;

/// What a command knows of the request that carries it.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Derived from the idempotency key: a repeat gets the same id, and so
    /// appends the same events, which the store then recognizes.
    pub command_id: Option<Uuid>,
    /// The `Idempotency-Key` header, recorded in the events' metadata.
    pub idempotency_key: Option<String>,
}

/// A command request that carries an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    scope: String,
    key: String,
    request_hash: [u8; 32],
}

impl IdempotentRequest {
    /// Reads the header; `None` when the request has none.
    ///
    /// # Errors
    /// `InvalidInput` for an empty, overlong or non-ASCII key.
    pub fn from_request(
        headers: &HeaderMap,
        principal: &Principal,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Option<Self>, ApiError> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_LEN)
            .ok_or_else(|| ApiError::InvalidInput {
                field: "Idempotency-Key".into(),
                reason: format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            })?;
        let mut hasher = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), body] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Ok(Some(IdempotentRequest {
            scope: principal.tenant_id.clone().unwrap_or_else(|| "*".into()),
            key: key.to_owned(),
            request_hash: hasher.finalize().into(),
        }))
    }

    /// The command id the request's events derive their ids from.
    pub fn command_id(&self) -> Uuid {
        Uuid::new_v5(
            &NAMESPACE,
            format!("{}\0{}", self.scope, self.key).as_bytes(),
        )
    }

    /// The stored response, if this key was answered before.
    async fn stored(&self, pool: &PgPool) -> Result<Option<Response>, ApiError> {
        let Some(row) = sqlx::query(
            "SELECT request_hash, status, body FROM idempotency_records
             WHERE scope = $1 AND idempotency_key = $2",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .fetch_optional(pool)
        .await?
        else {
            return Ok(None);
        };
        let hash: Vec<u8> = row.try_get("request_hash")?;
        if hash.as_slice() != self.request_hash.as_slice() {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let status: i16 = row.try_get("status")?;
        let body: Value = row.try_get("body")?;
        let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
        Ok(Some((status, Json(body)).into_response()))
    }

    /// Stores a successful response unless one is stored already, and
    /// answers with the stored one (the first, when repeats raced).
    async fn record(
        &self,
        pool: &PgPool,
        status: StatusCode,
        body: &RawValue,
    ) -> Result<Response, ApiError> {
        // The record keeps the first answer; the command's effects are its
        // events, committed durably already, with ids derived from the key.
        // A record lost in a crash only means a retry is answered from those
        // events instead, so it need not wait for a WAL flush of its own.
        let mut tx = pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await?;
        sqlx::query(
            "INSERT INTO idempotency_records (scope, idempotency_key, request_hash, status, body)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .bind(self.request_hash.as_slice())
        .bind(status.as_u16() as i16)
        .bind(sqlx::types::Json(body))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.stored(pool)
            .await?
            .ok_or_else(|| ApiError::Internal("an idempotency record vanished".into()))
    }
}

/// A command's answer, serialized once: written as it is to the response,
/// and to the idempotency record when the request has a key. (Built as a
/// `serde_json::Value` first, each answer was a tree of maps made only to be
/// printed, a twentieth of the service's CPU under appends.)
pub type ResponseBody = Box<RawValue>;

/// `value` as a command's answer.
pub fn response_body<T: serde::Serialize>(value: &T) -> ResponseBody {
    serde_json::value::to_raw_value(value).expect("response types serialize")
}

/// Runs a command once per idempotency key. Without a key, runs it with no
/// command id. Failures are not stored: a repeat after one runs again.
///
/// # Errors
/// The command's error, or `IdempotencyKeyReused`.
pub async fn once<F, Fut>(
    pool: &PgPool,
    request: Option<IdempotentRequest>,
    command: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Invocation) -> Fut,
    Fut: std::future::Future<Output = Result<(StatusCode, ResponseBody), ApiError>>,
{
    let Some(request) = request else {
        let (status, body) = command(Invocation::default()).await?;
        return Ok((status, Json(body)).into_response());
    };
    if let Some(stored) = request.stored(pool).await? {
        return Ok(stored);
    }
    let (status, body) = command(Invocation {
        command_id: Some(request.command_id()),
        idempotency_key: Some(request.key.clone()),
    })
    .await?;
    ledger_store::failpoint::hit("command.before_record");
    request.record(pool, status, &body).await
}

/// Deletes idempotency records older than `retention`, every `retention / 10`
/// (at least every second, at most every hour), until `stopping` turns true.
///
/// A retry after its record is gone is still safe: the command id derives
/// from the key, and a command whose events are in the log is answered from
/// them. What is lost is the exact first answer, and the 422 for a reused key
/// with another body.
pub async fn sweep_records(
    pool: PgPool,
    retention: std::time::Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let every = (retention / 10).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(3_600),
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        let deleted = sqlx::query(
            "DELETE FROM idempotency_records WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(retention.as_secs_f64())
        .execute(&pool)
        .await;
        match deleted {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::debug!(
                    deleted = done.rows_affected(),
                    "expired idempotency records"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "sweeping idempotency records"),
        }
    }
}
