//! The API key lifecycle: create, list, rotate, revoke, for the HTTP API and
//! the CLI alike. The key table (`api_keys`) holds the secrets' hashes and
//! is what authentication reads; the log holds who created, rotated and
//! revoked each key (`key.*` events in `key-{id}`), never a secret. Key
//! events belong to no tenant (the key's tenant is in `key.created`): they
//! are in the feed of audit and admin keys, not in a tenant's.
//!
//! Which is written first is chosen so that the log never shows less access
//! than there was: a change that grants access (create, rotate) is appended
//! before the table changes, and one that removes it (revoke) after. A
//! revocation whose event failed is retried by revoking again; it appends
//! once.
//!
//! Every change is announced on `KEY_CHANGES_CHANNEL` in its transaction,
//! and each instance drops the key from its cache (`follow_key_changes`):
//! a revoked key is refused everywhere as soon as that arrives, not after
//! the cache's time to live.

use chrono::{DateTime, Utc};
use ledger_commands::{CommandContext, Ledger};
use ledger_domain::key::{KeyCommand, KeyCreated};
use ledger_domain::Caller;
use ledger_store::PgEventStore;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::{sha256, validate_id, KeyCache, Principal, Scope, KEY_PREFIX, MAX_ID_LEN};
use crate::body::{parse_json, RawBody};
use crate::wire::{CreateKeyRequest, KeyList, RotateKeyRequest};
use crate::{ApiError, AppState, Problem};

/// The channel key changes are announced on, with the key id as payload.
pub const KEY_CHANGES_CHANNEL: &str = "ledger_keys";

/// The longest grace period of a rotation: 30 days.
pub const MAX_GRACE_SECONDS: u32 = 30 * 24 * 3600;

/// A key just created or rotated: the only time its secret is seen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewKey {
    /// The key's id.
    pub id: Uuid,
    /// The secret to send as `Authorization: Bearer <key>`.
    pub key: String,
    /// Its tenant.
    pub tenant_id: Option<String>,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// What it is for.
    pub label: Option<String>,
    /// When it stops working by itself.
    pub expires_at: Option<DateTime<Utc>>,
    /// After a rotation: when the previous secret stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// A key as `GET /v1/keys` shows it: never its secret nor the secret's hash.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyView {
    /// The key's id.
    pub id: Uuid,
    /// Its tenant; `null` for audit and admin keys.
    pub tenant_id: Option<String>,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// What it is for.
    pub label: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working by itself.
    pub expires_at: Option<DateTime<Utc>>,
    /// When an instance last authenticated a request with it (updated at
    /// most once per key cache period per instance).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Until when the secret it had before its last rotation still works.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// A key to create.
#[derive(Debug, Clone, Default)]
pub struct KeySpec {
    /// Its tenant (append and read keys).
    pub tenant_id: Option<String>,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// What it is for (1 to 200 characters).
    pub label: Option<String>,
    /// When it stops working by itself (in the future).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Who asks for a key change, as the log records it.
#[derive(Debug, Clone)]
pub struct KeyActor {
    /// The caller (its person, from `X-Actor-Id`).
    pub caller: Caller,
    /// The key or tool that asked: `key:{id}`, `admin-key`, `cli`.
    pub source: String,
}

impl KeyActor {
    fn context(&self) -> CommandContext {
        CommandContext {
            source: Some(self.source.clone()),
            correlation_id: crate::request::current_correlation_id(),
            ..CommandContext::default()
        }
    }
}

/// A random secret: 32 bytes from the operating system, as 64 hex digits.
/// Key secrets, stream tokens and console sessions take theirs from here,
/// not from the thread-local generator ids come from.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    hex::encode(bytes)
}

fn presented(id: Uuid, secret: &str) -> String {
    format!("{KEY_PREFIX}{}_{secret}", id.simple())
}

