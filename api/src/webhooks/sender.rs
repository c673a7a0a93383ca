//! Sending one delivery: HTTP POST with time limits, redirects refused, the response
//! body read up to a bound, and never to a reserved address (loopback, private,
//! link-local, metadata…) unless insecure targets are allowed for development. Names
//! are checked once resolved, by the resolver the connection uses (so the address
//! checked is the address connected to); IP literals, which skip the resolver, are
//! checked here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::webhooks::is_reserved;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Most bytes of a response read (the rest is dropped with the connection).
pub const RESPONSE_BODY_LIMIT: usize = 64 * 1024;

/// Resolves with the system resolver and keeps only the addresses a delivery may go to.
struct CheckedResolver {
    allow_reserved: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_reserved = self.allow_reserved;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_reserved || !is_reserved(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(
                    format!("{host} resolves to no address a webhook may be sent to").into(),
                );
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// What the HTTP exchange came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The endpoint answered (any status; a redirect is an answer, not followed).
    Answered { status: u16 },
    /// No answer: refused target, connection failure, time-out.
    Failed { error: String, permanent: bool },
}

/// The HTTP client of deliveries.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_reserved: bool,
}

impl Sender {
    pub fn new(
        connect_timeout: Duration,
        timeout: Duration,
        allow_reserved: bool,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            // A proxy would connect where the resolver did not look.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { allow_reserved }))
            .user_agent(concat!("oes-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Self {
            client,
            allow_reserved,
        })
    }

    /// POSTs `body` to `url` with `headers`; returns what came of it and how long it took.
    pub async fn send(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> (Sent, Duration) {
        let started = Instant::now();
        let parsed = match url::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => {
                return (
                    Sent::Failed {
                        error: format!("bad URL: {e}"),
                        permanent: true,
                    },
                    started.elapsed(),
                );
            }
        };
        if parsed.scheme() != "https" && !self.allow_reserved {
            return (
                Sent::Failed {
                    error: "only https URLs are allowed".into(),
                    permanent: true,
                },
                started.elapsed(),
            );
        }
        let literal: Option<IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !self.allow_reserved
            && is_reserved(ip)
        {
            return (
                Sent::Failed {
                    error: format!("{ip} is a reserved address"),
                    permanent: true,
                },
                started.elapsed(),
            );
        }
        let mut request = self
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let sent = match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let mut read = 0usize;
                // Read up to the bound, so that a well-behaved endpoint's connection is
                // reused; a longer body is cut off.
                while read < RESPONSE_BODY_LIMIT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        Ok(None) | Err(_) => break,
                    }
                }
                Sent::Answered { status }
            }
            Err(e) => Sent::Failed {
                error: describe(&e),
                permanent: false,
            },
        };
        (sent, started.elapsed())
    }
}

/// The error and its causes, on one line (reqwest's own message names only the URL).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}
