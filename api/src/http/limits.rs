//! Rate limits: sign-in attempts per IP and per account, the other anonymous requests
//! that run Argon2 (sign-ups, password resets) per IP, and a general limit per
//! authenticated caller (account or API client). Refusals are 429 problems with
//! `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` headers.

use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::http::error::ApiError;

/// The key of per-IP limits: the peer address, not `X-Forwarded-For`, which a client
/// could fill with a new value for every request.
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// One keyed limit: `per_minute` requests a minute per key, in bursts of as many.
pub struct Limit {
    limiter: DefaultKeyedRateLimiter<String>,
    per_minute: u32,
}

impl Limit {
    /// `None` when `per_minute` is 0: no limit.
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(rate)),
            per_minute,
        })
    }

    /// Takes one request for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited {
                    retry_after: wait.max(Duration::from_secs(1)).as_secs().max(1),
                    limit: self.per_minute,
                }
            })
    }

    /// Forgets keys whose budget is full again, so memory follows active callers.
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Every limit of the server.
pub struct Limits {
    pub sign_in_per_ip: Option<Limit>,
    /// Keyed `account:{email}` or `client:{client_id}` (the parsed id, in one spelling).
    pub sign_in_per_account: Option<Limit>,
    pub sign_up_per_ip: Option<Limit>,
    pub password_reset_per_ip: Option<Limit>,
    pub per_caller: Option<Limit>,
}

impl Limits {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            sign_in_per_ip: Limit::per_minute(settings.sign_in_limit_per_ip),
            sign_in_per_account: Limit::per_minute(settings.sign_in_limit_per_account),
            sign_up_per_ip: Limit::per_minute(settings.sign_up_limit_per_ip),
            password_reset_per_ip: Limit::per_minute(settings.password_reset_limit_per_ip),
            per_caller: Limit::per_minute(settings.rate_limit_per_caller),
        }
    }

    pub fn check(limit: &Option<Limit>, key: &str) -> Result<(), ApiError> {
        match limit {
            Some(limit) => limit.check(key),
            None => Ok(()),
        }
    }

    pub fn shrink(&self) {
        for limit in [
            &self.sign_in_per_ip,
            &self.sign_in_per_account,
            &self.sign_up_per_ip,
            &self.password_reset_per_ip,
            &self.per_caller,
        ]
        .into_iter()
        .flatten()
        {
            limit.shrink();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_budget_then_waits_and_others_are_untouched() {
        let limit = Limit::per_minute(3).unwrap();
        for _ in 0..3 {
            assert!(limit.check("a").is_ok());
        }
        match limit.check("a") {
            Err(ApiError::RateLimited { retry_after, limit }) => {
                assert!((1..=20).contains(&retry_after), "{retry_after}");
                assert_eq!(limit, 3);
            }
            other => panic!("{other:?}"),
        }
        assert!(limit.check("b").is_ok());
        assert!(Limit::per_minute(0).is_none());
    }
}
