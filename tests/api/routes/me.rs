use serde_json::json;

use crate::helpers::{PASSWORD, company, spawn_app};

#[tokio::test]
async fn the_export_holds_everything_about_the_account() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let reply = app.get("/v1/me/export").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let export = reply.json();
    assert_eq!(export["account"]["email"], "member@example.org");
    assert_eq!(export["memberships"][0]["structure_id"], structure["id"]);
    assert_eq!(export["memberships"][0]["role"], "owner");
    assert!(!export["sign_ins"].as_array().unwrap().is_empty());
    let actions: Vec<&str> = export["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"structure.create"), "{actions:?}");
    assert!(
        export.to_string().find("argon2").is_none(),
        "no password hash"
    );
}

#[tokio::test]
async fn erasing_an_account_keeps_what_the_agency_must_keep_and_nothing_personal() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = app.get("/v1/me").await.json()["id"].clone();

    let erased = app.send(app.client.delete(app.url("/v1/me"))).await;
    assert_eq!(erased.status, 204);
    assert_eq!(
        app.get("/v1/me").await.status,
        401,
        "the token no longer works"
    );
    let sign_in = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", PASSWORD),
        ]))
        .await;
    assert_eq!(sign_in.status, 400);

    // The email is free again: nothing ties it to the old account.
    let again = app
        .send(app.anonymous.post(app.url("/v1/accounts")).json(&json!({
            "email": "member@example.org", "display_name": "Nouvelle", "password": PASSWORD
        })))
        .await;
    assert_eq!(again.status, 201);
    assert_ne!(again.json()["id"], id);

    // The structure stays; the audit log still says what the (now anonymous) account did.
    let path = format!("/v1/structures/{}", structure["id"].as_str().unwrap());
    assert_eq!(
        app.send(app.anonymous.get(app.url(&path))).await.status,
        200
    );
    let staff = crate::helpers::client_with(Some(
        &app.agency_account("staff@agency.example", domain::access::AgencyRole::Staff)
            .await,
    ));
    let events = app
        .send(staff.get(app.url(&format!(
            "/v1/audit-events?actor_id={}",
            id.as_str().unwrap()
        ))))
        .await
        .json();
    let actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["account.erase", "structure.create"]);
    let members = app
        .send(staff.get(app.url(&format!("{path}/members"))))
        .await
        .json();
    assert!(members["data"].as_array().unwrap().is_empty());
}
