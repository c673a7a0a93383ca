//! `/v1/sync/performances`: a partner's system keeps its season by its own ids.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, client_with, company, performance, production, spawn_app};
use crate::routes::productions::partner;

/// The test member's company, a published production of it, and a partner system of
/// the company with `programming:write`: (structure, production, partner).
async fn company_partner(app: &TestApp) -> (String, String, reqwest::Client) {
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let mut body = production(&structure);
    body["published"] = json!(true);
    let made = app.create_with(&app.client, "/v1/productions", &body).await;
    let partner = partner(app, &app.client, &structure, &["programming:write"]).await;
    (structure, made["id"].as_str().unwrap().to_owned(), partner)
}

/// A venue in Sète of a new account, and a partner system of it (its ticketing) with
/// `programming:write`: (owner, venue, partner).
async fn venue_partner(app: &TestApp, email: &str) -> (reqwest::Client, String, reqwest::Client) {
    let owner = client_with(Some(&app.sign_up(email).await));
    let mut body = company("Théâtre Molière");
    body["kind"] = json!("venue");
    body["address"] =
        json!({"street": "Avenue Victor Hugo", "postal_code": "34200", "commune_code": "34301"});
    let venue = app.create_with(&owner, "/v1/structures", &body).await;
    let venue = venue["id"].as_str().unwrap().to_owned();
    let partner = partner(app, &owner, &venue, &["programming:write"]).await;
    (owner, venue, partner)
}

fn path(external_id: &str) -> String {
    format!("/v1/sync/performances/{external_id}")
}

async fn put(app: &TestApp, client: &reqwest::Client, external_id: &str, body: &Value) -> Reply {
    app.send(client.put(app.url(&path(external_id))).json(body))
        .await
}

async fn batch(app: &TestApp, client: &reqwest::Client, items: Value) -> Reply {
    app.send(
        client
            .post(app.url("/v1/sync/performances/batch"))
            .json(&json!({ "items": items })),
    )
    .await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.bytes).into_owned()
}

/// The change feed's entries about `id`, as agency staff read it: (action, version).
async fn changes_of(app: &TestApp, staff: &reqwest::Client, id: &str) -> Vec<(String, i64)> {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = app.url("/v1/changes?limit=200");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let page = app.send(staff.get(&url)).await.json();
        let data = page["data"].as_array().unwrap();
        for entry in data {
            if entry["object_id"] == json!(id) {
                entries.push((
                    entry["action"].as_str().unwrap().to_owned(),
                    entry["version"].as_i64().unwrap(),
                ));
            }
        }
        if data.len() < 200 {
            return entries;
        }
        after = page["next_cursor"].as_str().map(str::to_owned);
    }
}

/// The audit log's actions about `id`, as agency staff read it.
async fn audited(app: &TestApp, staff: &reqwest::Client, id: &str) -> Vec<String> {
    let page = app
        .send(staff.get(app.url(&format!("/v1/audit-events?object_id={id}&limit=200"))))
        .await
        .json();
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn staff(app: &TestApp) -> reqwest::Client {
    client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ))
}

