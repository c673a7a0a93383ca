//! Wire types of `/v1/auth` and `/v1/me`.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::secrets;
use crate::http::extract::FormFields;
use crate::routes::accounts::AccountView;

/// A token request as the server reads it: every field optional, so that what is
/// missing becomes the OAuth 2.0 error RFC 6749 §5.2 names (`invalid_request`…), not a
/// validation problem. The contract states each grant's shape: [`TokenRequestSchema`].
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    pub(crate) grant_type: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) refresh_token: Option<SecretString>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) scope: Option<String>,
}

/// A token request, form-encoded as RFC 6749 says: one shape per `grant_type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = TokenRequest, discriminator(property_name = "grant_type", mapping(
    ("password" = "#/components/schemas/PasswordGrant"),
    ("refresh_token" = "#/components/schemas/RefreshTokenGrant"),
    ("client_credentials" = "#/components/schemas/ClientCredentialsGrant"),
)))]
pub enum TokenRequestSchema {
    Password(PasswordGrant),
    RefreshToken(RefreshTokenGrant),
    ClientCredentials(ClientCredentialsGrant),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordGrantType {
    Password,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokenGrantType {
    RefreshToken,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientCredentialsGrantType {
    ClientCredentials,
}

/// Sign in with an account's email and password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordGrant {
    #[schema(inline)]
    pub grant_type: PasswordGrantType,
    /// The account's email.
    #[schema(min_length = 1, example = "claire@compagnie.example")]
    pub username: String,
    #[schema(min_length = 1, example = "correct horse battery staple")]
    pub password: String,
    /// Accepted and ignored: a token carries its account's roles.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// Exchange a refresh token for a new pair; the one presented is spent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshTokenGrant {
    #[schema(inline)]
    pub grant_type: RefreshTokenGrantType,
    #[schema(min_length = 1)]
    pub refresh_token: String,
    /// Accepted and ignored.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// An API client's token, for its structures and scopes (no refresh token). The
/// client authenticates with `client_id` and `client_secret` here, or with HTTP Basic
/// (then leave them out).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCredentialsGrant {
    #[schema(inline)]
    pub grant_type: ClientCredentialsGrantType,
    /// The client's id (a UUID), unless sent with HTTP Basic.
    #[schema(nullable = false, min_length = 1)]
    pub client_id: Option<String>,
    /// The client's secret, unless sent with HTTP Basic.
    #[schema(nullable = false, min_length = 1)]
    pub client_secret: Option<String>,
    /// Accepted and ignored: a token carries the client's scopes.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    #[serde(serialize_with = "secrets::serialize_exposed")]
    #[schema(value_type = String)]
    pub access_token: SecretString,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque; spent on use: each refresh returns a new one. Absent for API clients,
    /// which ask again with their credentials.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secrets::serialize_exposed_option"
    )]
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretString>,
}

impl FormFields for TokenRequest {
    const FIELDS: &'static [&'static str] = &[
        "grant_type",
        "username",
        "password",
        "refresh_token",
        "client_id",
        "client_secret",
        "scope",
    ];
}

impl FormFields for RevokeRequest {
    const FIELDS: &'static [&'static str] = &["token", "token_type_hint"];
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh token to revoke (with every token rotated from the same sign-in).
    #[schema(value_type = Option<String>, required = true, nullable = false, min_length = 1)]
    pub(crate) token: Option<SecretString>,
    /// What the token is; access tokens expire on their own, so revoking one changes
    /// nothing.
    #[schema(nullable = false)]
    pub(crate) token_type_hint: Option<TokenTypeHint>,
}

/// RFC 7009 §2.1: the kind of token presented for revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHint {
    RefreshToken,
    AccessToken,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipExport {
    pub structure_id: uuid::Uuid,
    #[schema(example = "owner")]
    pub role: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestExport {
    pub structure_id: uuid::Uuid,
    pub message: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInExport {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
}

/// Everything held about you (GDPR, article 15 and 20).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDataExport {
    pub account: AccountView,
    pub memberships: Vec<MembershipExport>,
    pub join_requests: Vec<JoinRequestExport>,
    /// Sign-ins (refresh token families and rotations); tokens themselves are never kept.
    pub sign_ins: Vec<SignInExport>,
    /// What you did, from the audit log (the newest 1,000 entries).
    pub audit_events: Vec<crate::routes::audit_events::AuditEventView>,
}

/// A new password, with the reset token staff made for the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    pub(crate) token: SecretString,
    /// 15 to 128 characters.
    #[schema(value_type = String, min_length = 15, max_length = 128)]
    pub(crate) password: SecretString,
}

/// A JSON Web Key Set (RFC 7517 §5): the public keys that verify access tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSetView {
    pub keys: Vec<JwkView>,
}

/// An EC P-256 public key (RFC 7517, RFC 7518 §6.2) that verifies ES256 tokens: key
/// type `kty` `EC` on curve `crv` `P-256`, for signatures (`use` `sig`) of algorithm
/// `alg` `ES256`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Jwk)]
pub struct JwkView {
    #[schema(inline)]
    pub kty: JwkKeyType,
    #[schema(inline)]
    pub crv: JwkCurve,
    /// The x coordinate, base64url without padding.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{43}$",
        example = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    )]
    pub x: String,
    /// The y coordinate, base64url without padding.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{43}$",
        example = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    )]
    pub y: String,
    #[serde(rename = "use")]
    #[schema(inline)]
    pub key_use: JwkUse,
    #[schema(inline)]
    pub alg: JwkAlgorithm,
    /// The key id; tokens name it in their header's `kid`.
    #[schema(min_length = 1, example = "3f1c9a0b7d2e4c58")]
    pub kid: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkKeyType {
    #[serde(rename = "EC")]
    Ec,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkCurve {
    #[serde(rename = "P-256")]
    P256,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JwkUse {
    Sig,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkAlgorithm {
    #[serde(rename = "ES256")]
    Es256,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_credentials_shows_no_secret() {
        let request: TokenRequest = serde_urlencoded::from_str(
            "grant_type=password&username=claire%40example.org&password=hunter2-passphrase\
             &refresh_token=refresh-abc123&client_id=c&client_secret=client-secret-xyz",
        )
        .unwrap();
        let reset: ResetPassword = serde_json::from_str(
            r#"{"token": "reset-token-q1w2", "password": "new-pass-e3r4t5y6"}"#,
        )
        .unwrap();
        let response = TokenResponse {
            access_token: "eyJ.access.jwt".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            refresh_token: Some("refresh-next-456".into()),
        };
        let printed = format!("{request:?} {reset:?} {response:?}");
        for secret in [
            "hunter2-passphrase",
            "refresh-abc123",
            "client-secret-xyz",
            "reset-token-q1w2",
            "new-pass-e3r4t5y6",
            "eyJ.access.jwt",
            "refresh-next-456",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("claire@example.org"));
        // What goes on the wire still carries them.
        let wire = serde_json::to_string(&response).unwrap();
        assert!(wire.contains("eyJ.access.jwt") && wire.contains("refresh-next-456"));
    }
}
