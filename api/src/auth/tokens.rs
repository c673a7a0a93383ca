//! Access tokens: short-lived JWTs (HS256) whose `iss`, `aud`, `sub`, `exp`, `iat` and
//! `jti` are always set and always checked (`nbf` too when a token has one); an
//! account's tokens also carry its session epoch. Refresh tokens are opaque random
//! strings (`secrets`) stored as SHA-256 hashes.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::secrets;

/// Clock difference tolerated between instances, in seconds.
const LEEWAY_SECONDS: u64 = 30;
const SECRET_FILE: &str = "jwt-secret";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    /// The account's session epoch when the token was issued (absent for API clients, and
    /// in tokens issued before epochs existed: those count as epoch 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    header: Header,
    /// The public key, for `/.well-known/jwks.json` (asymmetric keys only).
    jwks: Option<JwkSet>,
    issuer: String,
    audience: String,
    pub access_ttl_seconds: u64,
    pub refresh_ttl_seconds: u64,
}

impl TokenKeys {
    fn validation(algorithm: Algorithm, issuer: &str) -> Validation {
        // The allow-list: one algorithm, so `alg: none` and every other one fail.
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Checked when present: a token not valid yet is refused like an expired one.
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        validation
    }

    /// HS256 with a shared secret: every instance must hold it.
    pub fn new(
        secret: &[u8],
        issuer: &str,
        access_ttl_seconds: u64,
        refresh_ttl_seconds: u64,
    ) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: Self::validation(Algorithm::HS256, issuer),
            header: Header::new(Algorithm::HS256),
            jwks: None,
            issuer: issuer.to_owned(),
            audience: issuer.to_owned(),
            access_ttl_seconds,
            refresh_ttl_seconds,
        }
    }

    /// ES256 with an EC P-256 private key (PKCS#8 PEM): tokens carry its `kid`, and the
    /// public key is published as a JWKS so that other instances and partners verify
    /// tokens without any secret.
    pub fn es256(
        private_key_pem: &[u8],
        key_id: Option<&str>,
        issuer: &str,
        access_ttl_seconds: u64,
        refresh_ttl_seconds: u64,
    ) -> Result<Self, String> {
        let encoding = EncodingKey::from_ec_pem(private_key_pem)
            .map_err(|e| format!("not an EC P-256 private key in PKCS#8 PEM: {e}"))?;
        let mut jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|e| e.to_string())?;
        let key_id = match key_id {
            Some(id) => id.to_owned(),
            // Stable across restarts and instances: derived from the public key.
            None => {
                let public = serde_json::to_vec(&jwk.algorithm).map_err(|e| e.to_string())?;
                format!("{:x}", Sha256::digest(public))[..16].to_owned()
            }
        };
        jwk.common.key_id = Some(key_id.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key_id);
        Ok(Self {
            encoding,
            decoding,
            validation: Self::validation(Algorithm::ES256, issuer),
            header,
            jwks: Some(JwkSet { keys: vec![jwk] }),
            issuer: issuer.to_owned(),
            audience: issuer.to_owned(),
            access_ttl_seconds,
            refresh_ttl_seconds,
        })
    }

    /// The public keys that verify this server's tokens, if they are asymmetric.
    pub fn jwks(&self) -> Option<&JwkSet> {
        self.jwks.as_ref()
    }

    /// A signed access token for `subject`; `epoch` is the account's session epoch
    /// (`None` for API clients).
    pub fn issue(&self, subject: &str, epoch: Option<i64>) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.to_owned(),
            exp: now + self.access_ttl_seconds,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            epoch,
        };
        encode(&self.header, &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// The claims of a valid token; `None` for anything forged, expired or foreign.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        // `iat` in the future beyond the leeway is a forged or broken clock.
        (claims.iat <= jsonwebtoken::get_current_timestamp() + LEEWAY_SECONDS
            && !claims.jti.is_empty())
        .then_some(claims)
    }
}

/// The signing secret: the configured one, or one generated once and kept in the data
/// folder (readable by the owner only) so that tokens survive restarts.
pub fn secret(
    configured: Option<&SecretString>,
    data_dir: &Path,
) -> Result<SecretSlice<u8>, String> {
    if let Some(secret) = configured {
        let secret = secret.expose_secret();
        if secret.len() < 32 {
            return Err("OES_JWT_SECRET must be at least 32 characters".into());
        }
        return Ok(secret.as_bytes().to_vec().into());
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = SecretString::from(existing);
        return URL_SAFE_NO_PAD
            .decode(existing.expose_secret().trim())
            .map(Into::into)
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    tracing::warn!(
        path = %path.display(),
        "OES_JWT_SECRET is not set: generated a signing secret; set one shared by every instance"
    );
    let secret = secrets::random_key(48);
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let encoded = SecretString::from(URL_SAFE_NO_PAD.encode(secret.expose_secret()));
    write_private(&path, encoded.expose_secret())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(secret)
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"0123456789abcdef0123456789abcdef", "oes-test", 60, 600)
    }

    #[test]
    fn an_issued_token_verifies_and_names_its_subject() {
        let keys = keys();
        let token = keys.issue("subject-1", Some(3)).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "subject-1");
        assert_eq!(claims.epoch, Some(3));
    }

    #[test]
    fn tokens_of_another_key_or_audience_fail() {
        let other = TokenKeys::new(b"another secret another secret !!", "oes-test", 60, 600);
        assert!(keys().verify(&other.issue("s", None).unwrap()).is_none());
        let foreign = TokenKeys::new(b"0123456789abcdef0123456789abcdef", "elsewhere", 60, 600);
        assert!(keys().verify(&foreign.issue("s", None).unwrap()).is_none());
        assert!(keys().verify("not.a.token").is_none());
    }
}
