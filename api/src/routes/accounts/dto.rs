//! Wire types of `/v1/accounts`.

use chrono::{DateTime, Utc};
use domain::access::{Account, AccountStatus, AgencyRole};
use domain::mail::Language;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::secrets;
use crate::enums;
use crate::http::pagination::Page;

/// An account, as its holder and the agency see it (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: uuid::Uuid,
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(example = "Claire Dupont")]
    pub display_name: String,
    #[schema(value_type = enums::AccountStatus)]
    pub status: AccountStatus,
    /// The agency role of agency accounts; null otherwise.
    #[schema(value_type = Option<enums::AgencyRole>)]
    pub agency_role: Option<AgencyRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The language of the mails the account receives.
    #[schema(value_type = enums::Language)]
    pub language: Language,
    /// Whether its holder opened the link mailed at sign-up
    /// (`POST /v1/auth/email-verification`).
    pub email_verified: bool,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.as_uuid(),
            email: account.email.as_ref().to_owned(),
            display_name: account.display_name,
            status: account.status,
            agency_role: account.agency_role,
            created_at: account.created_at,
            updated_at: account.updated_at,
            version: account.version,
            language: account.language,
            email_verified: account.email_verified_at.is_some(),
        }
    }
}

/// A sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    #[schema(
        pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        max_length = 254,
        example = "claire@compagnie.example"
    )]
    pub(crate) email: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100,
        example = "Claire Dupont"
    )]
    pub(crate) display_name: String,
    /// 15 to 128 characters; a passphrase is best.
    #[schema(
        value_type = String,
        min_length = 15,
        max_length = 128,
        example = "correct horse battery staple"
    )]
    pub(crate) password: SecretString,
    /// The language of the mails the account receives: `fr` (the default) or `en`.
    #[serde(default)]
    #[schema(value_type = Option<enums::Language>)]
    pub(crate) language: Option<Language>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub(crate) limit: Option<u32>,
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub(crate) cursor: Option<String>,
    #[param(value_type = Option<enums::AccountStatus>)]
    pub(crate) status: Option<AccountStatus>,
    #[param(value_type = Option<enums::AgencyRole>)]
    pub(crate) agency_role: Option<AgencyRole>,
}

/// One page of accounts.
pub type AccountPage = Page<AccountView>;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AccountCursor {
    pub(crate) after: String,
}

/// Changes to an account. Holders change their name; staff also enable and disable
/// accounts; administrators also give and take agency roles (`null` takes it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 100)]
    pub(crate) display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::AccountStatus)]
    pub(crate) status: Option<AccountStatus>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<enums::AgencyRole>)]
    pub(crate) agency_role: Option<Option<AgencyRole>>,
}

/// How long a password reset token works.
pub(crate) const RESET_VALIDITY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A single-use password reset token, to hand to the account's holder.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Send it to the holder over a channel you trust; it works once.
    #[serde(serialize_with = "secrets::serialize_exposed")]
    #[schema(value_type = String)]
    pub reset_token: SecretString,
    pub expires_at: DateTime<Utc>,
}
