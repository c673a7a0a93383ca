use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, client_with, spawn_app};

#[tokio::test]
async fn staff_list_accounts_and_disable_one_at_once() {
    let app = spawn_app().await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let member_id = app.get("/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let listed = app
        .send(staff.get(app.url("/v1/accounts?limit=1")))
        .await
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let next = listed["next_cursor"].as_str().unwrap();
    let rest = app
        .send(staff.get(app.url(&format!("/v1/accounts?limit=1&cursor={next}"))))
        .await;
    assert_eq!(rest.status, 200, "{}", String::from_utf8_lossy(&rest.bytes));
    let rest = rest.json();
    // Two accounts (the member and staff): the second page holds the other one, and ends.
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert!(rest["data"][0]["id"].is_string());
    assert_ne!(rest["data"][0]["id"], listed["data"][0]["id"]);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    let agency = app
        .send(staff.get(app.url("/v1/accounts?agency_role=staff")))
        .await
        .json();
    assert_eq!(agency["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/accounts").await.status, 403);

    let path = format!("/v1/accounts/{member_id}");
    let disabled = app
        .send(
            staff
                .patch(app.url(&path))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.json()["status"], "disabled");
    assert_eq!(app.get("/v1/me").await.status, 401);
    app.send(
        staff
            .patch(app.url(&path))
            .json(&json!({"status": "active"})),
    )
    .await;
    assert_eq!(app.get("/v1/me").await.status, 200);
}

#[tokio::test]
async fn only_administrators_give_roles_and_nobody_their_own() {
    let app = spawn_app().await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let admin_token = app
        .agency_account("admin@agency.example", AgencyRole::Admin)
        .await;
    let admin = client_with(Some(&admin_token));
    let member_id = app.get("/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/accounts/{member_id}");

    let refused = app
        .send(
            staff
                .patch(app.url(&path))
                .json(&json!({"agency_role": "reviewer"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let given = app
        .send(
            admin
                .patch(app.url(&path))
                .json(&json!({"agency_role": "reviewer"})),
        )
        .await;
    assert_eq!(given.json()["agency_role"], "reviewer");
    let taken = app
        .send(
            admin
                .patch(app.url(&path))
                .json(&json!({"agency_role": null})),
        )
        .await;
    assert_eq!(taken.json()["agency_role"], serde_json::Value::Null);

    // A member renames itself, but cannot give itself a status or a role.
    let renamed = app
        .patch_json(&path, &json!({"display_name": "Claire"}))
        .await;
    assert_eq!(renamed.json()["display_name"], "Claire");
    assert_eq!(
        app.patch_json(&path, &json!({"agency_role": "admin"}))
            .await
            .status,
        403
    );
    let admin_id = app.send(admin.get(app.url("/v1/me"))).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = app
        .send(
            admin
                .patch(app.url(&format!("/v1/accounts/{admin_id}")))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(own.status, 403);
    // Staff do not touch administrators: neither their status nor their password.
    let refused = app
        .send(staff.post(app.url(&format!("/v1/accounts/{admin_id}/password-resets"))))
        .await;
    assert_eq!(refused.status, 403);
    let refused = app
        .send(
            staff
                .patch(app.url(&format!("/v1/accounts/{admin_id}")))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_reset_token_works_once_and_signs_the_account_out() {
    let app = spawn_app().await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let member_id = app.get("/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = app.sign_in("member@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let reset = app
        .send(staff.post(app.url(&format!("/v1/accounts/{member_id}/password-resets"))))
        .await;
    assert_eq!(reset.status, 201);
    let token = reset.json()["reset_token"].as_str().unwrap().to_owned();
    let new_password = "a brand new long passphrase";
    let redeem = |password: &'static str| {
        app.send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({"token": token, "password": password})),
        )
    };
    assert_eq!(redeem("short").await.status, 422);
    assert_eq!(redeem(new_password).await.status, 204);
    assert_eq!(redeem(new_password).await.status, 400, "single use");

    let old = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", PASSWORD),
        ]))
        .await;
    assert_eq!(old.status, 400);
    let new = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", new_password),
        ]))
        .await;
    assert_eq!(new.status, 200);
    let refreshed = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ]))
        .await;
    assert_eq!(refreshed.status, 400, "older sign-ins are revoked");
    assert_eq!(
        app.get(&format!("/v1/accounts/{member_id}/password-resets"))
            .await
            .status,
        405
    );
}

