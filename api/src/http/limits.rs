//! Rate limits: sign-in attempts per IP and per account, and a general limit per
//! authenticated caller (account or API client). Refusals are 429 problems with
//! `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` headers.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::error::ApiError;

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
    pub sign_in_per_account: Option<Limit>,
    pub per_caller: Option<Limit>,
}

impl Limits {
    pub fn new(sign_in_per_ip: u32, sign_in_per_account: u32, per_caller: u32) -> Self {
        Self {
            sign_in_per_ip: Limit::per_minute(sign_in_per_ip),
            sign_in_per_account: Limit::per_minute(sign_in_per_account),
            per_caller: Limit::per_minute(per_caller),
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
