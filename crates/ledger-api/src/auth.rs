//! API keys: creation, storage (hashed), and the `Principal` extractor.
//!
//! A key is `rlk_{key_id}_{secret}`: the id finds the row, and the secret's
//! SHA-256 is compared in constant time with the stored hash. Secrets are 244
//! random bits, so a fast hash is enough: there is nothing to brute-force,
//! unlike a password (docs/decisions.md). `RUN_LEDGER_ADMIN_KEY` is an
//! admin key held only in memory, as its hash. Keys read from the database
//! are cached (`KeyCache`). Creating, rotating and revoking keys is in
//! `keys.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use ledger_domain::{Actor, Caller};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) const KEY_PREFIX: &str = "rlk_";
/// Longest tenant id, actor id and other identifier the API takes.
pub const MAX_ID_LEN: usize = 200;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Create runs, report facts, ask for reruns and retries (one tenant).
    Append,
    /// Read runs and balances (one tenant).
    Read,
    /// Read raw history of every tenant.
    Audit,
    /// Read checkpoints and consistency proofs, and co-sign checkpoints.
    Witness,
    /// Everything, including keys and grants, for every tenant.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Append => "append",
            Scope::Read => "read",
            Scope::Audit => "audit",
            Scope::Witness => "witness",
            Scope::Admin => "admin",
        }
    }

    /// The scopes named in the key table (names this build does not know
    /// grant nothing).
    pub fn parse_all(names: &[String]) -> Vec<Scope> {
        names.iter().filter_map(|name| Scope::parse(name)).collect()
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "append" => Some(Scope::Append),
            "read" => Some(Scope::Read),
            "witness" => Some(Scope::Witness),
            "audit" => Some(Scope::Audit),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key's id (`None` for the configured admin key).
    pub key_id: Option<Uuid>,
    /// The tenant the key is bound to; `None` for audit and admin keys.
    pub tenant_id: Option<String>,
    /// The key's scopes.
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// Refuses a key without `scope` (admin keys have every scope).
    ///
    /// # Errors
    /// `MissingScope` (403).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin) {
            Ok(())
        } else {
            Err(ApiError::MissingScope(scope.as_str()))
        }
    }

    /// Refuses a key that may not read: reading needs `read`, `audit` or `admin`.
    ///
    /// # Errors
    /// `MissingScope` (403).
    pub fn require_read(&self) -> Result<(), ApiError> {
        if self
            .scopes
            .iter()
            .any(|scope| matches!(scope, Scope::Read | Scope::Audit | Scope::Admin))
        {
            Ok(())
        } else {
            Err(ApiError::MissingScope("read"))
        }
    }

    /// Refuses a tenant-bound key acting on another tenant's account, as if
    /// the account did not exist.
    ///
    /// # Errors
    /// `AccountNotFound` (404).
    pub fn require_tenant(&self, tenant_id: &str) -> Result<(), ApiError> {
        match &self.tenant_id {
            Some(own) if own != tenant_id => Err(ApiError::AccountNotFound),
            _ => Ok(()),
        }
    }

    /// The domain's view of this caller, with the person from `X-Actor-Id`
    /// and `X-Actor-Role`.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or overlong actor id.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let actor = match headers.get("x-actor-id") {
            None => None,
            Some(value) => {
                let id = value
                    .to_str()
                    .ok()
                    .map(str::trim)
                    .filter(|id| is_actor_id(id))
                    .ok_or_else(|| ApiError::InvalidInput {
                        field: "X-Actor-Id".into(),
                        reason: format!("must be 1 to {MAX_ID_LEN} visible characters"),
                    })?;
                let tenant_admin = headers
                    .get("x-actor-role")
                    .and_then(|role| role.to_str().ok())
                    .is_some_and(|role| role.eq_ignore_ascii_case("admin"));
                Some(Actor {
                    id: id.to_owned(),
                    tenant_admin,
                })
            }
        };
        Ok(Caller {
            tenant_id: self.tenant_id.clone(),
            actor,
        })
    }

    /// How the caller is named in event metadata.
    pub fn source(&self) -> String {
        match self.key_id {
            Some(id) => format!("key:{id}"),
            None => "admin-key".to_owned(),
        }
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The hash the configured admin key is kept as.
pub fn admin_key_hash(secret: &str) -> [u8; 32] {
    sha256(secret.as_bytes())
}

/// Whether `id` (trimmed) can be an `X-Actor-Id`: 1 to `MAX_ID_LEN`
/// visible ASCII characters (and spaces), as a header value carries it.
pub fn is_actor_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|byte| byte == b' ' || byte.is_ascii_graphic())
}

