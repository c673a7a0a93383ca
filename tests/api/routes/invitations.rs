use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, spawn_app};

async fn invite(app: &TestApp, structure: &str, email: &str, role: &str) -> crate::helpers::Reply {
    app.post_json(
        &format!("/v1/structures/{structure}/invitations"),
        &json!({"email": email, "role": role}),
    )
    .await
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn an_invitation_answers_the_same_whether_or_not_the_email_has_an_account() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));

    let known = invite(&app, id, "colleague@example.org", "editor").await;
    let unknown = invite(&app, id, "nobody@example.org", "editor").await;
    assert_eq!(known.status, 201);
    assert_eq!(unknown.status, 201);
    let (known, unknown) = (known.json(), unknown.json());
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(
        keys(&known),
        [
            "created_at",
            "email",
            "expires_at",
            "id",
            "invited_by",
            "role",
            "structure_id"
        ]
    );
    // Nothing of the invited account shows: not its id, not its name.
    let colleague_id = app.send(colleague.get(app.url("/v1/me"))).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!known.to_string().contains(&colleague_id));
    assert!(!known.to_string().contains("Test account"));
    let me = app.get("/v1/me").await.json();
    assert_eq!(known["invited_by"], me["id"]);
}

#[tokio::test]
async fn the_invited_person_accepts_and_becomes_a_member() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie du Vent")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));

    let invitation = invite(&app, id, "Colleague@Example.ORG", "editor")
        .await
        .json();
    assert_eq!(invitation["email"], "colleague@example.org");
    let pending = app
        .get(&format!("/v1/structures/{id}/invitations"))
        .await
        .json();
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);

    // Inviting grants nothing until the person accepts.
    let seen = app
        .send(colleague.get(app.url(&format!("/v1/structures/{id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "public");
    let mine = app
        .send(colleague.get(app.url("/v1/me/invitations")))
        .await
        .json();
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["structure_name"], "Compagnie du Vent");
    assert_eq!(mine["data"][0]["role"], "editor");
    assert_eq!(mine["data"][0]["id"], invitation["id"]);

    let accept = format!(
        "/v1/me/invitations/{}/accept",
        invitation["id"].as_str().unwrap()
    );
    let accepted = app.send(colleague.post(app.url(&accept))).await;
    assert_eq!(accepted.status, 201);
    assert_eq!(accepted.json()["structure_id"], structure["id"]);
    assert_eq!(accepted.json()["role"], "editor");
    let seen = app
        .send(colleague.get(app.url(&format!("/v1/structures/{id}"))))
        .await
        .json();
    assert_eq!(seen["visibility"], "full");
    let members = app
        .get(&format!("/v1/structures/{id}/members"))
        .await
        .json();
    assert_eq!(members["data"][1]["email"], "colleague@example.org");
    assert_eq!(members["data"][1]["role"], "editor");

    // Answered: gone from both lists, and it cannot be accepted twice.
    assert_eq!(app.send(colleague.post(app.url(&accept))).await.status, 404);
    let pending = app
        .get(&format!("/v1/structures/{id}/invitations"))
        .await
        .json();
    assert!(pending["data"].as_array().unwrap().is_empty());
    let mine = app
        .send(colleague.get(app.url("/v1/me/invitations")))
        .await
        .json();
    assert!(mine["data"].as_array().unwrap().is_empty());

    // A member is not invited again.
    let again = invite(&app, id, "colleague@example.org", "viewer").await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["code"], "already_member");
}

#[tokio::test]
async fn an_invitation_to_an_email_without_an_account_waits_for_its_sign_up() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let invitation = invite(&app, id, "Newcomer@Example.org", "viewer").await;
    assert_eq!(invitation.status, 201);

    let newcomer = client_with(Some(&app.sign_up("newcomer@example.org").await));
    let mine = app
        .send(newcomer.get(app.url("/v1/me/invitations")))
        .await
        .json();
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let accepted = app
        .send(newcomer.post(app.url(&format!(
            "/v1/me/invitations/{}/accept",
            mine["data"][0]["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(accepted.status, 201);
}

#[tokio::test]
async fn only_the_invited_person_answers_and_only_owners_invite() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    let invitation = invite(&app, id, "colleague@example.org", "owner")
        .await
        .json();
    let invitation_id = invitation["id"].as_str().unwrap();

    // Someone else can neither see nor answer it.
    let theirs = app
        .send(stranger.get(app.url("/v1/me/invitations")))
        .await
        .json();
    assert!(theirs["data"].as_array().unwrap().is_empty());
    for answer in ["accept", "decline"] {
        let reply = app
            .send(stranger.post(app.url(&format!("/v1/me/invitations/{invitation_id}/{answer}"))))
            .await;
        assert_eq!(reply.status, 404, "{answer}");
    }
    // Nor can the inviting owner answer for the person.
    let reply = app
        .send(
            app.client
                .post(app.url(&format!("/v1/me/invitations/{invitation_id}/accept"))),
        )
        .await;
    assert_eq!(reply.status, 404);
    // Outsiders do not learn the structure's invitations; they cannot invite either.
    let path = format!("/v1/structures/{id}/invitations");
    assert_eq!(app.send(stranger.get(app.url(&path))).await.status, 404);
    let refused = app
        .send(
            stranger
                .post(app.url(&path))
                .json(&json!({"email": "friend@example.org", "role": "owner"})),
        )
        .await;
    assert_eq!(refused.status, 404);
    let refused = app
        .send(stranger.delete(app.url(&format!("{path}/{invitation_id}"))))
        .await;
    assert_eq!(refused.status, 404);

    // A viewer sees the structure but does not manage its members.
    let viewer = client_with(Some(&app.sign_up("viewer@example.org").await));
    app.add_member(&app.client, id, &viewer, "viewer@example.org", "viewer")
        .await;
    let refused = app
        .send(
            viewer
                .post(app.url(&path))
                .json(&json!({"email": "friend@example.org", "role": "owner"})),
        )
        .await;
    assert_eq!(refused.status, 403);

    let accepted = app
        .send(colleague.post(app.url(&format!("/v1/me/invitations/{invitation_id}/accept"))))
        .await;
    assert_eq!(accepted.status, 201);
    assert_eq!(accepted.json()["role"], "owner");
}

#[tokio::test]
async fn declined_cancelled_and_expired_invitations_grant_nothing() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    let members_path = format!("/v1/structures/{id}/members");
    let member_count = || async {
        app.get(&members_path).await.json()["data"]
            .as_array()
            .unwrap()
            .len()
    };

    let declined = invite(&app, id, "colleague@example.org", "editor")
        .await
        .json();
    let declined_id = declined["id"].as_str().unwrap();
    let reply = app
        .send(colleague.post(app.url(&format!("/v1/me/invitations/{declined_id}/decline"))))
        .await;
    assert_eq!(reply.status, 204);
    let reply = app
        .send(colleague.post(app.url(&format!("/v1/me/invitations/{declined_id}/accept"))))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(member_count().await, 1);

    let cancelled = invite(&app, id, "colleague@example.org", "editor")
        .await
        .json();
    let cancelled_id = cancelled["id"].as_str().unwrap();
    let reply = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/structures/{id}/invitations/{cancelled_id}"))),
        )
        .await;
    assert_eq!(reply.status, 204);
    let reply = app
        .send(colleague.post(app.url(&format!("/v1/me/invitations/{cancelled_id}/accept"))))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(member_count().await, 1);

    let expired = invite(&app, id, "colleague@example.org", "editor")
        .await
        .json();
    let expired_id = expired["id"].as_str().unwrap().to_owned();
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        diesel::sql_query("UPDATE invitations SET expires_at = created_at")
            .execute(&mut *conn)
            .unwrap();
    })
    .await
    .unwrap();
    let mine = app
        .send(colleague.get(app.url("/v1/me/invitations")))
        .await
        .json();
    assert!(mine["data"].as_array().unwrap().is_empty());
    let pending = app
        .get(&format!("/v1/structures/{id}/invitations"))
        .await
        .json();
    assert!(pending["data"].as_array().unwrap().is_empty());
    let reply = app
        .send(colleague.post(app.url(&format!("/v1/me/invitations/{expired_id}/accept"))))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(member_count().await, 1);
    // Inviting again replaces the expired invitation with an open one.
    let renewed = invite(&app, id, "colleague@example.org", "editor")
        .await
        .json();
    assert_ne!(renewed["id"], expired["id"]);
    let reply = app
        .send(colleague.post(app.url(&format!(
            "/v1/me/invitations/{}/accept",
            renewed["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(member_count().await, 2);
}

#[tokio::test]
async fn accepting_one_invitation_many_times_at_once_makes_one_membership() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    let invitation = invite(&app, id, "colleague@example.org", "editor")
        .await
        .json();
    let url = app.url(&format!(
        "/v1/me/invitations/{}/accept",
        invitation["id"].as_str().unwrap()
    ));

    let requests = (0..12).map(|_| colleague.post(&url).send());
    let replies = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = replies
        .into_iter()
        .map(|reply| reply.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 404),
        "{statuses:?}"
    );
    let members = app
        .get(&format!("/v1/structures/{id}/members"))
        .await
        .json();
    assert_eq!(members["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn invitations_refuse_bad_input_by_field() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let reply = invite(&app, id, "not an email", "viewer").await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["email"]);
    let reply = invite(&app, id, "a@example.org", "boss").await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["role"]);
    let reply = app
        .send(app.client.post(app.url("/v1/me/invitations/nope/accept")))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["id"]);
}

#[tokio::test]
async fn erasing_an_account_withdraws_the_invitations_to_its_email() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    assert_eq!(
        invite(&app, id, "colleague@example.org", "editor")
            .await
            .status,
        201
    );
    let erased = app.send(colleague.delete(app.url("/v1/me"))).await;
    assert_eq!(erased.status, 204);
    let pending = app
        .get(&format!("/v1/structures/{id}/invitations"))
        .await
        .json();
    assert!(pending["data"].as_array().unwrap().is_empty(), "{pending}");
}