#[tokio::test]
async fn a_partner_creates_updates_leaves_unchanged_and_deletes_by_its_external_id() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let (_, production, partner) = company_partner(&app).await;
    let mut body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");

    let created = put(&app, &partner, "SAISON-2027-0042", &body).await;
    assert_eq!(created.status, 201, "{}", text(&created));
    let answer = created.json();
    assert_eq!(answer["result"], "created");
    let id = answer["performance"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/performances/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"v1\""));
    assert_eq!(answer["performance"]["fee_cents"], 250000);
    let read = app
        .send(partner.get(app.url(&format!("/v1/performances/{id}"))))
        .await;
    assert_eq!(read.json(), answer["performance"]);

    // The same body again: nothing written.
    let again = put(&app, &partner, "SAISON-2027-0042", &body).await;
    assert_eq!(again.status, 200, "{}", text(&again));
    assert_eq!(again.json()["result"], "unchanged");
    assert_eq!(again.json()["performance"], answer["performance"]);
    assert_eq!(again.header("etag"), Some("\"v1\""));
    assert_eq!(changes_of(&app, &staff, &id).await, [("created".into(), 1)]);
    assert_eq!(audited(&app, &staff, &id).await, ["performance.create"]);

    // A replacement: what the body leaves out is back to its default.
    body["status"] = json!("cancelled");
    body.as_object_mut().unwrap().remove("fee_cents");
    let updated = put(&app, &partner, "SAISON-2027-0042", &body).await;
    assert_eq!(updated.status, 200, "{}", text(&updated));
    let updated = updated.json();
    assert_eq!(updated["result"], "updated");
    assert_eq!(updated["performance"]["id"], json!(id));
    assert_eq!(updated["performance"]["version"], 2);
    assert_eq!(updated["performance"]["status"], "cancelled");
    assert_eq!(updated["performance"]["fee_cents"], Value::Null);

    let deleted = app
        .send(partner.delete(app.url(&path("SAISON-2027-0042"))))
        .await;
    assert_eq!(deleted.status, 204, "{}", text(&deleted));
    let gone = app
        .send(partner.get(app.url(&format!("/v1/performances/{id}"))))
        .await;
    assert_eq!(gone.status, 404);
    let twice = app
        .send(partner.delete(app.url(&path("SAISON-2027-0042"))))
        .await;
    assert_eq!(twice.status, 404);
    assert_eq!(
        changes_of(&app, &staff, &id).await,
        [
            ("created".into(), 1),
            ("updated".into(), 2),
            ("deleted".into(), 3)
        ]
    );
    let mut actions = audited(&app, &staff, &id).await;
    actions.sort();
    assert_eq!(
        actions,
        [
            "performance.create",
            "performance.delete",
            "performance.update"
        ]
    );

    // The id is free again: a new performance.
    let anew = put(&app, &partner, "SAISON-2027-0042", &body).await;
    assert_eq!(anew.status, 201, "{}", text(&anew));
    assert_ne!(anew.json()["performance"]["id"], json!(id));
}

#[tokio::test]
async fn a_performance_deleted_by_its_id_frees_its_external_id() {
    let app = spawn_app().await;
    let (_, production, partner) = company_partner(&app).await;
    let body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let first = put(&app, &partner, "42", &body).await.json();
    let id = first["performance"]["id"].as_str().unwrap();
    let deleted = app
        .send(partner.delete(app.url(&format!("/v1/performances/{id}"))))
        .await;
    assert_eq!(deleted.status, 204);
    let again = put(&app, &partner, "42", &body).await;
    assert_eq!(again.status, 201, "{}", text(&again));
}

#[tokio::test]
async fn external_ids_belong_to_their_client() {
    let app = spawn_app().await;
    let (_, production, company_system) = company_partner(&app).await;
    let (_, venue, venue_system) = venue_partner(&app, "venue@example.org").await;
    let body = json!({"production_id": production, "venue_structure_id": venue,
                      "starts_at": "2027-07-14T22:00:00+02:00"});
    let ours = put(&app, &company_system, "2027-07-14", &body).await;
    let theirs = put(&app, &venue_system, "2027-07-14", &body).await;
    assert_eq!(ours.status, 201, "{}", text(&ours));
    assert_eq!(theirs.status, 201, "{}", text(&theirs));
    assert_ne!(
        ours.json()["performance"]["id"],
        theirs.json()["performance"]["id"]
    );
    // Another client's ids are not there to see, nor to delete.
    let mine_only = app
        .send(venue_system.delete(app.url(&path("company-only"))))
        .await;
    assert_eq!(mine_only.status, 404);
    put(&app, &company_system, "company-only", &body).await;
    let foreign = app
        .send(venue_system.delete(app.url(&path("company-only"))))
        .await;
    assert_eq!(foreign.status, 404);
    let still = put(&app, &company_system, "company-only", &body).await;
    assert_eq!(still.json()["result"], "unchanged");
}

#[tokio::test]
async fn only_api_clients_with_programming_write_sync() {
    let app = spawn_app().await;
    let (structure, production, _) = company_partner(&app).await;
    let body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let reader = partner(&app, &app.client, &structure, &["read", "structures:write"]).await;
    for (who, client, status) in [
        ("anonymous", &app.anonymous, 401),
        ("the company's member", &app.client, 403),
        ("a client without programming:write", &reader, 403),
    ] {
        let reply = put(&app, client, "x", &body).await;
        assert_eq!(reply.status, status, "{who}: {}", text(&reply));
        // What is wrong with a body is for those who may sync only.
        let bad = app
            .send(
                client
                    .put(app.url(&path("x")))
                    .header("Content-Type", "application/json")
                    .body("{\"no_such_field\": 1}"),
            )
            .await;
        assert_eq!(bad.status, status, "{who} with a bad body");
        let deleted = app.send(client.delete(app.url(&path("x")))).await;
        assert_eq!(deleted.status, status, "{who}");
        let batched = batch(
            &app,
            client,
            json!([{"external_id": "x", "action": "delete"}]),
        )
        .await;
        assert_eq!(batched.status, status, "{who}");
    }
}

