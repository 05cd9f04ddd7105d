//! Stream tokens: how a browser follows live updates. An `EventSource`
//! cannot send `Authorization`, so a page asks for a short-lived token with
//! its key (`POST /v1/stream-tokens`) and opens `/v1/runs/{id}/watch` or
//! `/v1/events/stream` with `?token=`. The token carries its key's tenant
//! and scopes, opens streams for `TOKEN_LIFETIME` on any instance, stops
//! working when its key is revoked, and is refused on every other route.
//! Only its hash is stored.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{sha256, Principal, Scope, KEY_WORKS};
use crate::{ApiError, AppState};

/// How long a token may be used to open a stream (an open stream goes on).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// What starts a stream token.
const TOKEN_PREFIX: &str = "rlst_";
/// The routes a token opens.
pub(crate) const STREAM_ROUTES: [&str; 2] = ["/v1/runs/{run_id}/watch", "/v1/events/stream"];

/// A stream token.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamToken {
    /// Pass as `?token=` to `/v1/runs/{run_id}/watch` or `/v1/events/stream`.
    pub token: String,
    /// Until when it opens streams.
    pub expires_at: DateTime<Utc>,
}

/// A token to open server-sent event streams from a browser, with this
/// key's tenant and scopes (any key that may read).
#[utoipa::path(post, path = "/v1/stream-tokens", tag = "queries", operation_id = "create_stream_token",
    responses((status = 201, description = "The token", body = StreamToken)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require_read()?;
    let token = format!("{TOKEN_PREFIX}{}", crate::keys::random_secret());
    let scopes: Vec<&str> = principal
        .scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "WITH swept AS (DELETE FROM stream_tokens WHERE expires_at < now() - interval '1 hour')
         INSERT INTO stream_tokens (token_hash, key_id, tenant_id, scopes, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at",
    )
    .bind(sha256(token.as_bytes()).as_slice())
    .bind(principal.key_id)
    .bind(&principal.tenant_id)
    .bind(&scopes)
    .bind(TOKEN_LIFETIME.as_secs_f64())
    .fetch_one(&state.pool)
    .await?;
    Ok((StatusCode::CREATED, Json(StreamToken { token, expires_at })).into_response())
}

/// The principal a presented stream token stands for.
///
/// # Errors
/// `Unauthorized` for an unknown or expired token, or one whose key was
/// revoked or has expired.
pub(crate) async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let refused = || ApiError::Unauthorized("unknown or expired stream token".into());
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(refused());
    }
    let row = sqlx::query(&format!(
        "SELECT t.key_id, t.tenant_id, t.scopes FROM stream_tokens t
         LEFT JOIN api_keys k ON k.key_id = t.key_id
         WHERE t.token_hash = $1 AND t.expires_at > now()
           AND (t.key_id IS NULL OR {KEY_WORKS})"
    ))
    .bind(sha256(token.as_bytes()).as_slice())
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(refused)?;
    let key_id: Option<Uuid> = row.try_get("key_id")?;
    let tenant_id: Option<String> = row.try_get("tenant_id")?;
    let scopes: Vec<String> = row.try_get("scopes")?;
    crate::request::record_caller(tenant_id.as_deref(), key_id);
    Ok(Principal {
        key_id,
        tenant_id,
        scopes: Scope::parse_all(&scopes),
    })
}
