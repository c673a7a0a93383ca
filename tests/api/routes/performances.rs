use std::collections::HashSet;

use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, performance, production, spawn_app};
use crate::routes::productions::partner;

/// The test member's company and a published production of it: (structure, production).
async fn published_production(app: &TestApp) -> (String, String) {
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let mut body = production(&structure);
    body["published"] = json!(true);
    body["disciplines"] = json!(["circus"]);
    let made = app.create_with(&app.client, "/v1/productions", &body).await;
    (structure, made["id"].as_str().unwrap().to_owned())
}

/// A venue in Sète owned by a new account: (its owner's client, the venue's id).
async fn venue_of_someone_else(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let owner = client_with(Some(&app.sign_up(email).await));
    let mut body = company("Théâtre Molière");
    body["kind"] = json!("venue");
    body["address"] =
        json!({"street": "Avenue Victor Hugo", "postal_code": "34200", "commune_code": "34301"});
    let venue = app.create_with(&owner, "/v1/structures", &body).await;
    (owner, venue["id"].as_str().unwrap().to_owned())
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_performance_is_located_from_its_place_or_venue_and_shown_in_local_time() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let reply = app
        .post_json(
            "/v1/performances",
            &performance(&production, "34172", "2027-03-01T20:30:00+01:00"),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let made = reply.json();
    assert_eq!(made["starts_at"], "2027-03-01T19:30:00Z");
    assert_eq!(made["local_starts_at"], "2027-03-01T20:30:00+01:00");
    assert_eq!(made["time_zone"], "Europe/Paris");
    assert_eq!(made["commune_code"], "34172");
    assert_eq!(made["department_code"], "34");
    assert_eq!(made["region_code"], "76");
    assert_eq!(made["country_code"], "FR");
    assert_eq!(made["status"], "scheduled");
    assert_eq!(made["booking"], "confirmed");
    assert_eq!(made["place"]["name"], "Salle des fêtes");
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await.json(), made);

    let (_, venue) = venue_of_someone_else(&app, "venue@example.org").await;
    let at_venue = app
        .create_with(
            &app.client,
            "/v1/performances",
            &json!({"production_id": production, "venue_structure_id": venue,
                    "starts_at": "2027-07-14T22:00:00+02:00"}),
        )
        .await;
    assert_eq!(at_venue["commune_code"], "34301");
    assert_eq!(at_venue["department_code"], "34");
    assert_eq!(at_venue["place"], Value::Null);
    assert_eq!(at_venue["venue_structure_id"], json!(venue));

    let abroad = app
        .create_with(
            &app.client,
            "/v1/performances",
            &json!({"production_id": production,
                    "place": {"name": "Théâtre National", "city": "Bruxelles", "country_code": "BE"},
                    "time_zone": "Europe/Brussels",
                    "starts_at": "2027-05-01T20:00:00+02:00"}),
        )
        .await;
    assert_eq!(abroad["country_code"], "BE");
    assert_eq!(abroad["region_code"], Value::Null);
    assert_eq!(abroad["place"]["city"], "Bruxelles");
}

