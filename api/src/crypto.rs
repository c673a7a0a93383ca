//! Encryption at rest: what the server stores but must not leave readable in the
//! database (mail bodies holding a token link).
//!
//! XChaCha20-Poly1305 (an AEAD with 192-bit random nonces, so that random nonces never
//! repeat in practice) under one 256-bit key: `OES_ENCRYPTION_KEY` (base64, every
//! instance must share it), or, unset, a key generated into the data folder
//! (`encryption-key`, mode 0600) exactly as the JWT secret is. A sealed value is the
//! nonce followed by the ciphertext and its tag; the associated data (the row's id)
//! binds it to its row, so that a value copied to another row does not open.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::secrets;

const KEY_FILE: &str = "encryption-key";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Tampered with, sealed under another key, or bound to other associated data.
    #[error("the sealed value does not open with this key and associated data")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// The key that seals and opens values at rest. Cloning shares it; `Debug` shows
/// nothing of it.
#[derive(Clone)]
pub struct SealingKey(Arc<XChaCha20Poly1305>);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey([REDACTED])")
    }
}

impl SealingKey {
    /// The configured key (base64 of 32 bytes, standard or URL-safe alphabet), or the
    /// one in the data folder, generated there on first use.
    pub fn load(configured: Option<&SecretString>, data_dir: &Path) -> Result<Self, String> {
        if let Some(key) = configured {
            return Self::from_base64(key.expose_secret())
                .map_err(|e| format!("OES_ENCRYPTION_KEY {e}"));
        }
        let path = data_dir.join(KEY_FILE);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = SecretString::from(existing);
            return Self::from_base64(existing.expose_secret())
                .map_err(|e| format!("{}: {e}", path.display()));
        }
        tracing::warn!(
            path = %path.display(),
            "OES_ENCRYPTION_KEY is not set: generated an encryption key; set one shared by every instance"
        );
        let key = secrets::random_key(KEY_BYTES);
        std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let encoded = SecretString::from(URL_SAFE_NO_PAD.encode(key.expose_secret()));
        match crate::auth::tokens::write_private(&path, encoded.expose_secret()) {
            Ok(()) => Self::from_bytes(key.expose_secret()),
            // Another process made it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(None, data_dir),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// A key given as base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = secrecy::SecretSlice::from(
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(text))
                .map_err(|_| "is not base64".to_owned())?,
        );
        Self::from_bytes(bytes.expose_secret())
    }

    /// A key of exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() != KEY_BYTES {
            return Err(format!(
                "must hold {KEY_BYTES} bytes (base64 of 32 random bytes: `openssl rand -base64 32`)"
            ));
        }
        XChaCha20Poly1305::new_from_slice(bytes)
            .map(|cipher| Self(Arc::new(cipher)))
            .map_err(|_| format!("must hold {KEY_BYTES} bytes"))
    }

    /// A fresh random key (tests, tools).
    pub fn generate() -> Self {
        // random_key gives exactly KEY_BYTES, which from_bytes accepts.
        let key = secrets::random_key(KEY_BYTES);
        Self(Arc::new(XChaCha20Poly1305::new(
            chacha20poly1305::Key::from_slice(key.expose_secret()),
        )))
    }

    /// `plaintext` sealed and bound to `associated`: nonce, then ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = secrets::random_key(NONCE_BYTES);
        let nonce = XNonce::from_slice(nonce_bytes.expose_secret());
        let ciphertext = self
            .0
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// What [`seal`](Self::seal) sealed with this key and the same `associated`.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_BYTES {
            return Err(CryptoError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_with_the_same_key_and_associated_data_only() {
        let key = SealingKey::generate();
        let sealed = key
            .seal(b"https://x.example/?token=secret", b"row-1")
            .unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            key.open(&sealed, b"row-1").unwrap(),
            b"https://x.example/?token=secret"
        );
        assert_eq!(key.open(&sealed, b"row-2"), Err(CryptoError::Open));
        assert_eq!(
            SealingKey::generate().open(&sealed, b"row-1"),
            Err(CryptoError::Open)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(&tampered, b"row-1"), Err(CryptoError::Open));
        assert_eq!(key.open(&sealed[..10], b"row-1"), Err(CryptoError::Open));
        assert_ne!(
            key.seal(b"same", b"a").unwrap(),
            key.seal(b"same", b"a").unwrap()
        );
        assert_eq!(format!("{key:?}"), "SealingKey([REDACTED])");
    }

    #[test]
    fn a_generated_key_is_kept_in_the_data_folder_and_a_configured_one_is_checked() {
        let dir = tempfile_dir();
        let first = SealingKey::load(None, &dir).unwrap();
        let again = SealingKey::load(None, &dir).unwrap();
        let sealed = first.seal(b"x", b"id").unwrap();
        assert_eq!(again.open(&sealed, b"id").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = SecretString::from(STANDARD.encode([7u8; 32]));
        assert!(SealingKey::load(Some(&configured), &dir).is_ok());
        let short = SecretString::from(STANDARD.encode([7u8; 16]));
        assert!(SealingKey::load(Some(&short), &dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("oes-crypto-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
