//! Signed checkpoints: at intervals the ledger signs, with Ed25519, the
//! global position and a digest of every stream's head at that position.
//!
//! A hash chain alone does not stop someone with write access to the
//! database from editing an event and recomputing the hashes after it (the
//! encoding is public). A signature made before the edit, with a key the
//! database does not hold, does: the recomputed head no longer matches the
//! signed one. The signed message and digest are documented for auditors in
//! docs/hash-chain.md:
//!
//! ```text
//! heads_digest = SHA-256("run-ledger/stream-heads/v1" 0x00
//!                 { str(stream_id) u64(version) u64(global_position) hash[32] }
//!                 for every stream, in stream_id byte order)
//! message      = "run-ledger/checkpoint/v1" 0x00 u64(position) u64(stream_count)
//!                heads_digest[32] str(created_at as RFC 3339 UTC, microseconds, "Z")
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use futures::TryStreamExt;

/// An Ed25519 public key that checkpoints are verified with.
pub type PublicKey = VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::hash::format_recorded_at;
use crate::hex_bytes;

const HEADS_TAG: &[u8] = b"run-ledger/stream-heads/v1\0";
const MESSAGE_TAG: &[u8] = b"run-ledger/checkpoint/v1\0";

/// Serializes checkpoint makers across service instances.
const CHECKPOINT_LOCK: i64 = 0x726c_6370; // "rlcp"

/// A stream's head as a checkpoint signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    /// Stream.
    pub stream_id: String,
    /// Version of its last event at the checkpoint.
    pub stream_version: u64,
    /// That event's global position.
    pub global_position: u64,
    /// That event's hash.
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
}

/// Every stream's head at a position, by stream id (byte order, as hashed).
pub type Heads = BTreeMap<String, SignedHead>;

/// The digest of a set of heads.
pub fn heads_digest(heads: &Heads) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(HEADS_TAG);
    for head in heads.values() {
        hasher.update((head.stream_id.len() as u64).to_be_bytes());
        hasher.update(head.stream_id.as_bytes());
        hasher.update(head.stream_version.to_be_bytes());
        hasher.update(head.global_position.to_be_bytes());
        hasher.update(&head.hash);
    }
    hasher.finalize().into()
}

/// A signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// Every event up to this global position is covered.
    pub position: u64,
    /// When it was signed (microsecond precision).
    pub created_at: DateTime<Utc>,
    /// How many streams had events at `position`.
    pub stream_count: u64,
    /// `heads_digest` of those streams' heads.
    #[serde(with = "hex_bytes")]
    pub heads_digest: Vec<u8>,
    /// The Ed25519 public key that signed it.
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// The Ed25519 signature of the message above.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

/// Why a checkpoint does not verify, or could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The signature is not valid for the message and key.
    #[error("checkpoint at position {0}: the signature does not verify")]
    BadSignature(u64),
    /// Signed by a key other than the trusted one.
    #[error("checkpoint at position {position}: signed by key {found}, not the trusted key")]
    UntrustedKey {
        /// Checkpoint position.
        position: u64,
        /// The key it names (hex).
        found: String,
    },
    /// The heads given with it do not hash to the signed digest.
    #[error("checkpoint at position {0}: its stream heads do not match the signed digest")]
    HeadsMismatch(u64),
    /// A signing key file that cannot be used.
    #[error("signing key {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A public key that is not 32 hex-encoded bytes of a valid key.
    #[error("not an Ed25519 public key: {0}")]
    BadPublicKey(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl SignedCheckpoint {
    fn message(&self) -> Vec<u8> {
        let created_at = format_recorded_at(self.created_at);
        let mut message = Vec::with_capacity(MESSAGE_TAG.len() + 64 + created_at.len());
        message.extend_from_slice(MESSAGE_TAG);
        message.extend_from_slice(&self.position.to_be_bytes());
        message.extend_from_slice(&self.stream_count.to_be_bytes());
        message.extend_from_slice(&self.heads_digest);
        message.extend_from_slice(&(created_at.len() as u64).to_be_bytes());
        message.extend_from_slice(created_at.as_bytes());
        message
    }

    /// Checks the signature, with `trusted` when given (else with the key
    /// the checkpoint names, which proves integrity but not origin), and
    /// that `heads` are the signed ones.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify(
        &self,
        heads: &Heads,
        trusted: Option<&VerifyingKey>,
    ) -> Result<(), CheckpointError> {
        let key = match trusted {
            Some(trusted) if trusted.as_bytes().as_slice() != self.public_key.as_slice() => {
                return Err(CheckpointError::UntrustedKey {
                    position: self.position,
                    found: hex::encode(&self.public_key),
                })
            }
            Some(trusted) => *trusted,
            None => <[u8; 32]>::try_from(self.public_key.as_slice())
                .ok()
                .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
                .ok_or(CheckpointError::BadSignature(self.position))?,
        };
        let signature = Signature::from_slice(&self.signature)
            .map_err(|_| CheckpointError::BadSignature(self.position))?;
        key.verify_strict(&self.message(), &signature)
            .map_err(|_| CheckpointError::BadSignature(self.position))?;
        if heads.len() as u64 != self.stream_count
            || heads_digest(heads).as_slice() != self.heads_digest.as_slice()
        {
            return Err(CheckpointError::HeadsMismatch(self.position));
        }
        Ok(())
    }
}

