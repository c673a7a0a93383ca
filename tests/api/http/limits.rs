use crate::helpers::{PASSWORD, spawn_app_with};

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
