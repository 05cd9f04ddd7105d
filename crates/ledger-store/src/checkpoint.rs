//! Signed checkpoints of the transparency log: C2SP checkpoint notes
//! (c2sp.org/tlog-checkpoint) of the Merkle tree over the log, signed with
//! the log's Ed25519 key at intervals, the witnesses' cosignatures of them,
//! and the whole-log audit that checks both against the events.
//!
//! A hash chain alone does not stop someone with write access to the
//! database from editing an event and recomputing every hash after it (the
//! encoding is public). A signed tree head does, for whoever kept it: the
//! recomputed root no longer matches. And a witness, outside the database
//! operator's control, that co-signs only heads consistent with the ones it
//! saw before, stops even the holder of the log's key from rewriting
//! history and signing it again (docs/transparency-log.md).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sqlx::{PgPool, Row};

use crate::merkle::{self, Hash, RootBuilder};
use crate::note::{Checkpoint, NoteError, NoteSignature, NoteSigner, NoteVerifier, SignedNote};
use crate::tlog::{self, TreeError};

/// Serializes checkpoint signers across service instances.
const CHECKPOINT_LOCK: i64 = 0x726c_6370; // "rlcp"

/// Why a checkpoint could not be made, read or co-signed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A signing key file that cannot be used.
    #[error("signing key {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A note, key or checkpoint that does not parse or verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The tree could not be grown or read.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
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

    /// Signs notes as `name` (the log's origin).
    ///
    /// # Errors
    /// A name that cannot be a key name.
    pub fn note_signer(&self, name: &str) -> Result<NoteSigner, NoteError> {
        NoteSigner::new(name, self.0.clone())
    }
}

/// A checkpoint as stored: the note the log signed, with every cosignature
/// witnesses added since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheckpoint {
    /// Leaves (events from position 1) the tree holds.
    pub tree_size: u64,
    /// The tree's root.
    pub root_hash: Hash,
    /// When it was signed.
    pub created_at: DateTime<Utc>,
    /// The note: text, the log's signature, then the cosignatures.
    pub note: SignedNote,
}

/// Makes checkpoints: grows the tree to the log's head and signs its root.
#[derive(Debug)]
pub struct Checkpointer {
    pool: PgPool,
    signer: NoteSigner,
}

impl Checkpointer {
    /// A checkpointer signing as `signer` (its name is the log's origin).
    pub fn new(pool: PgPool, signer: NoteSigner) -> Self {
        Checkpointer { pool, signer }
    }

    /// Grows the tree to the log's committed head and signs it, unless the
    /// latest checkpoint already has that size. Costs the events since the
    /// last checkpoint and O(log n) node reads. Another instance signing at
    /// the same time waits for this one.
    ///
    /// # Errors
    /// The database failed or the log has a gap; nothing was signed.
    pub async fn make(&self) -> Result<Option<LogCheckpoint>, CheckpointError> {
        // Appending transactions commit in position order (they serialize
        // on this row), so every event up to the committed head is visible.
        let head: i64 = sqlx::query_scalar("SELECT position FROM event_log_head")
            .fetch_one(&self.pool)
            .await?;
        tlog::grow(&self.pool, head as u64).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHECKPOINT_LOCK)
            .execute(&mut *tx)
            .await?;
        let signed: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(tree_size), 0) FROM log_checkpoints")
                .fetch_one(&mut *tx)
                .await?;
        let tree_size = tlog::tree_size(&mut *tx).await?;
        if tree_size <= signed as u64 {
            return Ok(None);
        }
        let root_hash = tlog::root(&mut tx, tree_size).await?;
        let text = Checkpoint {
            origin: self.signer.verifier().name().to_owned(),
            tree_size,
            root_hash,
        }
        .text();
        let note = SignedNote {
            signatures: vec![self.signer.sign(&text)],
            text,
        };
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO log_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3)
             RETURNING created_at",
        )
        .bind(tree_size as i64)
        .bind(root_hash.as_slice())
        .bind(note.render())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::gauge!("ledger_checkpoint_tree_size").set(tree_size as f64);
        Ok(Some(LogCheckpoint {
            tree_size,
            root_hash,
            created_at,
            note,
        }))
    }

    /// Makes a checkpoint every `interval` until `stopping` turns true.
    pub async fn run(self, interval: Duration, mut stopping: tokio::sync::watch::Receiver<bool>) {
        tracing::info!(key = %self.signer.verifier(), ?interval, "signing checkpoints");
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            match self.make().await {
                Ok(Some(checkpoint)) => {
                    tracing::debug!(tree_size = checkpoint.tree_size, "signed a checkpoint");
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %crate::error_chain(&error), "making a checkpoint")
                }
            }
        }
    }
}

