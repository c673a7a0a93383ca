//! Random secrets: every token, client secret, generated password and signing key the
//! server makes comes from [`random_secret`] (or, for raw key bytes, [`random_key`]),
//! so there is one place that says how strong they are.
//!
//! Secrets travel as [`SecretString`] / [`SecretSlice`]: their `Debug` prints
//! `[REDACTED]`, so a derived `Debug` or a `{:?}` in a log line cannot leak them, and
//! their memory is wiped when they are dropped. Read one with `expose_secret()` at the
//! one place that needs the value.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::Serializer;
use sha2::{Digest, Sha256};

/// 256 bits: beyond guessing, so a SHA-256 of the secret is enough to find it by.
const SECRET_BYTES: usize = 32;

/// `len` bytes from the thread's CSPRNG (ChaCha12, seeded and reseeded by the operating
/// system), for keys.
pub fn random_key(len: usize) -> SecretSlice<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes.into()
}

/// A new random secret as URL-safe text (256 bits, 43 characters): refresh and password
/// reset tokens, API client secrets, generated passwords.
pub fn random_secret() -> SecretString {
    URL_SAFE_NO_PAD
        .encode(random_key(SECRET_BYTES).expose_secret())
        .into()
}

/// What the database keeps of a random secret to find it again (refresh and reset
/// tokens): its SHA-256, in hex. Only for secrets from [`random_secret`]; passwords and
/// client secrets, which people may choose or which must resist offline guessing, go
/// through Argon2 (`passwords`).
pub fn lookup_hash(secret: &SecretString) -> String {
    format!("{:x}", Sha256::digest(secret.expose_secret().as_bytes()))
}

/// For `#[serde(serialize_with = …)]` on the response fields that hand a secret out.
pub fn serialize_exposed<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// [`serialize_exposed`] for an optional secret.
pub fn serialize_exposed_option<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_url_safe_distinct_and_never_debug_printed() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.expose_secret().len(), 43);
        assert!(
            a.expose_secret()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(!format!("{a:?}").contains(a.expose_secret()));
        assert_eq!(random_key(48).expose_secret().len(), 48);
        assert_eq!(lookup_hash(&a).len(), 64);
        assert_ne!(lookup_hash(&a), lookup_hash(&b));
    }
}
