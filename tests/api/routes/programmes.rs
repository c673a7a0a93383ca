use serde_json::json;

use crate::helpers::{programme, spawn_app};

#[tokio::test]
async fn staff_create_a_programme_that_everyone_reads_once_published() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let reply = app
        .send(
            staff
                .post(app.url("/v1/programmes"))
                .json(&programme("DIFF-PROX")),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let made = reply.json();
    let id = made["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/programmes/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"v1\""));
    assert_eq!(made["code"], "DIFF-PROX");
    assert_eq!(made["rules"]["amounts"]["rate_basis_points"], 5000);

    let read = app
        .send(app.anonymous.get(app.url(&format!("/v1/programmes/{id}"))))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["name"], made["name"]);
    let list = app.send(app.anonymous.get(app.url("/v1/programmes"))).await;
    assert_eq!(list.json()["data"].as_array().unwrap().len(), 1);

    // Unpublished: a 404 for everyone but staff, and out of their lists.
    let hidden = app
        .send(
            staff
                .patch(app.url(&format!("/v1/programmes/{id}")))
                .header("If-Match", "\"v1\"")
                .json(&json!({"published": false})),
        )
        .await;
    assert_eq!(
        hidden.status,
        200,
        "{}",
        String::from_utf8_lossy(&hidden.bytes)
    );
    assert_eq!(hidden.json()["version"], 2);
    for client in [&app.anonymous, &app.client] {
        let read = app
            .send(client.get(app.url(&format!("/v1/programmes/{id}"))))
            .await;
        assert_eq!(read.status, 404);
        let list = app.send(client.get(app.url("/v1/programmes"))).await;
        assert_eq!(list.json()["data"], json!([]));
    }
    let read = app
        .send(staff.get(app.url(&format!("/v1/programmes/{id}"))))
        .await;
    assert_eq!(read.status, 200);
}

#[tokio::test]
async fn only_staff_define_programmes() {
    let app = spawn_app().await;
    let refused = app
        .post_json("/v1/programmes", &programme("DIFF-PROX"))
        .await;
    assert_eq!(refused.status, 403);
    let anonymous = app
        .send(
            app.anonymous
                .post(app.url("/v1/programmes"))
                .json(&programme("DIFF-PROX")),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    // Refused before the body is judged.
    let bad = app.post_json("/v1/programmes", &json!({"code": 1})).await;
    assert_eq!(bad.status, 403);
}

#[tokio::test]
async fn a_programme_with_bad_rules_names_every_bad_field() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let mut body = programme("diff prox");
    body["name"] = json!(" ");
    body["kind"] = json!("touring");
    body["rules"]["amounts"]["floor_cents"] = json!(-1);
    let reply = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.error_fields(),
        ["code", "name", "kind", "rules.amounts.floor_cents"]
    );

    let mut body = programme("DIFF-PROX");
    body["name"] = json!("a\u{0}b");
    let reply = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["name"]);

    let mut body = programme("DIFF-PROX");
    body["rules"]["amounts"]["floor_cents"] = json!(-1);
    let reply = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["rules.amounts.floor_cents"]);

    let mut body = programme("DIFF-PROX");
    body["rules"]["amounts"]["rate_basis_points"] = json!("half");
    let reply = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["rules.amounts.rate_basis_points"]);

    let mut body = programme("DIFF-PROX");
    body["name"] = json!("x".repeat(100_000));
    let reply = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert!(matches!(reply.status, 413 | 422), "{}", reply.status);
}

#[tokio::test]
async fn a_programme_code_is_unique() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    app.create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let again = app
        .send(
            staff
                .post(app.url("/v1/programmes"))
                .json(&programme("DIFF-PROX")),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["code"], "programme_code_taken");
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_refused() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let url = app.url(&format!("/v1/programmes/{}", made["id"].as_str().unwrap()));
    let renamed = app
        .send(staff.patch(&url).json(&json!({"name": "Diffusion"})))
        .await;
    assert_eq!(renamed.status, 200);
    let stale = app
        .send(
            staff
                .patch(&url)
                .header("If-Match", "\"v1\"")
                .json(&json!({"name": "Autre"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let member = app
        .send(app.client.patch(&url).json(&json!({"name": "Autre"})))
        .await;
    assert_eq!(member.status, 403);
}

#[tokio::test]
async fn the_form_schema_publishes_the_programme_questions() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .create_with(&staff, "/v1/programmes", &programme("DIFF-PROX"))
        .await;
    let reply = app
        .send(app.anonymous.get(app.url(&format!(
            "/v1/programmes/{}/form-schema",
            made["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(reply.status, 200);
    let schema = reply.json();
    assert_eq!(schema["type"], "object");
    let questions = made["rules"]["questions"].as_array().unwrap();
    for question in questions {
        let key = question["key"].as_str().unwrap();
        assert!(schema["properties"].get(key).is_some(), "{key}: {schema}");
    }
    let missing = app
        .get(&format!(
            "/v1/programmes/{}/form-schema",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_eq!(missing.status, 404);
    let bad = app.get("/v1/programmes/not-a-uuid").await;
    assert_eq!(bad.status, 400);
}
