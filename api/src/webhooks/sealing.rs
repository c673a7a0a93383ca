//! Webhook secrets at rest: sealed with the server's one key ([`crate::crypto`],
//! XChaCha20-Poly1305), the subscription's id as associated data, so that a stored
//! value altered or moved to another subscription does not open. They must be read
//! back to sign, so they cannot be hashed; the key never reaches the database.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::WebhookId;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::SealingKey;

/// Seals and opens webhook secrets.
#[derive(Clone, Debug)]
pub struct Sealer(SealingKey);

impl Sealer {
    pub fn new(key: SealingKey) -> Self {
        Self(key)
    }

    /// A key given as base64 of 32 bytes (tests, and settings made in code).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        SealingKey::from_base64(text).map(Self)
    }

    /// A random key (tests).
    pub fn random() -> Self {
        Self(SealingKey::generate())
    }

    /// `secret` sealed for subscription `id`, as base64 of nonce and ciphertext.
    pub fn seal(&self, id: WebhookId, secret: &SecretString) -> Result<String, String> {
        self.0
            .seal(secret.expose_secret().as_bytes(), id.to_string().as_bytes())
            .map(|sealed| STANDARD.encode(sealed))
            .map_err(|e| e.to_string())
    }

    /// The secret sealed for subscription `id`; an error when the value was altered,
    /// sealed for another subscription or with another key.
    pub fn open_secret(&self, id: WebhookId, sealed: &str) -> Result<SecretString, String> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| "a sealed secret is not base64".to_owned())?;
        let opened = self
            .0
            .open(&bytes, id.to_string().as_bytes())
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
}