#[tokio::test]
async fn a_partner_writes_only_for_its_own_productions_and_venues() {
    let app = spawn_app().await;
    let (_, production, company_system) = company_partner(&app).await;
    let (_, venue, venue_system) = venue_partner(&app, "venue@example.org").await;
    let (_, other_venue, _) = venue_partner(&app, "other.venue@example.org").await;
    let outside =
        json!({"title": "Le Grand Bal", "company_name": "Cie d'ailleurs", "discipline": "dance"});
    // The venue's system: someone else's production at its venue, an outside show at its
    // venue; not someone else's production elsewhere, not at another venue.
    let at_venue = json!({"production_id": production, "venue_structure_id": venue,
                          "starts_at": "2027-07-14T22:00:00+02:00"});
    assert_eq!(put(&app, &venue_system, "a", &at_venue).await.status, 201);
    let show = json!({"show": outside, "venue_structure_id": venue,
                      "starts_at": "2027-07-15T22:00:00+02:00"});
    assert_eq!(put(&app, &venue_system, "b", &show).await.status, 201);
    let cases = [
        (
            &venue_system,
            performance(&production, "34172", "2027-03-01T20:30:00+01:00"),
            vec!["production_id"],
        ),
        (
            &venue_system,
            json!({"show": outside, "venue_structure_id": other_venue,
                   "starts_at": "2027-07-15T22:00:00+02:00"}),
            vec!["venue_structure_id"],
        ),
        (
            &company_system,
            json!({"show": outside, "venue_structure_id": venue,
                   "starts_at": "2027-07-15T22:00:00+02:00"}),
            vec!["venue_structure_id"],
        ),
    ];
    for (client, body, fields) in &cases {
        let reply = put(&app, client, "refused", body).await;
        assert_eq!(reply.status, 403, "{body}: {}", text(&reply));
        assert_eq!(reply.json()["code"], "forbidden");
        assert_eq!(reply.error_fields(), *fields, "{body}");
    }
    // The same, as batch items among good ones.
    let items: Vec<Value> = cases
        .iter()
        .filter(|(client, _, _)| std::ptr::eq(*client, &venue_system))
        .enumerate()
        .map(|(i, (_, body, _))| json!({"external_id": format!("refused-{i}"), "action": "upsert", "performance": body}))
        .chain([json!({"external_id": "c", "action": "upsert", "performance": at_venue})])
        .collect();
    let reply = batch(&app, &venue_system, json!(items)).await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["result"], "failed");
    assert_eq!(results[0]["problem"]["status"], 403);
    assert_eq!(
        results[0]["problem"]["errors"][0]["field"],
        "items[0].performance.production_id"
    );
    assert_eq!(
        results[1]["problem"]["errors"][0]["field"],
        "items[1].performance.venue_structure_id"
    );
    assert_eq!(results[2]["result"], "created");
}

