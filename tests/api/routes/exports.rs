//! Exports of performances (iCalendar, schema.org JSON-LD, CSV) and the public agenda's
//! caching. Feeds are read back with real parsers: the `icalendar` crate's and the `csv`
//! crate's.

use domain::access::AgencyRole;
use domain::programming::Performance;
use icalendar::{Calendar, CalendarComponent, Component, EventLike, EventStatus};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, spawn_app};

/// A title that needs escaping in iCalendar (comma, semicolon) and quoting in CSV
/// (comma, double quote), long enough to be folded, with letters of several octets.
const TITLE: &str =
    "Roméo, Juliette; et le « grand » \"bal\" des échassiers — une épopée théâtrale en plein air";

struct Season {
    /// The company's owner (the test app's member).
    company: String,
    production: String,
    venue_owner: reqwest::Client,
    venue: String,
    /// Published, at the venue, with a fee and a ticketing URL.
    published: String,
    /// Unpublished, at an inline place in Montpellier.
    unpublished: String,
}

/// A company's published dance production at someone else's venue in Sète: one
/// published performance there, one unpublished in Montpellier.
async fn season(app: &TestApp) -> Season {
    let company = app.create_structure(&company("Compagnie du Hasard")).await;
    let company = company["id"].as_str().unwrap().to_owned();
    let production = app
        .create_with(
            &app.client,
            "/v1/productions",
            &json!({"structure_id": company, "title": TITLE, "disciplines": ["dance"],
                    "audience": "young_audience", "minimum_age": 6, "duration_minutes": 55,
                    "space": "stage", "published": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let venue_owner = client_with(Some(&app.sign_up("venue@example.org").await));
    let mut body = crate::helpers::company("Théâtre Molière");
    body["kind"] = json!("venue");
    body["address"] =
        json!({"street": "Avenue Victor Hugo", "postal_code": "34200", "commune_code": "34301"});
    let venue = app.create_with(&venue_owner, "/v1/structures", &body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = app
        .create_with(
            &venue_owner,
            "/v1/performances",
            &json!({"production_id": production, "venue_structure_id": venue,
                    "starts_at": "2027-07-14T22:00:00+02:00", "fee_cents": 320017,
                    "ticketing_url": "https://billetterie.example/bal?date=14",
                    "published": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unpublished = app
        .create_with(
            &app.client,
            "/v1/performances",
            &json!({"production_id": production,
                    "place": {"name": "Salle des fêtes", "commune_code": "34172"},
                    "starts_at": "2027-03-01T20:30:00+01:00", "fee_cents": 250017}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Season {
        company,
        production,
        venue_owner,
        venue,
        published,
        unpublished,
    }
}

/// A GET with no token.
async fn anonymous(app: &TestApp, path: &str) -> crate::helpers::Reply {
    app.send(app.anonymous.get(app.url(path))).await
}

fn text(reply: &crate::helpers::Reply) -> String {
    String::from_utf8(reply.bytes.clone()).unwrap()
}

fn parse_calendar(body: &str) -> Calendar {
    // RFC 5545 §3.1: lines of at most 75 octets, each ended by CRLF.
    assert!(body.ends_with("\r\n"), "{body}");
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    }
    body.parse::<Calendar>().unwrap()
}

fn events(calendar: &Calendar) -> Vec<&icalendar::Event> {
    calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_calendar_feed_parses_and_its_sequence_rises_with_each_change() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let feed = anonymous(&app, "/v1/performances.ics").await;
    assert_eq!(feed.status, 200, "{}", text(&feed));
    assert_eq!(
        feed.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let body = text(&feed);
    // Escaped as RFC 5545 says, and folded.
    assert!(body.contains("Roméo\\, Juliette\\; et"), "{body}");
    assert!(body.contains("\r\n "), "nothing folded: {body}");
    assert!(!body.contains("320017"), "a fee in the feed: {body}");
    let calendar = parse_calendar(&body);
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    let found = events(&calendar);
    // The unpublished one is not in a public feed, even for its company.
    assert_eq!(found.len(), 1, "{body}");
    let event = found[0];
    assert_eq!(
        event.get_uid(),
        Some(format!("{}@oes", season.published).as_str())
    );
    assert_eq!(event.get_summary(), Some(TITLE));
    assert_eq!(event.get_location(), Some("Théâtre Molière, Sète"));
    assert_eq!(
        event.get_url(),
        Some("https://billetterie.example/bal?date=14")
    );
    assert_eq!(event.get_sequence(), Some(0));
    assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
    assert_eq!(event.property_value("DTSTART"), Some("20270714T200000Z"));
    assert_eq!(event.property_value("DTEND"), Some("20270714T205500Z"));
    // DTSTAMP is the last revision (the feed has no METHOD): a refetch is identical.
    assert!(calendar.property_value("METHOD").is_none());
    assert_eq!(event.get_timestamp(), event.get_last_modified());
    assert!(event.get_timestamp().is_some());
    assert_eq!(text(&anonymous(&app, "/v1/performances.ics").await), body);
    let signed_in = app
        .send(app.client.get(app.url("/v1/performances.ics")))
        .await;
    assert_eq!(events(&parse_calendar(&text(&signed_in))).len(), 1);

    // An option held, then a cancellation: each change raises the sequence.
    let path = format!("/v1/performances/{}", season.published);
    for (change, sequence, status) in [
        (json!({"booking": "option"}), 1, EventStatus::Tentative),
        (json!({"status": "cancelled"}), 2, EventStatus::Cancelled),
    ] {
        let reply = app
            .send(season.venue_owner.patch(app.url(&path)).json(&change))
            .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        let calendar = parse_calendar(&text(&anonymous(&app, "/v1/performances.ics").await));
        let event = events(&calendar)[0];
        assert_eq!(event.get_sequence(), Some(sequence), "{change}");
        assert_eq!(event.get_status(), Some(status), "{change}");
        assert_eq!(
            event.get_uid(),
            Some(format!("{}@oes", season.published).as_str())
        );
    }
    let cancelled = text(&anonymous(&app, "/v1/performances.ics").await);
    assert!(
        cancelled.contains("\r\nSTATUS:CANCELLED\r\n"),
        "{cancelled}"
    );
}

#[tokio::test]
async fn calendar_feeds_take_the_list_filters() {
    let app = spawn_app().await;
    let season = season(&app).await;
    // Published elsewhere: an outside show in Montpellier, at no venue.
    app.create_with(
        &season.venue_owner,
        "/v1/performances",
        &json!({"show": {"title": "Le Grand Bal", "company_name": "Cie d'ailleurs", "discipline": "music"},
                "venue_structure_id": season.venue, "starts_at": "2027-09-01T20:00:00+02:00",
                "published": true}),
    )
    .await;
    let count = |query: String| {
        let app = &app;
        async move {
            let reply = anonymous(app, &format!("/v1/performances.ics?{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", text(&reply));
            events(&parse_calendar(&text(&reply))).len()
        }
    };
    assert_eq!(count(String::new()).await, 2);
    assert_eq!(count(format!("production={}", season.production)).await, 1);
    assert_eq!(count(format!("structure={}", season.company)).await, 1);
    assert_eq!(count(format!("venue={}", season.venue)).await, 2);
    assert_eq!(count("discipline=music".into()).await, 1);
    assert_eq!(count("commune=34301".into()).await, 2);
    assert_eq!(count("commune=34172".into()).await, 0);
    assert_eq!(count("department=34&young_audience=true".into()).await, 1);
    assert_eq!(
        count("from=2027-08-01T00:00:00Z&to=2027-12-31T00:00:00Z".into()).await,
        1
    );
    let bad = anonymous(&app, "/v1/performances.ics?commune=3417&from=yesterday").await;
    assert_eq!(bad.status, 400);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, ["commune", "from"]);
}

#[tokio::test]
async fn json_ld_describes_public_performances_as_schema_org_events_without_fees() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let path = format!("/v1/performances/{}", season.published);
    for client in [&app.anonymous, &app.client, &season.venue_owner] {
        let reply = app
            .send(
                client
                    .get(app.url(&path))
                    .header("Accept", "application/ld+json"),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        assert_eq!(reply.header("content-type"), Some("application/ld+json"));
        assert!(reply.header("vary").unwrap().contains("Accept"));
        let body = text(&reply);
        assert!(!body.contains("fee") && !body.contains("320017"), "{body}");
        let event = reply.json();
        assert_eq!(event["@context"], "https://schema.org");
        assert_eq!(event["@type"], "DanceEvent");
        assert_eq!(event["@id"], format!("urn:uuid:{}", season.published));
        assert_eq!(event["name"], TITLE);
        assert_eq!(event["startDate"], "2027-07-14T22:00:00+02:00");
        assert_eq!(event["endDate"], "2027-07-14T22:55:00+02:00");
        assert_eq!(event["eventStatus"], "https://schema.org/EventScheduled");
        assert_eq!(event["location"]["@type"], "Place");
        assert_eq!(event["location"]["name"], "Théâtre Molière");
        assert_eq!(
            event["location"]["address"],
            json!({"@type": "PostalAddress", "addressLocality": "Sète", "addressCountry": "FR"})
        );
        assert_eq!(
            event["performer"],
            json!({"@type": "PerformingGroup", "name": "Compagnie du Hasard"})
        );
        assert_eq!(
            event["organizer"],
            json!({"@type": "Organization", "name": "Théâtre Molière"})
        );
        assert_eq!(
            event["offers"],
            json!({"@type": "Offer", "url": "https://billetterie.example/bal?date=14"})
        );
        assert_eq!(event["typicalAgeRange"], "6-");
    }
    // The JSON stays the default, and the preferred when asked first.
    let json = app
        .send(
            app.client
                .get(app.url(&path))
                .header("Accept", "application/json, application/ld+json;q=0.5"),
        )
        .await;
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.json()["fee_cents"], 320017);

    // Unpublished: not public, so no JSON-LD, even for those who read it.
    let unpublished = format!("/v1/performances/{}", season.unpublished);
    let ld = |client: &reqwest::Client| {
        client
            .get(app.url(&unpublished))
            .header("Accept", "application/ld+json")
    };
    let refused = app.send(ld(&app.client)).await;
    assert_eq!(refused.status, 406);
    assert_eq!(refused.json()["code"], "not_public");
    assert_eq!(app.send(ld(&app.anonymous)).await.status, 404);

    // Cancelled, and the list as a graph of public events only.
    let cancel = app
        .send(
            season
                .venue_owner
                .patch(app.url(&path))
                .json(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(cancel.status, 200);
    let list = app
        .send(
            app.client
                .get(app.url("/v1/performances"))
                .header("Accept", "application/ld+json"),
        )
        .await;
    assert_eq!(list.status, 200, "{}", text(&list));
    assert_eq!(list.header("content-type"), Some("application/ld+json"));
    assert!(!text(&list).contains("fee"));
    let graph = list.json();
    assert_eq!(graph["@context"], "https://schema.org");
    let events = graph["@graph"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{graph}");
    assert_eq!(
        events[0]["eventStatus"],
        "https://schema.org/EventCancelled"
    );
    assert!(events[0].get("@context").is_none());
    assert_eq!(graph["next_cursor"], Value::Null);
}

#[tokio::test]
async fn outside_shows_get_the_type_of_their_discipline() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let event_of = |id: String| {
        let app = &app;
        async move {
            let reply = app
                .send(
                    app.anonymous
                        .get(app.url(&format!("/v1/performances/{id}")))
                        .header("Accept", "application/ld+json"),
                )
                .await;
            assert_eq!(reply.status, 200, "{}", text(&reply));
            reply.json()
        }
    };
    for (discipline, expected) in [
        ("music", "MusicEvent"),
        ("theatre", "TheaterEvent"),
        ("puppetry", "TheaterEvent"),
        ("circus", "Event"),
        ("street_arts", "Event"),
    ] {
        let made = app
            .create_with(
                &season.venue_owner,
                "/v1/performances",
                &json!({"show": {"title": "Hors les murs", "company_name": "Cie d'ailleurs", "discipline": discipline},
                        "venue_structure_id": season.venue,
                        "starts_at": "2027-09-01T20:00:00+02:00", "published": true}),
            )
            .await;
        let event = event_of(made["id"].as_str().unwrap().to_owned()).await;
        assert_eq!(event["@type"], expected, "{discipline}");
        assert_eq!(event["name"], "Hors les murs");
        assert_eq!(event["performer"]["name"], "Cie d'ailleurs");
        assert_eq!(event["organizer"]["name"], "Théâtre Molière");
        assert!(event.get("endDate").is_none(), "no known duration: {event}");
        assert!(event.get("typicalAgeRange").is_none(), "{event}");
    }
    // At an inline place: named after it, in its commune, and no organizer to name.
    let publish = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/performances/{}", season.unpublished)))
                .json(&json!({"published": true})),
        )
        .await;
    assert_eq!(publish.status, 200);
    let event = event_of(season.unpublished.clone()).await;
    assert_eq!(event["location"]["name"], "Salle des fêtes");
    assert_eq!(
        event["location"]["address"]["addressLocality"],
        "Montpellier"
    );
    assert!(event.get("organizer").is_none(), "{event}");
    assert!(event.get("offers").is_none(), "{event}");
}

fn read_csv(body: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(body);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[tokio::test]
async fn the_csv_quotes_its_fields_and_shows_fees_only_to_those_allowed() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let other = client_with(Some(&app.sign_up("other@example.org").await));

    assert_eq!(anonymous(&app, "/v1/performances.csv").await.status, 401);

    // The published one (venue side, fee 320017) and the unpublished one (company side,
    // fee 250017), in the order of their start.
    for (who, client, rows) in [
        (
            "the company",
            &app.client,
            vec![
                (&season.unpublished, "250017"),
                (&season.published, "320017"),
            ],
        ),
        (
            "the venue",
            &season.venue_owner,
            vec![(&season.published, "320017")],
        ),
        (
            "staff",
            &staff,
            vec![
                (&season.unpublished, "250017"),
                (&season.published, "320017"),
            ],
        ),
        ("another member", &other, vec![(&season.published, "")]),
    ] {
        let reply = app.send(client.get(app.url("/v1/performances.csv"))).await;
        assert_eq!(reply.status, 200, "{who}: {}", text(&reply));
        assert_eq!(
            reply.header("content-type"),
            Some("text/csv; charset=utf-8; header=present")
        );
        assert!(
            reply
                .header("cache-control")
                .unwrap()
                .starts_with("private")
        );
        let body = text(&reply);
        assert!(body.starts_with("id,starts_at,"), "{body}");
        assert!(body.contains("\r\n"));
        // RFC 4180: the field in double quotes, its own double quotes doubled.
        assert!(
            body.contains(&format!("\"{}\"", TITLE.replace('"', "\"\""))),
            "{body}"
        );
        let (header, records) = read_csv(&reply.bytes);
        let (id, fee, title) = (
            column(&header, "id"),
            column(&header, "fee_cents"),
            column(&header, "title"),
        );
        let shown: Vec<(String, String)> = records
            .iter()
            .map(|r| (r[id].to_owned(), r[fee].to_owned()))
            .collect();
        let expected: Vec<(String, String)> = rows
            .iter()
            .map(|(id, fee)| ((*id).clone(), (*fee).to_owned()))
            .collect();
        assert_eq!(shown, expected, "{who}");
        assert!(records.iter().all(|r| &r[title] == TITLE), "{who}");
        let first = &records[records.len() - 1];
        assert_eq!(&first[column(&header, "venue")], "Théâtre Molière");
        assert_eq!(&first[column(&header, "city")], "Sète");
        assert_eq!(&first[column(&header, "company")], "Compagnie du Hasard");
        assert_eq!(&first[column(&header, "disciplines")], "dance");
        assert_eq!(&first[column(&header, "starts_at")], "2027-07-14T20:00:00Z");
    }
    let filtered = app
        .send(
            app.client
                .get(app.url(&format!("/v1/performances.csv?venue={}", season.venue))),
        )
        .await;
    assert_eq!(read_csv(&filtered.bytes).1.len(), 1);
    let bad = app
        .send(
            app.client
                .get(app.url("/v1/performances.csv?department=999x")),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_fields(), ["department"]);
}

#[tokio::test]
async fn exports_stream_every_page_of_a_long_season() {
    let app = spawn_app().await;
    let season = season(&app).await;
    // 2,500 more published performances, stored at once: three pages of the export.
    let mut conn = app.pool.get().unwrap();
    let model =
        persistence::programming::performances::find(&mut conn, season.published.parse().unwrap())
            .unwrap();
    let start = model.data.starts_at;
    let batch: Vec<Performance> = (1..=2_500)
        .map(|i| {
            let mut copy = model.clone();
            copy.id = domain::PerformanceId::generate();
            copy.data.starts_at = start + chrono::Duration::hours(i);
            copy
        })
        .collect();
    persistence::programming::performances::insert_many(&mut conn, &batch).unwrap();
    drop(conn);

    let reply = app
        .send(app.client.get(app.url("/v1/performances.csv")))
        .await;
    assert_eq!(reply.status, 200);
    let (header, records) = read_csv(&reply.bytes);
    assert_eq!(records.len(), 2_502);
    let ids: std::collections::HashSet<&str> =
        records.iter().map(|r| &r[column(&header, "id")]).collect();
    assert_eq!(ids.len(), 2_502, "a row twice");
    let starts: Vec<&str> = records
        .iter()
        .map(|r| &r[column(&header, "starts_at")])
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "out of order");

    let feed = text(&anonymous(&app, "/v1/performances.ics").await);
    let calendar = parse_calendar(&feed);
    assert_eq!(events(&calendar).len(), 2_501);
    assert!(feed.ends_with("END:VCALENDAR\r\n"));
}

#[tokio::test]
async fn the_agenda_is_cached_for_anonymous_callers_only() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let public = "public, max-age=60, stale-while-revalidate=300";
    let item = format!("/v1/performances/{}", season.published);
    let production = format!("/v1/productions/{}", season.production);
    for path in [
        "/v1/performances?department=34",
        item.as_str(),
        "/v1/productions",
        production.as_str(),
        "/v1/tours",
        "/v1/performances.ics",
    ] {
        let answer = anonymous(&app, path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("cache-control"), Some(public), "{path}");
        let vary = answer.header("vary").unwrap();
        assert!(vary.contains("Authorization"), "{path}: {vary}");
        let signed_in = app.send(app.client.get(app.url(path))).await;
        assert_eq!(signed_in.status, 200, "{path}");
        assert_eq!(
            signed_in.header("cache-control"),
            Some("private, no-cache"),
            "{path}"
        );
    }
    let vary = anonymous(&app, "/v1/performances").await;
    assert!(vary.header("vary").unwrap().contains("Accept"));
    // A refusal is nobody's to cache.
    let missing = anonymous(
        &app,
        "/v1/performances/01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_ne!(missing.header("cache-control"), Some(public));

    // Pages carry a tag of their content: 304 while it holds, 200 once it changed.
    let page = anonymous(&app, "/v1/performances?department=34").await;
    let tag = page.header("etag").unwrap().to_owned();
    assert!(tag.starts_with("W/\"p"), "{tag}");
    let again = app
        .send(
            app.anonymous
                .get(app.url("/v1/performances?department=34"))
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.header("cache-control"), Some(public));
    assert!(again.bytes.is_empty());
    // Another representation, another tag.
    let ld = app
        .send(
            app.anonymous
                .get(app.url("/v1/performances?department=34"))
                .header("Accept", "application/ld+json")
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(ld.status, 200);
    let change = app
        .send(
            season
                .venue_owner
                .patch(app.url(&item))
                .json(&json!({"capacity": 250})),
        )
        .await;
    assert_eq!(change.status, 200);
    let changed = app
        .send(
            app.anonymous
                .get(app.url("/v1/performances?department=34"))
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
}

#[tokio::test]
async fn the_agenda_filters_by_commune_and_hides_fees_from_the_public() {
    let app = spawn_app().await;
    let season = season(&app).await;
    let publish = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/performances/{}", season.unpublished)))
                .json(&json!({"published": true})),
        )
        .await;
    assert_eq!(publish.status, 200);
    let ids = |page: Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert!(p.get("fee_cents").is_none(), "{p}");
                p["id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(
        ids(anonymous(&app, "/v1/performances?commune=34172")
            .await
            .json()),
        [season.unpublished.as_str()]
    );
    assert_eq!(
        ids(anonymous(
            &app,
            "/v1/performances?commune=34301&status=scheduled&young_audience=true&discipline=dance"
        )
        .await
        .json()),
        [season.published.as_str()]
    );
    assert_eq!(
        ids(anonymous(&app, "/v1/performances?commune=2A004")
            .await
            .json()),
        Vec::<String>::new()
    );
    for bad in ["3417", "34A72", "341720"] {
        let reply = anonymous(&app, &format!("/v1/performances?commune={bad}")).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.error_fields(), ["commune"], "{bad}");
    }
}
