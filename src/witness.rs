//! The client side of the transparency log: `run-ledger witness`, which
//! co-signs a log's checkpoint only when it extends the last one it
//! co-signed, and `verify --consistency`, which checks that a later
//! checkpoint extends an earlier one. Both fetch proofs over HTTP and trust
//! only the math (`ledger_store::merkle`) and the keys they are given.

use std::path::Path;

use ledger_store::merkle::{self, Hash};
use ledger_store::note::{self, Checkpoint, NoteSigner, NoteVerifier, SignedNote};
use serde::{Deserialize, Serialize};

/// Why the witness refused, or could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The log could not be asked.
    #[error("asking the log: {0}")]
    Http(#[from] reqwest::Error),
    /// The log answered with an error.
    #[error("the log answered {status} to {what}: {body}")]
    Refused {
        /// What was asked.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// The checkpoint or proof is not what the log should serve.
    #[error("the log served {0}")]
    Malformed(String),
    /// The checkpoint is not signed by the log's key.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    BadSignature(#[from] note::NoteError),
    /// A tree smaller than one seen before: history was cut.
    #[error(
        "REFUSED: the log's tree shrank from {seen} to {served} events: history was rewritten"
    )]
    Shrank {
        /// The size co-signed before.
        seen: u64,
        /// The size served now.
        served: u64,
    },
    /// Another root for a size seen before, or a consistency proof that
    /// fails: the served tree does not extend the one seen before.
    #[error(
        "REFUSED: the tree of {served} events does not extend the tree of {seen} events \
         co-signed before: history was rewritten"
    )]
    Inconsistent {
        /// The size co-signed before.
        seen: u64,
        /// The size served now.
        served: u64,
    },
    /// Another log than the state file's.
    #[error("REFUSED: the state file is for log {expected:?}, the checkpoint is of {found:?}")]
    OtherLog {
        /// The state's origin.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
    /// The state or key file failed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// What a witness remembers: the last checkpoint it co-signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// The log's origin.
    pub origin: String,
    /// The tree size co-signed.
    pub tree_size: u64,
    /// Its root, base64.
    pub root_hash: String,
    /// The note as co-signed.
    pub note: String,
}

/// A log's HTTP API, as a witness or auditor uses it.
#[derive(Debug, Clone)]
pub struct LogClient {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl LogClient {
    /// A client of the log at `base` (for example `https://ledger.example`).
    pub fn new(base: &str, api_key: &str) -> Self {
        LogClient {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
        }
    }