/// Parses a hex-encoded Ed25519 public key.
///
/// # Errors
/// Not 64 hex digits of a valid key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, CheckpointError> {
    let bad = || CheckpointError::BadPublicKey(text.to_owned());
    let bytes: [u8; 32] = hex::decode(text.trim())
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

/// The key checkpoints are signed with.
pub struct CheckpointSigner(SigningKey);

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({})", self.public_key_hex())
    }
}

impl CheckpointSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        CheckpointSigner(SigningKey::from_bytes(&seed))
    }

    /// Reads a key file: the 32-byte seed as 64 hex digits.
    ///
    /// # Errors
    /// A missing, unreadable or malformed file.
    pub fn from_file(path: &Path) -> Result<Self, CheckpointError> {
        let fail = |reason: String| CheckpointError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| fail("expected 64 hex digits (a 32-byte Ed25519 seed)".into()))?;
        Ok(Self::from_seed(seed))
    }

    /// Reads the key file, creating it (readable by its owner only) with a
    /// fresh random key when it does not exist.
    ///
    /// # Errors
    /// An unreadable or malformed file, or one that cannot be created.
    pub fn load_or_create(path: &Path) -> Result<Self, CheckpointError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        if path.exists() {
            return Self::from_file(path);
        }
        let fail = |error: std::io::Error| CheckpointError::KeyFile {
            path: path.display().to_string(),
            reason: error.to_string(),
        };
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| fail(std::io::Error::other(error)))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(fail)?;
        writeln!(file, "{}", hex::encode(seed)).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        tracing::info!(path = %path.display(), "created a checkpoint signing key");
        Ok(Self::from_seed(seed))
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The public key, hex-encoded.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }

    /// Signs the heads at `position`.
    pub fn sign(
        &self,
        position: u64,
        heads: &Heads,
        created_at: DateTime<Utc>,
    ) -> SignedCheckpoint {
        let mut checkpoint = SignedCheckpoint {
            position,
            // Stored and hashed with microsecond precision.
            created_at: DateTime::from_timestamp_micros(created_at.timestamp_micros())
                .unwrap_or(created_at),
            stream_count: heads.len() as u64,
            heads_digest: heads_digest(heads).to_vec(),
            public_key: self.0.verifying_key().as_bytes().to_vec(),
            signature: Vec::new(),
        };
        checkpoint.signature = self.0.sign(&checkpoint.message()).to_bytes().to_vec();
        checkpoint
    }
}

/// Makes checkpoints, keeping the heads of the last one it made so the next
/// needs only the events since.
#[derive(Debug)]
pub struct Checkpointer {
    pool: PgPool,
    signer: CheckpointSigner,
    last: Option<(u64, Heads)>,
}

impl Checkpointer {
    /// A checkpointer signing with `signer`.
    pub fn new(pool: PgPool, signer: CheckpointSigner) -> Self {
        Checkpointer {
            pool,
            signer,
            last: None,
        }
    }

