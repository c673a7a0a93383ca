use diesel::RunQueryDsl;
use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{client_with, company, spawn_app};

#[tokio::test]
async fn every_write_is_in_the_audit_log_for_staff_only() {
    let app = spawn_app().await;
    let created = app.create_structure(&company("Compagnie")).await;
    let id = created["id"].as_str().unwrap();
    let patched = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/structures/{id}")))
                .header("X-Request-Id", "edit-42")
                .json(&json!({"name": "Renommée", "email": null})),
        )
        .await;
    assert_eq!(patched.status, 200);
    app.send(app.client.delete(app.url(&format!("/v1/structures/{id}"))))
        .await;

    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let reply = app
        .send(staff.get(app.url(&format!(
            "/v1/audit-events?object_type=structure&object_id={id}"
        ))))
        .await;
    assert_eq!(reply.status, 200);
    let events = reply.json()["data"].as_array().unwrap().clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["structure.archive", "structure.update", "structure.create"]
    );
    let update = &events[1];
    assert_eq!(update["changed_fields"], json!(["name", "email"]));
    assert_eq!(update["request_id"], "edit-42");
    assert_eq!(update["actor_kind"], "account");
    let me = app.get("/v1/me").await.json();
    assert_eq!(update["actor_id"], me["id"]);

    // Sign-up is recorded too, under the anonymous caller that made it.
    let signups = app
        .send(staff.get(app.url("/v1/audit-events?action=account.create")))
        .await
        .json();
    assert!(
        signups["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e: &Value| e["object_id"] == me["id"])
    );

    let refused = app.get("/v1/audit-events").await;
    assert_eq!(refused.status, 403);
    let refused = app
        .send(app.anonymous.get(app.url("/v1/audit-events")))
        .await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_without_gaps() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.create_structure(&company(&format!("Compagnie {i}")))
            .await;
    }
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let mut seen = Vec::new();
    let mut path = "/v1/audit-events?object_type=structure&limit=3".to_owned();
    loop {
        let page = app.send(staff.get(app.url(&path))).await.json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/audit-events?object_type=structure&limit=3&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
}

#[tokio::test]
async fn the_database_refuses_to_edit_or_delete_audit_events() {
    let app = spawn_app().await;
    app.create_structure(&company("Compagnie")).await;
    let mut conn = app.pool.get().unwrap();
    // Refused by the guard itself (its message), not by any error that happens to occur.
    let refused_by_the_guard = |result: diesel::QueryResult<usize>| match result {
        Err(diesel::result::Error::DatabaseError(_, info)) => {
            assert!(
                info.message().contains("audit events are append-only"),
                "{}",
                info.message()
            )
        }
        other => panic!("expected the append-only guard to refuse, got {other:?}"),
    };
    refused_by_the_guard(
        diesel::sql_query("UPDATE audit_events SET action = 'forged'").execute(&mut *conn),
    );
    refused_by_the_guard(diesel::sql_query("DELETE FROM audit_events").execute(&mut *conn));

    let actions: Vec<Action> = diesel::sql_query("SELECT action FROM audit_events")
        .load(&mut *conn)
        .unwrap();
    assert!(!actions.is_empty());
    assert!(actions.iter().all(|a| a.action != "forged"));
}

#[derive(diesel::QueryableByName)]
struct Action {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
}

#[tokio::test]
async fn audit_filters_longer_than_the_contract_allows_are_refused() {
    let app = spawn_app().await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let long = "x".repeat(65);
    let reply = app
        .send(staff.get(app.url(&format!("/v1/audit-events?object_type={long}"))))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["object_type"]);
}