/// Staff make a reset token for the member; returns (member id, token, staff client).
async fn member_reset_token(app: &crate::helpers::TestApp) -> (String, String, reqwest::Client) {
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let member_id = app.get("/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = app
        .send(staff.post(app.url(&format!("/v1/accounts/{member_id}/password-resets"))))
        .await;
    assert_eq!(reset.status, 201);
    let token = reset.json()["reset_token"].as_str().unwrap().to_owned();
    (member_id, token, staff)
}

async fn password_changes(app: &crate::helpers::TestApp, staff: &reqwest::Client) -> Vec<Value> {
    let events = app
        .send(staff.get(app.url("/v1/audit-events?action=account.password_change")))
        .await;
    assert_eq!(events.status, 200);
    events.json()["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn one_reset_token_redeemed_six_times_at_once_changes_the_password_once() {
    let app = spawn_app().await;
    let (_, token, staff) = member_reset_token(&app).await;
    let attempts = (0..6).map(|i| {
        app.send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({"token": token, "password": format!("new passphrase number {i}")})),
        )
    });
    let replies = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [204, 400, 400, 400, 400, 400]);
    for refused in replies.iter().filter(|r| r.status == 400) {
        assert_eq!(refused.json()["error"], "invalid_grant");
    }
    // The one password that won is the account's; the five others are not.
    let winner = replies.iter().position(|r| r.status == 204).unwrap();
    let sign_in = |password: String| {
        app.send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", password.as_str()),
        ]))
    };
    for i in 0..6 {
        let reply = sign_in(format!("new passphrase number {i}")).await;
        assert_eq!(reply.status, if i == winner { 200 } else { 400 }, "{i}");
    }
    assert_eq!(password_changes(&app, &staff).await.len(), 1);
}

#[tokio::test]
async fn a_password_reset_ends_access_tokens_issued_before_it_even_in_the_same_second() {
    let app = spawn_app().await;
    let (member_id, token, _) = member_reset_token(&app).await;
    let before = app.sign_in("member@example.org").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Made like a token of the server's from before epochs existed: no epoch claim.
    let now = chrono::Utc::now().timestamp();
    let legacy = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": "oes-api", "aud": "oes-api", "sub": member_id,
                "iat": now, "exp": now + 600, "jti": "legacy"}),
        &jsonwebtoken::EncodingKey::from_secret(app.jwt_secret.as_bytes()),
    )
    .unwrap();
    for token in [&app.member_token, &before, &legacy] {
        assert_eq!(
            app.send(client_with(Some(token)).get(app.url("/v1/me")))
                .await
                .status,
            200
        );
    }

    let new_password = "a brand new long passphrase";
    let redeemed = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({"token": token, "password": new_password})),
        )
        .await;
    assert_eq!(redeemed.status, 204);

    for token in [&app.member_token, &before, &legacy] {
        let reply = app
            .send(client_with(Some(token)).get(app.url("/v1/me")))
            .await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()["code"], "invalid_token");
    }
    // A sign-in after the reset works at once, whatever second it falls in.
    let after = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", new_password),
        ]))
        .await;
    assert_eq!(after.status, 200);
    let after = after.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.send(client_with(Some(&after)).get(app.url("/v1/me")))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_password_change_is_in_the_audit_log_and_a_refused_one_is_not() {
    let app = spawn_app().await;
    let (member_id, token, staff) = member_reset_token(&app).await;
    let redeem = |token: String| {
        app.send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({"token": token, "password": "a brand new long passphrase"})),
        )
    };
    assert_eq!(redeem("made-up".into()).await.status, 400);
    assert!(password_changes(&app, &staff).await.is_empty());

    let redeemed = redeem(token.clone()).await;
    assert_eq!(redeemed.status, 204);
    let events = password_changes(&app, &staff).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["object_type"], "account");
    assert_eq!(event["object_id"], member_id.as_str());
    assert_eq!(event["actor_kind"], "account");
    assert_eq!(event["actor_id"], member_id.as_str());
    assert_eq!(event["changed_fields"], json!(["password"]));
    assert_eq!(
        event["request_id"].as_str(),
        redeemed.header("x-request-id")
    );
    // The spent token changes nothing more, and leaves nothing more.
    assert_eq!(redeem(token).await.status, 400);
    assert_eq!(password_changes(&app, &staff).await.len(), 1);
    assert!(!format!("{events:?}").contains("brand new"));
}
