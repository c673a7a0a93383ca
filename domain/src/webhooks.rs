//! Webhook subscriptions: where events go (a checked URL), which events (a checked
//! filter), the name an event travels under, and when a failed delivery is tried again.
//! What a subscriber may be told of a change is the change feed's rule
//! ([`crate::changes::disclose`]), never one of its own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::changes::{ChangeAction, ChangeCause, ChangedObject};
use crate::grants::DossierStatus;
use crate::validation::{FieldProblem, ValidationError};

/// Longest URL accepted.
pub const URL_MAX: usize = 2_048;
/// Most event types (or patterns) a subscription lists.
pub const EVENT_TYPES_MAX: usize = 50;
/// Most structures a subscription concerns.
pub const STRUCTURES_MAX: usize = 20;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 200;

/// Attempts at one delivery before it is given up (the first and nine retries, over about
/// a day with the default base delay: see [`retry_delay`]).
pub const MAX_ATTEMPTS: i64 = 10;
/// Deliveries given up in a row after which a subscription is disabled: with
/// [`MAX_ATTEMPTS`] over a day each, an endpoint down for days.
pub const FAILED_IN_A_ROW_TO_DISABLE: i64 = 5;

/// The events of a dossier that has moved into a status, by that status.
const DOSSIER_STATUS_EVENTS: &[(DossierStatus, &str)] = &[
    (DossierStatus::Submitted, "dossier.submitted"),
    (DossierStatus::ChangesRequested, "dossier.changes_requested"),
    (DossierStatus::InReview, "dossier.in_review"),
    (DossierStatus::Approved, "dossier.approved"),
    (DossierStatus::Rejected, "dossier.rejected"),
    (DossierStatus::Withdrawn, "dossier.withdrawn"),
    (DossierStatus::Dismissed, "dossier.dismissed"),
    (DossierStatus::Closed, "dossier.closed"),
];

/// The test event `POST /v1/webhooks/{id}/ping` sends.
pub const PING: &str = "webhook.ping";

/// Every event type a subscription may ask for.
pub fn event_types() -> Vec<&'static str> {
    let mut all = Vec::new();
    for object in ChangedObject::ALL {
        all.extend(match object {
            ChangedObject::Structure => [
                "structure.created",
                "structure.updated",
                "structure.deleted",
            ],
            ChangedObject::Production => [
                "production.created",
                "production.updated",
                "production.deleted",
            ],
            ChangedObject::Tour => ["tour.created", "tour.updated", "tour.deleted"],
            ChangedObject::Performance => [
                "performance.created",
                "performance.updated",
                "performance.deleted",
            ],
            ChangedObject::Dossier => ["dossier.created", "dossier.updated", "dossier.deleted"],
        });
    }
    all.extend(DOSSIER_STATUS_EVENTS.iter().map(|(_, name)| *name));
    all.extend(ChangeCause::ALL.iter().map(|cause| cause.as_str()));
    all.push(PING);
    all
}

/// What a subscription asks for: event types, `{object}.*` for every event of a kind of
/// object, or `*` for all. `webhook.ping` always reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Vec<String>);

