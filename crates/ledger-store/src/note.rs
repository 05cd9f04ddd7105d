//! Signed notes (c2sp.org/signed-note) with Ed25519 keys, and checkpoints
//! (c2sp.org/tlog-checkpoint), the text they sign. No IO.
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n...]
//! \n
//! — <key name> <base64(key id[4] || Ed25519 signature[64])>\n    (one line per signer)
//! ```
//!
//! A key id is the first 4 bytes of SHA-256(key name || "\n" || 0x01 ||
//! public key); a verifier key is written `<name>+<hex key id>+<base64(0x01
//! || public key)>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The signature type byte of Ed25519 keys.
const ED25519: u8 = 0x01;
/// What starts a signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note, a key or a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Not a signed note.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// Not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// Not a verifier key.
    #[error("malformed verifier key: {0}")]
    MalformedKey(String),
    /// No signature of this key.
    #[error("the note has no signature by {0}")]
    Unsigned(String),
    /// A signature of this key that does not verify.
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
}

/// A key name is non-empty, with no whitespace and no `+`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        Err(format!(
            "key name {name:?} must be non-empty, without spaces or '+'"
        ))
    } else {
        Ok(())
    }
}

/// The key id of an Ed25519 key with this name.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([ED25519])
        .chain_update(key.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A named Ed25519 public key that checks note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `key` under `name`.
    ///
    /// # Errors
    /// A name with spaces or `+`, or empty.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_name(name).map_err(NoteError::MalformedKey)?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        })
    }

    /// Parses `<name>+<hex key id>+<base64(0x01 || public key)>`.
    ///
    /// # Errors
    /// Anything else, or an id that is not the key's.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedKey(format!("{why}: {text:?}"));
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        let id: [u8; 4] = hex::decode(id)
            .ok()
            .and_then(|id| id.try_into().ok())
            .ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let key = STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let (Some(&ED25519), Ok(key)) =
            (key.first(), <[u8; 32]>::try_from(&key[1.min(key.len())..]))
        else {
            return Err(bad("not an Ed25519 key"));
        };
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not an Ed25519 key"))?;
        let verifier = NoteVerifier::new(name, key)?;
        if verifier.id != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(verifier)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` is this key's over `text`.
    pub fn verifies(&self, text: &str, signature: &NoteSignature) -> bool {
        signature.name == self.name
            && signature.id == self.id
            && Signature::from_slice(&signature.signature)
                .is_ok_and(|sig| self.key.verify_strict(text.as_bytes(), &sig).is_ok())
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            STANDARD.encode(key)
        )
    }
}

/// A named Ed25519 key that signs notes.
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({})", self.verifier)
    }
}

impl NoteSigner {
    /// A signer for `key` under `name`.
    ///
    /// # Errors
    /// A name with spaces or `+`, or empty.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        Ok(NoteSigner {
            verifier: NoteVerifier::new(name, key.verifying_key())?,
            key,
        })
    }

    /// Parses a private key in the note format
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`.
    ///
    /// # Errors
    /// Anything else, or an id that is not the key's.
    pub fn parse_private(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedKey(format!("private key: {why}"));
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("expected PRIVATE+KEY+<name>+<key id>+<key>"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected PRIVATE+KEY+<name>+<key id>+<key>"));
        };
        let key = STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let seed: [u8; 32] = match key.split_first() {
            Some((&ED25519, seed)) => seed.try_into().map_err(|_| bad("not an Ed25519 key"))?,
            _ => return Err(bad("not an Ed25519 key")),
        };
        let signer = NoteSigner::new(name, SigningKey::from_bytes(&seed))?;
        if hex::encode(signer.verifier.id) != id.to_ascii_lowercase() {
            return Err(bad("the key id does not match the key"));
        }
        Ok(signer)
    }

    /// The private key in the note format (see `parse_private`).
    pub fn private_key_text(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.verifier.name,
            hex::encode(self.verifier.id),
            STANDARD.encode(key)
        )
    }

    /// Its verifier.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// Signs a note's text.
    pub fn sign(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.verifier.name.clone(),
            id: self.verifier.id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub name: String,
    /// The signer's key id.
    pub id: [u8; 4],
    /// The signature (64 bytes for Ed25519).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, without its newline.
    pub fn line(&self) -> String {
        let mut bytes = self.id.to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}", self.name, STANDARD.encode(bytes))
    }

    fn parse(line: &str) -> Result<Self, NoteError> {
        let bad = || NoteError::Malformed(format!("bad signature line {line:?}"));
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(bad)?;
        let (name, encoded) = rest.split_once(' ').ok_or_else(bad)?;
        check_name(name).map_err(|_| bad())?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad())?;
        if bytes.len() < 5 {
            return Err(bad());
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            id: [bytes[0], bytes[1], bytes[2], bytes[3]],
            signature: bytes[4..].to_vec(),
        })
    }
}