#[tokio::test]
async fn fees_are_shown_to_either_side_and_staff_only() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let (venue_owner, venue) = venue_of_someone_else(&app, "venue@example.org").await;
    let mut body = json!({"production_id": production, "venue_structure_id": venue,
                          "starts_at": "2027-07-14T22:00:00+02:00", "fee_cents": 320000,
                          "published": true});
    let made = app
        .create_with(&venue_owner, "/v1/performances", &body)
        .await;
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    // An outside show at the venue: the company side is nobody here.
    body = json!({"show": {"title": "Le Grand Bal", "company_name": "Cie d'ailleurs", "discipline": "dance"},
                  "venue_structure_id": venue, "starts_at": "2027-07-15T22:00:00+02:00",
                  "fee_cents": 100000, "published": true});
    app.create_with(&venue_owner, "/v1/performances", &body)
        .await;

    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let reviewer = client_with(Some(
        &app.agency_account("reviewer@agency.example", AgencyRole::Reviewer)
            .await,
    ));
    for (who, client, sees) in [
        ("the company", &app.client, [true, false]),
        ("the venue", &venue_owner, [true, true]),
        ("staff", &staff, [true, true]),
        ("a reviewer", &reviewer, [false, false]),
        ("another member", &other, [false, false]),
        ("anonymous", &app.anonymous, [false, false]),
    ] {
        let one = app.send(client.get(app.url(&path))).await.json();
        assert_eq!(one.get("fee_cents").is_some(), sees[0], "{who}: {one}");
        if sees[0] {
            assert_eq!(one["fee_cents"], 320000);
        }
        let listed = app
            .send(client.get(app.url("/v1/performances")))
            .await
            .json();
        let shown: Vec<bool> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.get("fee_cents").is_some())
            .collect();
        assert_eq!(shown, sees, "{who} in the list");
    }
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let good = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
    let cases: Vec<(Value, Vec<&str>, &str)> = vec![
        (
            {
                let mut body = good.clone();
                body["show"] = json!({"title": "X", "company_name": "Y", "discipline": "dance"});
                body
            },
            vec!["show"],
            "exactly_one",
        ),
        (
            {
                let mut body = good.clone();
                body.as_object_mut().unwrap().remove("production_id");
                body.as_object_mut().unwrap().remove("place");
                body
            },
            vec!["production_id", "venue_structure_id"],
            "exactly_one",
        ),
        (
            {
                let mut body = good.clone();
                body["time_zone"] = json!("Europe/Montpellier");
                body
            },
            vec!["time_zone"],
            "time_zone",
        ),
        (
            {
                let mut body = good.clone();
                body["attendance"] = json!(120);
                body
            },
            vec!["attendance"],
            "not_yet_held",
        ),
        (
            {
                let mut body = good.clone();
                body["place"]["name"] = json!("Salle\u{0}");
                body
            },
            vec!["place.name"],
            "control_character",
        ),
        (
            {
                let mut body = good.clone();
                body["place"]["name"] = json!("x".repeat(100_000));
                body
            },
            vec!["place.name"],
            "too_long",
        ),
        (
            {
                let mut body = good.clone();
                body["place"] = json!({"name": "Salle", "city": "Paris", "country_code": "FR"});
                body
            },
            vec!["place.country_code"],
            "france_needs_commune",
        ),
        (
            {
                let mut body = good.clone();
                body["starts_at"] = json!("2027-03-01 20:30");
                body["fee_cents"] = json!(-1);
                body
            },
            vec!["starts_at", "fee_cents"],
            "instant_format",
        ),
        (
            {
                let mut body = good.clone();
                body["production_id"] = json!(uuid::Uuid::now_v7());
                body
            },
            vec!["production_id"],
            "unknown_reference",
        ),
        (
            {
                let mut body = good.clone();
                body["place"]["commune_code"] = json!("34999");
                body
            },
            vec!["place.commune_code"],
            "unknown_commune",
        ),
    ];
    for (body, fields, code) in cases {
        let reply = app.post_json("/v1/performances", &body).await;
        assert_eq!(reply.status, 422, "{body}");
        assert_eq!(reply.error_fields(), fields, "{body}");
        assert_eq!(reply.json()["errors"][0]["code"], code, "{body}");
    }
    // Attendance once held.
    let mut past = good.clone();
    past["starts_at"] = json!("2024-03-01T20:30:00+01:00");
    past["attendance"] = json!(180);
    let made = app
        .create_with(&app.client, "/v1/performances", &past)
        .await;
    assert_eq!(made["attendance"], 180);
    // A patch moving it into the future is refused by name too.
    let reply = app
        .patch_json(
            &format!("/v1/performances/{}", made["id"].as_str().unwrap()),
            &json!({"starts_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["attendance"]);
}

#[tokio::test]
async fn either_side_programs_and_nobody_else() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let (venue_owner, venue) = venue_of_someone_else(&app, "venue@example.org").await;
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let at_venue = json!({"production_id": production, "venue_structure_id": venue,
                          "starts_at": "2027-07-14T22:00:00+02:00"});
    // The venue books someone else's published production.
    let made = app
        .create_with(&venue_owner, "/v1/performances", &at_venue)
        .await;
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    // Both sides edit it; an outsider does not see it (unpublished).
    let change = json!({"capacity": 250});
    assert_eq!(
        app.send(app.client.patch(app.url(&path)).json(&change))
            .await
            .status,
        200
    );
    assert_eq!(
        app.send(venue_owner.patch(app.url(&path)).json(&change))
            .await
            .status,
        200
    );
    assert_eq!(
        app.send(other.patch(app.url(&path)).json(&change))
            .await
            .status,
        404
    );
    // An outsider names what it may not edit.
    let reply = app
        .send(other.post(app.url("/v1/performances")).json(&at_venue))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["production_id"]);
    assert_eq!(reply.json()["errors"][0]["code"], "not_editable");
    // An outside show needs a venue the caller edits.
    let show = json!({"title": "Le Grand Bal", "company_name": "Cie", "discipline": "dance"});
    let inline = json!({"show": show, "place": {"name": "Place du marché", "commune_code": "34172"},
                        "starts_at": "2027-07-14T22:00:00+02:00"});
    let reply = app.post_json("/v1/performances", &inline).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["venue_structure_id"]);
    let at_own_venue = json!({"show": show, "venue_structure_id": venue,
                              "starts_at": "2027-07-14T22:00:00+02:00"});
    app.create_with(&venue_owner, "/v1/performances", &at_own_venue)
        .await;
    let reply = app.post_json("/v1/performances", &at_own_venue).await;
    assert_eq!(reply.error_fields(), ["venue_structure_id"]);
    // Viewers read and do not write.
    let viewer = client_with(Some(&app.sign_up("viewer@example.org").await));
    app.add_member(
        &venue_owner,
        &venue,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    assert_eq!(app.send(viewer.get(app.url(&path))).await.status, 200);
    assert_eq!(
        app.send(viewer.patch(app.url(&path)).json(&change))
            .await
            .status,
        403
    );
    assert_eq!(app.send(viewer.delete(app.url(&path))).await.status, 403);
    // API clients: with programming:write they push dates; with read they only read.
    let writer = partner(&app, &venue_owner, &venue, &["programming:write"]).await;
    let reader = partner(&app, &venue_owner, &venue, &["read"]).await;
    app.create_with(&writer, "/v1/performances", &at_venue)
        .await;
    let reply = app
        .send(reader.post(app.url("/v1/performances")).json(&at_venue))
        .await;
    assert_eq!(reply.status, 422);
    let seen = app.send(reader.get(app.url(&path))).await.json();
    assert!(seen.get("fee_cents").is_some(), "{seen}");
}