/// Checks the scopes against the tenant: append and read keys belong to one
/// tenant, audit and admin keys to none.
fn check_spec(spec: &mut KeySpec, now: DateTime<Utc>) -> Result<(), ApiError> {
    spec.scopes.sort_by_key(|scope| scope.as_str());
    spec.scopes.dedup();
    let invalid = |field: &str, reason: &str| ApiError::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    };
    if spec.scopes.is_empty() {
        return Err(invalid("scopes", "at least one scope is needed"));
    }
    let tenant_scoped = spec
        .scopes
        .iter()
        .any(|s| matches!(s, Scope::Append | Scope::Read));
    let global = spec
        .scopes
        .iter()
        .any(|s| matches!(s, Scope::Audit | Scope::Witness | Scope::Admin));
    match (&spec.tenant_id, tenant_scoped, global) {
        (_, true, true) => {
            return Err(invalid(
                "scopes",
                "append/read keys belong to one tenant and audit/witness/admin keys to none: make two keys",
            ))
        }
        (None, true, false) => {
            return Err(invalid("tenant_id", "append and read keys need a tenant"))
        }
        (Some(_), false, true) => {
            return Err(invalid(
                "tenant_id",
                "audit, witness and admin keys cover every tenant and take none",
            ))
        }
        _ => {}
    }
    if let Some(tenant) = &spec.tenant_id {
        validate_id("tenant_id", tenant)?;
    }
    if let Some(label) = &spec.label {
        if label.trim().is_empty() || label.chars().count() > MAX_ID_LEN {
            return Err(invalid(
                "label",
                &format!("must be 1 to {MAX_ID_LEN} characters"),
            ));
        }
    }
    if spec.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at", "must be in the future"));
    }
    Ok(())
}

/// Creates a key and records `key.created`.
///
/// # Errors
/// `InvalidInput` for a scope/tenant combination that is not allowed, a bad
/// label or a past expiry; `Unavailable` and command errors from storage.
pub async fn create_key(
    pool: &PgPool,
    ledger: &Ledger<PgEventStore>,
    actor: &KeyActor,
    mut spec: KeySpec,
) -> Result<NewKey, ApiError> {
    check_spec(&mut spec, Utc::now())?;
    let id = Uuid::new_v4();
    let secret = random_secret();
    let scope_names: Vec<String> = spec.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let created = KeyCreated {
        key_id: id,
        tenant_id: spec.tenant_id.clone(),
        scopes: scope_names.clone(),
        label: spec.label.clone(),
        expires_at: spec.expires_at,
    };
    ledger
        .key_command(
            &actor.caller,
            id,
            KeyCommand::Create(created),
            &actor.context(),
        )
        .await?;
    sqlx::query(
        "INSERT INTO api_keys (key_id, secret_hash, tenant_id, scopes, label, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(sha256(secret.as_bytes()).as_slice())
    .bind(&spec.tenant_id)
    .bind(&scope_names)
    .bind(&spec.label)
    .bind(spec.expires_at)
    .execute(pool)
    .await?;
    Ok(NewKey {
        id,
        key: presented(id, &secret),
        tenant_id: spec.tenant_id,
        scopes: spec.scopes,
        label: spec.label,
        expires_at: spec.expires_at,
        previous_valid_until: None,
    })
}

const KEY_COLUMNS: &str = "key_id, tenant_id, scopes, label, created_at, expires_at, \
     last_used_at, revoked_at, previous_valid_until";

fn key_view(row: &sqlx::postgres::PgRow) -> Result<KeyView, sqlx::Error> {
    let scopes: Vec<String> = row.try_get("scopes")?;
    Ok(KeyView {
        id: row.try_get("key_id")?,
        tenant_id: row.try_get("tenant_id")?,
        scopes: Scope::parse_all(&scopes),
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        previous_valid_until: row.try_get("previous_valid_until")?,
    })
}

/// Every key, oldest first; only `tenant_id`'s when given.
///
/// # Errors
/// Database failures.
pub async fn list_keys(pool: &PgPool, tenant_id: Option<&str>) -> Result<Vec<KeyView>, ApiError> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys
         WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, key_id"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(key_view).collect::<Result<_, _>>()?)
}

