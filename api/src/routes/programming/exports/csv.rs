//! CSV of performances (RFC 4180, UTF-8, CRLF), written by the `csv` crate: a header
//! row, then one row per performance.

use super::listing::Listing;

pub const MEDIA_TYPE: &str = "text/csv; charset=utf-8; header=present";

/// The columns, in order. `fee_cents` is empty where the reader may not see the fee.
pub const COLUMNS: [&str; 28] = [
    "id",
    "starts_at",
    "local_starts_at",
    "time_zone",
    "status",
    "booking",
    "title",
    "company",
    "disciplines",
    "production_id",
    "company_structure_id",
    "venue",
    "venue_structure_id",
    "city",
    "commune_code",
    "department_code",
    "region_code",
    "country_code",
    "fee_cents",
    "capacity",
    "attendance",
    "ticketing_url",
    "accessibility",
    "tour_id",
    "published",
    "created_at",
    "updated_at",
    "version",
];

pub(crate) fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * 1024))
}

pub(crate) fn done(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, csv::Error> {
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The header row.
pub fn header() -> Result<Vec<u8>, csv::Error> {
    let mut writer = writer();
    writer.write_record(COLUMNS)?;
    done(writer)
}

/// The rows of a page.
pub fn rows(listings: &[Listing]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = writer();
    for listing in listings {
        writer.write_record(row(listing))?;
    }
    done(writer)
}

/// Text a person or a partner wrote, made inert for spreadsheets: a cell that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
/// LibreOffice and Google Sheets (CSV injection); a leading `'` keeps it text.
pub(crate) fn inert(value: &Option<String>) -> String {
    match value.as_deref() {
        Some(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{text}"),
        Some(text) => text.to_owned(),
        None => String::new(),
    }
}

fn row(listing: &Listing) -> [String; COLUMNS.len()] {
    let performance = &listing.performance;
    let data = &performance.data;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    let id = |value: Option<String>| value.unwrap_or_default();
    let instant =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    [
        performance.id.to_string(),
        instant(data.starts_at),
        data.starts_at.with_timezone(&data.time_zone).to_rfc3339(),
        data.time_zone.name().to_owned(),
        data.status.as_str().to_owned(),
        data.booking.as_str().to_owned(),
        inert(&listing.title),
        inert(&listing.company),
        listing
            .disciplines
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        id(data.production_id().map(|p| p.to_string())),
        id(data.company_structure().map(|s| s.to_string())),
        inert(&listing.venue),
        id(data.venue_structure().map(|s| s.to_string())),
        inert(&listing.city),
        text(&data.location.commune_code),
        text(&data.location.department_code),
        text(&data.location.region_code),
        text(&data.location.country_code),
        if listing.fee_visible {
            number(data.fee_cents)
        } else {
            String::new()
        },
        number(data.capacity),
        number(data.attendance),
        inert(&data.ticketing_url),
        data.accessibility
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        id(data.tour_id.map(|t| t.to_string())),
        data.published.to_string(),
        instant(performance.created_at),
        instant(performance.updated_at),
        performance.version.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use domain::programming::{
        Booking, Location, NewPerformance, Performance, PerformanceStatus, Place, Show,
    };
    use domain::{Discipline, PerformanceId};

    fn listing(title: &str, fee_visible: bool) -> Listing {
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 19, 30, 0).unwrap();
        Listing {
            performance: Performance {
                id: PerformanceId::generate(),
                data: NewPerformance {
                    show: Show::Outside {
                        title: title.to_owned(),
                        company_name: "Cie".into(),
                        discipline: Discipline::Dance,
                    },
                    place: Place::Commune {
                        name: "Salle".into(),
                    },
                    location: Location {
                        commune_code: Some("34172".into()),
                        department_code: Some("34".into()),
                        region_code: Some("76".into()),
                        country_code: Some("FR".into()),
                    },
                    starts_at: at,
                    time_zone: domain::programming::performance::PARIS,
                    status: PerformanceStatus::Scheduled,
                    booking: Booking::Confirmed,
                    fee_cents: Some(123_456),
                    capacity: None,
                    attendance: None,
                    ticketing_url: None,
                    accessibility: Vec::new(),
                    tour_id: None,
                    published: true,
                },
                created_at: at,
                updated_at: at,
                version: 1,
            },
            title: Some(title.to_owned()),
            company: Some("Cie".into()),
            disciplines: vec![Discipline::Dance],
            minimum_age: None,
            duration_minutes: None,
            venue: Some("Salle".into()),
            city: Some("Montpellier".into()),
            fee_visible,
        }
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_kept_text() {
        for (title, cell) in [
            (
                "=HYPERLINK(\"https://evil.example\")",
                "'=HYPERLINK(\"https://evil.example\")",
            ),
            ("+33 spectacle", "'+33 spectacle"),
            ("-5 ans", "'-5 ans"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Le Bal = fête", "Le Bal = fête"),
        ] {
            let body = rows(&[listing(title, true)]).unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(body.as_slice());
            let record = reader.records().next().unwrap().unwrap();
            let at = COLUMNS.iter().position(|c| *c == "title").unwrap();
            assert_eq!(&record[at], cell, "{title}");
        }
    }

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted_and_read_back() {
        let title = "Le \"grand\" bal, acte 1\r\nacte 2";
        let mut body = header().unwrap();
        body.extend(rows(&[listing(title, true), listing("Sans fee", false)]).unwrap());
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(
            text.contains("\"Le \"\"grand\"\" bal, acte 1\r\nacte 2\""),
            "{text}"
        );
        let mut reader = csv::Reader::from_reader(body.as_slice());
        assert_eq!(reader.headers().unwrap().len(), COLUMNS.len());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
        assert_eq!(&records[0][at("title")], title);
        assert_eq!(&records[0][at("fee_cents")], "123456");
        assert_eq!(&records[1][at("fee_cents")], "");
        assert_eq!(&records[0][at("starts_at")], "2027-03-01T19:30:00Z");
        assert_eq!(
            &records[0][at("local_starts_at")],
            "2027-03-01T20:30:00+01:00"
        );
    }
}
