//! Signatures per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with
//! the base64-decoded part of the `whsec_` secret; several space-separated signatures
//! while a rotated secret still signs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;

use crate::auth::secrets;

/// The prefix of a webhook secret.
pub const PREFIX: &str = "whsec_";
/// Random bytes in a secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new secret, `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> SecretString {
    format!(
        "{PREFIX}{}",
        STANDARD.encode(secrets::random_key(SECRET_BYTES).expose_secret())
    )
    .into()
}

/// A new secret as plain text, for tests that need one they may print.
pub fn new_secret_text() -> String {
    new_secret().expose_secret().to_owned()
}

/// The key a secret signs with: the base64-decoded part after `whsec_`.
pub fn key_of(secret: &SecretString) -> Result<SecretSlice<u8>, String> {
    let text = secret.expose_secret();
    let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
    STANDARD
        .decode(encoded)
        .map(Into::into)
        .map_err(|_| "a webhook secret is not base64".to_owned())
}

/// `v1,<signature>` of one message with one key.
fn sign_with(key: &SecretSlice<u8>, id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.expose_secret()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header's value: one signature per secret, space-separated.
pub fn signature(
    secrets: &[SecretString],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        signatures.push(sign_with(&key_of(secret)?, id, timestamp, body));
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification and of its reference libraries' tests.
    #[test]
    fn the_specification_example_signs_as_published() {
        let secret: SecretString = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned().into();
        let body = br#"{"test": 2432232314}"#;
        let signed =
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_and_new_secrets_decode() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.expose_secret().starts_with(PREFIX));
        assert_eq!(key_of(&a).unwrap().expose_secret().len(), 32);
        let both = signature(&[a.clone(), b.clone()], "msg_1", 1, b"{}").unwrap();
        let parts: Vec<_> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&[a], "msg_1", 1, b"{}").unwrap());
        assert_eq!(parts[1], signature(&[b], "msg_1", 1, b"{}").unwrap());
        assert!(!format!("{:?}", new_secret()).contains(PREFIX));
    }
}
