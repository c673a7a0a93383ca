//! `Idempotency-Key`: keys belong to their caller, and concurrent first uses of one key
//! create once.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, client_with, company, spawn_app};

async fn post_with_key(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    key: &str,
    body: &Value,
) -> Reply {
    app.send(
        client
            .post(app.url(path))
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await
}

async fn count(app: &TestApp, client: &reqwest::Client, path: &str) -> usize {
    let reply = app.send(client.get(app.url(path))).await;
    assert_eq!(reply.status, 200);
    reply.json()["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn two_accounts_with_one_key_and_body_each_create_their_own() {
    let app = spawn_app().await;
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let body = company("Compagnie des Deux");

    let mine = post_with_key(&app, &app.client, "/v1/structures", "1", &body).await;
    let theirs = post_with_key(&app, &other, "/v1/structures", "1", &body).await;

    assert_eq!(mine.status, 201);
    assert_eq!(theirs.status, 201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(mine.json()["id"], theirs.json()["id"]);
    assert_eq!(count(&app, &app.anonymous, "/v1/structures").await, 2);
    // Each replays its own.
    let again = post_with_key(&app, &other, "/v1/structures", "1", &body).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.bytes, theirs.bytes);
}

#[tokio::test]
async fn two_scripts_using_the_key_1_do_not_collide() {
    let app = spawn_app().await;
    let other = client_with(Some(&app.sign_up("other@example.org").await));

    let first = post_with_key(&app, &app.client, "/v1/structures", "1", &company("Un")).await;
    let second = post_with_key(&app, &other, "/v1/structures", "1", &company("Deux")).await;

    assert_eq!(first.status, 201);
    assert_eq!(
        second.status,
        201,
        "{}",
        String::from_utf8_lossy(&second.bytes)
    );
    assert_eq!(second.json()["name"], "Deux");
}

#[tokio::test]
async fn nobody_gets_another_callers_api_client_with_its_key() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Théâtre")).await;
    let body = json!({
        "name": "Billetterie",
        "structure_ids": [structure["id"]],
        "scopes": ["read", "structures:write"],
    });
    let made = post_with_key(&app, &app.client, "/v1/api-clients", "k", &body).await;
    assert_eq!(made.status, 201);
    let secret = made.json()["client_secret"].as_str().unwrap().to_owned();

    // Someone who does not own the structure sends the same key and body.
    let intruder = client_with(Some(&app.sign_up("intruder@example.org").await));
    let reply = post_with_key(&app, &intruder, "/v1/api-clients", "k", &body).await;

    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.header("idempotent-replayed"), None);
    let text = String::from_utf8_lossy(&reply.bytes);
    assert!(!text.contains(&secret));
    assert!(!text.contains(made.json()["client"]["id"].as_str().unwrap()));
}

#[tokio::test]
async fn an_anonymous_key_replays_only_the_very_same_sign_up() {
    let app = spawn_app().await;
    let sign_up =
        |email: &str| json!({"email": email, "display_name": "Claire", "password": PASSWORD});
    let first = post_with_key(
        &app,
        &app.anonymous,
        "/v1/accounts",
        "1",
        &sign_up("a@example.org"),
    )
    .await;
    let replay = post_with_key(
        &app,
        &app.anonymous,
        "/v1/accounts",
        "1",
        &sign_up("a@example.org"),
    )
    .await;
    let stranger = post_with_key(
        &app,
        &app.anonymous,
        "/v1/accounts",
        "1",
        &sign_up("b@example.org"),
    )
    .await;

    assert_eq!(first.status, 201);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.bytes, first.bytes);
    // Another person with the same key: an account of their own, not the first answer.
    assert_eq!(
        stranger.status,
        201,
        "{}",
        String::from_utf8_lossy(&stranger.bytes)
    );
    assert_eq!(stranger.header("idempotent-replayed"), None);
    assert_eq!(stranger.json()["email"], "b@example.org");
}

#[tokio::test]
async fn ten_simultaneous_requests_with_one_key_create_one_structure() {
    let app = spawn_app().await;
    let body = company("Compagnie simultanée");
    let replies = join_all(
        (0..10).map(|_| post_with_key(&app, &app.client, "/v1/structures", "same", &body)),
    )
    .await;

    for reply in &replies {
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert_eq!(reply.bytes, replies[0].bytes);
        assert_eq!(reply.header("location"), replies[0].header("location"));
    }
    let fresh = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(fresh, 1);
    assert_eq!(count(&app, &app.anonymous, "/v1/structures").await, 1);
}

#[tokio::test]
async fn ten_simultaneous_requests_with_one_key_create_one_api_client() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Théâtre")).await;
    let body = json!({"name": "Script", "structure_ids": [structure["id"]], "scopes": ["read"]});
    let replies = join_all(
        (0..10).map(|_| post_with_key(&app, &app.client, "/v1/api-clients", "same", &body)),
    )
    .await;

    let mut with_secret = 0;
    for reply in &replies {
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        let answer = reply.json();
        assert_eq!(answer["client"], replies[0].json()["client"]);
        if answer.get("client_secret").is_some() {
            with_secret += 1;
            assert_eq!(reply.header("idempotent-replayed"), None);
        } else {
            assert_eq!(reply.header("idempotent-replayed"), Some("true"));
        }
    }
    assert_eq!(with_secret, 1, "the secret is shown once");
    assert_eq!(count(&app, &app.client, "/v1/api-clients").await, 1);
}

#[tokio::test]
async fn a_refused_request_leaves_its_key_free() {
    let app = spawn_app().await;
    let refused = post_with_key(&app, &app.client, "/v1/structures", "k", &company("")).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["name"]);

    // Fixed, the same key creates (it is not "reused with another body").
    let fixed = post_with_key(
        &app,
        &app.client,
        "/v1/structures",
        "k",
        &company("Réparée"),
    )
    .await;
    assert_eq!(
        fixed.status,
        201,
        "{}",
        String::from_utf8_lossy(&fixed.bytes)
    );
    assert_eq!(fixed.header("idempotent-replayed"), None);
}
