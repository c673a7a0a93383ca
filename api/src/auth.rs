//! Who is calling. Accounts and tokens arrive with access control; until then every
//! caller is anonymous, and handlers already take the principal so that the policy
//! slots in without rewriting them.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(_req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::Anonymous))
    }
}