    /// Signs the log's current head, unless no event came since the last
    /// checkpoint. Another service instance making one at the same time
    /// waits for this one.
    ///
    /// # Errors
    /// The database failed; nothing was stored.
    pub async fn make(&mut self) -> Result<Option<SignedCheckpoint>, CheckpointError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHECKPOINT_LOCK)
            .execute(&mut *tx)
            .await?;
        let previous: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM audit_checkpoints")
                .fetch_one(&mut *tx)
                .await?;
        // Appending transactions commit in position order (they serialize
        // on this row), so every event up to the committed head is visible.
        let head: i64 = sqlx::query_scalar("SELECT position FROM event_log_head")
            .fetch_one(&mut *tx)
            .await?;
        if head <= previous {
            return Ok(None);
        }
        let mut heads = match self.last.take() {
            Some((position, heads)) if position == previous as u64 => heads,
            _ => load_heads(&mut *tx, previous as u64, false).await?,
        };
        let changed: Vec<SignedHead> = sqlx::query(
            "SELECT DISTINCT ON (stream_id) stream_id, stream_version, global_position, hash
             FROM events WHERE global_position > $1 AND global_position <= $2
             ORDER BY stream_id, stream_version DESC",
        )
        .bind(previous)
        .bind(head)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| head_from_row(&row))
        .collect::<Result<_, _>>()?;
        for changed_head in &changed {
            heads.insert(changed_head.stream_id.clone(), changed_head.clone());
        }
        let checkpoint = self.signer.sign(head as u64, &heads, Utc::now());
        sqlx::query(
            "INSERT INTO audit_checkpoints
                 (position, created_at, stream_count, heads_digest, public_key, signature)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(head)
        .bind(checkpoint.created_at)
        .bind(checkpoint.stream_count as i64)
        .bind(&checkpoint.heads_digest)
        .bind(&checkpoint.public_key)
        .bind(&checkpoint.signature)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_checkpoint_heads
                 (checkpoint_position, stream_id, stream_version, global_position, hash)
             SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bytea[])",
        )
        .bind(head)
        .bind(
            changed
                .iter()
                .map(|h| h.stream_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            changed
                .iter()
                .map(|h| h.stream_version as i64)
                .collect::<Vec<_>>(),
        )
        .bind(
            changed
                .iter()
                .map(|h| h.global_position as i64)
                .collect::<Vec<_>>(),
        )
        .bind(changed.iter().map(|h| h.hash.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::gauge!("ledger_checkpoint_position").set(head as f64);
        self.last = Some((head as u64, heads));
        Ok(Some(checkpoint))
    }

    /// Makes a checkpoint every `interval` until `stopping` turns true.
    pub async fn run(
        mut self,
        interval: Duration,
        mut stopping: tokio::sync::watch::Receiver<bool>,
    ) {
        tracing::info!(public_key = %self.signer.public_key_hex(), ?interval, "signing checkpoints");
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            match self.make().await {
                Ok(Some(checkpoint)) => {
                    tracing::debug!(position = checkpoint.position, "signed a checkpoint");
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "making a checkpoint"),
            }
        }
    }
}

fn head_from_row(row: &sqlx::postgres::PgRow) -> Result<SignedHead, sqlx::Error> {
    Ok(SignedHead {
        stream_id: row.try_get("stream_id")?,
        stream_version: row.try_get::<i64, _>("stream_version")? as u64,
        global_position: row.try_get::<i64, _>("global_position")? as u64,
        hash: row.try_get("hash")?,
    })
}

/// The heads signed at the checkpoint at `position`: all of them, or only
/// those that changed since the checkpoint before it.
///
/// # Errors
/// The database failed.
pub async fn load_heads<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    position: u64,
    changed_only: bool,
) -> Result<Heads, sqlx::Error> {
    let sql = if changed_only {
        "SELECT stream_id, stream_version, global_position, hash FROM audit_checkpoint_heads
         WHERE checkpoint_position = $1 ORDER BY stream_id"
    } else {
        "SELECT DISTINCT ON (stream_id) stream_id, stream_version, global_position, hash
         FROM audit_checkpoint_heads WHERE checkpoint_position <= $1
         ORDER BY stream_id, checkpoint_position DESC"
    };
    sqlx::query(sql)
        .bind(position as i64)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| head_from_row(row).map(|head| (head.stream_id.clone(), head)))
        .collect()
}

/// Checkpoints read per page by `checkpoints_after`.
const CHECKPOINT_PAGE: u32 = 1_000;

/// Every checkpoint after `after_position`, oldest first, read a page at a
/// time as the stream is consumed.
pub fn checkpoints_after(
    pool: &PgPool,
    after_position: u64,
) -> impl futures::Stream<Item = Result<SignedCheckpoint, sqlx::Error>> + '_ {
    futures::stream::try_unfold(after_position, move |after| async move {
        let page = list_checkpoints(pool, after, CHECKPOINT_PAGE).await?;
        Ok::<_, sqlx::Error>(
            page.last()
                .map(|last| last.position)
                .map(|next| (futures::stream::iter(page.into_iter().map(Ok)), next)),
        )
    })
    .try_flatten()
}