#[tokio::test]
async fn a_refused_write_leaves_no_trace_and_a_done_one_always_does() {
    let app = spawn_app().await;
    let mut body = company("Première");
    body["siret"] = json!("73282932000074");
    app.create_structure(&body).await;
    body["name"] = json!("Doublon");
    assert_eq!(app.post_json("/v1/structures", &body).await.status, 409);

    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let events = app
        .send(staff.get(app.url("/v1/audit-events?action=structure.create")))
        .await
        .json();
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let structures = app.get("/v1/structures").await.json();
    assert_eq!(structures["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn each_kind_of_write_leaves_its_event() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie")).await;
    let id = structure["id"].as_str().unwrap();
    app.patch_json(
        &format!("/v1/structures/{id}"),
        &json!({"name": "Renommée"}),
    )
    .await;
    let colleague = client_with(Some(&app.sign_up("colleague@example.org").await));
    let members = format!("/v1/structures/{id}/members");
    app.add_member(
        &app.client,
        id,
        &colleague,
        "colleague@example.org",
        "viewer",
    )
    .await;
    let colleague_id = app.get(&members).await.json()["data"][1]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = app
        .post_json(
            &format!("/v1/structures/{id}/invitations"),
            &json!({"email": "nobody@example.org", "role": "viewer"}),
        )
        .await
        .json();
    app.send(app.client.delete(app.url(&format!(
        "/v1/structures/{id}/invitations/{}",
        cancelled["id"].as_str().unwrap()
    ))))
    .await;
    app.patch_json(
        &format!("{members}/{colleague_id}"),
        &json!({"role": "editor"}),
    )
    .await;
    app.send(
        app.client
            .delete(app.url(&format!("{members}/{colleague_id}"))),
    )
    .await;
    let again = app
        .post_json(
            &format!("/v1/structures/{id}/invitations"),
            &json!({"email": "colleague@example.org", "role": "viewer"}),
        )
        .await
        .json();
    app.send(colleague.post(app.url(&format!(
        "/v1/me/invitations/{}/decline",
        again["id"].as_str().unwrap()
    ))))
    .await;
    app.send(
        colleague
            .post(app.url(&format!("/v1/structures/{id}/join-requests")))
            .json(&json!({})),
    )
    .await;
    app.send(
        app.client
            .post(app.url(&format!(
                "/v1/structures/{id}/join-requests/{colleague_id}/accept"
            )))
            .json(&json!({})),
    )
    .await;
    let client = app
        .post_json(
            "/v1/api-clients",
            &json!({"name": "Billetterie", "structure_ids": [id], "scopes": ["read"]}),
        )
        .await
        .json();
    let client_id = client["client"]["id"].as_str().unwrap();
    app.send(
        app.client
            .post(app.url(&format!("/v1/api-clients/{client_id}/secret"))),
    )
    .await;
    app.send(
        app.client
            .post(app.url(&format!("/v1/api-clients/{client_id}/takeover"))),
    )
    .await;
    app.send(
        app.client
            .delete(app.url(&format!("/v1/api-clients/{client_id}"))),
    )
    .await;
    let me = app.get("/v1/me").await.json();
    app.patch_json(
        &format!("/v1/accounts/{}", me["id"].as_str().unwrap()),
        &json!({"display_name": "Claire"}),
    )
    .await;
    app.send(app.client.delete(app.url(&format!("/v1/structures/{id}"))))
        .await;

    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let events = app
        .send(staff.get(app.url("/v1/audit-events?limit=200")))
        .await
        .json();
    let mut actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "account.create",
            "account.update",
            "api_client.create",
            "api_client.revoke",
            "api_client.rotate_secret",
            "api_client.take_over",
            "invitation.accept",
            "invitation.cancel",
            "invitation.create",
            "invitation.decline",
            "join_request.accept",
            "join_request.create",
            "member.change",
            "member.remove",
            "structure.archive",
            "structure.create",
            "structure.update",
        ]
    );
    // Secrets are named, never written: the rotation's event carries the field name only.
    assert!(
        !events
            .to_string()
            .contains(client["client_secret"].as_str().unwrap())
    );
}

/// The message a statement failed with; the test fails if it succeeded.
fn refusal(result: diesel::QueryResult<usize>) -> String {
    match result {
        Err(diesel::result::Error::DatabaseError(_, info)) => info.message().to_owned(),
        other => panic!("not refused by the database: {other:?}"),
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut persistence::db::DbConnection, filter: &str) -> i64 {
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE {filter}"
    ))
    .get_result::<Count>(conn)
    .unwrap()
    .n
}

fn event_count(conn: &mut persistence::db::DbConnection) -> i64 {
    count(conn, "1 = 1")
}

#[tokio::test]
async fn truncating_the_audit_log_is_refused_on_postgresql() {
    let app = spawn_app().await;
    app.create_structure(&company("Compagnie")).await;
    let mut conn = app.pool.get().unwrap();
    if persistence::db::backend(&conn) != persistence::db::Backend::Postgres {
        return; // SQLite has no TRUNCATE.
    }
    let before = event_count(&mut conn);
    assert!(before > 0);
    let refused = refusal(diesel::sql_query("TRUNCATE audit_events").execute(&mut *conn));
    assert!(
        refused.contains("audit events are append-only"),
        "{refused}"
    );
    assert_eq!(event_count(&mut conn), before);
}

#[tokio::test]
async fn replacing_an_audit_event_is_refused_on_sqlite() {
    let app = spawn_app().await;
    app.create_structure(&company("Compagnie")).await;
    let mut conn = app.pool.get().unwrap();
    if persistence::db::backend(&conn) != persistence::db::Backend::Sqlite {
        return; // PostgreSQL has no INSERT OR REPLACE; its upsert is an UPDATE, refused.
    }
    let replace = |verb: &str| {
        format!(
            "{verb} INTO audit_events (id, occurred_at, actor_kind, actor_id, action, \
             object_type, object_id, request_id, changed_fields) \
             SELECT id, occurred_at, actor_kind, actor_id, 'forged', object_type, object_id, \
             request_id, changed_fields FROM audit_events"
        )
    };
    let before = event_count(&mut conn);
    for verb in ["INSERT OR REPLACE", "REPLACE"] {
        let refused = refusal(diesel::sql_query(replace(verb)).execute(&mut *conn));
        assert!(
            refused.contains("audit events are append-only"),
            "{verb}: {refused}"
        );
    }
    assert_eq!(event_count(&mut conn), before);
    assert_eq!(count(&mut conn, "action = 'forged'"), 0);
    // A new event still goes in.
    persistence::audit::record(
        &mut conn,
        persistence::audit::NewEvent {
            actor_kind: "anonymous",
            actor_id: None,
            action: "test.append",
            object_type: "test",
            object_id: "1".into(),
            request_id: "r".into(),
            changed_fields: vec![],
        },
    )
    .unwrap();
    assert_eq!(event_count(&mut conn), before + 1);
}
