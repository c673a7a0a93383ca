use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, spawn_app};

async fn client_token(app: &TestApp, id: &str, secret: &str) -> crate::helpers::Reply {
    app.send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]))
    .await
}

async fn make_client(app: &TestApp, structures: &[&str], scopes: &[&str]) -> Value {
    let reply = app
        .post_json(
            "/v1/api-clients",
            &json!({"name": "Billetterie", "structure_ids": structures, "scopes": scopes}),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply.json()
}

#[tokio::test]
async fn a_client_acts_for_its_structures_within_its_scopes() {
    let app = spawn_app().await;
    let mut body = company("Théâtre partenaire");
    body["phone"] = json!("+33 4 66 00 00 00");
    let own = app.create_structure(&body).await;
    let own_id = own["id"].as_str().unwrap();
    let other_member = client_with(Some(&app.sign_up("other@example.org").await));
    let foreign = app
        .send(
            other_member
                .post(app.url("/v1/structures"))
                .json(&company("Ailleurs")),
        )
        .await
        .json();
    let foreign_id = foreign["id"].as_str().unwrap();

    let credentials = make_client(&app, &[own_id], &["read", "structures:write"]).await;
    let client_id = credentials["client"]["id"].as_str().unwrap();
    let secret = credentials["client_secret"].as_str().unwrap();
    assert_eq!(credentials["client"]["last_used_at"], Value::Null);

    let tokens = client_token(&app, client_id, secret).await;
    assert_eq!(tokens.status, 200);
    let tokens = tokens.json();
    assert!(tokens.get("refresh_token").is_none());
    let partner = client_with(Some(tokens["access_token"].as_str().unwrap()));

    let seen = app
        .send(partner.get(app.url(&format!("/v1/structures/{own_id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "full");
    assert_eq!(seen["phone"], "+33 4 66 00 00 00");
    let edited = app
        .send(
            partner
                .patch(app.url(&format!("/v1/structures/{own_id}")))
                .json(&json!({"phone": null})),
        )
        .await;
    assert_eq!(edited.status, 200);
    let seen = app
        .send(partner.get(app.url(&format!("/v1/structures/{foreign_id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "public");
    let refused = app
        .send(
            partner
                .patch(app.url(&format!("/v1/structures/{foreign_id}")))
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    // A client is not a person: no structures of its own, no members, no archiving.
    let refused = app
        .send(
            partner
                .post(app.url("/v1/structures"))
                .json(&company("Non")),
        )
        .await;
    assert_eq!(refused.status, 403);
    let refused = app
        .send(partner.delete(app.url(&format!("/v1/structures/{own_id}"))))
        .await;
    assert_eq!(refused.status, 403);

    let listed = app
        .get(&format!("/v1/api-clients/{client_id}"))
        .await
        .json();
    assert!(listed["last_used_at"].is_string());
}

#[tokio::test]
async fn basic_credentials_work_and_wrong_ones_are_invalid_client() {
    let app = spawn_app().await;
    let own = app.create_structure(&company("Compagnie")).await;
    let credentials = make_client(&app, &[own["id"].as_str().unwrap()], &["read"]).await;
    let id = credentials["client"]["id"].as_str().unwrap();
    let secret = credentials["client_secret"].as_str().unwrap();
    let reply = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(reply.status, 200);
    let reply = client_token(&app, id, "not the secret").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_client");
    let reply = client_token(&app, "not-a-client", secret).await;
    assert_eq!(reply.json()["error"], "invalid_client");
}

#[tokio::test]
async fn rotating_a_secret_and_revoking_a_client_take_effect_at_once() {
    let app = spawn_app().await;
    let own = app.create_structure(&company("Compagnie")).await;
    let credentials = make_client(&app, &[own["id"].as_str().unwrap()], &["read"]).await;
    let id = credentials["client"]["id"].as_str().unwrap();
    let old_secret = credentials["client_secret"].as_str().unwrap();
    let token = client_token(&app, id, old_secret).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated = app
        .send(
            app.client
                .post(app.url(&format!("/v1/api-clients/{id}/secret"))),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new_secret = rotated.json()["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(client_token(&app, id, old_secret).await.status, 401);
    assert_eq!(client_token(&app, id, &new_secret).await.status, 200);

    let partner = client_with(Some(&token));
    let path = format!("/v1/structures/{}", own["id"].as_str().unwrap());
    assert_eq!(app.send(partner.get(app.url(&path))).await.status, 200);
    let revoked = app
        .send(app.client.delete(app.url(&format!("/v1/api-clients/{id}"))))
        .await;
    assert_eq!(revoked.status, 204);
    let refused = app.send(partner.get(app.url(&path))).await;
    assert_eq!(refused.status, 401);
    assert_eq!(client_token(&app, id, &new_secret).await.status, 401);
}

#[tokio::test]
async fn only_owners_make_clients_and_only_owners_of_their_structures_see_them() {
    let app = spawn_app().await;
    let own = app.create_structure(&company("Compagnie")).await;
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    let refused = app
        .send(other.post(app.url("/v1/api-clients")).json(&json!({
            "name": "Intrus", "structure_ids": [own["id"]], "scopes": ["read"]
        })))
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["structure_ids[0]"]);

    let credentials = make_client(&app, &[own["id"].as_str().unwrap()], &["read"]).await;
    let id = credentials["client"]["id"].as_str().unwrap();
    assert!(credentials["client"].get("secret_hash").is_none());
    let listed = app.get("/v1/api-clients").await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(listed["data"][0].get("client_secret").is_none());
    assert_eq!(
        app.send(other.get(app.url(&format!("/v1/api-clients/{id}"))))
            .await
            .status,
        404
    );
    let theirs = app.send(other.get(app.url("/v1/api-clients"))).await.json();
    assert!(theirs["data"].as_array().unwrap().is_empty());
}

#[derive(diesel::QueryableByName)]
struct KeptAnswer {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    response_body: Vec<u8>,
}

#[tokio::test]
async fn a_replayed_creation_has_no_secret_and_none_is_kept() {
    use diesel::RunQueryDsl;

    let app = spawn_app().await;
    let structure = app.create_structure(&company("Théâtre")).await;
    let send = || {
        app.send(
            app.client
                .post(app.url("/v1/api-clients"))
                .header("Idempotency-Key", "once")
                .json(&json!({"name": "Billetterie", "structure_ids": [structure["id"]], "scopes": ["read"]})),
        )
    };
    let made = send().await;
    assert_eq!(made.status, 201);
    let made = made.json();
    let id = made["client"]["id"].as_str().unwrap();
    let secret = made["client_secret"].as_str().unwrap();

    let replay = send().await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let replayed = replay.json();
    assert_eq!(replayed["client"], made["client"]);
    assert!(replayed.get("client_secret").is_none());
    // The secret still works: the replay did not rotate it.
    assert_eq!(client_token(&app, id, secret).await.status, 200);

    let mut conn = app.pool.get().unwrap();
    let kept: Vec<KeptAnswer> = diesel::sql_query("SELECT response_body FROM idempotency_keys")
        .load(&mut *conn)
        .unwrap();
    assert_eq!(kept.len(), 1);
    let kept = String::from_utf8(kept[0].response_body.clone()).unwrap();
    assert!(kept.contains(id), "the answer is kept: {kept}");
    assert!(
        !kept.contains(secret),
        "the secret is kept in clear: {kept}"
    );
}

/// A structure owned by `member@` (the app's client) and by a second owner; returns the
/// structure's id, the second owner, and the first owner's account id.
async fn co_owned(app: &TestApp, name: &str) -> (String, reqwest::Client, String) {
    let structure = app.create_structure(&company(name)).await;
    let id = structure["id"].as_str().unwrap().to_owned();
    let token = app.sign_in("second@example.org").await;
    let second = client_with(Some(token["access_token"].as_str().unwrap()));
    app.add_member(&app.client, &id, &second, "second@example.org", "owner")
        .await;
    let maker = app.get("/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, second, maker)
}

async fn token_of(app: &TestApp, credentials: &Value) -> String {
    let reply = client_token(
        app,
        credentials["client"]["id"].as_str().unwrap(),
        credentials["client_secret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_client_whose_maker_leaves_stops_acting_and_the_remaining_owner_manages_it() {
    let app = spawn_app().await;
    app.sign_up("second@example.org").await;
    let (structure, second, maker) = co_owned(&app, "Compagnie").await;
    let credentials = make_client(&app, &[&structure], &["read", "structures:write"]).await;
    let id = credentials["client"]["id"].as_str().unwrap().to_owned();
    assert_eq!(credentials["client"]["status"], "active");
    let partner = client_with(Some(&token_of(&app, &credentials).await));
    let path = format!("/v1/structures/{structure}");
    let edit = |name: &'static str| partner.patch(app.url(&path)).json(&json!({"name": name}));
    assert_eq!(app.send(edit("Avant")).await.status, 200);

    // The other owner sees the client its co-owner made.
    let listed = app
        .send(second.get(app.url("/v1/api-clients")))
        .await
        .json();
    assert_eq!(listed["data"][0]["id"], id.as_str());

    // The maker is removed from the structure.
    let removed = app
        .send(second.delete(app.url(&format!("{path}/members/{maker}"))))
        .await;
    assert_eq!(removed.status, 204);

    // Its token no longer works, and it gets no new one.
    assert_eq!(app.send(edit("Après")).await.status, 401);
    let secret = credentials["client_secret"].as_str().unwrap();
    let refused = client_token(&app, &id, secret).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "invalid_client");

    // The former owner can neither see nor manage it any more.
    let client_path = format!("/v1/api-clients/{id}");
    assert_eq!(app.get(&client_path).await.status, 404);
    let rotate = app
        .send(app.client.post(app.url(&format!("{client_path}/secret"))))
        .await;
    assert_eq!(rotate.status, 404);
    let mine = app.get("/v1/api-clients").await.json();
    assert!(mine["data"].as_array().unwrap().is_empty());

    // The remaining owner sees it suspended, takes it over, and it works again.
    let seen = app.send(second.get(app.url(&client_path))).await.json();
    assert_eq!(seen["status"], "suspended");
    assert_eq!(seen["acts_for"], json!([]));
    let taken = app
        .send(second.post(app.url(&format!("{client_path}/takeover"))))
        .await;
    assert_eq!(taken.status, 200);
    let taken = taken.json();
    assert_eq!(taken["status"], "active");
    assert_eq!(taken["acts_for"], json!([structure]));
    let second_id = app.send(second.get(app.url("/v1/me"))).await.json()["id"].clone();
    assert_eq!(taken["created_by"], second_id);
    let partner = client_with(Some(&token_of(&app, &credentials).await));
    let edited = app
        .send(
            partner
                .patch(app.url(&path))
                .json(&json!({"name": "Reprise"})),
        )
        .await;
    assert_eq!(edited.status, 200);

    // And revokes it.
    let revoked = app.send(second.delete(app.url(&client_path))).await;
    assert_eq!(revoked.status, 204);
    assert_eq!(client_token(&app, &id, secret).await.status, 401);
}

#[tokio::test]
async fn disabling_the_maker_suspends_its_clients_until_an_owner_takes_them_over() {
    let app = spawn_app().await;
    app.sign_up("second@example.org").await;
    let (structure, second, maker) = co_owned(&app, "Compagnie").await;
    let credentials = make_client(&app, &[&structure], &["read"]).await;
    let id = credentials["client"]["id"].as_str().unwrap().to_owned();
    let partner = client_with(Some(&token_of(&app, &credentials).await));
    let path = format!("/v1/structures/{structure}");
    assert_eq!(
        app.send(partner.get(app.url(&path))).await.json()["visibility"],
        "full"
    );

    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", domain::access::AgencyRole::Staff)
            .await,
    ));
    let disabled = app
        .send(
            staff
                .patch(app.url(&format!("/v1/accounts/{maker}")))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);

    assert_eq!(app.send(partner.get(app.url(&path))).await.status, 401);
    let secret = credentials["client_secret"].as_str().unwrap();
    assert_eq!(client_token(&app, &id, secret).await.status, 401);
    let seen = app
        .send(staff.get(app.url(&format!("/v1/api-clients/{id}"))))
        .await
        .json();
    assert_eq!(seen["status"], "suspended");

    let taken = app
        .send(second.post(app.url(&format!("/v1/api-clients/{id}/takeover"))))
        .await;
    assert_eq!(taken.status, 200);
    assert_eq!(taken.json()["status"], "active");
    let partner = client_with(Some(&token_of(&app, &credentials).await));
    assert_eq!(
        app.send(partner.get(app.url(&path))).await.json()["visibility"],
        "full"
    );
}

#[tokio::test]
async fn a_client_acts_only_for_the_structures_its_maker_still_owns() {
    let app = spawn_app().await;
    app.sign_up("second@example.org").await;
    let (kept, second, maker) = co_owned(&app, "Gardée").await;
    let (left, _, _) = co_owned(&app, "Quittée").await;
    let credentials = make_client(&app, &[&kept, &left], &["read", "structures:write"]).await;
    let id = credentials["client"]["id"].as_str().unwrap().to_owned();

    // The maker steps down to editor in one of them.
    let demoted = app
        .send(
            second
                .patch(app.url(&format!("/v1/structures/{left}/members/{maker}")))
                .json(&json!({"role": "editor"})),
        )
        .await;
    assert_eq!(demoted.status, 200);

    let partner = client_with(Some(&token_of(&app, &credentials).await));
    let edit = |structure: &str| {
        partner
            .patch(app.url(&format!("/v1/structures/{structure}")))
            .json(&json!({"phone": "+33 4 67 00 00 00"}))
    };
    assert_eq!(app.send(edit(&kept)).await.status, 200);
    assert_eq!(app.send(edit(&left)).await.status, 403);
    let seen = app
        .send(partner.get(app.url(&format!("/v1/structures/{left}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "public");
    let view = app.get(&format!("/v1/api-clients/{id}")).await.json();
    assert_eq!(view["acts_for"], json!([kept]));
    assert_eq!(view["structure_ids"].as_array().unwrap().len(), 2);

    // The maker, now owner of only one of its structures, may still see and revoke it
    // but not take its secret or answer for it.
    let rotate = app
        .send(
            app.client
                .post(app.url(&format!("/v1/api-clients/{id}/secret"))),
        )
        .await;
    assert_eq!(rotate.status, 403);
    let takeover = app
        .send(
            app.client
                .post(app.url(&format!("/v1/api-clients/{id}/takeover"))),
        )
        .await;
    assert_eq!(takeover.status, 403);
    // The owner of both may.
    let rotated = app
        .send(second.post(app.url(&format!("/v1/api-clients/{id}/secret"))))
        .await;
    assert_eq!(rotated.status, 200);
    let revoked = app
        .send(app.client.delete(app.url(&format!("/v1/api-clients/{id}"))))
        .await;
    assert_eq!(revoked.status, 204);
}

#[tokio::test]
async fn listing_clients_loads_every_listed_clients_structures() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["Une", "Deux", "Trois"] {
        let structure = app.create_structure(&company(name)).await;
        ids.push(structure["id"].as_str().unwrap().to_owned());
    }
    make_client(&app, &[&ids[0]], &["read"]).await;
    make_client(&app, &[&ids[1], &ids[2]], &["read"]).await;
    let listed = app.get("/v1/api-clients").await.json();
    let data = listed["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    // Newest first, each with its own structures.
    let mut second_pair = vec![ids[1].clone(), ids[2].clone()];
    second_pair.sort();
    assert_eq!(data[0]["structure_ids"], json!(second_pair));
    assert_eq!(data[1]["structure_ids"], json!([ids[0]]));
    assert_eq!(data[0]["acts_for"], json!(second_pair));
}