impl EventFilter {
    /// Every problem at once, each named `event_types[i]`.
    pub fn parse(patterns: &[String]) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        if patterns.is_empty() {
            errors.push("event_types", FieldProblem::Required);
        }
        if patterns.len() > EVENT_TYPES_MAX {
            errors.push(
                "event_types",
                FieldProblem::TooMany {
                    max: EVENT_TYPES_MAX,
                },
            );
        }
        let known = event_types();
        for (i, pattern) in patterns.iter().enumerate() {
            let valid = pattern == "*"
                || known.contains(&pattern.as_str())
                || pattern.strip_suffix(".*").is_some_and(|object| {
                    known.iter().any(|event| {
                        event
                            .strip_prefix(object)
                            .is_some_and(|rest| rest.starts_with('.'))
                    })
                });
            if !valid {
                errors.push(format!("event_types[{i}]"), FieldProblem::EventType);
            } else if patterns[..i].contains(pattern) {
                errors.push(format!("event_types[{i}]"), FieldProblem::Duplicate);
            }
        }
        errors.into_result()?;
        Ok(Self(patterns.to_vec()))
    }

    /// A filter read back from storage (checked when it was made).
    pub fn stored(patterns: Vec<String>) -> Self {
        Self(patterns)
    }

    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// Whether `event` (`performance.updated`) is asked for.
    pub fn matches(&self, event: &str) -> bool {
        event == PING
            || self.0.iter().any(|pattern| {
                pattern == "*"
                    || pattern == event
                    || pattern.strip_suffix(".*").is_some_and(|object| {
                        event
                            .strip_prefix(object)
                            .is_some_and(|rest| rest.starts_with('.'))
                    })
            })
    }
}

/// The name of the event a change makes for a subscriber told `action` (a tombstone is
/// `deleted`). A change with a cause is named by it (`payment.recorded`) when the
/// subscriber is told of the object; a dossier that moved into another status is
/// `dossier.{status}` for the statuses that have an event, so scripts hear of
/// decisions; `previous` is its status at the version before (`None` when unknown or
/// new).
pub fn event_name(
    object: ChangedObject,
    action: ChangeAction,
    cause: Option<ChangeCause>,
    status: Option<DossierStatus>,
    previous: Option<DossierStatus>,
) -> String {
    if action == ChangeAction::Updated
        && let Some(cause) = cause
    {
        return cause.as_str().to_owned();
    }
    if object == ChangedObject::Dossier
        && action == ChangeAction::Updated
        && status.is_some()
        && status != previous
        && let Some((_, name)) = DOSSIER_STATUS_EVENTS
            .iter()
            .find(|(s, _)| Some(*s) == status)
    {
        return (*name).to_owned();
    }
    format!("{object}.{action}")
}

/// A webhook's URL: absolute, `https` (or `http` when insecure targets are allowed, for
/// development), no credentials, no fragment, and, when the host is an IP address,
/// not a reserved one (unless allowed). Names are checked once resolved, at each send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(value: &str, allow_insecure: bool) -> Result<Self, FieldProblem> {
        if value.chars().count() > URL_MAX {
            return Err(FieldProblem::TooLong { max: URL_MAX });
        }
        if value.chars().any(char::is_control) {
            return Err(FieldProblem::ControlCharacter);
        }
        let url = url::Url::parse(value).map_err(|_| FieldProblem::WebhookUrl)?;
        let scheme_ok = url.scheme() == "https" || (allow_insecure && url.scheme() == "http");
        if !scheme_ok
            || !url.username().is_empty()
            || url.password().is_some()
            || url.fragment().is_some()
        {
            return Err(FieldProblem::WebhookUrl);
        }
        match url.host() {
            None => return Err(FieldProblem::WebhookUrl),
            Some(url::Host::Ipv4(ip)) if !allow_insecure && is_reserved(IpAddr::V4(ip)) => {
                return Err(FieldProblem::ReservedAddress);
            }
            Some(url::Host::Ipv6(ip)) if !allow_insecure && is_reserved(IpAddr::V6(ip)) => {
                return Err(FieldProblem::ReservedAddress);
            }
            Some(url::Host::Domain(name))
                if !allow_insecure && (name == "localhost" || name.ends_with(".localhost")) =>
            {
                return Err(FieldProblem::ReservedAddress);
            }
            Some(_) => {}
        }
        Ok(Self(url.into()))
    }

    /// A URL read back from storage (checked when it was made).
    pub fn stored(value: String) -> Self {
        Self(value)
    }
}

