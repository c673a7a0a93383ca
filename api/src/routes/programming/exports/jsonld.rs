//! schema.org `Event`s in JSON-LD: what search engines and agenda sites read. Public
//! performances only, and never a fee.

use domain::Discipline;
use domain::programming::PerformanceStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::listing::Listing;

pub const CONTEXT: &str = "https://schema.org";

/// The schema.org type of an event: the discipline's where one fits (puppetry is
/// theatre), `Event` for circus, street arts and shows of several kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum EventType {
    TheaterEvent,
    DanceEvent,
    MusicEvent,
    Event,
}

impl EventType {
    pub fn of(disciplines: &[Discipline]) -> Self {
        let each = |discipline: &Discipline| match discipline {
            Discipline::Theatre | Discipline::Puppetry => Self::TheaterEvent,
            Discipline::Dance => Self::DanceEvent,
            Discipline::Music => Self::MusicEvent,
            _ => Self::Event,
        };
        let mut types = disciplines.iter().map(each);
        match types.next() {
            Some(first) if types.all(|t| t == first) => first,
            _ => Self::Event,
        }
    }
}

/// schema.org's `EventStatusType`, which the performance statuses follow.
pub fn event_status(status: PerformanceStatus) -> &'static str {
    match status {
        PerformanceStatus::Scheduled => "https://schema.org/EventScheduled",
        PerformanceStatus::Cancelled => "https://schema.org/EventCancelled",
        PerformanceStatus::Postponed => "https://schema.org/EventPostponed",
        PerformanceStatus::Rescheduled => "https://schema.org/EventRescheduled",
        PerformanceStatus::MovedOnline => "https://schema.org/EventMovedOnline",
    }
}

/// A schema.org `PostalAddress`: the town and country (street and postal code of a
/// venue are private).
#[derive(Debug, Serialize, ToSchema)]
pub struct PostalAddressLd {
    #[serde(rename = "@type")]
    #[schema(rename = "@type", example = "PostalAddress")]
    pub kind: &'static str,
    #[serde(rename = "addressLocality", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "addressLocality", example = "Sète")]
    pub locality: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(rename = "addressCountry", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "addressCountry", example = "FR")]
    pub country: Option<String>,
}

/// A schema.org `Place`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceLd {
    #[serde(rename = "@type")]
    #[schema(rename = "@type", example = "Place")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Théâtre Molière")]
    pub name: Option<String>,
    pub address: PostalAddressLd,
}

/// A schema.org `PerformingGroup` or `Organization`, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationLd {
    #[serde(rename = "@type")]
    #[schema(rename = "@type", example = "PerformingGroup")]
    pub kind: &'static str,
    #[schema(example = "Compagnie du Hasard")]
    pub name: String,
}

/// A schema.org `Offer`: where to buy tickets.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferLd {
    #[serde(rename = "@type")]
    #[schema(rename = "@type", example = "Offer")]
    pub kind: &'static str,
    #[schema(example = "https://billetterie.example/le-grand-bal")]
    pub url: String,
}

/// A performance as a schema.org `Event` (JSON-LD). `@context` is present on a single
/// event, absent inside a list's `@graph`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventLd {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "@context", example = "https://schema.org")]
    pub context: Option<&'static str>,
    #[serde(rename = "@type")]
    #[schema(rename = "@type")]
    pub kind: EventType,
    /// `urn:uuid:` and the performance's id.
    #[serde(rename = "@id")]
    #[schema(
        rename = "@id",
        example = "urn:uuid:01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10"
    )]
    pub id: String,
    /// The performance's id.
    pub identifier: uuid::Uuid,
    #[schema(example = "Les Oiseaux de passage")]
    pub name: String,
    /// In the place's time zone.
    #[serde(rename = "startDate")]
    #[schema(rename = "startDate", example = "2027-03-01T20:30:00+01:00")]
    pub start_date: String,
    /// The start and the production's duration, when known.
    #[serde(rename = "endDate", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "endDate", example = "2027-03-01T21:25:00+01:00")]
    pub end_date: Option<String>,
    /// A schema.org `EventStatusType` URL.
    #[serde(rename = "eventStatus")]
    #[schema(rename = "eventStatus", example = "https://schema.org/EventScheduled")]
    pub event_status: &'static str,
    /// `OfflineEventAttendanceMode`, or `OnlineEventAttendanceMode` once moved online.
    #[serde(rename = "eventAttendanceMode")]
    #[schema(
        rename = "eventAttendanceMode",
        example = "https://schema.org/OfflineEventAttendanceMode"
    )]
    pub attendance_mode: &'static str,
    pub location: PlaceLd,
    /// The company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performer: Option<OrganizationLd>,
    /// The venue structure, for a performance at one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizer: Option<OrganizationLd>,
    /// Tickets, when the performance has a ticketing URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers: Option<OfferLd>,
    /// For a young audience: `6-` (from 6).
    #[serde(rename = "typicalAgeRange", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "typicalAgeRange", example = "6-")]
    pub typical_age_range: Option<String>,
}