fn checkpoint_from_row(
    row: &sqlx::postgres::PgRow,
    cosignatures: Vec<NoteSignature>,
) -> Result<LogCheckpoint, CheckpointError> {
    let root: Vec<u8> = row.try_get("root_hash")?;
    let mut note = SignedNote::parse(row.try_get("note")?)?;
    note.signatures.extend(cosignatures);
    Ok(LogCheckpoint {
        tree_size: row.try_get::<i64, _>("tree_size")? as u64,
        root_hash: Hash::try_from(root.as_slice()).map_err(|_| TreeError::BadHash(root.len()))?,
        created_at: row.try_get("created_at")?,
        note,
    })
}

/// Checkpoints with a tree larger than `after`, smallest first, at most
/// `limit`, each with its cosignatures.
///
/// # Errors
/// The database failed, or a stored note does not parse.
pub async fn list(
    pool: &PgPool,
    after: u64,
    limit: u32,
) -> Result<Vec<LogCheckpoint>, CheckpointError> {
    let rows = sqlx::query(
        "SELECT c.tree_size, c.root_hash, c.created_at, c.note,
                COALESCE(array_agg(s.key_name ORDER BY s.created_at, s.key_name)
                         FILTER (WHERE s.key_name IS NOT NULL), '{}') AS names,
                COALESCE(array_agg(s.key_id ORDER BY s.created_at, s.key_name)
                         FILTER (WHERE s.key_name IS NOT NULL), '{}') AS ids,
                COALESCE(array_agg(s.signature ORDER BY s.created_at, s.key_name)
                         FILTER (WHERE s.key_name IS NOT NULL), '{}') AS signatures
         FROM (SELECT * FROM log_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2) c
         LEFT JOIN log_cosignatures s USING (tree_size)
         GROUP BY c.tree_size, c.root_hash, c.created_at, c.note
         ORDER BY c.tree_size",
    )
    .bind(after as i64)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let names: Vec<String> = row.try_get("names")?;
            let ids: Vec<Vec<u8>> = row.try_get("ids")?;
            let signatures: Vec<Vec<u8>> = row.try_get("signatures")?;
            let cosignatures = names
                .into_iter()
                .zip(ids)
                .zip(signatures)
                .map(|((name, id), signature)| NoteSignature {
                    name,
                    id: id.try_into().unwrap_or_default(),
                    signature,
                })
                .collect();
            checkpoint_from_row(row, cosignatures)
        })
        .collect()
}

/// The checkpoint of the tree of `tree_size` events, with its
/// cosignatures, if one was signed.
///
/// # Errors
/// As `list`.
pub async fn at_size(
    pool: &PgPool,
    tree_size: u64,
) -> Result<Option<LogCheckpoint>, CheckpointError> {
    if tree_size == 0 {
        return Ok(None);
    }
    Ok(list(pool, tree_size - 1, 1)
        .await?
        .pop()
        .filter(|checkpoint| checkpoint.tree_size == tree_size))
}

/// The checkpoint with the largest tree, if any was signed.
///
/// # Errors
/// As `list`.
pub async fn latest(pool: &PgPool) -> Result<Option<LogCheckpoint>, CheckpointError> {
    let size: Option<i64> = sqlx::query_scalar("SELECT MAX(tree_size) FROM log_checkpoints")
        .fetch_one(pool)
        .await?;
    match size {
        Some(size) => at_size(pool, size as u64).await,
        None => Ok(None),
    }
}

