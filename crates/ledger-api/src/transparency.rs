//! The transparency log over HTTP (docs/transparency-log.md): signed
//! checkpoints as C2SP notes, the log's verifier key, RFC 9162 inclusion
//! and consistency proofs, and witnesses' cosignatures.
//!
//! Checkpoints and the key are for any key (they tell only the log's size
//! and root); proofs for `audit` (consistency proofs also for `witness`);
//! cosignatures for `witness`. Hashes are standard base64, as in the notes.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use ledger_store::checkpoint::{self, CheckpointError, CosignError, LogCheckpoint};
use ledger_store::note::base64;
use ledger_store::tlog;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::FeedPage;
use crate::auth::{Principal, Scope};
use crate::body::{parse_json, RawBody};
use crate::{ApiError, AppState};

impl From<CheckpointError> for ApiError {
    fn from(error: CheckpointError) -> Self {
        match error {
            CheckpointError::Database(database) => database.into(),
            CheckpointError::Tree(tlog::TreeError::Database(database)) => database.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<tlog::TreeError> for ApiError {
    fn from(error: tlog::TreeError) -> Self {
        CheckpointError::from(error).into()
    }
}

fn text_response(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Refuses keys that may not see checkpoints: any scope but `append` alone.
fn require_checkpoint_reader(principal: &Principal) -> Result<(), ApiError> {
    match principal.require(Scope::Witness) {
        Ok(()) => Ok(()),
        Err(_) => principal.require_read(),
    }
}

async fn latest_signed(state: &AppState) -> Result<LogCheckpoint, ApiError> {
    checkpoint::latest(&state.pool).await?.ok_or_else(|| {
        if state.log_key.is_none() {
            ApiError::NotSigning
        } else {
            ApiError::CheckpointNotFound("no checkpoint has been signed yet".into())
        }
    })
}

/// The latest signed checkpoint: a C2SP checkpoint note (origin, tree size,
/// root hash) with the log's signature and every witness's cosignature.
#[utoipa::path(get, path = "/v1/audit/checkpoint", tag = "audit",
    responses((status = 200, description = "The latest checkpoint note", content_type = "text/plain", body = String,
               example = json!("run-ledger/0b3c…\n42\nq1w2…=\n\n— run-ledger/0b3c… AbCd…=\n")),
              (status = 404, description = "Nothing signed yet, or this service signs nothing", body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require_checkpoint_reader(&principal)?;
    Ok(text_response(latest_signed(&state).await?.note.render()))
}

/// The key checkpoints are signed with, as a note verifier key:
/// `<name>+<8 hex digits of key id>+<base64(0x01 || Ed25519 public key)>`.
#[utoipa::path(get, path = "/v1/audit/checkpoint-key", tag = "audit",
    responses((status = 200, description = "The verifier key", content_type = "text/plain", body = String),
              (status = 404, description = "This service signs nothing", body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn checkpoint_key(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require_checkpoint_reader(&principal)?;
    let key = state.log_key.as_ref().ok_or(ApiError::NotSigning)?;
    Ok(text_response(format!("{key}\n")))
}

/// One signed checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointEntry {
    /// Events (from position 1) the tree holds.
    pub tree_size: u64,
    /// The tree's root, base64.
    pub root_hash: String,
    /// When the log signed it.
    pub created_at: DateTime<Utc>,
    /// The note, with every signature.
    pub note: String,
}

impl From<LogCheckpoint> for CheckpointEntry {
    fn from(checkpoint: LogCheckpoint) -> Self {
        CheckpointEntry {
            tree_size: checkpoint.tree_size,
            root_hash: base64(&checkpoint.root_hash),
            created_at: checkpoint.created_at,
            note: checkpoint.note.render(),
        }
    }
}

/// A page of the checkpoint history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointList {
    /// The log's verifier key, when this service signs.
    pub verifier_key: Option<String>,
    /// Checkpoints, smallest tree first.
    pub checkpoints: Vec<CheckpointEntry>,
    /// Pass as `after` for the next page.
    pub next_after: u64,
}

/// Every signed checkpoint, smallest tree first.
#[utoipa::path(get, path = "/v1/audit/checkpoints", tag = "audit", params(FeedPage),
    responses((status = 200, description = "A page of checkpoints", body = CheckpointList)),
    security(("bearer" = [])))]
pub async fn list_checkpoints(
    State(state): State<AppState>,
    principal: Principal,
    page: Result<Query<FeedPage>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_checkpoint_reader(&principal)?;
    let (after, limit) = FeedPage::bounds(page)?;
    let checkpoints = checkpoint::list(&state.pool, after, limit).await?;
    Ok(Json(CheckpointList {
        verifier_key: state.log_key.as_ref().map(ToString::to_string),
        next_after: checkpoints.last().map_or(after, |last| last.tree_size),
        checkpoints: checkpoints.into_iter().map(CheckpointEntry::from).collect(),
    })
    .into_response())
}

/// Which event's inclusion, in which tree.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The event's global position (leaf `position - 1`).
    #[param(minimum = 1)]
    pub position: u64,
    /// A signed tree size; the latest when absent.
    #[param(minimum = 1)]
    pub tree_size: Option<u64>,
}

/// An RFC 9162 §2.1.3 inclusion proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    /// The event's global position.
    pub position: u64,
    /// The tree's size.
    pub tree_size: u64,
    /// `position - 1`.
    pub leaf_index: u64,
    /// The event's hash (the leaf's input), base64.
    pub event_hash: String,
    /// The inclusion path from the leaf's sibling up, base64.
    pub path: Vec<String>,
}

/// The largest signed tree, for bounds of proofs.
async fn signed_size(state: &AppState) -> Result<u64, ApiError> {
    latest_signed(state).await.map(|latest| latest.tree_size)
}

/// Proves the event at `position` is in the signed tree of `tree_size`.
#[utoipa::path(get, path = "/v1/audit/proof/inclusion", tag = "audit", params(InclusionQuery),
    responses((status = 200, description = "The inclusion proof", body = InclusionProof),
              (status = 400, description = "A position or size outside the latest signed tree", body = crate::Problem),
              (status = 404, description = "Nothing signed yet, or this service signs nothing", body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn inclusion_proof(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Audit)?;
    let Query(query) = query.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let signed = signed_size(&state).await?;
    let tree_size = query.tree_size.unwrap_or(signed);
    if tree_size == 0 || tree_size > signed {
        return Err(ApiError::ProofOutOfRange(format!(
            "tree_size must be 1 to {signed}, the latest signed tree"
        )));
    }
    if query.position == 0 || query.position > tree_size {
        return Err(ApiError::ProofOutOfRange(format!(
            "position must be 1 to {tree_size}, the tree's size"
        )));
    }
    let mut conn = state.pool.acquire().await?;
    let event_hash: Vec<u8> =
        sqlx::query_scalar("SELECT hash FROM events WHERE global_position = $1")
            .bind(query.position as i64)
            .fetch_one(&mut *conn)
            .await?;
    let path = tlog::inclusion_path(&mut conn, query.position - 1, tree_size).await?;
    Ok(Json(InclusionProof {
        position: query.position,
        tree_size,
        leaf_index: query.position - 1,
        event_hash: base64(&event_hash),
        path: path.iter().map(|hash| base64(hash)).collect(),
    })
    .into_response())
}

/// Between which trees.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The earlier tree's size.
    #[param(minimum = 1)]
    pub from: u64,
    /// The later tree's size, at most the latest signed; the latest when absent.
    #[param(minimum = 1)]
    pub to: Option<u64>,
}

/// An RFC 9162 §2.1.4 consistency proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    /// The earlier tree's size.
    pub from: u64,
    /// The later tree's size.
    pub to: u64,
    /// The consistency path, base64.
    pub path: Vec<String>,
}