async fn find_key(pool: &PgPool, key_id: Uuid) -> Result<KeyView, ApiError> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1"
    ))
    .bind(key_id)
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::KeyNotFound)?;
    Ok(key_view(&row)?)
}

/// Gives a key a new secret; the previous one keeps working for
/// `grace_seconds` (0: it stops now). Records `key.rotated`.
///
/// # Errors
/// `KeyNotFound` (404), `KeyRevoked` (409), `InvalidInput` for a grace
/// period beyond `MAX_GRACE_SECONDS`; storage failures.
pub async fn rotate_key(
    pool: &PgPool,
    ledger: &Ledger<PgEventStore>,
    actor: &KeyActor,
    key_id: Uuid,
    grace_seconds: u32,
) -> Result<NewKey, ApiError> {
    if grace_seconds > MAX_GRACE_SECONDS {
        return Err(ApiError::InvalidInput {
            field: "grace_seconds".into(),
            reason: format!("must be 0 to {MAX_GRACE_SECONDS}"),
        });
    }
    let key = find_key(pool, key_id).await?;
    if key.revoked_at.is_some() {
        return Err(ledger_domain::DomainError::KeyRevoked { key_id }.into());
    }
    let previous_valid_until = Utc::now() + chrono::Duration::seconds(i64::from(grace_seconds));
    ledger
        .key_command(
            &actor.caller,
            key_id,
            KeyCommand::Rotate {
                grace_seconds,
                previous_valid_until,
            },
            &actor.context(),
        )
        .await?;
    let secret = random_secret();
    let mut tx = pool.begin().await?;
    let rotated = sqlx::query(
        "UPDATE api_keys SET previous_secret_hash = secret_hash, previous_valid_until = $2,
                             secret_hash = $3
         WHERE key_id = $1 AND revoked_at IS NULL",
    )
    .bind(key_id)
    .bind(previous_valid_until)
    .bind(sha256(secret.as_bytes()).as_slice())
    .execute(&mut *tx)
    .await?;
    if rotated.rows_affected() == 0 {
        return Err(ledger_domain::DomainError::KeyRevoked { key_id }.into());
    }
    announce(&mut tx, key_id).await?;
    tx.commit().await?;
    Ok(NewKey {
        id: key_id,
        key: presented(key_id, &secret),
        tenant_id: key.tenant_id,
        scopes: key.scopes,
        label: key.label,
        expires_at: key.expires_at,
        previous_valid_until: Some(previous_valid_until),
    })
}

/// Revokes a key (again: nothing changes) and records `key.revoked`.
///
/// # Errors
/// `KeyNotFound` (404); storage failures (the key is revoked all the same
/// if the table changed; revoking again records it).
pub async fn revoke_key(
    pool: &PgPool,
    ledger: &Ledger<PgEventStore>,
    actor: &KeyActor,
    key_id: Uuid,
) -> Result<KeyView, ApiError> {
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE key_id = $1",
    )
    .bind(key_id)
    .execute(&mut *tx)
    .await?;
    if revoked.rows_affected() == 0 {
        return Err(ApiError::KeyNotFound);
    }
    announce(&mut tx, key_id).await?;
    tx.commit().await?;
    ledger
        .key_command(&actor.caller, key_id, KeyCommand::Revoke, &actor.context())
        .await?;
    find_key(pool, key_id).await
}

async fn announce(tx: &mut sqlx::PgConnection, key_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(KEY_CHANGES_CHANNEL)
        .bind(key_id.to_string())
        .execute(tx)
        .await?;
    Ok(())
}

