use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, company, open_call, performance, production, programme, spawn_app};
use crate::routes::productions::partner;

/// A programme like the Occitanie scheme but with no documents to attach and no
/// yearly cap (so that an inline place will do), and an open call of it: their ids.
pub async fn test_call(
    app: &TestApp,
    staff: &reqwest::Client,
    code: &str,
    envelope: i64,
) -> (String, String) {
    let mut body = programme(code);
    body["rules"]["documents"] = json!([]);
    body["rules"]["amounts"]["yearly_caps"] = json!([]);
    let made = app.create_with(staff, "/v1/programmes", &body).await;
    let programme_id = made["id"].as_str().unwrap().to_owned();
    let call = app
        .create_with(staff, "/v1/calls", &open_call(&programme_id, envelope))
        .await;
    (programme_id, call["id"].as_str().unwrap().to_owned())
}

/// A company of the test member's and a performance of it in Foix (9,934 inhabitants)
/// with a prix de cession of `fee_cents`: their ids.
pub async fn company_with_performance(
    app: &TestApp,
    owner: &reqwest::Client,
    fee_cents: i64,
) -> (String, String) {
    let structure = app
        .create_with(owner, "/v1/structures", &company("Compagnie du Hasard"))
        .await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let made = app
        .create_with(owner, "/v1/productions", &production(&structure))
        .await;
    let mut body = performance(
        made["id"].as_str().unwrap(),
        "09122",
        "2030-03-01T20:30:00+01:00",
    );
    body["fee_cents"] = json!(fee_cents);
    let performance = app.create_with(owner, "/v1/performances", &body).await;
    (structure, performance["id"].as_str().unwrap().to_owned())
}

/// A complete dossier: answers given, budget balanced, `requested` asked.
pub fn dossier(call: &str, applicant: &str, performances: &[&str], requested: i64) -> Value {
    json!({
        "call_id": call,
        "applicant_id": applicant,
        "title": "Tournée d'hiver en Ariège",
        "performance_ids": performances,
        "answers": {"audience": "tout public", "cultural_action": true},
        "budget": {
            "expenses": [{"category": "artistic_pay", "amount_cents": 500000}],
            "incomes": [
                {"category": "fees", "amount_cents": 500000 - requested},
                {"category": "agency_request", "amount_cents": requested}
            ]
        }
    })
}

#[tokio::test]
async fn a_dossier_gets_a_reference_and_the_maximum_aid_naming_the_rule_that_limited_it() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (programme_id, call) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 500_000).await;
    let reply = app
        .post_json(
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 150_000),
        )
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let made = reply.json();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(made["reference"], format!("DIFF-{year}-0001"));
    assert_eq!(made["status"], "draft");
    assert_eq!(made["programme_id"], programme_id.as_str());
    assert_eq!(made["requested_cents"], 150_000);
    assert_eq!(made["budget"]["balanced"], true);
    // Half of 5,000 € is 2,500 €: capped at 2,000 € a performance.
    assert_eq!(made["maximum"]["total_cents"], 200_000);
    assert_eq!(made["maximum"]["limited_by"], "cap_per_performance");
    let id = made["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/dossiers/{id}").as_str())
    );

    let read = app.get(&format!("/v1/dossiers/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["reference"], made["reference"]);
    assert_eq!(read.json()["maximum"]["limited_by"], "cap_per_performance");

    let check = app
        .post_json(&format!("/v1/dossiers/{id}/check"), &json!({}))
        .await;
    assert_eq!(
        check.status,
        200,
        "{}",
        String::from_utf8_lossy(&check.bytes)
    );
    assert_eq!(check.json()["submittable"], true, "{}", check.json());

    let second = app
        .post_json(
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 150_000),
        )
        .await;
    assert_eq!(second.json()["reference"], format!("DIFF-{year}-0002"));
}

#[tokio::test]
async fn concurrent_creations_take_distinct_consecutive_references() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "CONC", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let body = dossier(&call, &structure, &[&performance], 100_000);
    let replies = futures_util::future::join_all(
        (0..20).map(|_| app.send(app.client.post(app.url("/v1/dossiers")).json(&body))),
    )
    .await;
    let mut references = BTreeSet::new();
    for reply in &replies {
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        references.insert(reply.json()["reference"].as_str().unwrap().to_owned());
    }
    let year = chrono::Utc::now().format("%Y").to_string();
    let expected: BTreeSet<String> = (1..=20).map(|n| format!("CONC-{year}-{n:04}")).collect();
    assert_eq!(references, expected);
}

