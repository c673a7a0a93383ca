use serde_json::json;

use crate::helpers::{open_call, programme, spawn_app};

#[tokio::test]
async fn a_call_is_given_in_paris_time_and_public_with_its_programme() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let programme_id = made["id"].as_str().unwrap();
    let mut body = open_call(programme_id, 1_000_000);
    body["opens_at"] = json!("2026-10-25T02:30");
    body["closes_at"] = json!("2027-03-01T00:00");
    let reply = app.send(staff.post(app.url("/v1/calls")).json(&body)).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let call = reply.json();
    // The autumn's repeated hour: a call opens at the first 02:30 (CEST).
    assert_eq!(call["opens_at_utc"], "2026-10-25T00:30:00Z");
    assert_eq!(call["closes_at_utc"], "2027-02-28T23:00:00Z");
    assert_eq!(call["closes_at"], "2027-03-01T00:00:00");
    assert_eq!(call["time_zone"], "Europe/Paris");
    assert_eq!(call["state"], "open");
    assert_eq!(call["envelope_cents"], 1_000_000);
    let id = call["id"].as_str().unwrap();

    let read = app
        .send(app.anonymous.get(app.url(&format!("/v1/calls/{id}"))))
        .await;
    assert_eq!(read.status, 200);
    let open = app
        .send(app.anonymous.get(app.url("/v1/calls?open=true")))
        .await;
    assert_eq!(open.json()["data"].as_array().unwrap().len(), 1);

    // Its programme unpublished, the call is staff's only.
    let hidden = app
        .send(
            staff
                .patch(app.url(&format!("/v1/programmes/{programme_id}")))
                .json(&json!({"published": false})),
        )
        .await;
    assert_eq!(hidden.status, 200);
    let read = app
        .send(app.anonymous.get(app.url(&format!("/v1/calls/{id}"))))
        .await;
    assert_eq!(read.status, 404);
    let list = app.send(app.client.get(app.url("/v1/calls"))).await;
    assert_eq!(list.json()["data"], json!([]));
    let staff_list = app.send(staff.get(app.url("/v1/calls"))).await;
    assert_eq!(staff_list.json()["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn calls_are_listed_by_keyset_pages() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let programme_id = made["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let call = app
            .create_with(&staff, "/v1/calls", &open_call(programme_id, 100))
            .await;
        ids.push(call["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut url = format!("/v1/calls?limit=2&programme_id={programme_id}");
    loop {
        let page = app.get(&url).await;
        assert_eq!(page.status, 200);
        let body = page.json();
        for call in body["data"].as_array().unwrap() {
            seen.push(call["id"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                url = format!("/v1/calls?limit=2&programme_id={programme_id}&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let bad = app.get("/v1/calls?cursor=bm90LWEtY3Vyc29y").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_bad_call_names_its_fields_and_only_staff_open_calls() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let programme_id = made["id"].as_str().unwrap();
    let mut body = open_call(programme_id, -1);
    body["closes_at"] = json!("2020-01-01T00:00");
    body["title"] = json!(" ");
    let reply = app.send(staff.post(app.url("/v1/calls")).json(&body)).await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.error_fields(),
        ["title", "envelope_cents", "closes_at"]
    );
    let mut body = open_call(programme_id, 100);
    body["title"] = json!("a\u{0}");
    let reply = app.send(staff.post(app.url("/v1/calls")).json(&body)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["title"]);

    let mut body = open_call(programme_id, 100);
    body["closes_at"] = json!("le 1er mars");
    let reply = app.send(staff.post(app.url("/v1/calls")).json(&body)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["closes_at"]);

    let body = open_call(&uuid::Uuid::now_v7().to_string(), 100);
    let reply = app.send(staff.post(app.url("/v1/calls")).json(&body)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["programme_id"]);

    let refused = app
        .post_json("/v1/calls", &open_call(programme_id, 100))
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn staff_move_a_deadline_and_the_envelope_never_below_what_is_awarded() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = super::dossiers::test_call(&app, &staff, "MOVE", 1_000_000).await;
    let path = format!("/v1/calls/{call}");
    let read = app.send(staff.get(app.url(&path))).await;
    let etag = read.header("etag").unwrap().to_owned();
    let moved = app
        .send(
            staff
                .patch(app.url(&path))
                .header("If-Match", &etag)
                .json(&json!({"closes_at": "2031-04-01T00:00", "committee_date": null, "title": "Session prolongée"})),
        )
        .await;
    assert_eq!(
        moved.status,
        200,
        "{}",
        String::from_utf8_lossy(&moved.bytes)
    );
    let moved = moved.json();
    assert_eq!(moved["closes_at_utc"], "2031-03-31T22:00:00Z");
    assert_eq!(moved["closes_at"], "2031-04-01T00:00:00");
    assert_eq!(moved["committee_date"], json!(null));
    assert_eq!(moved["title"], "Session prolongée");
    // The opening instant did not move.
    assert_eq!(moved["opens_at_utc"], read.json()["opens_at_utc"]);
    let stale = app
        .send(
            staff
                .patch(app.url(&path))
                .header("If-Match", &etag)
                .json(&json!({"title": "Encore"})),
        )
        .await;
    assert_eq!(stale.status, 412);

    let bad = app
        .send(staff.patch(app.url(&path)).json(&json!({
            "closes_at": "2000-01-01T00:00", "envelope_cents": -5, "title": " "
        })))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["title", "envelope_cents", "closes_at"]);
    let nul = app
        .send(
            staff
                .patch(app.url(&path))
                .json(&json!({"title": "a\u{0}b"})),
        )
        .await;
    assert_eq!(nul.status, 422);
    assert_eq!(nul.error_fields(), ["title"]);
    let refused = app.patch_json(&path, &json!({"title": "À moi"})).await;
    assert_eq!(refused.status, 403);
    let anonymous = app
        .send(
            reqwest::Client::new()
                .patch(app.url(&path))
                .json(&json!({})),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    let unknown = app
        .send(
            staff
                .patch(app.url(&format!("/v1/calls/{}", uuid::Uuid::now_v7())))
                .json(&json!({"title": "Nulle part"})),
        )
        .await;
    assert_eq!(unknown.status, 404);

    // Shrinking the envelope while approvals run: never below what is awarded.
    let (structure, performance) =
        super::dossiers::company_with_performance(&app, &app.client, 300_000).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(
            super::dossiers::in_review(&app, &staff, &call, &structure, &performance, 100_000)
                .await,
        );
    }
    let approvals = futures_util::future::join_all(ids.iter().map(|id| {
        app.send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/approve")))
                .json(&json!({"awarded_cents": 100_000})),
        )
    }));
    let shrink = app.send(
        staff
            .patch(app.url(&path))
            .json(&json!({"envelope_cents": 500_000})),
    );
    let (approvals, shrink) = tokio::join!(approvals, shrink);
    assert!(
        matches!(shrink.status, 200 | 422),
        "{}",
        String::from_utf8_lossy(&shrink.bytes)
    );
    if shrink.status == 422 {
        assert_eq!(shrink.error_fields(), ["envelope_cents"]);
    }
    for reply in &approvals {
        assert!(matches!(reply.status, 200 | 409), "{}", reply.status);
    }
    let now = app.send(staff.get(app.url(&path))).await.json();
    let awarded = now["awarded_cents"].as_i64().unwrap();
    let approved = approvals.iter().filter(|r| r.status == 200).count() as i64;
    assert_eq!(awarded, approved * 100_000);
    assert!(awarded <= now["envelope_cents"].as_i64().unwrap(), "{now}");
}