/// Drops changed keys from `cache` as their changes are announced, until
/// `shutdown`. While it is not listening (at start, after a lost
/// connection) the cache is emptied on every reconnect, so nothing read
/// before a missed announcement outlives it.
pub async fn follow_key_changes(
    pool: PgPool,
    cache: KeyCache,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            Err(error) = forget_changed_keys(&pool, &cache) => {
                tracing::warn!(%error, "key change notifications lost; reconnecting");
                cache.clear();
            }
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
    }
}

/// Listens for key changes and drops each changed key from `cache`, until
/// the connection fails.
async fn forget_changed_keys(
    pool: &PgPool,
    cache: &KeyCache,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = ledger_store::dedicated_listener(pool).await?;
    listener.listen(KEY_CHANGES_CHANNEL).await?;
    cache.clear();
    loop {
        let notification = listener.recv().await?;
        match notification.payload().parse::<Uuid>() {
            Ok(key_id) => cache.forget(key_id),
            Err(_) => cache.clear(),
        }
    }
}

/// The caller of a key change, from an admin key's request.
fn admin_actor(principal: &Principal, headers: &HeaderMap) -> Result<KeyActor, ApiError> {
    principal.require(Scope::Admin)?;
    Ok(KeyActor {
        caller: principal.caller(headers)?,
        source: principal.source(),
    })
}

/// Create an API key (admin keys only); the secret is shown once.
#[utoipa::path(post, path = "/v1/keys", tag = "keys",
    request_body = CreateKeyRequest,
    responses((status = 201, description = "The key, with its secret", body = NewKey),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let actor = admin_actor(&principal, &headers)?;
    let request: CreateKeyRequest = parse_json(&headers, &body)?;
    let spec = KeySpec {
        tenant_id: request.tenant_id,
        scopes: request.scopes,
        label: request.label,
        expires_at: request.expires_at,
    };
    let key = create_key(&state.pool, &state.ledger, &actor, spec).await?;
    Ok((StatusCode::CREATED, Json(key)).into_response())
}

/// Which keys to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KeyFilter {
    /// Only this tenant's keys.
    pub tenant_id: Option<String>,
}

/// Every API key (admin keys only), without secrets or their hashes.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(KeyFilter),
    responses((status = 200, description = "The keys", body = KeyList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    filter: Result<Query<KeyFilter>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Admin)?;
    let Query(filter) =
        filter.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let keys = list_keys(&state.pool, filter.tenant_id.as_deref()).await?;
    Ok(Json(KeyList { keys }).into_response())
}

/// Revoke an API key (admin keys only): every instance refuses it as soon
/// as the change is announced. Revoking again changes nothing.
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "keys",
    params(("key_id" = Uuid, Path, description = "The key")),
    responses((status = 200, description = "The revoked key", body = KeyView),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = admin_actor(&principal, &headers)?;
    let key_id = ApiError::parse_id(&id)?;
    let revoked = revoke_key(&state.pool, &state.ledger, &actor, key_id).await;
    // This instance need not wait for its own announcement.
    state.keys.forget(key_id);
    Ok(Json(revoked?).into_response())
}

/// Give an API key a new secret (admin keys only); the previous secret
/// keeps working for `grace_seconds`.
#[utoipa::path(post, path = "/v1/keys/{key_id}/rotate", tag = "keys",
    params(("key_id" = Uuid, Path, description = "The key")),
    request_body(content = Option<RotateKeyRequest>, description = "Optional: without a body the previous secret stops at once (`grace_seconds` 0)"),
    responses((status = 200, description = "The key with its new secret", body = NewKey),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let actor = admin_actor(&principal, &headers)?;
    let key_id = ApiError::parse_id(&id)?;
    let request: Option<RotateKeyRequest> = parse_json(&headers, &body)?;
    let grace = request.unwrap_or_default().grace_seconds.unwrap_or(0);
    let rotated = rotate_key(&state.pool, &state.ledger, &actor, key_id, grace).await;
    state.keys.forget(key_id);
    Ok(Json(rotated?).into_response())
}