#[tokio::test]
async fn a_batch_answers_every_item_and_a_bad_one_spoils_none() {
    let app = spawn_app().await;
    let (_, production, partner) = company_partner(&app).await;
    let good = |at: &str| performance(&production, "34172", at);
    for (id, at) in [
        ("kept", "2027-03-01T20:30:00+01:00"),
        ("changed", "2027-03-02T20:30:00+01:00"),
        ("dropped", "2027-03-03T20:30:00+01:00"),
    ] {
        assert_eq!(put(&app, &partner, id, &good(at)).await.status, 201);
    }
    let mut bad_fee = good("2027-03-05T20:30:00+01:00");
    bad_fee["fee_cents"] = json!(-1);
    let mut nul = good("2027-03-06T20:30:00+01:00");
    nul["place"]["name"] = json!("Salle\u{0}");
    let mut unknown_commune = good("2027-03-07T20:30:00+01:00");
    unknown_commune["place"]["commune_code"] = json!("99999");
    let items = json!([
        {"external_id": "new", "action": "upsert", "performance": good("2027-03-04T20:30:00+01:00")},
        {"external_id": "kept", "action": "upsert", "performance": good("2027-03-01T20:30:00+01:00")},
        {"external_id": "changed", "action": "upsert", "performance": good("2027-04-02T20:30:00+02:00")},
        {"external_id": "dropped", "action": "delete"},
        {"external_id": "never-sent", "action": "delete"},
        {"external_id": "bad-fee", "action": "upsert", "performance": bad_fee},
        {"external_id": "nul", "action": "upsert", "performance": nul},
        {"external_id": "nowhere", "action": "upsert", "performance": unknown_commune},
        {"external_id": "empty", "action": "upsert"},
        {"external_id": "both", "action": "delete", "performance": good("2027-03-08T20:30:00+01:00")},
        {"external_id": "odd", "action": "archive"},
        {"external_id": "extra", "action": "delete", "color": "red"},
        "not an object",
        {"external_id": "tab\there", "action": "delete"},
        {"external_id": "last", "action": "upsert", "performance": good("2027-03-09T20:30:00+01:00")},
    ]);
    let reply = batch(&app, &partner, items).await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    let results = reply.json()["results"].as_array().unwrap().clone();
    let summary: Vec<(Value, String, Value, Vec<String>)> = results
        .iter()
        .map(|r| {
            (
                r["external_id"].clone(),
                r["result"].as_str().unwrap().to_owned(),
                r["problem"]["status"].clone(),
                r["problem"]["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|e| e["field"].as_str().unwrap().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    let none = Vec::<String>::new;
    let expected: Vec<(Value, &str, Value, Vec<String>)> = vec![
        (json!("new"), "created", Value::Null, none()),
        (json!("kept"), "unchanged", Value::Null, none()),
        (json!("changed"), "updated", Value::Null, none()),
        (json!("dropped"), "deleted", Value::Null, none()),
        (json!("never-sent"), "failed", json!(404), none()),
        (
            json!("bad-fee"),
            "failed",
            json!(422),
            vec!["items[5].performance.fee_cents".into()],
        ),
        (
            json!("nul"),
            "failed",
            json!(422),
            vec!["items[6].performance.place.name".into()],
        ),
        (
            json!("nowhere"),
            "failed",
            json!(422),
            vec!["items[7].performance.place.commune_code".into()],
        ),
        (
            json!("empty"),
            "failed",
            json!(422),
            vec!["items[8].performance".into()],
        ),
        (
            json!("both"),
            "failed",
            json!(422),
            vec!["items[9].performance".into()],
        ),
        (
            json!("odd"),
            "failed",
            json!(422),
            vec!["items[10].action".into()],
        ),
        (
            json!("extra"),
            "failed",
            json!(422),
            vec!["items[11].color".into()],
        ),
        (Value::Null, "failed", json!(422), vec!["items[12]".into()]),
        (
            Value::Null,
            "failed",
            json!(422),
            vec!["items[13].external_id".into()],
        ),
        (json!("last"), "created", Value::Null, none()),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(id, result, status, fields)| (id, result.to_owned(), status, fields))
        .collect();
    assert_eq!(summary, expected);
    assert_eq!(results[0]["performance"]["fee_cents"], 250000);
    assert_eq!(results[3].get("performance"), None);
    assert_eq!(results[4]["problem"]["code"], "not_found");

    // What the batch did stayed done.
    let mine = app
        .send(partner.get(app.url(&format!("/v1/performances?production={production}"))))
        .await
        .json();
    let starts: HashSet<String> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["starts_at"].as_str().unwrap().to_owned())
        .collect();
    let expected: HashSet<String> = [
        "2027-03-01T19:30:00Z",
        "2027-04-02T18:30:00Z",
        "2027-03-04T19:30:00Z",
        "2027-03-09T19:30:00Z",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(starts, expected);

    // Sent again, it changes nothing more.
    let again = batch(
        &app,
        &partner,
        json!([
            {"external_id": "new", "action": "upsert", "performance": good("2027-03-04T20:30:00+01:00")},
            {"external_id": "dropped", "action": "delete"},
        ]),
    )
    .await
    .json();
    assert_eq!(again["results"][0]["result"], "unchanged");
    assert_eq!(again["results"][1]["problem"]["status"], 404);
}

#[tokio::test]
async fn a_batch_is_refused_whole_only_beyond_a_thousand_items_or_with_a_repeated_id() {
    let app = spawn_app().await;
    let (_, production, partner) = company_partner(&app).await;
    let deletion = |i: usize| json!({"external_id": format!("id-{i}"), "action": "delete"});
    let too_many: Vec<Value> = (0..1_001).map(deletion).collect();
    let reply = batch(&app, &partner, json!(too_many)).await;
    assert_eq!(reply.status, 422, "{}", text(&reply));
    assert_eq!(reply.error_fields(), ["items"]);
    assert_eq!(reply.json()["errors"][0]["code"], "too_many");

    let repeated = json!([deletion(1), deletion(2), deletion(1)]);
    let reply = batch(&app, &partner, repeated).await;
    assert_eq!(reply.status, 422, "{}", text(&reply));
    assert_eq!(reply.error_fields(), ["items[2].external_id"]);

    // A thousand realistic items fit within the body limit, and are all done.
    let items: Vec<Value> = (0..1_000)
        .map(|i| {
            let mut body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
            body["starts_at"] = json!(format!("2027-{:02}-{:02}T20:30:00+01:00", 1 + i % 12, 1 + i % 28));
            body["ticketing_url"] = json!(format!("https://billetterie.example.org/seances/{i}"));
            body["capacity"] = json!(300);
            body["accessibility"] = json!(["wheelchair", "hearing_loop"]);
            json!({"external_id": format!("SAISON-2027-{i:05}"), "action": "upsert", "performance": body})
        })
        .collect();
    let reply = batch(&app, &partner, json!(items)).await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1_000);
    assert!(results.iter().all(|r| r["result"] == "created"));
}

#[tokio::test]
async fn odd_external_ids_are_refused_naming_the_field_and_encoded_ones_work() {
    let app = spawn_app().await;
    let (_, production, partner) = company_partner(&app).await;
    let body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let huge = "x".repeat(201);
    for bad in ["a%00b", "tab%09", huge.as_str(), "%FF"] {
        let reply = put(&app, &partner, bad, &body).await;
        assert!(
            (400..500).contains(&reply.status),
            "{bad}: {} {}",
            reply.status,
            text(&reply)
        );
        assert_eq!(reply.error_fields(), ["external_id"], "{bad}");
        let deleted = app.send(partner.delete(app.url(&path(bad)))).await;
        assert_eq!(deleted.error_fields(), ["external_id"], "{bad}");
    }
    // In a batch, the item alone.
    let reply = batch(
        &app,
        &partner,
        json!([
            {"external_id": "a\u{0}b", "action": "delete"},
            {"external_id": huge, "action": "delete"},
            {"external_id": "", "action": "delete"},
        ]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    let fields: Vec<Value> = reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["problem"]["errors"][0]["field"].clone())
        .collect();
    assert_eq!(
        fields,
        [
            json!("items[0].external_id"),
            json!("items[1].external_id"),
            json!("items[2].external_id")
        ]
    );

    // `/`, `%` and `+` travel encoded.
    for (encoded, id) in [
        ("SAISON%2F2027%2F42", "SAISON/2027/42"),
        ("100%25%2B1", "100%+1"),
        ("s%C3%A9ance%201", "séance 1"),
    ] {
        let created = put(&app, &partner, encoded, &body).await;
        assert_eq!(created.status, 201, "{id}: {}", text(&created));
        let listed = batch(
            &app,
            &partner,
            json!([{"external_id": id, "action": "upsert", "performance": body}]),
        )
        .await
        .json();
        assert_eq!(listed["results"][0]["result"], "unchanged", "{id}");
        let deleted = app.send(partner.delete(app.url(&path(encoded)))).await;
        assert_eq!(deleted.status, 204, "{id}");
    }
    // `/v1/sync/performances/batch` is the batch, whatever the method and the spelling:
    // `batch` travels in batch items only.
    for (method, encoded) in [("GET", "batch"), ("PUT", "batch"), ("DELETE", "%62atch")] {
        let reply = app
            .send(
                partner
                    .request(method.parse().unwrap(), app.url(&path(encoded)))
                    .json(&body),
            )
            .await;
        assert_eq!(reply.status, 405, "{method} {encoded}: {}", text(&reply));
        assert_eq!(reply.header("allow"), Some("POST"), "{method}");
    }
    let in_a_batch = batch(
        &app,
        &partner,
        json!([{"external_id": "batch", "action": "upsert", "performance": body}]),
    )
    .await
    .json();
    assert_eq!(in_a_batch["results"][0]["result"], "created");
}

#[tokio::test]
async fn if_match_is_honoured() {
    let app = spawn_app().await;
    let (_, production, partner) = company_partner(&app).await;
    let mut body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let with = |tag: &str, body: &Value| {
        partner
            .put(app.url(&path("m")))
            .header("If-Match", tag)
            .json(body)
    };
    // Nothing to match yet, not even `*`.
    assert_eq!(app.send(with("\"v1\"", &body)).await.status, 412);
    assert_eq!(app.send(with("*", &body)).await.status, 412);
    assert_eq!(put(&app, &partner, "m", &body).await.status, 201);
    body["capacity"] = json!(120);
    let updated = app.send(with("\"v1\"", &body)).await;
    assert_eq!(updated.status, 200, "{}", text(&updated));
    body["capacity"] = json!(150);
    assert_eq!(app.send(with("\"v1\"", &body)).await.status, 412);
    let stale = app
        .send(
            partner
                .delete(app.url(&path("m")))
                .header("If-Match", "\"v1\""),
        )
        .await;
    assert_eq!(stale.status, 412);
    let current = app
        .send(
            partner
                .delete(app.url(&path("m")))
                .header("If-Match", "\"v2\""),
        )
        .await;
    assert_eq!(current.status, 204);
}

#[tokio::test]
async fn ten_simultaneous_puts_of_one_external_id_make_one_performance() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let (_, production, partner) = company_partner(&app).await;
    let body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let replies = futures_util::future::join_all(
        (0..10).map(|_| put(&app, &partner, "SAISON-2027-0001", &body)),
    )
    .await;
    let mut results = Vec::new();
    let mut ids = HashSet::new();
    for reply in &replies {
        assert!(
            [200, 201].contains(&reply.status),
            "{} {}",
            reply.status,
            text(reply)
        );
        let answer = reply.json();
        results.push(answer["result"].as_str().unwrap().to_owned());
        ids.insert(answer["performance"]["id"].as_str().unwrap().to_owned());
    }
    results.sort();
    let mut expected = vec!["unchanged".to_owned(); 9];
    expected.insert(0, "created".to_owned());
    assert_eq!(results, expected);
    assert_eq!(ids.len(), 1);
    let id = ids.into_iter().next().unwrap();
    let listed = app
        .send(partner.get(app.url(&format!("/v1/performances?production={production}"))))
        .await
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(changes_of(&app, &staff, &id).await, [("created".into(), 1)]);

    // Ten different bodies at once: one creation, then each a new version.
    let bodies: Vec<Value> = (0..10)
        .map(|i| {
            let mut body = body.clone();
            body["capacity"] = json!(100 + i);
            body
        })
        .collect();
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| put(&app, &partner, "SAISON-2027-0002", body)),
    )
    .await;
    let mut versions = Vec::new();
    for reply in &replies {
        assert!([200, 201].contains(&reply.status), "{}", text(reply));
        versions.push(reply.json()["performance"]["version"].as_i64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=10).collect::<Vec<_>>());
}

/// Every performance of `production`, as agency staff list them: id to performance.
async fn performances_of(
    app: &TestApp,
    staff: &reqwest::Client,
    production: &str,
) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url(&format!(
            "/v1/performances?production={production}&limit=200"
        ));
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.send(staff.get(&url)).await.json();
        for performance in page["data"].as_array().unwrap() {
            all.insert(
                performance["id"].as_str().unwrap().to_owned(),
                performance.clone(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// The performances as the change feed, read from the start by agency staff, leaves
/// them: id to the object of its last entry (none once deleted). Checks on the way
/// that numbers rise and each object's versions follow one another without a gap.
async fn performances_in_feed(app: &TestApp, staff: &reqwest::Client) -> BTreeMap<String, Value> {
    let mut copy = BTreeMap::new();
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    let mut after: Option<String> = None;
    let mut last_seq = 0;
    loop {
        let mut url = app.url("/v1/changes?limit=200");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let page = app.send(staff.get(&url)).await.json();
        let data = page["data"].as_array().unwrap();
        for entry in data {
            let seq = entry["seq"].as_i64().unwrap();
            assert!(seq > last_seq, "{seq} after {last_seq}");
            last_seq = seq;
            if entry["object_type"] != "performance" {
                continue;
            }
            let id = entry["object_id"].as_str().unwrap().to_owned();
            let version = entry["version"].as_i64().unwrap();
            let previous = versions.insert(id.clone(), version).unwrap_or(0);
            assert_eq!(
                version,
                previous + 1,
                "{id}: version {version} after {previous}"
            );
            match entry["action"].as_str().unwrap() {
                "deleted" => {
                    copy.remove(&id);
                }
                _ => {
                    copy.insert(id, entry["object"].clone());
                }
            }
        }
        if data.len() < 200 {
            return copy;
        }
        after = page["next_cursor"].as_str().map(str::to_owned);
    }
}

/// The outcome of every item of a batch's answer: (external id, result, problem status).
fn outcomes(reply: &Reply) -> Vec<(String, String, Value)> {
    reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["external_id"].as_str().unwrap_or_default().to_owned(),
                r["result"].as_str().unwrap().to_owned(),
                r["problem"]["status"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_item_failing_in_the_database_is_undone_alone_and_the_others_commit() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let (structure, production, mine) = company_partner(&app).await;
    let other = partner(&app, &app.client, &structure, &["programming:write"]).await;
    let good = |at: &str| performance(&production, "34172", at);
    for (id, at) in [
        ("changed", "2027-03-01T20:30:00+01:00"),
        ("dropped", "2027-03-02T20:30:00+01:00"),
    ] {
        assert_eq!(put(&app, &mine, id, &good(at)).await.status, 201);
    }
    let taken = put(&app, &other, "taken", &good("2027-03-03T20:30:00+01:00")).await;
    assert_eq!(taken.status, 201);
    // A rule the API does not know: an external id once across clients. The batch's
    // "taken" passes every check, writes its performance, and then the database refuses
    // its link (a unique violation).
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        pool.get()
            .unwrap()
            .batch_execute(
                "CREATE UNIQUE INDEX test_external_id_once ON performance_external_ids (external_id)",
            )
            .unwrap();
    })
    .await
    .unwrap();

    let reply = batch(
        &app,
        &mine,
        json!([
            {"external_id": "new-1", "action": "upsert", "performance": good("2027-03-04T20:30:00+01:00")},
            {"external_id": "changed", "action": "upsert", "performance": good("2027-04-01T20:30:00+02:00")},
            {"external_id": "taken", "action": "upsert", "performance": good("2027-03-05T20:30:00+01:00")},
            {"external_id": "dropped", "action": "delete"},
            {"external_id": "new-2", "action": "upsert", "performance": good("2027-03-06T20:30:00+01:00")},
        ]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    let expected: Vec<(String, String, Value)> = [
        ("new-1", "created", Value::Null),
        ("changed", "updated", Value::Null),
        ("taken", "failed", json!(500)),
        ("dropped", "deleted", Value::Null),
        ("new-2", "created", Value::Null),
    ]
    .into_iter()
    .map(|(id, result, status)| (id.to_owned(), result.to_owned(), status))
    .collect();
    assert_eq!(outcomes(&reply), expected);
    let answer = reply.json();
    let results = answer["results"].as_array().unwrap();
    // Nothing internal is shown.
    assert_eq!(results[2]["problem"]["code"], "internal_error");
    assert!(!text(&reply).contains("test_external_id_once"));

    // The failed item's performance was undone with it; the others' writes, audit
    // events and changes committed.
    let id = |i: usize| results[i]["performance"]["id"].as_str().unwrap().to_owned();
    let current = performances_of(&app, &staff, &production).await;
    let expected_ids: HashSet<String> = [
        id(0),
        id(1),
        id(4),
        taken.json()["performance"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ]
    .into();
    assert_eq!(
        current.keys().cloned().collect::<HashSet<_>>(),
        expected_ids
    );
    assert_eq!(current[&id(1)]["version"], 2);
    assert_eq!(
        changes_of(&app, &staff, &id(0)).await,
        [("created".into(), 1)]
    );
    assert_eq!(
        changes_of(&app, &staff, &id(1)).await,
        [("created".into(), 1), ("updated".into(), 2)]
    );
    assert_eq!(audited(&app, &staff, &id(4)).await, ["performance.create"]);
    assert_eq!(audited(&app, &staff, &id(1)).await.len(), 2);
    let creations = app
        .send(staff.get(app.url("/v1/audit-events?action=performance.create&limit=200")))
        .await
        .json();
    // changed, dropped, the other client's taken, new-1, new-2.
    assert_eq!(creations["data"].as_array().unwrap().len(), 5);
    assert_eq!(performances_in_feed(&app, &staff).await, current);
}

#[tokio::test]
async fn a_batch_and_single_writers_of_the_same_performances_meet_without_deadlock() {
    const EXISTING: usize = 24;
    let app = Arc::new(spawn_app().await);
    let staff = staff(&app).await;
    let (_, production, mine) = company_partner(&app).await;
    let at = |i: usize| format!("2027-05-{:02}T20:30:00+02:00", 1 + i % 28);
    let body = |i: usize, capacity: usize| {
        let mut body = performance(&production, "34172", &at(i));
        body["capacity"] = json!(capacity);
        body
    };
    let mut ids = Vec::new();
    for i in 0..EXISTING {
        let reply = put(&app, &mine, &format!("e{i:02}"), &body(i, 1)).await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        ids.push(
            reply.json()["performance"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // Single writers, each going over the same performances: a PUT by the partner and
    // a PATCH by the company's member, while batches upsert them all and create more.
    let singles: Vec<_> = (0..4)
        .map(|w| {
            let (app, mine, production, ids) = (
                Arc::clone(&app),
                mine.clone(),
                production.clone(),
                ids.clone(),
            );
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for round in 0..3 {
                    for i in (w..EXISTING).step_by(2) {
                        let mut body = performance(&production, "34172", &at(i));
                        body["capacity"] = json!(100 + 10 * w + round);
                        let reply = put(&app, &mine, &format!("e{i:02}"), &body).await;
                        statuses.push((reply.status, text(&reply)));
                        let reply = app
                            .send(
                                app.client
                                    .patch(app.url(&format!("/v1/performances/{}", ids[i])))
                                    .json(&json!({"capacity": 200 + 10 * w + round})),
                            )
                            .await;
                        statuses.push((reply.status, text(&reply)));
                    }
                }
                statuses
            })
        })
        .collect();
    let batches: Vec<_> = (0..2)
        .map(|b| {
            let (app, mine) = (Arc::clone(&app), mine.clone());
            let items: Vec<Value> = (0..EXISTING)
                .map(|i| json!({"external_id": format!("e{i:02}"), "action": "upsert", "performance": body(i, 500 + b)}))
                .chain((0..12).map(|i| json!({"external_id": format!("n{b}-{i:02}"), "action": "upsert", "performance": body(i, 7)})))
                .collect();
            tokio::spawn(async move { batch(&app, &mine, json!(items)).await })
        })
        .collect();
    for task in batches {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200, "{}", text(&reply));
        for (external_id, result, problem) in outcomes(&reply) {
            assert!(
                ["created", "updated", "unchanged"].contains(&result.as_str()),
                "{external_id}: {result} {problem}"
            );
        }
    }
    for task in singles {
        for (status, body) in task.await.unwrap() {
            assert!([200, 201].contains(&status), "{status} {body}");
        }
    }

    let current = performances_of(&app, &staff, &production).await;
    assert_eq!(current.len(), EXISTING + 24);
    assert_eq!(performances_in_feed(&app, &staff).await, current);
}

#[tokio::test]
async fn two_batches_over_the_same_external_ids_in_opposite_orders_both_answer_every_item() {
    let app = Arc::new(spawn_app().await);
    let staff = staff(&app).await;
    let (_, production, mine) = company_partner(&app).await;
    // Half of the ids exist before, half are new to both batches.
    for i in (0..40).step_by(2) {
        let body = performance(&production, "34172", "2027-06-01T20:30:00+02:00");
        assert_eq!(
            put(&app, &mine, &format!("x{i:02}"), &body).await.status,
            201
        );
    }
    for round in 0..3 {
        let items = |capacity: usize| -> Vec<Value> {
            (0..40)
                .map(|i| {
                    let mut body = performance(&production, "34172", "2027-06-01T20:30:00+02:00");
                    body["capacity"] = json!(capacity);
                    json!({"external_id": format!("x{i:02}"), "action": "upsert", "performance": body})
                })
                .collect()
        };
        let forward = items(10 * round + 1);
        let mut backward = items(10 * round + 2);
        backward.reverse();
        let (a, b) = tokio::join!(
            batch(&app, &mine, json!(forward)),
            batch(&app, &mine, json!(backward))
        );
        for (reply, first) in [(a, "x00"), (b, "x39")] {
            assert_eq!(reply.status, 200, "{}", text(&reply));
            let outcomes = outcomes(&reply);
            assert_eq!(outcomes.len(), 40);
            // Answered in the order sent.
            assert_eq!(outcomes[0].0, first);
            for (external_id, result, problem) in outcomes {
                assert!(
                    ["created", "updated"].contains(&result.as_str()),
                    "round {round}, {external_id}: {result} {problem}"
                );
            }
        }
    }
    let current = performances_of(&app, &staff, &production).await;
    assert_eq!(current.len(), 40);
    assert_eq!(performances_in_feed(&app, &staff).await, current);
}
