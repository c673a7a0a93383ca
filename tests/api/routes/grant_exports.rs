//! The grants' files: a call's dossiers for its committee, and the awarded grants in the
//! SCDL "Subventions" open-data format, checked against the schema's published fields.

use serde_json::{Value, json};

use super::dossiers::{company_with_performance, dossier, in_review, test_call};
use crate::helpers::{TestApp, siret, spawn_app};

fn records(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().expect("a header row").clone();
    let rows = reader
        .records()
        .map(|r| r.expect("a well-formed row"))
        .collect();
    (header, rows)
}

fn column(header: &csv::StringRecord, name: &str) -> usize {
    header
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn the_committee_file_holds_every_dossier_of_the_call_and_only_staff_get_it() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "COMM", 10_000_000).await;
    let (_, other_call) = test_call(&app, &staff, "AUTRE", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    // More than a page of the export (200), one of them titled like a formula.
    let mut ids = Vec::new();
    for i in 0..203 {
        let mut body = dossier(&call, &structure, &[&performance], 100_000);
        if i == 7 {
            body["title"] = json!("=HYPERLINK(\"https://evil.example\")");
        }
        let made = app.create_with(&app.client, "/v1/dossiers", &body).await;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    let elsewhere = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&other_call, &structure, &[&performance], 100_000),
        )
        .await;
    let reviewed = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    ids.push(reviewed.clone());

    let path = format!("/v1/calls/{call}/dossiers.csv");
    let reply = app.send(staff.get(app.url(&path))).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        reply
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let (header, rows) = records(&reply.bytes);
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        api::routes::grants::COMMITTEE_COLUMNS.to_vec()
    );
    let listed: Vec<String> = rows
        .iter()
        .map(|r| r[column(&header, "id")].to_owned())
        .collect();
    assert_eq!(listed, ids, "every dossier of the call, in creation order");
    assert!(!listed.contains(&elsewhere["id"].as_str().unwrap().to_owned()));
    let first = &rows[0];
    assert_eq!(&first[column(&header, "status")], "draft");
    assert_eq!(&first[column(&header, "requested_cents")], "100000");
    // 50 % of a 3,000 € cession is 1,500 €, under the 2,000 € cap per performance.
    assert_eq!(&first[column(&header, "maximum_cents")], "150000");
    assert_eq!(&first[column(&header, "maximum_limited_by")], "rate");
    assert_eq!(
        &first[column(&header, "applicant_name")],
        "Compagnie du Hasard"
    );
    assert_eq!(&first[column(&header, "applicant_department_code")], "34");
    assert_eq!(
        &rows[7][column(&header, "title")],
        "'=HYPERLINK(\"https://evil.example\")"
    );

    let in_review_only = app
        .send(staff.get(app.url(&format!("{path}?status=in_review"))))
        .await;
    let (_, rows) = records(&in_review_only.bytes);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], reviewed.as_str());

    // The applicant's own members, strangers and the anonymous get nothing.
    assert_eq!(app.get(&path).await.status, 403);
    let anonymous = app.send(reqwest::Client::new().get(app.url(&path))).await;
    assert_eq!(anonymous.status, 401);
    let unknown = app
        .send(staff.get(app.url(&format!("/v1/calls/{}/dossiers.csv", uuid::Uuid::now_v7()))))
        .await;
    assert_eq!(unknown.status, 404);
    let bad = app
        .send(staff.get(app.url(&format!("{path}?status=lost"))))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.error_fields().contains(&"status".to_owned()),
        "{}",
        String::from_utf8_lossy(&bad.bytes)
    );
}

/// Checks every row against the SCDL fields: each required value present, each value of
/// its type, pattern, allowed values and bounds; the header is the schema's names in
/// its order.
fn assert_valid_scdl(bytes: &[u8]) -> Vec<csv::StringRecord> {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/scdl-subventions-2.1.1.json")).unwrap();
    let fields = schema["fields"].as_array().unwrap();
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(!text.starts_with('\u{feff}'), "no byte order mark");
    let (header, rows) = records(bytes);
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(header.iter().collect::<Vec<_>>(), names);
    for (line, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), fields.len(), "row {line}");
        for (value, field) in row.iter().zip(fields) {
            let name = field["name"].as_str().unwrap();
            let at = format!("row {line}, {name} = {value:?}");
            let constraints = &field["constraints"];
            if value.is_empty() {
                assert_ne!(constraints["required"], true, "{at}: required");
                continue;
            }
            match field["type"].as_str().unwrap() {
                "date" => {
                    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                        .unwrap_or_else(|_| panic!("{at}: not a date"));
                    assert_eq!(value.len(), 10, "{at}");
                }
                "number" => {
                    assert!(
                        value.chars().all(|c| c.is_ascii_digit() || c == '.'),
                        "{at}: not a number with a point"
                    );
                    let n: f64 = value.parse().unwrap_or_else(|_| panic!("{at}"));
                    if let Some(min) = constraints["minimum"].as_f64() {
                        assert!(n >= min, "{at}: below {min}");
                    }
                    if let Some(max) = constraints["maximum"].as_f64() {
                        assert!(n <= max, "{at}: above {max}");
                    }
                }
                "boolean" => {
                    let allowed: Vec<&Value> = field["trueValues"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .chain(field["falseValues"].as_array().unwrap())
                        .collect();
                    assert!(allowed.contains(&&json!(value)), "{at}: not a boolean");
                }
                _ => {}
            }
            if let Some(pattern) = constraints["pattern"].as_str() {
                let pattern = regex::Regex::new(pattern).unwrap();
                assert!(pattern.is_match(value), "{at}: does not match {pattern}");
            }
            if let Some(allowed) = constraints["enum"].as_array() {
                assert!(allowed.contains(&json!(value)), "{at}: not allowed");
            }
            if let Some(max) = constraints["maxLength"].as_u64() {
                assert!(value.chars().count() as u64 <= max, "{at}: too long");
            }
        }
    }
    rows
}