#[tokio::test]
async fn only_those_who_file_for_the_applicant_create_its_dossiers() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let body = dossier(&call, &structure, &[&performance], 100_000);

    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    for refused in [&other, &staff] {
        let reply = app
            .send(refused.post(app.url("/v1/dossiers")).json(&body))
            .await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.error_fields(), ["applicant_id"]);
    }
    let anonymous = app
        .send(app.anonymous.post(app.url("/v1/dossiers")).json(&body))
        .await;
    assert_eq!(anonymous.status, 401);

    let reader = partner(&app, &app.client, &structure, &["read"]).await;
    let reply = app
        .send(reader.post(app.url("/v1/dossiers")).json(&body))
        .await;
    assert_eq!(reply.status, 422);
    let filer = partner(&app, &app.client, &structure, &["dossiers:write"]).await;
    let reply = app
        .send(filer.post(app.url("/v1/dossiers")).json(&body))
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    // Its clients read it; others do not know it exists.
    let read = app
        .send(reader.get(app.url(&format!("/v1/dossiers/{id}"))))
        .await;
    assert_eq!(read.status, 200);
    let hidden = app
        .send(other.get(app.url(&format!("/v1/dossiers/{id}"))))
        .await;
    assert_eq!(hidden.status, 404);
    let list = app.send(other.get(app.url("/v1/dossiers"))).await;
    assert_eq!(list.json()["data"], json!([]));
    let staff_read = app
        .send(staff.get(app.url(&format!("/v1/dossiers/{id}"))))
        .await;
    assert_eq!(staff_read.status, 200);
    let check = app
        .send(other.post(app.url(&format!("/v1/dossiers/{id}/check"))))
        .await;
    assert_eq!(check.status, 404);
}

#[tokio::test]
async fn a_dossier_names_every_bad_field_and_others_performances() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let (structure, _) = company_with_performance(&app, &app.client, 300_000).await;
    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    let (_, foreign) = company_with_performance(&app, &other, 300_000).await;

    let mut body = dossier(
        &call,
        &structure,
        &[&foreign, &uuid::Uuid::now_v7().to_string()],
        100_000,
    );
    body["title"] = json!(" ");
    body["answers"] = json!({"audience": "adultes", "unknown": 1});
    body["budget"]["expenses"][0]["category"] = json!("champagne");
    let reply = app.post_json("/v1/dossiers", &body).await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let fields: BTreeSet<String> = reply.error_fields().into_iter().collect();
    for field in [
        "title",
        "answers.audience",
        "answers.unknown",
        "performance_ids[0]",
        "performance_ids[1]",
    ] {
        assert!(fields.contains(field), "{field} not in {fields:?}");
    }
    assert!(
        fields.iter().any(|f| f.starts_with("budget.expenses")),
        "{fields:?}"
    );

    for (field, value) in [
        ("title", json!("a\u{0}b")),
        ("title", json!(42)),
        ("summary", json!("x".repeat(20_000))),
        ("call_id", json!("not-a-uuid")),
        ("performance_ids", json!("all")),
    ] {
        let mut body = dossier(&call, &structure, &[], 100_000);
        body[field] = value;
        let reply = app.post_json("/v1/dossiers", &body).await;
        assert_eq!(
            reply.status,
            422,
            "{field}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert!(
            reply.error_fields().iter().any(|f| f.starts_with(field)),
            "{field}: {:?}",
            reply.error_fields()
        );
    }
    let body = dossier(&uuid::Uuid::now_v7().to_string(), &structure, &[], 100_000);
    let reply = app.post_json("/v1/dossiers", &body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["call_id"]);
}

