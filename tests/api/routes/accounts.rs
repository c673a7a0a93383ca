use domain::access::AgencyRole;
use serde_json::json;

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
