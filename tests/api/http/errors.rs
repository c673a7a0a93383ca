//! Every error the server can produce is problem+json, actix's own included.

use crate::helpers::{Reply, company, spawn_app, spawn_app_with};

fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let problem = reply.json();
    assert_eq!(problem["status"], status);
    assert_eq!(problem["code"], code);
    assert_eq!(problem["type"], format!("urn:oes:problem:{code}"));
    for member in ["title", "detail", "instance", "request_id"] {
        assert!(problem[member].is_string(), "{member} in {problem}");
    }
    assert_eq!(
        reply.header("x-request-id"),
        problem["request_id"].as_str(),
        "the problem quotes the request id"
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    assert_problem(&app.get("/v1/nothing-here").await, 404, "route_not_found");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    let reply = app.send(app.client.put(app.url("/v1/structures"))).await;
    assert_problem(&reply, 405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/structures/0193b4a0-0000-7000-8000-000000000000")),
        )
        .await;
    assert_problem(&reply, 405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, PATCH, DELETE"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Content-Type", "text/plain")
                .body("kind=company"),
        )
        .await;
    assert_problem(&reply, 415, "unsupported_media_type");
    let reply = app
        .send(app.client.post(app.url("/v1/structures")).body("{}"))
        .await;
    assert_problem(&reply, 415, "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = spawn_app_with(|settings| settings.body_limit = 1_000).await;
    let mut body = company("Compagnie");
    body["legal_name"] = serde_json::json!("x".repeat(2_000));
    let reply = app.post_json("/v1/structures", &body).await;
    assert_problem(&reply, 413, "payload_too_large");

    // The caller comes first: anonymous, the same body is a 401.
    let reply = app
        .send(app.anonymous.post(app.url("/v1/structures")).json(&body))
        .await;
    assert_problem(&reply, 401, "unauthenticated");
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Content-Type", "application/json")
                .body("{\"kind\": "),
        )
        .await;
    assert_problem(&reply, 400, "malformed_json");
}

#[tokio::test]
async fn bad_query_parameters_and_ids_are_400_problems_naming_them() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("kind=castle", "kind"),
        ("include_archived=maybe", "include_archived"),
        ("q=", "q"),
    ] {
        let reply = app.get(&format!("/v1/structures?{query}")).await;
        assert_problem(&reply, 400, "invalid_parameters");
        assert_eq!(reply.error_fields(), [field], "{query}");
    }
    let reply = app.get("/v1/structures/not-a-uuid").await;
    assert_problem(&reply, 400, "invalid_parameters");
    assert_eq!(reply.error_fields(), ["id"]);
    let reply = app
        .get("/v1/structures/0193b4a0-0000-7000-8000-000000000000")
        .await;
    assert_problem(&reply, 404, "not_found");
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_named_by_its_parameter() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie des Ids")).await;
    let id = structure["id"].as_str().unwrap();
    let change = serde_json::json!({"role": "editor"});
    for (request, field) in [
        (app.client.get(app.url("/v1/accounts/42")), "id"),
        (
            app.client.get(app.url("/v1/api-clients/%7Bnot-an-id%7D")),
            "id",
        ),
        (
            app.client
                .patch(app.url(&format!("/v1/structures/{id}/members/not-an-account")))
                .json(&change),
            "account_id",
        ),
        (
            app.client
                .patch(app.url("/v1/structures/zzz/members/not-an-account"))
                .json(&change),
            "id",
        ),
    ] {
        let reply = app.send(request).await;
        assert_problem(&reply, 400, "invalid_parameters");
        assert_eq!(reply.error_fields(), [field]);
    }
}

#[tokio::test]
async fn malformed_conditional_and_idempotency_headers_are_400_problems() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Idempotency-Key", "")
                .json(&company("Compagnie")),
        )
        .await;
    assert_problem(&reply, 400, "invalid_header");
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );

    // Entity tags are quoted: a bare `v1` is malformed, on writes and on reads, and
    // refused before anything changes.
    let created = app.create_structure(&company("Compagnie")).await;
    let path = format!("/v1/structures/{}", created["id"].as_str().unwrap());
    for (request, header) in [
        (
            app.client
                .patch(app.url(&path))
                .header("If-Match", "v1")
                .json(&serde_json::json!({"name": "Renommée"})),
            "If-Match",
        ),
        (
            app.client.delete(app.url(&path)).header("If-Match", "v1"),
            "If-Match",
        ),
        (
            app.client.get(app.url(&path)).header("If-None-Match", "v1"),
            "If-None-Match",
        ),
    ] {
        let reply = app.send(request).await;
        assert_problem(&reply, 400, "invalid_header");
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(header), "{detail}");
    }
    let unchanged = app.get(&path).await;
    assert_eq!(unchanged.status, 200);
    assert_eq!(unchanged.json(), created);
}