impl AsRef<str> for WebhookUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Addresses no delivery goes to (unless insecure targets are allowed): the machine
/// itself, private networks, link-local (the cloud metadata service at 169.254.169.254
/// among them), unique-local, shared, unspecified, multicast, broadcast, documentation
/// and benchmarking ranges. An IPv4 address mapped or compatible in IPv6 is judged as
/// IPv4.
pub fn is_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_reserved_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_reserved_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local (fd00:ec2::254, a metadata service, among them)
                || (s[0] & 0xfe00) == 0xfc00
                // fe80::/10 link-local, fec0::/10 site-local (deprecated)
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // 2001:db8::/32 documentation
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // ::/96 IPv4-compatible, 64:ff9b::/96 NAT64 (reaches IPv4 space)
                || (s[0..6] == [0, 0, 0, 0, 0, 0])
                || (s[0] == 0x64 && s[1] == 0xff9b)
        }
    }
}

fn is_reserved_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 shared address space (carrier-grade NAT)
        || (a == 100 && (64..128).contains(&b))
        // 198.18.0.0/15 benchmarking
        || (a == 198 && (b == 18 || b == 19))
        // 192.0.0.0/24 protocol assignments
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        // 240.0.0.0/4 reserved
        || a >= 240
}

/// How long to wait before attempt `attempt + 1` after `attempt` failed ones (1-based):
/// `base` times 1, 4, 20, 60, 120, 240, 480, 960, 960, so with a base of 30 s the nine
/// retries of [`MAX_ATTEMPTS`] spread over about 24 hours (30 s, 2 min, 10 min, 30 min,
/// 1 h, 2 h, 4 h, 8 h, 8 h). `jitter`, in [0, 1), moves the wait by up to ±20 % so that
/// deliveries failed together do not come back together.
pub fn retry_delay(attempt: i64, base: Duration, jitter: f64) -> Duration {
    const FACTORS: [u32; 9] = [1, 4, 20, 60, 120, 240, 480, 960, 960];
    let index = usize::try_from(attempt.clamp(1, 9) - 1).unwrap_or(0);
    let plain = base.saturating_mul(FACTORS[index]);
    plain.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
}

/// Why a subscription stopped receiving events.
pub mod disabled {
    /// Its owner disabled it.
    pub const BY_OWNER: &str = "disabled by its owner";
    /// The endpoint answered 410 Gone.
    pub const GONE: &str = "the endpoint answered 410 Gone";
    /// [`super::FAILED_IN_A_ROW_TO_DISABLE`] deliveries were given up in a row.
    pub const FAILING: &str = "deliveries failed for days";
}

/// Why the server disabled a subscription by itself (its owner is mailed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabling {
    /// The endpoint answered 410 Gone.
    Gone,
    /// Deliveries were given up in a row for days.
    Failing,
}

impl Disabling {
    /// The `disabled_reason` the subscription shows.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Gone => disabled::GONE,
            Self::Failing => disabled::FAILING,
        }
    }
}