/// Checks a tenant or actor id: 1 to `MAX_ID_LEN` characters, no control characters.
///
/// # Errors
/// `InvalidInput` naming `field`.
pub fn validate_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
        return Err(ApiError::InvalidInput {
            field: field.into(),
            reason: format!(
                "must be 1 to {MAX_ID_LEN} characters, none of them control characters"
            ),
        });
    }
    Ok(())
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let unauthorized = |why: &str| ApiError::Unauthorized(why.to_owned());
    let presented = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer <key>"))?
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("expected Authorization: Bearer <key>"))?;
    authenticate_key(state, presented).await
}

/// The SQL condition, on an `api_keys` row aliased `k`, that the key still
/// works: not revoked, not expired. What a stream token or a console
/// session stands for stops working with its key.
pub const KEY_WORKS: &str =
    "(k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))";

/// The principal a presented key (the configured admin key, or an
/// `rlk_` key) stands for.
///
/// # Errors
/// `Unauthorized` for an unknown, revoked or expired key.
pub async fn authenticate_key(state: &AppState, presented: &str) -> Result<Principal, ApiError> {
    let unauthorized = |why: &str| ApiError::Unauthorized(why.to_owned());
    if let Some(admin) = &state.admin_key_hash {
        if bool::from(sha256(presented.as_bytes()).ct_eq(admin)) {
            crate::request::record_caller(None, None);
            return Ok(Principal {
                key_id: None,
                tenant_id: None,
                scopes: vec![Scope::Admin],
            });
        }
    }
    let unknown = || unauthorized("unknown or revoked key");
    let (id, secret) = presented
        .strip_prefix(KEY_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(unknown)?;
    let id: Uuid = id.parse().map_err(|_| unknown())?;
    let secret_hash = sha256(secret.as_bytes());
    let now = chrono::Utc::now();
    // A cached key whose secrets do not match may have been rotated on
    // another instance: the table decides.
    let stored = match state
        .keys
        .get(id)
        .filter(|key| key.accepts(&secret_hash, now))
    {
        Some(stored) => stored,
        None => {
            let stored = read_key(&state.pool, id).await?.ok_or_else(unknown)?;
            if !stored.accepts(&secret_hash, now) {
                return Err(unknown());
            }
            sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE key_id = $1")
                .bind(id)
                .execute(&state.pool)
                .await?;
            state.keys.insert(id, stored.clone());
            stored
        }
    };
    crate::request::record_caller(stored.tenant_id.as_deref(), Some(id));
    Ok(Principal {
        key_id: Some(id),
        tenant_id: stored.tenant_id,
        scopes: stored.scopes,
    })
}

/// A key that is not revoked, as the table holds it.
async fn read_key(pool: &PgPool, id: Uuid) -> Result<Option<StoredKey>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT secret_hash, previous_secret_hash, previous_valid_until, tenant_id, scopes,
                expires_at
         FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let scopes: Vec<String> = row.try_get("scopes")?;
    Ok(Some(StoredKey {
        secret_hash: row.try_get("secret_hash")?,
        previous_secret_hash: row.try_get("previous_secret_hash")?,
        previous_valid_until: row.try_get("previous_valid_until")?,
        expires_at: row.try_get("expires_at")?,
        tenant_id: row.try_get("tenant_id")?,
        scopes: Scope::parse_all(&scopes),
    }))
}

const KEY_CACHE_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
struct StoredKey {
    secret_hash: Vec<u8>,
    /// The secret before the last rotation, working until `previous_valid_until`.
    previous_secret_hash: Option<Vec<u8>>,
    previous_valid_until: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    tenant_id: Option<String>,
    scopes: Vec<Scope>,
}

impl StoredKey {
    /// Whether a secret with this hash opens the key at `now`: the current
    /// secret, or the previous one within its grace period, before the
    /// key expires. Compared in constant time.
    fn accepts(&self, secret_hash: &[u8; 32], now: DateTime<Utc>) -> bool {
        if self.expires_at.is_some_and(|at| at <= now) {
            return false;
        }
        let current = bool::from(secret_hash.as_slice().ct_eq(&self.secret_hash));
        let previous = match (&self.previous_secret_hash, self.previous_valid_until) {
            (Some(hash), Some(until)) if now < until => {
                bool::from(secret_hash.as_slice().ct_eq(hash))
            }
            _ => false,
        };
        current | previous
    }
}

