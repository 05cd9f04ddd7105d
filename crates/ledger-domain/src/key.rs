//! API keys as the log records them: who created, rotated and revoked
//! which key, so an auditor can tell who could write when. The secrets and
//! their hashes are never in the log; they live in the service's key table.
//!
//! Keys made before key events existed have no stream: a rotation or a
//! revocation of one starts its stream (the service checks that the key
//! exists before it asks).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::KeyEvent;
use crate::DomainError;

/// What every key stream's id starts with.
pub const KEY_STREAM_PREFIX: &str = "key-";

/// The stream of an API key: `key-{key_id}`.
pub fn key_stream_id(key_id: Uuid) -> String {
    format!("{KEY_STREAM_PREFIX}{key_id}")
}

/// `key.created`: a key was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCreated {
    /// The key.
    pub key_id: Uuid,
    /// Its tenant; none for audit and admin keys.
    pub tenant_id: Option<String>,
    /// Its scopes (`append`, `read`, `audit`, `admin`).
    pub scopes: Vec<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When it stops working by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// `key.rotated`: the key got a new secret; the previous one works until
/// `previous_valid_until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRotated {
    /// The key.
    pub key_id: Uuid,
    /// How long the previous secret was left working.
    pub grace_seconds: u32,
    /// When the previous secret stops working.
    pub previous_valid_until: DateTime<Utc>,
}

/// `key.revoked`: the key stopped working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRevoked {
    /// The key.
    pub key_id: Uuid,
}

/// A key as its stream has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyState {
    /// How it was created (`None`: before key events, or not at all).
    pub created: Option<KeyCreated>,
    /// Rotations so far.
    pub rotations: u32,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// What may be done to a key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyCommand {
    /// Record a new key.
    Create(KeyCreated),
    /// Give the key a new secret, the previous one working until `previous_valid_until`.
    Rotate {
        /// The grace period asked for.
        grace_seconds: u32,
        /// Its end.
        previous_valid_until: DateTime<Utc>,
    },
    /// Stop the key.
    Revoke,
}

/// The events a command on key `key_id` leads to. Revoking a revoked key
/// is nothing to do (a retry of a revocation appends nothing).
///
/// # Errors
/// `KeyRevoked` (409) for rotating a revoked key; `InvalidInput` for
/// creating a key whose stream exists.
pub fn decide(
    key_id: Uuid,
    state: &KeyState,
    command: &KeyCommand,
) -> Result<Vec<KeyEvent>, DomainError> {
    match command {
        KeyCommand::Create(created) => {
            if state.created.is_some() || state.revoked || state.rotations > 0 {
                return Err(DomainError::invalid("key_id", "the key exists already"));
            }
            Ok(vec![KeyEvent::Created(created.clone())])
        }
        KeyCommand::Rotate {
            grace_seconds,
            previous_valid_until,
        } => {
            if state.revoked {
                return Err(DomainError::KeyRevoked { key_id });
            }
            Ok(vec![KeyEvent::Rotated(KeyRotated {
                key_id,
                grace_seconds: *grace_seconds,
                previous_valid_until: *previous_valid_until,
            })])
        }
        KeyCommand::Revoke if state.revoked => Ok(vec![]),
        KeyCommand::Revoke => Ok(vec![KeyEvent::Revoked(KeyRevoked { key_id })]),
    }
}

/// The key after `event`.
pub fn evolve(mut state: KeyState, event: &KeyEvent) -> KeyState {
    match event {
        KeyEvent::Created(created) => state.created = Some(created.clone()),
        KeyEvent::Rotated(_) => state.rotations += 1,
        KeyEvent::Revoked(_) => state.revoked = true,
    }
    state
}