    async fn answer(
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<String, WitnessError> {
        let response = request.send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(WitnessError::Refused {
                what,
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }

    /// The latest checkpoint note.
    ///
    /// # Errors
    /// The log cannot be reached or refuses.
    pub async fn checkpoint(&self) -> Result<String, WitnessError> {
        let url = format!("{}/v1/audit/checkpoint", self.base);
        Self::answer(
            "the checkpoint",
            self.http.get(url).bearer_auth(&self.api_key),
        )
        .await
    }

    /// The consistency path from the tree of `from` events to that of `to`.
    ///
    /// # Errors
    /// The log cannot be reached, refuses, or serves something else.
    pub async fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, WitnessError> {
        #[derive(Deserialize)]
        struct Proof {
            from: u64,
            to: u64,
            path: Vec<String>,
        }
        let url = format!(
            "{}/v1/audit/proof/consistency?from={from}&to={to}",
            self.base
        );
        let body = Self::answer(
            "the consistency proof",
            self.http.get(url).bearer_auth(&self.api_key),
        )
        .await?;
        let proof: Proof = serde_json::from_str(&body)
            .map_err(|error| WitnessError::Malformed(format!("a consistency proof: {error}")))?;
        if (proof.from, proof.to) != (from, to) {
            return Err(WitnessError::Malformed(format!(
                "a proof from {} to {}, not from {from} to {to}",
                proof.from, proof.to
            )));
        }
        proof
            .path
            .iter()
            .map(|hash| note::hash_from_base64(hash))
            .collect::<Result<_, _>>()
            .map_err(WitnessError::Malformed)
    }

    /// Submits a cosigned note.
    ///
    /// # Errors
    /// The log cannot be reached or refuses.
    pub async fn submit_cosignature(&self, note: &str) -> Result<(), WitnessError> {
        let url = format!("{}/v1/audit/cosignatures", self.base);
        Self::answer(
            "the cosignature",
            self.http
                .post(url)
                .bearer_auth(&self.api_key)
                .json(&serde_json::json!({ "note": note })),
        )
        .await
        .map(drop)
    }
}

/// A note signed by `log_key`, and the checkpoint it states.
///
/// # Errors
/// Not a checkpoint note, or not signed by that key.
pub fn open_checkpoint(
    text: &str,
    log_key: &NoteVerifier,
) -> Result<(SignedNote, Checkpoint), WitnessError> {
    let note = SignedNote::parse(text)?;
    note.verify(log_key)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != log_key.name() {
        return Err(WitnessError::Malformed(format!(
            "a checkpoint of origin {:?}, signed by key {:?}",
            checkpoint.origin,
            log_key.name()
        )));
    }
    Ok((note, checkpoint))
}

/// Checks that `new` extends `old` (both checkpoints of one log), with a
/// consistency proof from `log` when the sizes differ.
///
/// # Errors
/// `Shrank` or `Inconsistent` when it does not; the others when the proof
/// cannot be had.
pub async fn check_extends(
    log: &LogClient,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), WitnessError> {
    if old.origin != new.origin {
        return Err(WitnessError::OtherLog {
            expected: old.origin.clone(),
            found: new.origin.clone(),
        });
    }
    let (seen, served) = (old.tree_size, new.tree_size);
    if served < seen {
        return Err(WitnessError::Shrank { seen, served });
    }
    let consistent = if served == seen {
        old.root_hash == new.root_hash
    } else {
        let path = log.consistency(seen, served).await?;
        merkle::verify_consistency(seen, served, &old.root_hash, &new.root_hash, &path)
    };
    if consistent {
        Ok(())
    } else {
        Err(WitnessError::Inconsistent { seen, served })
    }
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> WitnessError {
    WitnessError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads a witness key file (a note private key), creating one named
/// `name` when the file does not exist and a name is given.
///
/// # Errors
/// A file that cannot be read, parsed or created.
pub fn load_witness_key(path: &Path, name: Option<&str>) -> Result<NoteSigner, WitnessError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    match (std::fs::read_to_string(path), name) {
        (Ok(text), _) => NoteSigner::parse_private(&text).map_err(|e| file_error(path, e)),
        (Err(error), Some(name)) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| file_error(path, e))?;
            let signer = NoteSigner::new(name, ed25519_dalek::SigningKey::from_bytes(&seed))
                .map_err(|e| file_error(path, e))?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| file_error(path, e))?;
            writeln!(file, "{}", signer.private_key_text()).map_err(|e| file_error(path, e))?;
            file.sync_all().map_err(|e| file_error(path, e))?;
            Ok(signer)
        }
        (Err(error), _) => Err(file_error(path, error)),
    }
}

/// Writes `state` so that a crash leaves the old file or the new, whole.
fn save_state(path: &Path, state: &WitnessState) -> Result<(), WitnessError> {
    let temporary = path.with_extension("tmp");
    let text = serde_json::to_string_pretty(state).expect("a state serializes");
    std::fs::write(&temporary, text).map_err(|e| file_error(&temporary, e))?;
    std::fs::File::open(&temporary)
        .and_then(|file| file.sync_all())
        .map_err(|e| file_error(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| file_error(path, e))
}

fn load_state(path: &Path) -> Result<Option<(WitnessState, Checkpoint)>, WitnessError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(file_error(path, error)),
    };
    let state: WitnessState = serde_json::from_str(&text).map_err(|e| file_error(path, e))?;
    let checkpoint = Checkpoint {
        origin: state.origin.clone(),
        tree_size: state.tree_size,
        root_hash: note::hash_from_base64(&state.root_hash).map_err(|e| file_error(path, e))?,
    };
    Ok(Some((state, checkpoint)))
}

/// Witnesses the log once: fetches its latest checkpoint, checks the log's
/// signature and that the tree extends the one co-signed before (kept in
/// `state_path`), then co-signs it, submits the cosignature and remembers
/// it. Returns the checkpoint co-signed.
///
/// # Errors
/// Refuses (`Shrank`, `Inconsistent`, `OtherLog`, `BadSignature`) without
/// signing or touching the state; or could not reach the log or the files.
pub async fn witness(
    log: &LogClient,
    log_key: &NoteVerifier,
    signer: &NoteSigner,
    state_path: &Path,
) -> Result<Checkpoint, WitnessError> {
    let (mut note, checkpoint) = open_checkpoint(&log.checkpoint().await?, log_key)?;
    if let Some((_, seen)) = load_state(state_path)? {
        check_extends(log, &seen, &checkpoint).await?;
    }
    let already = note
        .signatures
        .iter()
        .any(|s| s.name == signer.verifier().name() && s.id == signer.verifier().id());
    if !already {
        note.signatures.push(signer.sign(&note.text));
        log.submit_cosignature(&note.render()).await?;
    }
    save_state(
        state_path,
        &WitnessState {
            origin: checkpoint.origin.clone(),
            tree_size: checkpoint.tree_size,
            root_hash: note::base64(&checkpoint.root_hash),
            note: note.render(),
        },
    )?;
    Ok(checkpoint)
}
