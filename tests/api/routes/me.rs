use serde_json::json;

use crate::helpers::{PASSWORD, client_with, company, spawn_app};

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
    let account_path = format!("/v1/accounts/{}", id.as_str().unwrap());
    let renamed = app
        .patch_json(&account_path, &json!({"display_name": "Claire Dupont"}))
        .await;
    assert_eq!(renamed.status, 200);

    // Everything erasure promises to remove exists first: a request to join another
    // structure, a second sign-in, an API client with a live token.
    let owner = client_with(Some(&app.sign_up("owner@example.org").await));
    let other = app
        .send(
            owner
                .post(app.url("/v1/structures"))
                .json(&company("Ailleurs")),
        )
        .await
        .json();
    let requests_path = format!(
        "/v1/structures/{}/join-requests",
        other["id"].as_str().unwrap()
    );
    let asked = app
        .post_json(
            &requests_path,
            &json!({"message": "Claire, chargée de diffusion"}),
        )
        .await;
    assert_eq!(asked.status, 201);
    let refresh = app.sign_in("member@example.org").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let credentials = app
        .post_json(
            "/v1/api-clients",
            &json!({"name": "Billetterie", "structure_ids": [structure["id"]], "scopes": ["read"]}),
        )
        .await;
    assert_eq!(credentials.status, 201);
    let credentials = credentials.json();
    let client_id = credentials["client"]["id"].as_str().unwrap().to_owned();
    let client_secret = credentials["client_secret"].as_str().unwrap().to_owned();
    let client_grant = || {
        app.send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.as_str()),
        ]))
    };
    let granted = client_grant().await;
    assert_eq!(granted.status, 200);
    let partner = client_with(Some(granted.json()["access_token"].as_str().unwrap()));
    let path = format!("/v1/structures/{}", structure["id"].as_str().unwrap());
    assert_eq!(app.send(partner.get(app.url(&path))).await.status, 200);
    let account_id: domain::access::AccountId = id.as_str().unwrap().parse().unwrap();
    let held = personal_data(&app, account_id).await;
    assert_eq!(held.memberships.len(), 1);
    assert_eq!(held.join_requests.len(), 1);
    assert_eq!(held.refresh_tokens.len(), 2);

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

    // Memberships, requests to join and sign-ins are gone from the database.
    let held = personal_data(&app, account_id).await;
    assert!(held.memberships.is_empty(), "{:?}", held.memberships);
    assert!(held.join_requests.is_empty(), "{:?}", held.join_requests);
    assert!(held.refresh_tokens.is_empty(), "{:?}", held.refresh_tokens);
    let refreshed = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ]))
        .await;
    assert_eq!(refreshed.status, 400);
    let pending = app.send(owner.get(app.url(&requests_path))).await;
    assert_eq!(pending.status, 200);
    assert!(pending.json()["data"].as_array().unwrap().is_empty());

    // The email is free again: nothing ties it to the old account.
    let again = app
        .send(app.anonymous.post(app.url("/v1/accounts")).json(&json!({
            "email": "member@example.org", "display_name": "Nouvelle", "password": PASSWORD
        })))
        .await;
    assert_eq!(again.status, 201);
    assert_ne!(again.json()["id"], id);

    // The structure stays; the audit log still says what the (now anonymous) account did.
    assert_eq!(
        app.send(app.anonymous.get(app.url(&path))).await.status,
        200
    );
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", domain::access::AgencyRole::Staff)
            .await,
    ));
    // The shell keeps its id and nothing that names the person.
    let shell = app.send(staff.get(app.url(&account_path))).await;
    assert_eq!(shell.status, 200);
    let shell = shell.json();
    assert_eq!(shell["id"], id);
    assert_eq!(shell["status"], "disabled");
    for personal in ["Claire", "Dupont", "member@example.org"] {
        assert!(
            !shell.to_string().contains(personal),
            "{personal} in {shell}"
        );
    }
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
    assert_eq!(
        actions,
        [
            "account.erase",
            "api_client.create",
            "join_request.create",
            "account.update",
            "structure.create"
        ]
    );
    let members = app
        .send(staff.get(app.url(&format!("{path}/members"))))
        .await;
    assert_eq!(members.status, 200);
    assert!(members.json()["data"].as_array().unwrap().is_empty());

    // The API client is revoked: no new token, and the one it held stops working.
    let client = app
        .send(staff.get(app.url(&format!("/v1/api-clients/{client_id}"))))
        .await;
    assert_eq!(client.status, 200);
    assert!(client.json()["revoked_at"].is_string(), "{}", client.json());
    assert_eq!(client_grant().await.status, 401);
    assert_eq!(app.send(partner.get(app.url(&path))).await.status, 401);
}

async fn personal_data(
    app: &crate::helpers::TestApp,
    id: domain::access::AccountId,
) -> persistence::identity::accounts::PersonalData {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        persistence::identity::accounts::personal_data(&mut pool.get().unwrap(), id).unwrap()
    })
    .await
    .unwrap()
}