/// A note's text and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// What is signed: lines, each ending in a newline.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parses a signed note.
    ///
    /// # Errors
    /// Not text, a blank line and signature lines.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Malformed(
                "a control character other than newline".into(),
            ));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        let signatures = signatures
            .strip_suffix('\n')
            .ok_or_else(|| NoteError::Malformed("a note ends with a newline".into()))?;
        let signatures = signatures
            .split('\n')
            .map(NoteSignature::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Checks the signature of `verifier`.
    ///
    /// # Errors
    /// No signature by that key, or one that does not verify.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<(), NoteError> {
        let mut theirs = self
            .signatures
            .iter()
            .filter(|signature| signature.name == verifier.name && signature.id == verifier.id)
            .peekable();
        if theirs.peek().is_none() {
            return Err(NoteError::Unsigned(verifier.to_string()));
        }
        if theirs.all(|signature| verifier.verifies(&self.text, signature)) {
            Ok(())
        } else {
            Err(NoteError::BadSignature(verifier.to_string()))
        }
    }

    /// The note as served: text, blank line, one line per signature.
    pub fn render(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.line());
            out.push('\n');
        }
        out
    }
}

/// A checkpoint: the text of a signed tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (its name).
    pub origin: String,
    /// Leaves in the tree.
    pub tree_size: u64,
    /// The tree's root.
    pub root_hash: Hash,
}

impl Checkpoint {
    /// The note text.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            STANDARD.encode(self.root_hash)
        )
    }

    /// Parses a note text (extension lines are allowed and ignored).
    ///
    /// # Errors
    /// Fewer than three lines, or a size or hash that does not parse.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedCheckpoint(why.to_owned());
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("expected origin, tree size and root hash lines"));
        };
        if origin.is_empty() {
            return Err(bad("an empty origin"));
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad("the tree size is not a decimal number"));
        }
        let tree_size = size
            .parse()
            .map_err(|_| bad("the tree size is not a decimal number"))?;
        let root_hash = STANDARD
            .decode(root)
            .ok()
            .and_then(|root| Hash::try_from(root).ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            tree_size,
            root_hash,
        })
    }
}

/// Standard base64, as notes and proofs write hashes.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A hash from standard base64.
///
/// # Errors
/// Not 32 bytes of base64.
pub fn hash_from_base64(text: &str) -> Result<Hash, String> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| Hash::try_from(bytes).ok())
        .ok_or_else(|| format!("{text:?} is not a 32-byte hash in base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_signed_and_rendered_parses_back_and_verifies_only_with_its_key() {
        let signer = NoteSigner::new("example.com/log", SigningKey::from_bytes(&[7; 32])).unwrap();
        let other = NoteSigner::new("example.com/log", SigningKey::from_bytes(&[8; 32])).unwrap();
        let text = Checkpoint {
            origin: "example.com/log".into(),
            tree_size: 12,
            root_hash: [3; 32],
        }
        .text();
        let note = SignedNote {
            text: text.clone(),
            signatures: vec![signer.sign(&text)],
        };
        let parsed = SignedNote::parse(&note.render()).unwrap();
        assert_eq!(parsed, note);
        parsed.verify(signer.verifier()).unwrap();
        assert!(matches!(
            parsed.verify(other.verifier()),
            Err(NoteError::Unsigned(_))
        ));
        let verifier = NoteVerifier::parse(&signer.verifier().to_string()).unwrap();
        assert_eq!(&verifier, signer.verifier());
        let private = NoteSigner::parse_private(&signer.private_key_text()).unwrap();
        assert_eq!(private.verifier(), signer.verifier());
        assert_eq!(Checkpoint::parse(&parsed.text).unwrap().tree_size, 12);
        let mut forged = parsed.clone();
        forged.text = forged.text.replace("12", "13");
        assert!(matches!(
            forged.verify(&verifier),
            Err(NoteError::BadSignature(_))
        ));
    }
}