impl EventLd {
    pub fn new(listing: Listing, standalone: bool) -> Self {
        let name = listing.name();
        let end_date = listing.ends_at();
        let data = &listing.performance.data;
        let zone = data.time_zone;
        let performer = listing.company.clone().map(|name| OrganizationLd {
            kind: "PerformingGroup",
            name,
        });
        let organizer = data
            .venue_structure()
            .and(listing.venue.clone())
            .map(|name| OrganizationLd {
                kind: "Organization",
                name,
            });
        Self {
            context: standalone.then_some(CONTEXT),
            kind: EventType::of(&listing.disciplines),
            id: format!("urn:uuid:{}", listing.performance.id),
            identifier: listing.performance.id.as_uuid(),
            name,
            start_date: data.starts_at.with_timezone(&zone).to_rfc3339(),
            end_date: end_date.map(|end| end.with_timezone(&zone).to_rfc3339()),
            event_status: event_status(data.status),
            attendance_mode: if data.status == PerformanceStatus::MovedOnline {
                "https://schema.org/OnlineEventAttendanceMode"
            } else {
                "https://schema.org/OfflineEventAttendanceMode"
            },
            location: PlaceLd {
                kind: "Place",
                name: listing.venue.clone(),
                address: PostalAddressLd {
                    kind: "PostalAddress",
                    locality: listing.city.clone(),
                    country: data.location.country_code.clone(),
                },
            },
            performer,
            organizer,
            offers: data
                .ticketing_url
                .clone()
                .map(|url| OfferLd { kind: "Offer", url }),
            typical_age_range: listing.minimum_age.map(|age| format!("{age}-")),
        }
    }
}

/// A page of performances as schema.org `Event`s: `@graph` holds them; `next_cursor`
/// and the `Link` header lead to the next page as in the JSON list.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventGraphLd {
    #[serde(rename = "@context")]
    #[schema(rename = "@context", example = "https://schema.org")]
    pub context: &'static str,
    #[serde(rename = "@graph")]
    #[schema(rename = "@graph")]
    pub graph: Vec<EventLd>,
    /// Cursor of the next page (also in the `Link` header); null on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disciplines_give_the_event_type_that_fits() {
        use Discipline::*;
        for (disciplines, expected) in [
            (vec![Theatre], EventType::TheaterEvent),
            (vec![Puppetry], EventType::TheaterEvent),
            (vec![Theatre, Puppetry], EventType::TheaterEvent),
            (vec![Dance], EventType::DanceEvent),
            (vec![Music], EventType::MusicEvent),
            (vec![Circus], EventType::Event),
            (vec![StreetArts], EventType::Event),
            (vec![Dance, Music], EventType::Event),
            (vec![], EventType::Event),
        ] {
            assert_eq!(EventType::of(&disciplines), expected, "{disciplines:?}");
        }
    }

    #[test]
    fn every_status_is_a_schema_org_status() {
        for status in PerformanceStatus::ALL {
            let url = event_status(*status);
            assert!(url.starts_with("https://schema.org/Event"), "{url}");
        }
    }
}