#[tokio::test]
async fn a_closed_call_takes_no_dossier() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (programme_id, _) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let mut body = open_call(&programme_id, 100);
    body["opens_at"] = json!("2020-01-01T00:00");
    body["closes_at"] = json!("2020-03-01T00:00");
    let closed = app.create_with(&staff, "/v1/calls", &body).await;
    let (structure, _) = company_with_performance(&app, &app.client, 300_000).await;
    let reply = app
        .post_json(
            "/v1/dossiers",
            &dossier(closed["id"].as_str().unwrap(), &structure, &[], 100_000),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["code"], "call_not_open");
}

#[tokio::test]
async fn a_draft_is_edited_as_a_merge_patch_with_if_match() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &json!({"call_id": call, "applicant_id": structure, "title": "Brouillon"}),
        )
        .await;
    let url = app.url(&format!("/v1/dossiers/{}", made["id"].as_str().unwrap()));
    assert_eq!(made["maximum"]["total_cents"], 0);

    let check = app.send(app.client.post(format!("{url}/check"))).await;
    let codes: BTreeSet<String> = check.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    for code in ["answer_missing", "request_missing", "too_few_performances"] {
        assert!(codes.contains(code), "{code} not in {codes:?}");
    }
    assert_eq!(check.json()["submittable"], false);

    let patch = json!({
        "performance_ids": [performance],
        "answers": {"audience": "jeune public", "cultural_action": false},
        "budget": {
            "expenses": [{"category": "artistic_pay", "amount_cents": 300000}],
            "incomes": [{"category": "agency_request", "amount_cents": 100000}, {"category": "fees", "amount_cents": 200000}]
        }
    });
    let reply = app
        .send(
            app.client
                .patch(&url)
                .header("If-Match", "\"v1\"")
                .json(&patch),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let edited = reply.json();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["title"], "Brouillon");
    assert_eq!(edited["budget"]["incomes"][0]["category"], "agency_request");
    assert_eq!(edited["maximum"]["total_cents"], 150_000);
    assert_eq!(edited["maximum"]["limited_by"], "rate");
    let stale = app
        .send(
            app.client
                .patch(&url)
                .header("If-Match", "\"v1\"")
                .json(&json!({"title": "Autre"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let removed = app
        .send(
            app.client
                .patch(&url)
                .json(&json!({"answers": {"cultural_action": null}, "summary": "Deux dates"})),
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        removed.json()["answers"],
        json!({"audience": "jeune public"})
    );
    let check = app.send(app.client.post(format!("{url}/check"))).await;
    assert_eq!(
        check.json()["problems"][0]["field"],
        "answers.cultural_action",
        "{}",
        check.json()
    );

    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    let refused = app
        .send(other.patch(&url).json(&json!({"title": "x"})))
        .await;
    assert_eq!(refused.status, 404);
    let staff_edit = app
        .send(staff.patch(&url).json(&json!({"title": "x"})))
        .await;
    assert_eq!(staff_edit.status, 403);
    let bad = app
        .send(app.client.patch(&url).json(&json!({"title": "a\u{0}"})))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["title"]);

    let list = app
        .get(&format!("/v1/dossiers?status=draft&call_id={call}"))
        .await;
    assert_eq!(list.json()["data"].as_array().unwrap().len(), 1);
    let none = app.get("/v1/dossiers?status=submitted").await;
    assert_eq!(none.json()["data"], json!([]));
    let bad = app.get("/v1/dossiers?status=lost").await;
    assert_eq!(bad.status, 400);
}

/// A submitted dossier of `structure` in review, asking `requested`: its id.
pub async fn in_review(
    app: &TestApp,
    staff: &reqwest::Client,
    call: &str,
    structure: &str,
    performance: &str,
    requested: i64,
) -> String {
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(call, structure, &[performance], requested),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let submitted = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(
        submitted.status,
        200,
        "{}",
        String::from_utf8_lossy(&submitted.bytes)
    );
    let review = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/start-review")))
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        review.status,
        200,
        "{}",
        String::from_utf8_lossy(&review.bytes)
    );
    id
}

#[tokio::test]
async fn a_dossier_goes_from_draft_to_approved_and_its_history_says_who_when_and_why() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 1_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 100_000),
        )
        .await;
    let id = made["id"].as_str().unwrap();
    let post = |client: &reqwest::Client, action: &str, body: Value| {
        client
            .post(app.url(&format!("/v1/dossiers/{id}/{action}")))
            .json(&body)
    };
    let submitted = app.send(post(&app.client, "submit", json!({}))).await;
    assert_eq!(
        submitted.status,
        200,
        "{}",
        String::from_utf8_lossy(&submitted.bytes)
    );
    assert_eq!(submitted.json()["status"], "submitted");
    assert!(submitted.json()["submitted_at"].is_string());
    let asked = app
        .send(post(
            &staff,
            "request-changes",
            json!({"reason": "Précisez le budget"}),
        ))
        .await;
    assert_eq!(asked.json()["status"], "changes_requested");
    let edited = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/dossiers/{id}")))
                .json(&json!({"summary": "Précisé"})),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        app.send(post(&app.client, "submit", json!({})))
            .await
            .status,
        200
    );
    // Submitted, the applicant no longer edits it.
    let frozen = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/dossiers/{id}")))
                .json(&json!({"summary": "Encore"})),
        )
        .await;
    assert_eq!(frozen.status, 409);
    assert_eq!(frozen.json()["code"], "dossier_not_editable");
    assert_eq!(
        app.send(post(&staff, "start-review", json!({})))
            .await
            .status,
        200
    );
    let above = app
        .send(post(&staff, "approve", json!({"awarded_cents": 150_001})))
        .await;
    assert_eq!(above.status, 422);
    assert_eq!(above.json()["code"], "award_above_maximum");
    let approved = app
        .send(post(&staff, "approve", json!({"awarded_cents": 120_000.0})))
        .await;
    assert_eq!(
        approved.status,
        200,
        "{}",
        String::from_utf8_lossy(&approved.bytes)
    );
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(approved.json()["awarded_cents"], 120_000);
    let call_now = app.get(&format!("/v1/calls/{call}")).await.json();
    assert_eq!(call_now["awarded_cents"], 120_000);

    // Reopening needs a reason, and gives the award back.
    let no_reason = app.send(post(&staff, "reopen", json!({}))).await;
    assert_eq!(no_reason.status, 422);
    assert_eq!(no_reason.error_fields(), ["reason"]);
    let reopened = app
        .send(post(
            &staff,
            "reopen",
            json!({"reason": "Erreur de montant"}),
        ))
        .await;
    assert_eq!(reopened.status, 200);
    assert_eq!(reopened.json()["status"], "in_review");
    assert_eq!(reopened.json()["awarded_cents"], Value::Null);
    let call_now = app.get(&format!("/v1/calls/{call}")).await.json();
    assert_eq!(call_now["awarded_cents"], 0);
    let closed = app.send(post(&staff, "close", json!({}))).await;
    assert_eq!(closed.status, 409);

    let history = app.get(&format!("/v1/dossiers/{id}/history")).await;
    assert_eq!(history.status, 200);
    let events = history.json()["data"].as_array().unwrap().clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "request_changes",
            "submit",
            "start_review",
            "approve",
            "reopen"
        ]
    );
    assert_eq!(events[1]["reason"], "Précisez le budget");
    assert_eq!(events[1]["from_status"], "submitted");
    assert_eq!(events[1]["to_status"], "changes_requested");
    assert_eq!(events[4]["awarded_cents"], 120_000);
    assert_eq!(events[0]["actor_kind"], "account");

    // The change log follows the dossier for its applicant, not for others.
    let feed = app.get("/v1/changes?limit=200").await.json();
    let dossier_changes = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["object_type"] == "dossier")
        .count();
    assert!(dossier_changes >= 8, "{dossier_changes}");
    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    let feed = app
        .send(other.get(app.url("/v1/changes?limit=200")))
        .await
        .json();
    assert!(
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["object_type"] != "dossier"),
        "{feed}"
    );
    let hidden = app
        .send(other.get(app.url(&format!("/v1/dossiers/{id}/history"))))
        .await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn each_side_takes_only_its_own_transitions_from_the_right_states() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 1_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &json!({"call_id": call, "applicant_id": structure, "title": "Brouillon"}),
        )
        .await;
    let id = made["id"].as_str().unwrap();
    let post = |client: &reqwest::Client, action: &str| {
        client
            .post(app.url(&format!("/v1/dossiers/{id}/{action}")))
            .json(&if action == "approve" {
                json!({"awarded_cents": 100, "reason": "Parce que"})
            } else {
                json!({"reason": "Parce que"})
            })
    };
    for action in [
        "request-changes",
        "start-review",
        "approve",
        "reject",
        "dismiss",
        "reopen",
        "close",
    ] {
        let reply = app.send(post(&app.client, action)).await;
        assert_eq!(reply.status, 403, "{action} by the applicant");
        assert_eq!(reply.json()["code"], "transition_not_permitted");
        let reply = app.send(post(&staff, action)).await;
        assert_eq!(reply.status, 409, "{action} by staff on a draft");
        assert_eq!(reply.json()["code"], "transition_not_from_status");
    }
    for action in ["submit", "withdraw"] {
        let reply = app.send(post(&staff, action)).await;
        assert_eq!(reply.status, 403, "{action} by staff");
    }
    let reader = partner(&app, &app.client, &structure, &["read"]).await;
    let reply = app.send(post(&reader, "withdraw")).await;
    assert_eq!(reply.status, 403);
    let other = crate::helpers::client_with(Some(&app.sign_up("other@example.org").await));
    assert_eq!(app.send(post(&other, "withdraw")).await.status, 404);
    assert_eq!(app.send(post(&app.anonymous, "withdraw")).await.status, 401);
    let bad = app
        .send(
            app.client
                .post(app.url(&format!("/v1/dossiers/{id}/withdraw")))
                .json(&json!({"reason": "a\u{0}"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["reason"]);

    // An incomplete draft: every problem at once.
    let refused = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(refused.status, 422);
    let codes: BTreeSet<String> = refused.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect();
    for code in ["answer_missing", "request_missing", "too_few_performances"] {
        assert!(codes.contains(code), "{code} not in {codes:?}");
    }
    assert_eq!(
        app.get(&format!("/v1/dossiers/{id}")).await.json()["status"],
        "draft"
    );

    // A client with dossiers:write takes the applicant's side.
    let filer = partner(&app, &app.client, &structure, &["dossiers:write"]).await;
    let edited = app
        .send(
            filer.patch(app.url(&format!("/v1/dossiers/{id}"))).json(
                &dossier(&call, &structure, &[&performance], 100_000)
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| !["call_id", "applicant_id"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<serde_json::Map<_, _>>(),
            ),
        )
        .await;
    assert_eq!(
        edited.status,
        200,
        "{}",
        String::from_utf8_lossy(&edited.bytes)
    );
    let submitted = app
        .send(
            filer
                .post(app.url(&format!("/v1/dossiers/{id}/submit")))
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        submitted.status,
        200,
        "{}",
        String::from_utf8_lossy(&submitted.bytes)
    );
    assert_eq!(app.send(post(&filer, "withdraw")).await.status, 200);
}

#[tokio::test]
async fn concurrent_approvals_never_award_beyond_the_call_envelope() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    // Room for ten awards of 1,000 € out of fifty asked.
    let (_, call) = test_call(&app, &staff, "ENV", 1_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(in_review(&app, &staff, &call, &structure, &performance, 100_000).await);
    }
    let replies = futures_util::future::join_all(ids.iter().map(|id| {
        app.send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/approve")))
                .json(&json!({"awarded_cents": 100_000})),
        )
    }))
    .await;
    let mut approved = 0;
    for reply in &replies {
        match reply.status {
            200 => approved += 1,
            409 | 422 => {
                let problem = reply.json();
                assert_eq!(problem["code"], "award_above_envelope", "{problem}");
                let detail = problem["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase();
                assert!(
                    detail.contains("envelope") || detail.contains("enveloppe"),
                    "{problem}"
                );
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.bytes)),
        }
    }
    assert_eq!(approved, 10);
    let call_now = app.get(&format!("/v1/calls/{call}")).await.json();
    assert_eq!(call_now["awarded_cents"], 1_000_000);
    let listed = app
        .send(staff.get(app.url(&format!(
            "/v1/dossiers?status=approved&call_id={call}&limit=200"
        ))))
        .await
        .json();
    let total: i64 = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["awarded_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1_000_000);
}