/// The Ipv6 address of the metadata service of some clouds, for tests.
pub const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_addresses_are_refused_and_public_ones_pass() {
        for reserved in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "ff02::1",
        ] {
            assert!(is_reserved(reserved.parse().unwrap()), "{reserved}");
        }
        assert!(is_reserved(IpAddr::V6(METADATA_V6)));
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_reserved(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_https_without_credentials_and_not_reserved_ip_literals() {
        assert!(WebhookUrl::parse("https://hooks.example.org/oes?x=1", false).is_ok());
        for (url, problem) in [
            ("http://hooks.example.org/", FieldProblem::WebhookUrl),
            ("ftp://hooks.example.org/", FieldProblem::WebhookUrl),
            (
                "https://user:pw@hooks.example.org/",
                FieldProblem::WebhookUrl,
            ),
            ("hooks.example.org", FieldProblem::WebhookUrl),
            ("https://127.0.0.1/", FieldProblem::ReservedAddress),
            ("https://[::1]:8443/", FieldProblem::ReservedAddress),
            (
                "https://169.254.169.254/latest",
                FieldProblem::ReservedAddress,
            ),
            ("https://localhost/", FieldProblem::ReservedAddress),
            ("https://a\u{0}b.example/", FieldProblem::ControlCharacter),
        ] {
            assert_eq!(WebhookUrl::parse(url, false), Err(problem), "{url}");
        }
        assert!(WebhookUrl::parse("http://127.0.0.1:9/", true).is_ok());
        let long = format!("https://example.org/{}", "a".repeat(URL_MAX));
        assert_eq!(
            WebhookUrl::parse(&long, false),
            Err(FieldProblem::TooLong { max: URL_MAX })
        );
    }

    #[test]
    fn filters_take_known_types_and_wildcards() {
        let filter =
            EventFilter::parse(&["production.*".into(), "dossier.approved".into()]).unwrap();
        assert!(filter.matches("production.created"));
        assert!(filter.matches("dossier.approved"));
        assert!(filter.matches(PING));
        assert!(!filter.matches("dossier.rejected"));
        assert!(!filter.matches("productionx.created"));
        assert!(
            EventFilter::parse(&["*".into()])
                .unwrap()
                .matches("tour.deleted")
        );
        let refused = EventFilter::parse(&[
            "performance.created".into(),
            "performance.created".into(),
            "nope.*".into(),
            "PERFORMANCE.created".into(),
        ])
        .unwrap_err();
        let fields: Vec<_> = refused.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["event_types[1]", "event_types[2]", "event_types[3]"]
        );
        assert!(EventFilter::parse(&[]).is_err());
    }

    #[test]
    fn a_dossier_moving_into_a_decision_is_named_after_it() {
        use ChangeAction::*;
        use DossierStatus::*;
        let dossier = ChangedObject::Dossier;
        assert_eq!(
            event_name(dossier, Updated, None, Some(Approved), Some(InReview)),
            "dossier.approved"
        );
        assert_eq!(
            event_name(dossier, Updated, None, Some(Approved), Some(Approved)),
            "dossier.updated"
        );
        assert_eq!(
            event_name(dossier, Updated, None, Some(Draft), None),
            "dossier.updated"
        );
        assert_eq!(
            event_name(dossier, Created, None, Some(Draft), None),
            "dossier.created"
        );
        assert_eq!(
            event_name(ChangedObject::Performance, Deleted, None, None, None),
            "performance.deleted"
        );
        for (_, name) in DOSSIER_STATUS_EVENTS {
            assert!(event_types().contains(name));
        }
    }

    #[test]
    fn a_change_with_a_cause_is_named_by_it_unless_its_subscriber_is_told_of_a_deletion() {
        use ChangeAction::*;
        let paid = Some(ChangeCause::PaymentRecorded);
        let approved = Some(DossierStatus::Approved);
        assert_eq!(
            event_name(ChangedObject::Dossier, Updated, paid, approved, approved),
            "payment.recorded"
        );
        // A subscriber that may no longer read the dossier is told it is gone.
        assert_eq!(
            event_name(ChangedObject::Dossier, Deleted, paid, None, None),
            "dossier.deleted"
        );
        assert!(event_types().contains(&"payment.recorded"));
        let filter = EventFilter::parse(&["payment.*".into()]).unwrap();
        assert!(filter.matches("payment.recorded"));
        assert!(!filter.matches("dossier.updated"));
        assert!(EventFilter::parse(&["webhook.*".into()]).is_ok());
    }

    #[test]
    fn retries_spread_over_about_a_day() {
        let base = Duration::from_secs(30);
        let total: Duration = (1..MAX_ATTEMPTS).map(|a| retry_delay(a, base, 0.5)).sum();
        assert!(total > Duration::from_secs(20 * 3600), "{total:?}");
        assert!(total < Duration::from_secs(30 * 3600), "{total:?}");
        assert!(retry_delay(1, base, 0.0) >= Duration::from_secs(24));
        assert!(retry_delay(1, base, 0.999) <= Duration::from_secs(36));
        assert_eq!(retry_delay(50, base, 0.5), retry_delay(9, base, 0.5));
    }
}