/// Keys recently read from the database, so that authenticating a request
/// costs no query. Only existing keys are kept, and the secret is checked
/// against the stored hashes on every request. A key changed through the
/// API or the CLI is dropped as soon as the change is announced
/// (`keys::follow_key_changes`); one changed in the database by hand stops
/// working within the cache's time to live.
#[derive(Debug, Clone)]
pub struct KeyCache {
    keys: Arc<Mutex<HashMap<Uuid, (Instant, StoredKey)>>>,
    ttl: Duration,
}

impl KeyCache {
    /// A cache that trusts what it read for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            keys: Arc::default(),
            ttl,
        }
    }

    fn get(&self, id: Uuid) -> Option<StoredKey> {
        let keys = lock(&self.keys);
        keys.get(&id)
            .filter(|(read_at, _)| read_at.elapsed() < self.ttl)
            .map(|(_, stored)| stored.clone())
    }

    /// Drops one key (it changed).
    pub fn forget(&self, id: Uuid) {
        lock(&self.keys).remove(&id);
    }

    /// Drops every key (changes may have been missed).
    pub fn clear(&self) {
        lock(&self.keys).clear();
    }

    fn insert(&self, id: Uuid, stored: StoredKey) {
        if self.ttl.is_zero() {
            return;
        }
        let mut keys = lock(&self.keys);
        if keys.len() >= KEY_CACHE_CAPACITY {
            let ttl = self.ttl;
            keys.retain(|_, (read_at, _)| read_at.elapsed() < ttl);
            if keys.len() >= KEY_CACHE_CAPACITY {
                keys.clear();
            }
        }
        keys.insert(id, (Instant::now(), stored));
    }
}

/// A lock that a panic elsewhere cannot break: what it guards (a cache, a
/// budget) is valid after any partial update, so a poisoned one is used on.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Per-key request budgets on this instance: a token bucket per key (the
/// configured admin key is one key), refilled at `per_second` up to `burst`.
/// Limits are per instance, not shared: with N instances behind a balancer
/// a key gets up to N times the rate.
#[derive(Debug, Clone)]
pub struct RateLimits {
    per_second: f64,
    burst: f64,
    buckets: Arc<Mutex<HashMap<Option<Uuid>, Bucket>>>,
}

/// A key's tokens and when they were last counted.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    counted_at: Instant,
}

impl RateLimits {
    /// `per_second` 0 turns limits off.
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimits {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Arc::default(),
        }
    }

    /// Takes one request from `key`'s budget.
    ///
    /// # Errors
    /// `RateLimited` (429) with the seconds until a request fits again.
    fn take(&self, key: Option<Uuid>) -> Result<(), ApiError> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if buckets.len() >= KEY_CACHE_CAPACITY && !buckets.contains_key(&key) {
            buckets.clear();
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            counted_at: now,
        });
        let refilled = now.duration_since(bucket.counted_at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refilled).min(self.burst);
        bucket.counted_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / self.per_second;
        Err(ApiError::RateLimited {
            retry_after_seconds: wait.ceil().max(1.0) as u64,
        })
    }
}

/// A `?token=` on a stream route presented without `Authorization`: a
/// browser's `EventSource` (`stream_tokens`). Anywhere else a token is no
/// credential.
fn stream_token(parts: &Parts) -> Option<String> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let route = parts.extensions.get::<axum::extract::MatchedPath>()?;
    if !crate::stream_tokens::STREAM_ROUTES.contains(&route.as_str()) {
        return None;
    }
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token=").map(|token| token.to_owned()))
}

/// A caller this process vouches for, put on a request it sends to its
/// own router: the console signs a person in with a key once, then calls
/// the API in process on their behalf. Extensions never cross the
/// network, so no client can present one.
#[derive(Debug, Clone)]
pub struct InProcessCaller(pub Principal);

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let vouched = parts
            .extensions
            .get::<InProcessCaller>()
            .map(|InProcessCaller(principal)| principal.clone());
        let principal = match (vouched, stream_token(parts)) {
            (Some(principal), _) => {
                crate::request::record_caller(principal.tenant_id.as_deref(), principal.key_id);
                principal
            }
            (None, Some(token)) => crate::stream_tokens::authenticate(state, &token).await?,
            (None, None) => authenticate(state, &parts.headers).await?,
        };
        state.rate_limits.take(principal.key_id)?;
        Ok(principal)
    }
}
