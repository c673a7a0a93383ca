//! `/v1/dossiers/{id}/attention`: a funded performance cancelled or deleted flags its
//! dossier for staff, by every path that cancels or deletes it.

use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, performance, production, spawn_app};
use crate::routes::dossiers::{company_with_performance, dossier, in_review, test_call};
use crate::routes::payments::{approved, text};
use crate::routes::productions::partner;

async fn flags(app: &TestApp, client: &reqwest::Client, dossier: &str) -> Vec<Value> {
    let reply = app
        .send(client.get(app.url(&format!("/v1/dossiers/{dossier}/attention"))))
        .await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    reply.json()["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn cancelling_a_funded_performance_flags_its_dossier_for_staff() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (performance, id) = approved(&app, &staff, "FLAG", 100_000, json!({})).await;
    assert!(flags(&app, &staff, &id).await.is_empty());
    // Another change is no cancellation.
    let patched = app
        .patch_json(
            &format!("/v1/performances/{performance}"),
            &json!({"capacity": 120}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", text(&patched));
    assert!(flags(&app, &staff, &id).await.is_empty());
    // A cancellation refused (a stale If-Match) leaves no flag: one transaction.
    let stale = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/performances/{performance}")))
                .header("If-Match", "\"999\"")
                .json(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(stale.status, 412, "{}", text(&stale));
    assert!(flags(&app, &staff, &id).await.is_empty());
    let cancelled = app
        .patch_json(
            &format!("/v1/performances/{performance}"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", text(&cancelled));
    let raised = flags(&app, &staff, &id).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["kind"], "performance_cancelled");
    assert_eq!(raised[0]["performance_id"], json!(performance));
    assert_eq!(raised[0]["cleared_at"], Value::Null);
    // The applicant sees it (its own performance), but staff clear it.
    assert_eq!(flags(&app, &app.client, &id).await, raised);
    let flag = raised[0]["id"].as_str().unwrap();
    let clear = format!("/v1/dossiers/{id}/attention/{flag}/clear");
    assert_eq!(app.post_json(&clear, &json!({})).await.status, 403);
    let cleared = app.send(staff.post(app.url(&clear))).await;
    assert_eq!(cleared.status, 200, "{}", text(&cleared));
    let at = cleared.json()["cleared_at"].clone();
    assert!(at.is_string());
    // Clearing again changes nothing.
    let again = app.send(staff.post(app.url(&clear))).await;
    assert_eq!(again.json()["cleared_at"], at);
    // Another dossier's flag, an unknown one, a bad id.
    let unknown = format!("/v1/dossiers/{id}/attention/{}/clear", uuid::Uuid::now_v7());
    assert_eq!(app.send(staff.post(app.url(&unknown))).await.status, 404);
    let bad = format!("/v1/dossiers/{id}/attention/not-a-uuid/clear");
    assert_eq!(app.send(staff.post(app.url(&bad))).await.status, 400);
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    let hidden = app
        .send(stranger.get(app.url(&format!("/v1/dossiers/{id}/attention"))))
        .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(app.send(stranger.post(app.url(&clear))).await.status, 404);
    // Cancelled already: cancelling again raises nothing more; deleting does.
    let deleted = app
        .send(
            app.client
                .delete(app.url(&format!("/v1/performances/{performance}"))),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", text(&deleted));
    let raised = flags(&app, &staff, &id).await;
    assert_eq!(raised.len(), 2);
    assert_eq!(raised[1]["kind"], "performance_deleted");
}

#[tokio::test]
async fn a_draft_naming_a_cancelled_performance_is_not_flagged() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DRAFT", 1_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let draft = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 100_000),
        )
        .await;
    let submitted = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    let cancelled = app
        .patch_json(
            &format!("/v1/performances/{performance}"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, 200);
    assert!(
        flags(&app, &staff, draft["id"].as_str().unwrap())
            .await
            .is_empty()
    );
    assert_eq!(flags(&app, &staff, &submitted).await.len(), 1);
}

#[tokio::test]
async fn a_partner_sync_cancelling_or_deleting_a_funded_performance_flags_its_dossier() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "SYNC", 1_000_000).await;
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let mut body = production(&structure);
    body["published"] = json!(true);
    let made = app.create_with(&app.client, "/v1/productions", &body).await;
    let partner = partner(&app, &app.client, &structure, &["programming:write"]).await;
    let mut date = performance(
        made["id"].as_str().unwrap(),
        "09122",
        "2030-03-01T20:30:00+01:00",
    );
    date["fee_cents"] = json!(300_000);
    let mut synced = Vec::new();
    for external in ["EXT-1", "EXT-2", "EXT-3"] {
        let reply = app
            .send(
                partner
                    .put(app.url(&format!("/v1/sync/performances/{external}")))
                    .json(&date),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", text(&reply));
        synced.push(
            reply.json()["performance"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut dossiers = Vec::new();
    for p in &synced {
        dossiers.push(in_review(&app, &staff, &call, &structure, p, 100_000).await);
    }
    // One at a time: cancelled by its external id.
    let mut cancelled = date.clone();
    cancelled["status"] = json!("cancelled");
    let single = app
        .send(
            partner
                .put(app.url("/v1/sync/performances/EXT-1"))
                .json(&cancelled),
        )
        .await;
    assert_eq!(single.status, 200, "{}", text(&single));
    let raised = flags(&app, &staff, &dossiers[0]).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["kind"], "performance_cancelled");
    // In a batch: one cancelled, one deleted, each flagging its own dossier.
    let batch = app
        .send(
            partner
                .post(app.url("/v1/sync/performances/batch"))
                .json(&json!({"items": [
                    {"external_id": "EXT-2", "action": "upsert", "performance": cancelled},
                    {"external_id": "EXT-3", "action": "delete"}
                ]})),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", text(&batch));
    let second = flags(&app, &staff, &dossiers[1]).await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["kind"], "performance_cancelled");
    assert_eq!(second[0]["performance_id"], json!(synced[1]));
    let third = flags(&app, &staff, &dossiers[2]).await;
    assert_eq!(third.len(), 1);
    assert_eq!(third[0]["kind"], "performance_deleted");
    assert_eq!(flags(&app, &staff, &dossiers[0]).await.len(), 1);
}