/// Checkpoints after `after_position`, oldest first, at most `limit`.
///
/// # Errors
/// The database failed.
pub async fn list_checkpoints(
    pool: &PgPool,
    after_position: u64,
    limit: u32,
) -> Result<Vec<SignedCheckpoint>, sqlx::Error> {
    sqlx::query(
        "SELECT position, created_at, stream_count, heads_digest, public_key, signature
         FROM audit_checkpoints WHERE position > $1 ORDER BY position LIMIT $2",
    )
    .bind(after_position as i64)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(SignedCheckpoint {
            position: row.try_get::<i64, _>("position")? as u64,
            created_at: row.try_get("created_at")?,
            stream_count: row.try_get::<i64, _>("stream_count")? as u64,
            heads_digest: row.try_get("heads_digest")?,
            public_key: row.try_get("public_key")?,
            signature: row.try_get("signature")?,
        })
    })
    .collect()
}

/// Follows checkpoints in order, folding in each one's changed heads, and
/// compares the signed heads with the events they name.
#[derive(Debug, Default)]
pub struct CheckpointAudit {
    heads: Heads,
    /// Checkpoints checked.
    pub checkpoints_checked: u64,
    /// The highest position covered by a checkpoint that verified.
    pub covered_position: u64,
    /// What does not verify, in the order found.
    pub problems: Vec<String>,
}

/// What the log holds where a signed head points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadInLog {
    /// The event at that stream version: its position and hash.
    Found {
        /// Global position.
        global_position: u64,
        /// Hash.
        hash: Vec<u8>,
    },
    /// No event at that stream version.
    Missing,
    /// Not in what is being checked (another stream, an earlier part).
    NotChecked,
}

impl CheckpointAudit {
    /// Checks the next checkpoint. `heads` are all its heads when
    /// `complete`, else the ones that changed since the previous one;
    /// `lookup` says what the log holds at each changed head.
    pub fn check(
        &mut self,
        checkpoint: &SignedCheckpoint,
        heads: Heads,
        complete: bool,
        trusted: Option<&VerifyingKey>,
        mut lookup: impl FnMut(&SignedHead) -> HeadInLog,
    ) {
        if complete {
            self.heads.clear();
        }
        let changed: Vec<SignedHead> = heads.into_values().collect();
        for head in &changed {
            self.heads.insert(head.stream_id.clone(), head.clone());
        }
        self.checkpoints_checked += 1;
        if let Err(error) = checkpoint.verify(&self.heads, trusted) {
            self.problems.push(error.to_string());
            return;
        }
        self.covered_position = checkpoint.position;
        for head in &changed {
            let problem = match lookup(head) {
                HeadInLog::Found {
                    global_position,
                    hash,
                } if global_position == head.global_position && hash == head.hash => continue,
                HeadInLog::NotChecked => continue,
                HeadInLog::Found { .. } => {
                    "differs from the event signed there: it, or an \
                                            earlier event of its stream, was changed"
                }
                HeadInLog::Missing => "was signed but is missing from the log",
            };
            self.problems.push(format!(
                "stream {} version {} (position {}) {problem} (checkpoint at position {})",
                head.stream_id, head.stream_version, head.global_position, checkpoint.position
            ));
        }
    }
}

/// Checks every stored checkpoint, oldest first: its signature (with
/// `trusted` when given), that its stored heads are the signed ones, and
/// that the events it signed are in the log unchanged.
///
/// # Errors
/// The database failed.
pub async fn audit_checkpoints(
    pool: &PgPool,
    trusted: Option<&VerifyingKey>,
) -> Result<CheckpointAudit, sqlx::Error> {
    let mut audit = CheckpointAudit::default();
    let mut checkpoints = std::pin::pin!(checkpoints_after(pool, 0));
    while let Some(checkpoint) = checkpoints.try_next().await? {
        let changed = load_heads(pool, checkpoint.position, true).await?;
        let in_log: std::collections::HashMap<(String, u64), (u64, Vec<u8>)> = sqlx::query(
            "SELECT e.stream_id, e.stream_version, e.global_position, e.hash
                 FROM UNNEST($1::text[], $2::bigint[]) AS signed (stream_id, stream_version)
                 JOIN events e USING (stream_id, stream_version)",
        )
        .bind(changed.keys().cloned().collect::<Vec<_>>())
        .bind(
            changed
                .values()
                .map(|head| head.stream_version as i64)
                .collect::<Vec<_>>(),
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            head_from_row(row).map(|head| {
                (
                    (head.stream_id, head.stream_version),
                    (head.global_position, head.hash),
                )
            })
        })
        .collect::<Result<_, _>>()?;
        audit.check(&checkpoint, changed, false, trusted, |head| {
            match in_log.get(&(head.stream_id.clone(), head.stream_version)) {
                Some((global_position, hash)) => HeadInLog::Found {
                    global_position: *global_position,
                    hash: hash.clone(),
                },
                None => HeadInLog::Missing,
            }
        });
    }
    Ok(audit)
}
