//! Webhook secrets at rest: sealed with XChaCha20-Poly1305 (an AEAD, so a stored value
//! altered or moved to another subscription does not open), the subscription's id as
//! associated data, a random 192-bit nonce per sealing. They must be read back to sign,
//! so they cannot be hashed; the key never reaches the database.
//!
//! The key comes from `OES_ENCRYPTION_KEY` (base64 of 32 bytes, shared by every
//! instance) or, unset, is generated into the data folder like the token signing secret.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use domain::WebhookId;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::auth::secrets;

const KEY_FILE: &str = "encryption.key";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// Seals and opens webhook secrets.
#[derive(Clone)]
pub struct Sealer {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    /// The configured key, or the one in the data folder (made the first time).
    pub fn open(configured: Option<&SecretString>, data_dir: &Path) -> Result<Self, String> {
        if let Some(key) = configured {
            return Self::from_base64(key.expose_secret())
                .map_err(|e| format!("OES_ENCRYPTION_KEY: {e}"));
        }
        let path = data_dir.join(KEY_FILE);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = SecretString::from(existing);
            return Self::from_base64(existing.expose_secret().trim())
                .map_err(|e| format!("{}: {e}", path.display()));
        }
        tracing::warn!(
            path = %path.display(),
            "OES_ENCRYPTION_KEY is not set: generated a key for webhook secrets; set one shared by every instance"
        );
        let key = secrets::random_key(KEY_BYTES);
        std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let encoded = SecretString::from(URL_SAFE_NO_PAD.encode(key.expose_secret()));
        match crate::auth::tokens::write_private(&path, encoded.expose_secret()) {
            Ok(()) => Ok(Self { key }),
            // Another process made it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::open(None, data_dir),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// A key given as base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(text))
            .map_err(|_| "not base64".to_owned())?;
        if bytes.len() != KEY_BYTES {
            return Err(format!("must be {KEY_BYTES} bytes, base64-encoded"));
        }
        Ok(Self { key: bytes.into() })
    }

    /// A random key (tests, and settings made in code).
    pub fn random() -> Self {
        Self {
            key: secrets::random_key(KEY_BYTES),
        }
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305, String> {
        XChaCha20Poly1305::new_from_slice(self.key.expose_secret())
            .map_err(|_| "bad key length".to_owned())
    }

    /// `secret` sealed for subscription `id`, as base64 of nonce and ciphertext.
    pub fn seal(&self, id: WebhookId, secret: &SecretString) -> Result<String, String> {
        let nonce_bytes = secrets::random_key(NONCE_BYTES);
        let nonce = XNonce::from_slice(nonce_bytes.expose_secret());
        let aad = id.to_string();
        let sealed = self
            .cipher()?
            .encrypt(
                nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = nonce_bytes.expose_secret().to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// The secret sealed for subscription `id`; an error when the value was altered,
    /// sealed for another subscription or with another key.
    pub fn open_secret(&self, id: WebhookId, sealed: &str) -> Result<SecretString, String> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| "a sealed secret is not base64".to_owned())?;
        if bytes.len() <= NONCE_BYTES {
            return Err("a sealed secret is too short".into());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let aad = id.to_string();
        let opened = self
            .cipher()?
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                "a sealed secret does not open with this key (OES_ENCRYPTION_KEY changed?)"
                    .to_owned()
            })?;
        String::from_utf8(opened)
            .map(Into::into)
            .map_err(|_| "a sealed secret is not text".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_subscription_and_key() {
        let sealer = Sealer::random();
        let (id, other) = (WebhookId::generate(), WebhookId::generate());
        let secret: SecretString = "whsec_c2VjcmV0LXZhbHVlLTAxMjM0NTY3ODk=".to_owned().into();
        let sealed = sealer.seal(id, &secret).unwrap();
        assert!(!sealed.contains("whsec_"));
        assert_ne!(
            sealed,
            sealer.seal(id, &secret).unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(
            sealer.open_secret(id, &sealed).unwrap().expose_secret(),
            secret.expose_secret()
        );
        assert!(sealer.open_secret(other, &sealed).is_err());
        assert!(Sealer::random().open_secret(id, &sealed).is_err());
        let mut altered = STANDARD.decode(&sealed).unwrap();
        *altered.last_mut().unwrap() ^= 1;
        assert!(sealer.open_secret(id, &STANDARD.encode(altered)).is_err());
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_generated_once_into_the_data_folder() {
        assert!(Sealer::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(Sealer::from_base64(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(Sealer::from_base64(&STANDARD.encode([7u8; 16])).is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
        let dir = tempfile_dir();
        let first = Sealer::open(None, &dir).unwrap();
        let again = Sealer::open(None, &dir).unwrap();
        let id = WebhookId::generate();
        let sealed = first.seal(id, &"whsec_x".to_owned().into()).unwrap();
        assert!(again.open_secret(id, &sealed).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("oes-sealing-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
