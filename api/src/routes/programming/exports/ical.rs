//! iCalendar (RFC 5545) feeds: one `VEVENT` per performance, written by the
//! `icalendar` crate (which escapes text and folds lines at 75 octets). Instants are in
//! UTC, so the feed needs no `VTIMEZONE`.

use domain::programming::{Booking, PerformanceStatus};
use icalendar::{Component, Event, EventLike, EventStatus};

use super::listing::Listing;

pub const MEDIA_TYPE: &str = "text/calendar; charset=utf-8";

/// What comes before the events: the calendar's own properties, all plain ASCII. No
/// `METHOD`: without one, an event's `DTSTAMP` is when it was last revised (RFC 5545
/// §3.8.7.2), which keeps the feed the same from one fetch to the next.
pub const HEAD: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//OES API//Performances//FR\r\n\
CALSCALE:GREGORIAN\r\n\
X-WR-CALNAME:Performances\r\n\
REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n\
X-PUBLISHED-TTL:PT1H\r\n";

/// What comes after them.
pub const TAIL: &str = "END:VCALENDAR\r\n";

/// The stable UID of a performance's event.
pub fn uid(listing: &Listing) -> String {
    format!("{}@oes", listing.performance.id)
}

/// The event's status: cancelled, tentative while only an option is held (or while
/// postponed without a new date), confirmed otherwise.
pub fn status(status: PerformanceStatus, booking: Booking) -> EventStatus {
    match (status, booking) {
        (PerformanceStatus::Cancelled, _) => EventStatus::Cancelled,
        (PerformanceStatus::Postponed, _) | (_, Booking::Option) => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    }
}

/// A text value as iCalendar holds it: a bare CR cannot be escaped, so line breaks
/// become LF (escaped as `\n` by the writer).
fn text(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

/// The `VEVENT` of a performance. Its `SEQUENCE` is the version less one: it rises with
/// every change, as calendar clients expect of an event they hold.
pub fn event(listing: &Listing) -> Event {
    let performance = &listing.performance;
    let data = &performance.data;
    let mut event = Event::new();
    event
        .uid(&uid(listing))
        .timestamp(performance.updated_at)
        .last_modified(performance.updated_at)
        .starts(data.starts_at)
        .summary(&text(&listing.name()))
        .sequence(u32::try_from(performance.version.saturating_sub(1)).unwrap_or(u32::MAX))
        .status(status(data.status, data.booking));
    if let Some(ends_at) = listing.ends_at() {
        event.ends(ends_at);
    }
    if let Some(location) = listing.location() {
        event.location(&text(&location));
    }
    if let Some(url) = &data.ticketing_url {
        event.url(url);
    }
    if let (Some(company), Some(_)) = (&listing.company, &listing.title) {
        event.description(&text(company));
    }
    event.done()
}

/// The events of a page, one after the other.
pub fn events(listings: &[Listing]) -> Result<String, std::fmt::Error> {
    let mut out = String::with_capacity(listings.len() * 400);
    for listing in listings {
        event(listing).fmt_write(&mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_wins_then_options_are_tentative() {
        use PerformanceStatus::*;
        for (state, booking, expected) in [
            (Scheduled, Booking::Confirmed, EventStatus::Confirmed),
            (Scheduled, Booking::Option, EventStatus::Tentative),
            (Cancelled, Booking::Confirmed, EventStatus::Cancelled),
            (Cancelled, Booking::Option, EventStatus::Cancelled),
            (Postponed, Booking::Confirmed, EventStatus::Tentative),
            (Rescheduled, Booking::Confirmed, EventStatus::Confirmed),
            (MovedOnline, Booking::Confirmed, EventStatus::Confirmed),
        ] {
            assert_eq!(status(state, booking), expected, "{state:?} {booking:?}");
        }
    }

    #[test]
    fn the_head_is_folded_and_ends_its_lines_with_crlf() {
        for line in HEAD
            .split_inclusive("\r\n")
            .chain(TAIL.split_inclusive("\r\n"))
        {
            assert!(line.ends_with("\r\n"), "{line:?}");
            assert!(line.len() <= 77, "{line:?}");
        }
    }
}