#[tokio::test]
async fn lists_filter_by_territory_population_dates_and_audience() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let young = {
        let structure = app.create_structure(&company("Jeune Cie")).await;
        let mut body = production_body(structure["id"].as_str().unwrap());
        body["audience"] = json!("young_audience");
        body["minimum_age"] = json!(3);
        app.create_with(&app.client, "/v1/productions", &body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let places = [
        ("montpellier", "34172", "2027-03-01T20:30:00+01:00"),
        ("foix", "09122", "2027-04-01T20:30:00+02:00"),
        ("lyon", "69123", "2027-05-01T20:30:00+02:00"),
    ];
    let mut made = std::collections::HashMap::new();
    for (name, commune, at) in places {
        let body = performance(&production, commune, at);
        made.insert(
            name,
            app.create_with(&app.client, "/v1/performances", &body)
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let abroad = json!({"production_id": young,
        "place": {"name": "Théâtre National", "city": "Bruxelles", "country_code": "BE"},
        "time_zone": "Europe/Brussels", "starts_at": "2027-06-01T20:00:00+02:00"});
    made.insert(
        "bruxelles",
        app.create_with(&app.client, "/v1/performances", &abroad)
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let listed = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app.get(&format!("/v1/performances?{query}")).await;
            assert_eq!(
                reply.status,
                200,
                "{query}: {}",
                String::from_utf8_lossy(&reply.bytes)
            );
            ids(&reply.json())
        }
    };
    assert_eq!(listed("department=34").await, [made["montpellier"].clone()]);
    assert_eq!(
        listed("outside_region=true").await,
        [made["lyon"].clone(), made["bruxelles"].clone()]
    );
    assert_eq!(listed("region=84").await, [made["lyon"].clone()]);
    assert_eq!(
        listed("region=84&outside_region=true").await.len(),
        3,
        "everything but Lyon"
    );
    assert_eq!(
        listed("max_commune_population=15000").await,
        [made["foix"].clone()]
    );
    assert_eq!(
        listed("from=2027-03-15T00:00:00Z&to=2027-05-15T00:00:00Z").await,
        [made["foix"].clone(), made["lyon"].clone()]
    );
    assert_eq!(
        listed("young_audience=true").await,
        [made["bruxelles"].clone()]
    );
    assert_eq!(listed("young_audience=false").await.len(), 3);
    assert_eq!(listed("discipline=circus").await.len(), 3);
    assert_eq!(listed("status=cancelled").await.len(), 0);
    let reply = app.get("/v1/performances?from=tomorrow&department=7").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["department", "from"]);
}

fn production_body(structure: &str) -> Value {
    production(structure)
}

#[tokio::test]
async fn keyset_pages_hold_every_performance_once_in_start_order() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    // Several share a start: the id breaks the tie.
    for i in 0..23 {
        let at = format!("2027-03-{:02}T20:30:00+01:00", 1 + i % 9);
        app.create_with(
            &app.client,
            "/v1/performances",
            &performance(&production, "34172", &at),
        )
        .await;
    }
    for base in [
        "/v1/performances?limit=4",
        "/v1/performances?limit=4&updated_since=2000-01-01T00:00:00Z",
    ] {
        let mut seen: Vec<Value> = Vec::new();
        let mut url = base.to_owned();
        loop {
            let reply = app.get(&url).await;
            let page = reply.json();
            seen.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    assert!(reply.header("link").is_some());
                    url = format!("{base}&cursor={cursor}");
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), 23, "{base}");
        let unique: HashSet<&str> = seen.iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(unique.len(), 23, "{base}");
        if !base.contains("updated_since") {
            let keys: Vec<(String, String)> = seen
                .iter()
                .map(|p| {
                    (
                        p["starts_at"].as_str().unwrap().to_owned(),
                        p["id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
        }
    }
    // A cursor made for one order is refused for the other.
    let page = app.get("/v1/performances?limit=4").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let reply = app
        .get(&format!(
            "/v1/performances?limit=4&updated_since=2000-01-01T00:00:00Z&cursor={cursor}"
        ))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["cursor"]);
}

/// A performance of `production` made by the member, as the API answered it.
async fn one_performance(app: &TestApp, production: &str) -> Value {
    app.create_with(
        &app.client,
        "/v1/performances",
        &performance(production, "34172", "2027-03-01T20:30:00+01:00"),
    )
    .await
}

#[tokio::test]
async fn concurrent_patches_with_if_match_let_one_win() {
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let made = one_performance(&app, &production).await;
    let url = app.url(&format!(
        "/v1/performances/{}",
        made["id"].as_str().unwrap()
    ));
    let patches = (0..4).map(|i| {
        app.send(
            app.client
                .patch(&url)
                .header("If-Match", "\"v1\"")
                .json(&json!({"capacity": 100 + i})),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(patches)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        3,
        "{statuses:?}"
    );
    let current = app
        .get(&format!(
            "/v1/performances/{}",
            made["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(current.header("etag"), Some("\"v2\""));
}

#[tokio::test]
async fn the_change_feed_carries_programming_with_fees_for_either_side_only() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    // An unpublished production: outsiders are told nothing of it.
    let hidden = app
        .create_with(&app.client, "/v1/productions", &production(&structure))
        .await;
    let (_, shown) = published_production(&app).await;
    let mut body = performance(&shown, "34172", "2027-03-01T20:30:00+01:00");
    body["published"] = json!(true);
    let made = app
        .create_with(&app.client, "/v1/performances", &body)
        .await;
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    assert_eq!(
        app.send(app.client.delete(app.url(&path))).await.status,
        204
    );
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    for (who, client, fee) in [
        ("the company", &app.client, true),
        ("another member", &other, false),
        ("anonymous", &app.anonymous, false),
    ] {
        let feed = app.send(client.get(app.url("/v1/changes"))).await;
        assert_eq!(feed.status, 200, "{who}");
        let entries: Vec<Value> = feed.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["object_type"] != "structure")
            .cloned()
            .collect();
        let of = |id: &Value| -> Vec<&Value> {
            entries.iter().filter(|c| c["object_id"] == *id).collect()
        };
        assert_eq!(
            of(&hidden["id"]).len(),
            usize::from(fee),
            "{who}: {hidden} {entries:#?}"
        );
        let dates = of(&made["id"]);
        assert_eq!(dates.len(), 2, "{who}: {entries:?}");
        assert_eq!(dates[0]["action"], "created");
        assert_eq!(
            dates[0]["object"].get("fee_cents").is_some(),
            fee,
            "{who}: {}",
            dates[0]["object"]
        );
        assert_eq!(dates[1]["action"], "deleted");
        assert_eq!(dates[1]["object"], Value::Null);
    }
}

/// Without `If-Match` a PATCH merges into whatever version is current: however many
/// arrive at once, each is applied, none is refused for having lost a race (on
/// PostgreSQL a retry locks the row it lost, so that it cannot lose twice).
#[tokio::test]
async fn simultaneous_patches_without_if_match_are_all_applied() {
    const WRITERS: i64 = 24;
    let app = spawn_app().await;
    let (_, production) = published_production(&app).await;
    let made = one_performance(&app, &production).await;
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    let url = app.url(&path);
    let patches = (0..WRITERS)
        .map(|i| app.send(app.client.patch(&url).json(&json!({"capacity": 1_000 + i}))));
    let replies = futures_util::future::join_all(patches).await;
    for reply in &replies {
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
    }
    // Every capacity differs from the one before it: each patch is one more version.
    let current = app.get(&path).await;
    assert_eq!(
        current.header("etag"),
        Some(&*format!("\"v{}\"", WRITERS + 1))
    );
    let last = current.json()["capacity"].as_i64().unwrap();
    assert!((1_000..1_000 + WRITERS).contains(&last), "{last}");
}
