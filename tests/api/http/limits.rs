use serde_json::json;

use crate::helpers::{PASSWORD, company, spawn_app_with};

#[tokio::test]
async fn token_attempts_are_limited_per_account_and_per_ip() {
    let app = spawn_app_with(|settings| {
        settings.sign_in_limit_per_account = 3;
        settings.sign_in_limit_per_ip = 5;
    })
    .await;
    // spawn_app signed the member in once already.
    let attempt = |username: &'static str| {
        app.send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", "wrong password, wrong!"),
        ]))
    };
    assert_eq!(attempt("member@example.org").await.status, 400);
    assert_eq!(attempt("MEMBER@example.org").await.status, 400);
    let limited = attempt("member@example.org").await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(limited.json()["code"], "rate_limited");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.header("ratelimit-policy"), Some("3;w=60"));
    assert!(limited.header("ratelimit").unwrap().contains("remaining=0"));
    // Even the right password waits: the limit is on attempts.
    let right = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", PASSWORD),
        ]))
        .await;
    assert_eq!(right.status, 429);

    // Another account from the same IP goes on until the IP's own limit.
    assert_eq!(
        attempt("other@example.org").await.status,
        429,
        "the IP's 5 are spent"
    );
}

#[tokio::test]
async fn each_signed_in_caller_has_its_own_budget() {
    let app = spawn_app_with(|settings| settings.rate_limit_per_caller = 5).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.get("/v1/me").await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    // Anonymous reads and other callers are not charged to this one.
    assert_eq!(
        app.send(app.anonymous.get(app.url("/v1/structures")))
            .await
            .status,
        200
    );
    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    assert_eq!(app.send(other.get(app.url("/v1/me"))).await.status, 200);
}

/// A 429 problem with `Retry-After` and the policy of `limit` a minute.
fn assert_limited(reply: &crate::helpers::Reply, limit: u32) {
    assert_eq!(
        reply.status,
        429,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.json()["code"], "rate_limited");
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        reply.header("ratelimit-policy"),
        Some(format!("{limit};w=60").as_str())
    );
}

#[tokio::test]
async fn sign_ups_are_limited_per_ip() {
    let app = spawn_app_with(|settings| settings.sign_up_limit_per_ip = 3).await;
    // spawn_app signed the member up: the first of the three.
    let sign_up = |email: &'static str| {
        app.send(app.anonymous.post(app.url("/v1/accounts")).json(&json!({
            "email": email, "display_name": "Newcomer", "password": PASSWORD
        })))
    };
    assert_eq!(sign_up("second@example.org").await.status, 201);
    assert_eq!(sign_up("third@example.org").await.status, 201);
    let refused = sign_up("fourth@example.org").await;
    assert_limited(&refused, 3);
    // Refused before anything was made: the account does not exist.
    let sign_in = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "fourth@example.org"),
            ("password", PASSWORD),
        ]))
        .await;
    assert_eq!(sign_in.status, 400);
}

#[tokio::test]
async fn password_reset_attempts_are_limited_per_ip() {
    let app = spawn_app_with(|settings| settings.password_reset_limit_per_ip = 3).await;
    let attempt = |token: String| {
        app.send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({"token": token, "password": "a brand new long passphrase"})),
        )
    };
    for i in 0..3 {
        let reply = attempt(format!("guessed-token-{i}")).await;
        assert_eq!(reply.status, 400, "{i}");
        assert_eq!(reply.json()["error"], "invalid_grant");
    }
    assert_limited(&attempt("guessed-token-3".into()).await, 3);
    // Other anonymous routes are not charged to it.
    assert_eq!(
        app.send(app.anonymous.get(app.url("/v1/structures")))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn every_spelling_of_a_client_id_shares_one_sign_in_budget() {
    let app = spawn_app_with(|settings| settings.sign_in_limit_per_account = 4).await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let created = app
        .post_json(
            "/v1/api-clients",
            &json!({"name": "Billetterie", "structure_ids": [structure["id"]], "scopes": ["read"]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.json()["client"]["id"].as_str().unwrap().to_owned();
    let uuid = uuid::Uuid::parse_str(&id).unwrap();
    let spellings = [
        id.to_uppercase(),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        uuid.simple().to_string(),
    ];
    for spelling in &spellings {
        let reply = app
            .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", spelling.as_str()),
                ("client_secret", "not the secret"),
            ]))
            .await;
        assert_eq!(reply.status, 401, "{spelling}");
        assert_eq!(reply.json()["error"], "invalid_client", "{spelling}");
    }
    let fifth = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", "not the secret"),
        ]))
        .await;
    assert_limited(&fifth, 4);
}