/// Why a cosignature was refused.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// Not a signed checkpoint note.
    #[error(transparent)]
    Malformed(#[from] NoteError),
    /// No checkpoint of that tree size was signed here.
    #[error("no checkpoint of tree size {0} was signed by this log")]
    UnknownCheckpoint(u64),
    /// The text differs from the checkpoint this log signed at that size.
    #[error("the note's text is not the checkpoint this log signed at tree size {0}")]
    TextMismatch(u64),
    /// No signature by a witness this log is configured to accept.
    #[error("no signature by a witness this log accepts (RUN_LEDGER_WITNESS_KEYS)")]
    UnknownWitness,
    /// A witness's signature that does not verify.
    #[error("the signature of witness {0} does not verify")]
    BadSignature(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Stores the signatures that `witnesses` made on a checkpoint this log
/// signed (the note as a witness returns it: the log's text with any
/// signature lines), and returns the checkpoint with every cosignature.
///
/// # Errors
/// See `CosignError`; nothing is stored then.
pub async fn add_cosignatures(
    pool: &PgPool,
    submitted: &str,
    witnesses: &[NoteVerifier],
) -> Result<LogCheckpoint, CosignError> {
    let note = SignedNote::parse(submitted)?;
    let tree_size = Checkpoint::parse(&note.text)?.tree_size;
    let stored = at_size(pool, tree_size)
        .await?
        .ok_or(CosignError::UnknownCheckpoint(tree_size))?;
    if stored.note.text != note.text {
        return Err(CosignError::TextMismatch(tree_size));
    }
    let mut accepted = Vec::new();
    for signature in &note.signatures {
        let Some(witness) = witnesses
            .iter()
            .find(|w| w.name() == signature.name && w.id() == signature.id)
        else {
            continue;
        };
        if !witness.verifies(&note.text, signature) {
            return Err(CosignError::BadSignature(witness.to_string()));
        }
        accepted.push(signature);
    }
    if accepted.is_empty() {
        return Err(CosignError::UnknownWitness);
    }
    for signature in accepted {
        sqlx::query(
            "INSERT INTO log_cosignatures (tree_size, key_name, key_id, signature)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(tree_size as i64)
        .bind(&signature.name)
        .bind(signature.id.as_slice())
        .bind(&signature.signature)
        .execute(pool)
        .await
        .map_err(CheckpointError::from)?;
    }
    Ok(at_size(pool, tree_size)
        .await?
        .expect("the checkpoint was read above and is never deleted"))
}

/// What the whole-log audit of the checkpoints found.
#[derive(Debug, Default)]
pub struct LogAudit {
    /// Checkpoints checked.
    pub checkpoints_checked: u64,
    /// Events up to this position are under a checkpoint that verified.
    pub covered_size: u64,
    /// Whether the log's signatures were checked (a key was given).
    pub signatures_checked: bool,
    /// What does not verify, in the order found.
    pub problems: Vec<String>,
}

/// Events read per page by `audit`.
const AUDIT_PAGE: i64 = 10_000;
/// Problems listed before the audit only counts them.
const MOST_PROBLEMS: usize = 100;

impl LogAudit {
    fn problem(&mut self, problem: String) {
        if self.problems.len() < MOST_PROBLEMS {
            self.problems.push(problem);
        }
    }

    fn check(
        &mut self,
        checkpoint: &LogCheckpoint,
        computed: &Hash,
        log_key: Option<&NoteVerifier>,
        witnesses: &[NoteVerifier],
    ) {
        self.checkpoints_checked += 1;
        let size = checkpoint.tree_size;
        let mut ok = true;
        match Checkpoint::parse(&checkpoint.note.text) {
            Ok(text) if text.tree_size == size && text.root_hash == checkpoint.root_hash => {}
            _ => {
                ok = false;
                self.problem(format!(
                    "checkpoint of tree size {size}: its note does not state its tree"
                ));
            }
        }
        if let Some(key) = log_key {
            if let Err(error) = checkpoint.note.verify(key) {
                ok = false;
                self.problem(format!("checkpoint of tree size {size}: {error}"));
            }
        }
        for witness in witnesses {
            let signed = checkpoint
                .note
                .signatures
                .iter()
                .filter(|s| s.name == witness.name() && s.id == witness.id());
            for signature in signed {
                if !witness.verifies(&checkpoint.note.text, signature) {
                    ok = false;
                    self.problem(format!(
                        "checkpoint of tree size {size}: the cosignature of {witness} does not verify"
                    ));
                }
            }
        }
        if computed != &checkpoint.root_hash {
            ok = false;
            self.problem(format!(
                "checkpoint of tree size {size}: the root of the log's events is not the signed \
                 root: an event up to position {size} was changed, removed or inserted"
            ));
        }
        if ok {
            self.covered_size = size;
        }
    }
}

/// Checks every checkpoint against the events, in one pass over the log:
/// the root of the events' hashes at each signed tree size, the log's
/// signature (with `log_key` when given), and the cosignatures of
/// `witnesses`. Each event is also compared with the leaf the stored tree
/// holds for it, which locates an edit made after the tree took it in.
///
/// # Errors
/// The database failed, or a stored note does not parse.
pub async fn audit(
    pool: &PgPool,
    log_key: Option<&NoteVerifier>,
    witnesses: &[NoteVerifier],
) -> Result<LogAudit, CheckpointError> {
    let mut audit = LogAudit {
        signatures_checked: log_key.is_some(),
        ..LogAudit::default()
    };
    let mut builder = RootBuilder::default();
    // The checkpoints to check are those signed before the pass began: one
    // signed meanwhile may cover a size the pass has already gone by.
    let last_signed: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(tree_size), 0) FROM log_checkpoints")
            .fetch_one(pool)
            .await?;
    let last_signed = last_signed as u64;
    let signed_before = |after: u64| async move {
        Ok::<_, CheckpointError>(
            list(pool, after, 1_000)
                .await?
                .into_iter()
                .filter(|checkpoint| checkpoint.tree_size <= last_signed)
                .collect::<Vec<_>>()
                .into_iter()
                .peekable(),
        )
    };
    let mut pending = signed_before(0).await?;
    let mut last_listed = 0;
    loop {
        let events = sqlx::query(
            "SELECT global_position, stream_id, stream_version, hash FROM events
             WHERE global_position > $1 ORDER BY global_position LIMIT $2",
        )
        .bind(builder.size() as i64)
        .bind(AUDIT_PAGE)
        .fetch_all(pool)
        .await?;
        let Some(last) = events.last() else { break };
        let last: i64 = last.try_get("global_position")?;
        let stored = tlog::stored_leaves(pool, builder.size() + 1, last as u64).await?;
        for row in &events {
            let position = row.try_get::<i64, _>("global_position")? as u64;
            let hash: Vec<u8> = row.try_get("hash")?;
            if position != builder.size() + 1 {
                audit.problem(format!(
                    "position {} is missing from the log: positions are dense",
                    builder.size() + 1
                ));
                return Ok(audit);
            }
            let leaf = merkle::leaf_hash(&hash);
            if stored.get(&position).is_some_and(|stored| stored != &leaf) {
                let stream_id: String = row.try_get("stream_id")?;
                let version: i64 = row.try_get("stream_version")?;
                audit.problem(format!(
                    "stream {stream_id} version {version} (position {position}) differs from \
                     the leaf the tree holds for it: it was changed after the tree took it in"
                ));
            }
            builder.push(leaf);
            while let Some(checkpoint) = pending.next_if(|c| c.tree_size == builder.size()) {
                audit.check(&checkpoint, &builder.root(), log_key, witnesses);
                last_listed = checkpoint.tree_size;
            }
            if pending.peek().is_none() && last_listed < last_signed {
                pending = signed_before(last_listed).await?;
            }
        }
    }
    for checkpoint in pending {
        audit.checkpoints_checked += 1;
        audit.problem(format!(
            "checkpoint of tree size {}: the log holds only {} events",
            checkpoint.tree_size,
            builder.size()
        ));
    }
    Ok(audit)
}
