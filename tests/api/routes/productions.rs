use std::collections::HashSet;

use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, performance, production, spawn_app};

/// A structure of the test member's, and a production of it.
async fn own_production(app: &TestApp) -> (String, Value) {
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let made = app
        .create_with(&app.client, "/v1/productions", &production(&structure))
        .await;
    (structure, made)
}

/// An API client of `structure` with `scopes`, made by `owner`: a client with its token.
pub async fn partner(
    app: &TestApp,
    owner: &reqwest::Client,
    structure: &str,
    scopes: &[&str],
) -> reqwest::Client {
    let made = app
        .create_with(
            owner,
            "/v1/api-clients",
            &json!({"name": "Billetterie", "structure_ids": [structure], "scopes": scopes}),
        )
        .await;
    let reply = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", made["client"]["id"].as_str().unwrap()),
            ("client_secret", made["client_secret"].as_str().unwrap()),
        ]))
        .await;
    assert_eq!(reply.status, 200);
    client_with(Some(reply.json()["access_token"].as_str().unwrap()))
}

#[tokio::test]
async fn creating_a_production_returns_it_with_location_etag_and_304_when_unchanged() {
    let app = spawn_app().await;
    let (structure, _) = own_production(&app).await;
    let mut body = production(&structure);
    body["disciplines"] = json!(["puppetry", "theatre"]);
    body["audience"] = json!("young_audience");
    body["minimum_age"] = json!(6);
    body["premiere_date"] = json!("2026-10-02");
    body["description"] = json!("Un conte.\nPour les petits.");
    let reply = app.post_json("/v1/productions", &body).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let created = reply.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/productions/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"v1\""));
    assert_eq!(created["disciplines"], json!(["theatre", "puppetry"]));
    assert_eq!(created["published"], false);
    assert_eq!(created["minimum_age"], 6);

    let fetched = app.get(&format!("/v1/productions/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), created);
    let again = app
        .send(
            app.client
                .get(app.url(&format!("/v1/productions/{id}")))
                .header("If-None-Match", "\"v1\""),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let app = spawn_app().await;
    let (structure, _) = own_production(&app).await;
    let reply = app
        .post_json(
            "/v1/productions",
            &json!({
                "structure_id": structure,
                "title": "a\u{0}b",
                "disciplines": ["opera"],
                "audience": "young_audience",
                "duration_minutes": 0,
                "space": "arena",
                "premiere_date": "02/10/2026",
                "team_size": 501,
                "description": "x".repeat(10_001),
                "links": ["ftp://a.example"]
            }),
        )
        .await;
    assert_eq!(reply.status, 422);
    // A NUL anywhere is named before anything else is judged.
    assert_eq!(reply.error_fields(), ["title"]);

    let reply = app
        .post_json(
            "/v1/productions",
            &json!({
                "structure_id": structure,
                "title": "t".repeat(201),
                "disciplines": ["opera"],
                "audience": "young_audience",
                "duration_minutes": 0,
                "space": "arena",
                "premiere_date": "02/10/2026",
                "team_size": 501,
                "description": "x".repeat(10_001),
                "links": ["ftp://a.example"]
            }),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.error_fields(),
        [
            "title",
            "disciplines[0]",
            "minimum_age",
            "duration_minutes",
            "space",
            "premiere_date",
            "team_size",
            "description",
            "links[0]"
        ]
    );

    let mut body = production(&structure);
    body["minimum_age"] = json!(3);
    let reply = app.post_json("/v1/productions", &body).await;
    assert_eq!(reply.error_fields(), ["minimum_age"]);
    assert_eq!(reply.json()["errors"][0]["code"], "not_allowed");
}

#[tokio::test]
async fn unpublished_productions_are_seen_by_members_staff_and_reviewers_only() {
    let app = spawn_app().await;
    let (structure, made) = own_production(&app).await;
    let id = made["id"].as_str().unwrap();
    let path = format!("/v1/productions/{id}");
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let viewer_token = app.sign_up("viewer@example.org").await;
    let viewer = client_with(Some(&viewer_token));
    app.add_member(
        &app.client,
        &structure,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    let reviewer = client_with(Some(
        &app.agency_account("reviewer@agency.example", AgencyRole::Reviewer)
            .await,
    ));
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    for (who, client, status) in [
        ("anonymous", &app.anonymous, 404),
        ("another member", &other, 404),
        ("a viewer", &viewer, 200),
        ("a reviewer", &reviewer, 200),
        ("staff", &staff, 200),
    ] {
        let reply = app.send(client.get(app.url(&path))).await;
        assert_eq!(reply.status, status, "{who}");
        let listed = app
            .send(client.get(app.url("/v1/productions")))
            .await
            .json();
        let seen = listed["data"].as_array().unwrap().len();
        assert_eq!(seen, usize::from(status == 200), "{who} lists {seen}");
    }
    // Published: everyone's.
    let reply = app.patch_json(&path, &json!({"published": true})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        app.send(app.anonymous.get(app.url(&path))).await.status,
        200
    );
    let listed = app
        .send(app.anonymous.get(app.url("/v1/productions")))
        .await
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn editors_change_productions_viewers_and_outsiders_do_not() {
    let app = spawn_app().await;
    let (structure, made) = own_production(&app).await;
    let path = format!("/v1/productions/{}", made["id"].as_str().unwrap());
    let editor = client_with(Some(&app.sign_up("editor@example.org").await));
    app.add_member(
        &app.client,
        &structure,
        &editor,
        "editor@example.org",
        "editor",
    )
    .await;
    let viewer = client_with(Some(&app.sign_up("viewer@example.org").await));
    app.add_member(
        &app.client,
        &structure,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let rename = json!({"title": "Nouveau titre"});
    let as_editor = app.send(editor.patch(app.url(&path)).json(&rename)).await;
    assert_eq!(as_editor.status, 200);
    assert_eq!(as_editor.json()["version"], 2);
    assert_eq!(
        app.send(viewer.patch(app.url(&path)).json(&rename))
            .await
            .status,
        403
    );
    assert_eq!(
        app.send(other.patch(app.url(&path)).json(&rename))
            .await
            .status,
        404
    );
    assert_eq!(app.send(viewer.delete(app.url(&path))).await.status, 403);
    // Creating for a structure one does not edit names the field.
    for client in [&viewer, &other] {
        let reply = app
            .send(
                client
                    .post(app.url("/v1/productions"))
                    .json(&production(&structure)),
            )
            .await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.error_fields(), ["structure_id"]);
        assert_eq!(reply.json()["errors"][0]["code"], "not_editable");
    }
    app.create_with(&editor, "/v1/productions", &production(&structure))
        .await;
    assert_eq!(app.send(editor.delete(app.url(&path))).await.status, 204);
    assert_eq!(app.get(&path).await.status, 404);
}

#[tokio::test]
async fn api_clients_write_with_programming_write_and_only_read_with_read() {
    let app = spawn_app().await;
    let (structure, made) = own_production(&app).await;
    let path = format!("/v1/productions/{}", made["id"].as_str().unwrap());
    let reader = partner(&app, &app.client, &structure, &["read"]).await;
    let writer = partner(&app, &app.client, &structure, &["programming:write"]).await;

    assert_eq!(app.send(reader.get(app.url(&path))).await.status, 200);
    let patch = json!({"team_size": 5});
    assert_eq!(
        app.send(reader.patch(app.url(&path)).json(&patch))
            .await
            .status,
        403
    );
    let reply = app
        .send(
            reader
                .post(app.url("/v1/productions"))
                .json(&production(&structure)),
        )
        .await;
    assert_eq!(reply.status, 422);

    assert_eq!(
        app.send(writer.patch(app.url(&path)).json(&patch))
            .await
            .status,
        200
    );
    app.create_with(&writer, "/v1/productions", &production(&structure))
        .await;
    // Not for a structure it does not act for.
    let elsewhere = app.create_structure(&company("Autre")).await;
    let reply = app
        .send(
            writer
                .post(app.url("/v1/productions"))
                .json(&production(elsewhere["id"].as_str().unwrap())),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["structure_id"]);
}

#[tokio::test]
async fn a_production_with_performances_is_not_deleted() {
    let app = spawn_app().await;
    let (_, made) = own_production(&app).await;
    let id = made["id"].as_str().unwrap();
    app.create_with(
        &app.client,
        "/v1/performances",
        &performance(id, "34172", "2027-03-01T20:30:00+01:00"),
    )
    .await;
    let reply = app
        .send(app.client.delete(app.url(&format!("/v1/productions/{id}"))))
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.json()["code"], "has_performances");
}

#[tokio::test]
async fn concurrent_patches_with_the_same_if_match_let_one_win() {
    let app = spawn_app().await;
    let (_, made) = own_production(&app).await;
    let url = app.url(&format!("/v1/productions/{}", made["id"].as_str().unwrap()));
    let patches = (0..4).map(|i| {
        app.send(
            app.client
                .patch(&url)
                .header("If-Match", "\"v1\"")
                .json(&json!({"team_size": i + 1})),
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
}

#[tokio::test]
async fn lists_filter_by_structure_discipline_audience_and_page_without_gaps() {
    let app = spawn_app().await;
    let (structure, _) = own_production(&app).await;
    let other = app.create_structure(&company("Autre compagnie")).await;
    let other = other["id"].as_str().unwrap();
    for i in 0..6 {
        let mut body = production(if i % 2 == 0 { &structure } else { other });
        if i % 3 == 0 {
            body["disciplines"] = json!(["dance"]);
            body["audience"] = json!("young_audience");
            body["minimum_age"] = json!(8);
        }
        app.create_with(&app.client, "/v1/productions", &body).await;
    }
    let count = |value: Value| value["data"].as_array().unwrap().len();
    let all = app.get("/v1/productions").await.json();
    assert_eq!(count(all), 7);
    let mine = app
        .get(&format!("/v1/productions?structure={structure}"))
        .await
        .json();
    assert_eq!(count(mine), 4);
    assert_eq!(
        count(app.get("/v1/productions?discipline=dance").await.json()),
        2
    );
    assert_eq!(
        count(app.get("/v1/productions?young_audience=true").await.json()),
        2
    );
    assert_eq!(
        count(app.get("/v1/productions?young_audience=false").await.json()),
        5
    );
    let reply = app.get("/v1/productions?updated_since=yesterday").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["updated_since"]);

    for base in [
        "/v1/productions?limit=2".to_owned(),
        "/v1/productions?limit=2&updated_since=2000-01-01T00:00:00Z".to_owned(),
    ] {
        let mut seen = Vec::new();
        let mut url = base.clone();
        loop {
            let page = app.get(&url).await.json();
            seen.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => url = format!("{base}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7, "{base}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7, "{base}");
    }
}
