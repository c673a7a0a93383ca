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