/// Proves the tree of `from` leaves is a prefix of the tree of `to`.
#[utoipa::path(get, path = "/v1/audit/proof/consistency", tag = "audit", params(ConsistencyQuery),
    responses((status = 200, description = "The consistency proof", body = ConsistencyProof),
              (status = 400, description = "Sizes of 0, beyond the latest signed tree, or from > to", body = crate::Problem),
              (status = 404, description = "Nothing signed yet, or this service signs nothing", body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn consistency_proof(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    if principal.require(Scope::Witness).is_err() {
        principal.require(Scope::Audit)?;
    }
    let Query(query) = query.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let signed = signed_size(&state).await?;
    let to = query.to.unwrap_or(signed);
    if to == 0 || to > signed {
        return Err(ApiError::ProofOutOfRange(format!(
            "to must be 1 to {signed}, the latest signed tree"
        )));
    }
    if query.from == 0 || query.from > to {
        return Err(ApiError::ProofOutOfRange(format!(
            "from must be 1 to {to}, the later tree's size"
        )));
    }
    let mut conn = state.pool.acquire().await?;
    let path = tlog::consistency_path(&mut conn, query.from, to).await?;
    Ok(Json(ConsistencyProof {
        from: query.from,
        to,
        path: path.iter().map(|hash| base64(hash)).collect(),
    })
    .into_response())
}

/// A witness's signatures of a checkpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignRequest {
    /// The checkpoint note as the witness returns it: the log's text and
    /// signature, then its own signature lines.
    pub note: String,
}

/// Adds witnesses' signatures to a checkpoint this log signed. Only
/// signatures of the witnesses this log is configured to accept
/// (`RUN_LEDGER_WITNESS_KEYS`) are kept.
#[utoipa::path(post, path = "/v1/audit/cosignatures", tag = "audit",
    request_body = CosignRequest,
    responses((status = 200, description = "The checkpoint with every cosignature", body = CheckpointEntry),
              (status = 400, description = "Not a note, no accepted witness, or a bad signature", body = crate::Problem),
              (status = 404, description = "No checkpoint of that tree size", body = crate::Problem),
              (status = 409, description = "The text is not the checkpoint signed at that size", body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn cosign(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::Witness)?;
    let CosignRequest { note } = parse_json(&headers, &body)?;
    let note = note.as_str();
    let cosigned = checkpoint::add_cosignatures(&state.pool, note, &state.witnesses)
        .await
        .map_err(|error| match error {
            CosignError::Malformed(error) => ApiError::MalformedNote(error.to_string()),
            CosignError::UnknownCheckpoint(size) => ApiError::CheckpointNotFound(format!(
                "no checkpoint of tree size {size} was signed by this log"
            )),
            CosignError::TextMismatch(size) => ApiError::CheckpointMismatch(size),
            CosignError::UnknownWitness => ApiError::UnknownWitness,
            CosignError::BadSignature(witness) => ApiError::BadCosignature(witness),
            CosignError::Checkpoint(error) => error.into(),
        })?;
    tracing::info!(tree_size = cosigned.tree_size, "stored cosignatures");
    Ok(Json(CheckpointEntry::from(cosigned)).into_response())
}