#[tokio::test]
async fn an_unknown_file_under_docs_is_a_404_problem() {
    let app = spawn_app().await;
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200, "the docs themselves are still served");
    assert_problem(
        &app.get("/docs/no-such-file.js").await,
        404,
        "route_not_found",
    );
}

#[tokio::test]
async fn a_preflight_from_a_refused_origin_is_a_400_problem_naming_the_header() {
    let app =
        spawn_app_with(|settings| settings.cors_origins = "https://agenda.example".into()).await;
    let preflight = |origin: &str| {
        app.anonymous
            .request(reqwest::Method::OPTIONS, app.url("/v1/structures"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
    };
    let allowed = app.send(preflight("https://agenda.example")).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://agenda.example")
    );
    let refused = app.send(preflight("https://elsewhere.example")).await;
    assert_problem(&refused, 400, "invalid_header");
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert!(
        refused.json()["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("Origin")),
        "{}",
        refused.json()
    );
}

#[tokio::test]
async fn a_body_that_is_an_array_is_refused_not_read_by_position() {
    let app = spawn_app().await;
    let me = app.send(app.client.get(app.url("/v1/me"))).await.json();
    let id = me["id"].as_str().unwrap();
    for request in [
        app.client
            .patch(app.url(&format!("/v1/accounts/{id}")))
            .header("Content-Type", "application/merge-patch+json")
            .body("[]"),
        app.client
            .post(app.url("/v1/structures"))
            .header("Content-Type", "application/json")
            .body(r#" ["company", "Compagnie"]"#),
    ] {
        let reply = app.send(request).await;
        assert_problem(&reply, 422, "validation_failed");
        assert_eq!(reply.error_fields(), ["body"]);
    }
    // Nothing changed.
    let after = app.send(app.client.get(app.url("/v1/me"))).await.json();
    assert_eq!(after["version"], me["version"]);
}

#[tokio::test]
async fn a_nul_character_anywhere_is_a_problem_naming_its_field_never_a_500() {
    use base64::Engine;

    let app = spawn_app().await;
    let staff = crate::helpers::client_with(Some(
        &app.agency_account("nul-staff@example.org", domain::access::AgencyRole::Staff)
            .await,
    ));
    let structure = app.create_structure(&company("Compagnie Nul")).await;
    let id = structure["id"].as_str().unwrap();
    let forged_cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"sort":"name","key":"a\u0000","id":"b"}"#);
    let cases = [
        (app.client.get(app.url("/v1/structures?q=%00")), 400, "q"),
        (
            app.client
                .get(app.url(&format!("/v1/structures?cursor={forged_cursor}"))),
            400,
            "cursor",
        ),
        (
            staff.get(app.url("/v1/audit-events?actor_id=a%00b")),
            400,
            "actor_id",
        ),
        (
            app.anonymous
                .post(app.url("/v1/auth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("grant_type=password&username=%00&password=x"),
            422,
            "username",
        ),
        (
            app.client
                .post(app.url("/v1/structures"))
                .json(&serde_json::json!({"kind": "company", "name": "Cie\u{0}"})),
            422,
            "name",
        ),
        (
            app.client
                .patch(app.url(&format!("/v1/structures/{id}")))
                .json(&serde_json::json!({"address": {"street": "1 rue\u{0}", "postal_code": "34000", "commune_code": "34172"}})),
            422,
            "address.street",
        ),
        (
            app.client
                .post(app.url(&format!("/v1/structures/{id}/invitations")))
                .json(&serde_json::json!({"email": "a\u{0}@example.org", "role": "editor"})),
            422,
            "email",
        ),
    ];
    for (request, status, field) in cases {
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            status,
            "{field}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert_eq!(reply.error_fields(), [field]);
    }
    // A parameter OAuth does not know is ignored (RFC 6749 §3.1), NUL or not.
    let ignored = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/revoke"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("%00x=%00&token=unknown-token"),
        )
        .await;
    assert_eq!(
        ignored.status,
        200,
        "{}",
        String::from_utf8_lossy(&ignored.bytes)
    );
    // Nothing was stored along the way.
    let after = app.get(&format!("/v1/structures/{id}")).await.json();
    assert_eq!(after["version"], structure["version"]);
}
