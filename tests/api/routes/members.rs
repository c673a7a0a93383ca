use serde_json::json;

use crate::helpers::{client_with, company, spawn_app};

#[tokio::test]
async fn the_creator_owns_the_structure_and_can_invite_change_and_remove_members() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let members_path = format!(
        "/v1/structures/{}/members",
        structure["id"].as_str().unwrap()
    );
    let members = app.get(&members_path).await.json();
    assert_eq!(members["data"].as_array().unwrap().len(), 1);
    assert_eq!(members["data"][0]["email"], "member@example.org");
    assert_eq!(members["data"][0]["role"], "owner");

    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    let id = structure["id"].as_str().unwrap();
    app.add_member(
        &app.client,
        id,
        &colleague,
        "Colleague@example.org",
        "editor",
    )
    .await;
    let members = app.get(&members_path).await.json();
    let added = &members["data"][1];
    assert_eq!(added["email"], "colleague@example.org");
    assert_eq!(added["role"], "editor");
    let colleague_id = added["account_id"].as_str().unwrap().to_owned();
    // The route that enrolled anyone without their consent is gone.
    let reply = app
        .post_json(
            &members_path,
            &json!({"email": "colleague@example.org", "role": "viewer"}),
        )
        .await;
    assert_eq!(reply.status, 405);

    // The editor edits the structure but cannot manage members.
    let structure_path = format!("/v1/structures/{}", structure["id"].as_str().unwrap());
    let edited = app
        .send(
            colleague
                .patch(app.url(&structure_path))
                .json(&json!({"name": "Renommée"})),
        )
        .await;
    assert_eq!(edited.status, 200);
    let refused = app
        .send(
            colleague
                .post(app.url(&format!("/v1/structures/{id}/invitations")))
                .json(&json!({"email": "someone@example.org", "role": "viewer"})),
        )
        .await;
    assert_eq!(refused.status, 403);

    let member_path = format!("{members_path}/{colleague_id}");
    let reply = app
        .patch_json(&member_path, &json!({"role": "viewer"}))
        .await;
    assert_eq!(reply.json()["role"], "viewer");
    let refused = app
        .send(
            colleague
                .patch(app.url(&structure_path))
                .json(&json!({"name": "Encore"})),
        )
        .await;
    assert_eq!(refused.status, 403, "a viewer no longer edits");

    // Any member may leave.
    let left = app.send(colleague.delete(app.url(&member_path))).await;
    assert_eq!(left.status, 204);
    let seen = app
        .send(colleague.get(app.url(&structure_path)))
        .await
        .json();
    assert_eq!(seen["visibility"], "public");
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let members_path = format!(
        "/v1/structures/{}/members",
        structure["id"].as_str().unwrap()
    );
    let owner_id = app.get(&members_path).await.json()["data"][0]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{members_path}/{owner_id}");
    let reply = app.patch_json(&path, &json!({"role": "editor"})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.json()["code"], "last_owner");
    assert_eq!(
        app.send(app.client.delete(app.url(&path))).await.status,
        409
    );

    // With a second owner, the first may step down.
    let second = client_with(Some(&app.sign_up("second@example.org").await));
    app.add_member(
        &app.client,
        structure["id"].as_str().unwrap(),
        &second,
        "second@example.org",
        "owner",
    )
    .await;
    assert_eq!(
        app.patch_json(&path, &json!({"role": "editor"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_request_to_join_waits_for_an_owner() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let joiner_token = app.sign_up("joiner@example.org").await;
    let joiner = client_with(Some(&joiner_token));
    let requests_path = format!("/v1/structures/{id}/join-requests");

    let asked = app
        .send(
            joiner
                .post(app.url(&requests_path))
                .json(&json!({"message": "Je suis la chargée de diffusion"})),
        )
        .await;
    assert_eq!(asked.status, 201);
    let again = app
        .send(joiner.post(app.url(&requests_path)).json(&json!({})))
        .await;
    assert_eq!(again.status, 409);
    // Asking grants nothing yet, and the joiner cannot answer for itself.
    let seen = app
        .send(joiner.get(app.url(&format!("/v1/structures/{id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "public");
    assert_eq!(
        app.send(joiner.get(app.url(&requests_path))).await.status,
        404
    );

    let pending = app.get(&requests_path).await.json();
    assert_eq!(
        pending["data"][0]["message"],
        "Je suis la chargée de diffusion"
    );
    let joiner_id = pending["data"][0]["account_id"].as_str().unwrap();
    let accepted = app
        .post_json(
            &format!("{requests_path}/{joiner_id}/accept"),
            &json!({"role": "editor"}),
        )
        .await;
    assert_eq!(accepted.status, 201);
    assert_eq!(accepted.json()["role"], "editor");
    assert!(
        app.get(&requests_path).await.json()["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let seen = app
        .send(joiner.get(app.url(&format!("/v1/structures/{id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "full");
}

#[tokio::test]
async fn a_declined_request_grants_nothing() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let joiner = client_with(Some(&app.sign_up("joiner@example.org").await));
    let requests_path = format!("/v1/structures/{id}/join-requests");
    app.send(joiner.post(app.url(&requests_path)).json(&json!({})))
        .await;
    let joiner_id = app.get(&requests_path).await.json()["data"][0]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let declined = app
        .send(
            app.client
                .post(app.url(&format!("{requests_path}/{joiner_id}/decline"))),
        )
        .await;
    assert_eq!(declined.status, 204);
    let members = app
        .get(&format!("/v1/structures/{id}/members"))
        .await
        .json();
    assert_eq!(members["data"].as_array().unwrap().len(), 1);
    let again = app
        .send(
            app.client
                .post(app.url(&format!("{requests_path}/{joiner_id}/decline"))),
        )
        .await;
    assert_eq!(again.status, 404);
}
