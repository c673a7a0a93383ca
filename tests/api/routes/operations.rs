use crate::helpers::{company, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["database"], true);
    assert_eq!(ready.json()["migrations_current"], true);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_with_latency_and_pool_usage() {
    let app = spawn_app().await;
    app.create_structure(&company("Compagnie")).await;
    app.get("/v1/structures/not-a-uuid").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.bytes).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/v1/structures",status="201"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/structures/{id}",status="400""#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections"), "{text}");
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("X-Request-Id", "trace-42"),
        )
        .await;
    assert_eq!(reply.header("x-request-id"), Some("trace-42"));
    let made = |reply: &crate::helpers::Reply| {
        let id = reply
            .header("x-request-id")
            .expect("every response carries a request id");
        uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id:?} is not a UUID: {e}"))
    };
    let first = made(&app.get("/healthz").await);
    let second = made(&app.get("/healthz").await);
    assert_ne!(first, second, "one id per request");
    // An id the server will not echo is replaced by one of its own, not dropped.
    for unfit in ["bad id\twith spaces", "", &"x".repeat(129), "<script>"] {
        let reply = app
            .send(
                app.client
                    .get(app.url("/healthz"))
                    .header("X-Request-Id", unfit),
            )
            .await;
        made(&reply);
    }
}

#[tokio::test]
async fn the_spec_and_interactive_docs_are_served_from_the_binary() {
    let app = spawn_app().await;
    let spec = app.get("/openapi.json").await;
    assert_eq!(spec.status, 200);
    let spec = spec.json();
    assert_eq!(
        spec,
        serde_json::to_value(api::openapi::document()).unwrap(),
        "/openapi.json is the document the code generates"
    );
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/v1/structures"]["post"].is_object());
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(String::from_utf8_lossy(&docs.bytes).contains("swagger-ui"));
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        script.status, 200,
        "Swagger UI's script comes from the binary, not a CDN"
    );
}