async fn approve(app: &TestApp, staff: &reqwest::Client, id: &str, cents: i64) {
    let reply = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/approve")))
                .json(&json!({"awarded_cents": cents})),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
}

#[tokio::test]
async fn awarded_grants_are_published_in_the_scdl_format_and_only_those() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "SCDL", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let beneficiary_siret = siret(4242);
    let renamed = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/structures/{structure}")))
                .header("If-Match", "*")
                .json(&json!({"legal_name": "Association Compagnie du Hasard", "siret": beneficiary_siret})),
        )
        .await;
    assert_eq!(
        renamed.status,
        200,
        "{}",
        String::from_utf8_lossy(&renamed.bytes)
    );

    let awarded = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    approve(&app, &staff, &awarded, 123_456 / 100 * 100).await;
    let rejected = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    let reply = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{rejected}/reject")))
                .json(&json!({})),
        )
        .await;
    assert_eq!(reply.status, 200);
    // An award reopened is an award no more.
    let reopened = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    approve(&app, &staff, &reopened, 100_000).await;
    let reply = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{reopened}/reopen")))
                .json(&json!({"reason": "Erreur de saisie"})),
        )
        .await;
    assert_eq!(reply.status, 200);
    let draft = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 100_000),
        )
        .await;

    // Open data: anyone may read it, signed in or not.
    let anonymous = reqwest::Client::new();
    let reply = app
        .send(anonymous.get(app.url("/v1/awarded-grants.csv")))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = assert_valid_scdl(&reply.bytes);
    assert_eq!(rows.len(), 1, "only the standing award");
    let row = &rows[0];
    let dossier_now = app
        .send(staff.get(app.url(&format!("/v1/dossiers/{awarded}"))))
        .await
        .json();
    assert_eq!(&row[0], "Occitanie en scène");
    assert_eq!(&row[1], api::config::DEFAULT_AGENCY_SIRET);
    assert_eq!(&row[3], dossier_now["reference"].as_str().unwrap());
    assert_eq!(&row[4], "Association Compagnie du Hasard");
    assert_eq!(&row[5], beneficiary_siret.as_str());
    assert_eq!(&row[7], "Tournée d'hiver en Ariège");
    assert_eq!(&row[8], "1234.00");
    assert_eq!(&row[15], "SCDL");
    // An advance and a balance are scheduled; nothing paid yet: the decision's day.
    assert_eq!(&row[10], "échelonné");
    let decided = chrono::DateTime::parse_from_rfc3339(dossier_now["decided_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
        .to_string();
    assert_eq!(&row[2], decided.as_str());
    for id in [&rejected, &reopened, draft["id"].as_str().unwrap()] {
        let reference = app
            .send(staff.get(app.url(&format!("/v1/dossiers/{id}"))))
            .await
            .json()["reference"]
            .clone();
        assert!(!rows.iter().any(|r| json!(&r[3]) == reference));
    }

    assert_eq!(&row[11], decided.as_str());
    for (amount, day) in [(61_700, "2027-01-15"), (61_700, "2027-03-01")] {
        let paid = app
            .send(
                staff
                    .post(app.url(&format!("/v1/dossiers/{awarded}/payments")))
                    .json(&json!({"amount_cents": amount, "paid_on": day, "reference": "VIR-1"})),
            )
            .await;
        assert_eq!(paid.status, 201, "{}", String::from_utf8_lossy(&paid.bytes));
    }
    let paid = assert_valid_scdl(&app.get("/v1/awarded-grants.csv").await.bytes);
    assert_eq!(&paid[0][11], "2027-01-15/2027-03-01");

    // By year of decision, in Paris.
    let year: i32 = decided[..4].parse().unwrap();
    let this_year = app
        .get(&format!("/v1/awarded-grants.csv?year={year}"))
        .await;
    assert_eq!(assert_valid_scdl(&this_year.bytes).len(), 1);
    let last_year = app
        .get(&format!("/v1/awarded-grants.csv?year={}", year - 1))
        .await;
    assert_eq!(assert_valid_scdl(&last_year.bytes).len(), 0);
    for bad in ["1999", "2101", "deux", "99999999999999999999"] {
        let reply = app.get(&format!("/v1/awarded-grants.csv?year={bad}")).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.error_fields(), vec!["year".to_owned()], "{bad}");
    }
}

#[tokio::test]
async fn the_agency_named_in_the_open_data_is_the_configured_one() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.agency_name = "Région Exemple".into();
        settings.agency_siret = siret(777);
    })
    .await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "CONF", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let id = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    approve(&app, &staff, &id, 100_000).await;
    let reply = app.get("/v1/awarded-grants.csv").await;
    let rows = assert_valid_scdl(&reply.bytes);
    assert_eq!(&rows[0][0], "Région Exemple");
    assert_eq!(&rows[0][1], siret(777).as_str());
    // No SIRET known for the beneficiary: left empty, as the schema allows.
    assert_eq!(&rows[0][5], "");
}
