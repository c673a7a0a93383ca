//! The whole life of a dossier as the grants issue promises it: a script (an API client
//! with `dossiers:write`) takes it from nothing to closed, and the only human steps are
//! the agency's decisions (staff and reviewers).

use serde_json::{Value, json};

use crate::helpers::{Reply, open_call, programme, spawn_app};
use crate::routes::documents::{PDF, Part};
use crate::routes::dossiers::{company_with_performance, dossier};
use crate::routes::instruction::{assigned, criteria, good_scores, reviewer};
use crate::routes::payments::{payment, text};
use crate::routes::productions::partner;

/// The `code` of every problem of a check.
fn problem_codes(check: &Value) -> Vec<&str> {
    check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect()
}

/// An entry of a dossier's history as `kind:what` (`transition:submit`,
/// `payment:advance`…).
fn step(entry: &Value) -> String {
    let what = match entry["kind"].as_str().unwrap() {
        "transition" | "final_report" => &entry["action"],
        "document_added" | "document_removed" => &entry["document_kind"],
        "payment" => &entry["payment_kind"],
        _ => &Value::Null,
    };
    format!(
        "{}:{}",
        entry["kind"].as_str().unwrap(),
        what.as_str().unwrap_or("?")
    )
}

fn ok(reply: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(reply.status, status, "{what}: {}", text(reply));
    reply.json()
}

#[tokio::test]
async fn a_script_takes_a_dossier_from_nothing_to_closed_as_an_api_client_alone() {
    let app = spawn_app().await;

    // 1. Staff: a programme scored on three criteria that asks for a cession contract,
    // and an open call of it.
    let staff = app.staff("staff@agency.example").await;
    let mut body = programme("CYCLE");
    body["rules"]["documents"] = json!(["cession_contract"]);
    body["rules"]["amounts"]["yearly_caps"] = json!([]);
    body["review_criteria"] = criteria();
    let made = app.create_with(&staff, "/v1/programmes", &body).await;
    assert_eq!(made["review_criteria"].as_array().unwrap().len(), 3);
    let programme_id = made["id"].as_str().unwrap().to_owned();
    let call = app
        .create_with(&staff, "/v1/calls", &open_call(&programme_id, 10_000_000))
        .await;
    assert_eq!(call["state"], "open", "{call}");
    let call = call["id"].as_str().unwrap().to_owned();

    // The applicant's company, its performance (a cession of 3,000 €) and its script.
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let script = partner(&app, &app.client, &structure, &["dossiers:write"]).await;

    // 2. The script files the dossier; a retry with the same key replays it.
    let filed = dossier(&call, &structure, &[&performance], 100_000);
    let create = || {
        script
            .post(app.url("/v1/dossiers"))
            .header("Idempotency-Key", "cycle-dossier-0001")
            .json(&filed)
    };
    let first = app.send(create()).await;
    let made = ok(&first, 201, "creation");
    assert_eq!(first.header("idempotent-replayed"), None);
    let retried = app.send(create()).await;
    assert_eq!(ok(&retried, 201, "replay"), made);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    let id = made["id"].as_str().unwrap().to_owned();
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y")
        .to_string();
    assert_eq!(made["reference"], format!("CYCLE-{year}-0001"));
    assert_eq!(made["status"], "draft");
    assert_eq!(made["requested_cents"], 100_000);
    // Half of 3,000 €.
    assert_eq!(made["maximum"]["total_cents"], 150_000);
    assert_eq!(made["maximum"]["limited_by"], "rate");
    let listed = app
        .send(script.get(app.url(&format!("/v1/dossiers?call_id={call}"))))
        .await;
    assert_eq!(
        ok(&listed, 200, "list")["data"].as_array().unwrap().len(),
        1,
        "the replay made no second dossier"
    );
    let created_etag = first.header("etag").unwrap().to_owned();
    let dossier_url = app.url(&format!("/v1/dossiers/{id}"));
    let post = |client: &reqwest::Client, action: &str, body: Value| {
        client.post(format!("{dossier_url}/{action}")).json(&body)
    };

    // The check names the missing contract, and the submission refuses it likewise.
    let check = ok(
        &app.send(post(&script, "check", json!({}))).await,
        200,
        "check",
    );
    assert_eq!(problem_codes(&check), ["document_missing"], "{check}");
    assert_eq!(check["problems"][0]["field"], "documents");
    assert_eq!(check["submittable"], false);
    let early = app.send(post(&script, "submit", json!({}))).await;
    assert_eq!(early.status, 422, "{}", text(&early));
    let uploaded = app
        .upload_with(
            &script,
            &id,
            &[
                Part::Text("kind", "cession_contract"),
                Part::File("file", Some(b"contrat-cession.pdf"), "application/pdf", PDF),
            ],
        )
        .await;
    let document = ok(&uploaded, 201, "upload");
    assert_eq!(document["kind"], "cession_contract");
    assert_eq!(document["media_type"], "application/pdf");
    let check = ok(
        &app.send(post(&script, "check", json!({}))).await,
        200,
        "check",
    );
    assert_eq!(check["problems"], json!([]), "{check}");
    assert_eq!(check["submittable"], true);
    let submitted = ok(
        &app.send(post(&script, "submit", json!({}))).await,
        200,
        "submit",
    );
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submitted_at"].is_string());

    // 3. Staff ask for changes; the script edits with a merge patch under If-Match.
    let asked = ok(
        &app.send(post(
            &staff,
            "request-changes",
            json!({"reason": "Précisez le budget"}),
        ))
        .await,
        200,
        "request changes",
    );
    assert_eq!(asked["status"], "changes_requested");
    let read = app.send(script.get(&dossier_url)).await;
    let before = ok(&read, 200, "read");
    let etag = read.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"v{}\"", before["version"]));
    let patch = json!({
        "summary": "Deux dates en Ariège, budget précisé.",
        "budget": {
            "expenses": [{"category": "artistic_pay", "amount_cents": 500000}],
            "incomes": [
                {"category": "fees", "amount_cents": 380000},
                {"category": "agency_request", "amount_cents": 120000}
            ]
        }
    });
    let stale = app
        .send(
            script
                .patch(&dossier_url)
                .header("If-Match", &created_etag)
                .json(&patch),
        )
        .await;
    assert_eq!(stale.status, 412, "{}", text(&stale));
    let edited_reply = app
        .send(
            script
                .patch(&dossier_url)
                .header("If-Match", &etag)
                .json(&patch),
        )
        .await;
    let edited = ok(&edited_reply, 200, "edit");
    assert_eq!(edited["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(
        edited["title"], made["title"],
        "a merge patch keeps the rest"
    );
    assert_eq!(edited["answers"], made["answers"]);
    assert_eq!(edited["summary"], "Deux dates en Ariège, budget précisé.");
    assert_eq!(edited["requested_cents"], 120_000);
    assert_eq!(edited["budget"]["balanced"], true);
    assert_eq!(edited["status"], "changes_requested");
    let resubmitted = ok(
        &app.send(post(&script, "submit", json!({}))).await,
        200,
        "resubmit",
    );
    assert_eq!(resubmitted["status"], "submitted");

    // 4. Two reviewers: one declares a conflict of interest, the other scores.
    let (conflicted, conflicted_id) = reviewer(&app, "conflicted@agency.example").await;
    let (scorer, scorer_id) = reviewer(&app, "scorer@agency.example").await;
    let conflicted_review = assigned(&app, &staff, &id, &conflicted_id).await;
    let scored_review = assigned(&app, &staff, &id, &scorer_id).await;
    let reviews = format!("{dossier_url}/reviews");
    assert_eq!(app.send(conflicted.get(&dossier_url)).await.status, 200);
    let declared = ok(
        &app.send(
            conflicted
                .post(format!("{reviews}/{conflicted_review}/conflict"))
                .json(&json!({"reason": "Je siège au conseil de la compagnie."})),
        )
        .await,
        200,
        "conflict",
    );
    assert_eq!(declared["status"], "conflicted");
    assert_eq!(app.send(conflicted.get(&dossier_url)).await.status, 404);
    assert_eq!(app.send(scorer.get(&dossier_url)).await.status, 200);
    let scored = ok(
        &app.send(
            scorer
                .put(format!("{reviews}/{scored_review}"))
                .json(&good_scores()),
        )
        .await,
        200,
        "score",
    );
    assert_eq!(scored["status"], "scored");
    let all = ok(&app.send(staff.get(&reviews)).await, 200, "reviews");
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let summary = &all["summary"];
    assert_eq!(summary["reviews"], 2, "{summary}");
    assert_eq!(summary["scored"], 1);
    assert_eq!(summary["conflicts"], 1);
    assert_eq!(summary["criteria"][0]["mean"], 8.0);
    assert_eq!(summary["criteria"][1]["mean"], 6.0);
    assert_eq!(summary["criteria"][2]["mean"], 4.0);
    // 8 × 1 + 6 × 2 + 4 × 1, out of 10 + 20 + 5.
    assert_eq!(summary["weighted_total"], 24.0);
    assert_eq!(summary["weighted_max"], 35);
    assert_eq!(app.send(script.get(&reviews)).await.status, 404);
    // A note staff keep to themselves.
    let note = app
        .send(
            staff
                .post(format!("{dossier_url}/notes"))
                .json(&json!({"body": "Note interne : dossier prioritaire."})),
        )
        .await;
    ok(&note, 201, "note");

    // 5. Staff review and approve within the computed maximum, setting the schedule.
    let in_review = ok(
        &app.send(post(&staff, "start-review", json!({}))).await,
        200,
        "start review",
    );
    assert_eq!(in_review["status"], "in_review");
    let now = ok(&app.send(staff.get(&dossier_url)).await, 200, "read");
    let maximum = now["maximum"]["total_cents"].as_i64().unwrap();
    assert_eq!(maximum, 150_000);
    let by_script = app
        .send(post(&script, "approve", json!({"awarded_cents": 120_000})))
        .await;
    assert_eq!(by_script.status, 403, "{}", text(&by_script));
    assert_eq!(by_script.json()["code"], "transition_not_permitted");
    let above = app
        .send(post(
            &staff,
            "approve",
            json!({"awarded_cents": maximum + 1}),
        ))
        .await;
    assert_eq!(above.status, 422, "{}", text(&above));
    assert_eq!(above.json()["code"], "award_above_maximum");
    let approved = ok(
        &app.send(post(
            &staff,
            "approve",
            json!({"awarded_cents": 120_000, "advance_basis_points": 3000, "reason": "Avis favorable du comité"}),
        ))
        .await,
        200,
        "approve",
    );
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["awarded_cents"], 120_000);
    assert!(approved["decided_at"].is_string());
    let payments_url = format!("{dossier_url}/payments");
    let schedule = ok(&app.send(script.get(&payments_url)).await, 200, "payments");
    assert_eq!(schedule["awarded_cents"], 120_000);
    assert_eq!(schedule["advance_basis_points"], 3000);
    assert_eq!(
        schedule["schedule"],
        json!([
            {"kind": "advance", "amount_cents": 36_000, "paid_cents": 0},
            {"kind": "balance", "amount_cents": 84_000, "paid_cents": 0}
        ])
    );
    assert_eq!(schedule["complete"], false);

    // 6. Staff pay the schedule, never beyond the award.
    let pay = |body: Value| staff.post(&payments_url).json(&body);
    let advance = ok(
        &app.send(pay(payment(Some("advance"), 36_000))).await,
        201,
        "advance",
    );
    assert_eq!(advance["remaining_cents"], 84_000);
    let beyond = app.send(pay(payment(Some("balance"), 84_001))).await;
    assert_eq!(beyond.status, 409, "{}", text(&beyond));
    assert_eq!(beyond.json()["code"], "payment_above_awarded");
    let balance = ok(
        &app.send(pay(payment(Some("balance"), 84_000))).await,
        201,
        "balance",
    );
    assert_eq!(balance["paid_cents"], 120_000);
    assert_eq!(balance["remaining_cents"], 0);
    assert_eq!(balance["complete"], true);
    let beyond = app.send(pay(payment(None, 1))).await;
    assert_eq!(beyond.status, 409, "{}", text(&beyond));
    assert_eq!(beyond.json()["code"], "payment_above_awarded");

    // The script sends the final report; staff accept it and close the dossier.
    let report_url = format!("{dossier_url}/final-report");
    let sent = ok(
        &app.send(script.put(&report_url).json(&json!({
            "held": [{"performance_id": performance, "attendance": 140}],
            "budget": {
                "expenses": [{"category": "artistic_pay", "amount_cents": 480000}],
                "incomes": [
                    {"category": "fees", "amount_cents": 360000},
                    {"category": "agency_request", "amount_cents": 120000}
                ]
            },
            "comment": "Salle comble à Foix."
        })))
        .await,
        200,
        "final report",
    );
    assert_eq!(sent["status"], "submitted");
    assert_eq!(sent["total_attendance"], 140);
    assert_eq!(sent["budget"]["balanced"], true);
    let accepted = ok(
        &app.send(staff.post(format!("{report_url}/accept")).json(&json!({})))
            .await,
        200,
        "accept report",
    );
    assert_eq!(accepted["status"], "accepted");
    let by_script = app.send(post(&script, "close", json!({}))).await;
    assert_eq!(by_script.status, 403, "{}", text(&by_script));
    let closed = ok(
        &app.send(post(&staff, "close", json!({}))).await,
        200,
        "close",
    );
    assert_eq!(closed["status"], "closed");
    let read = ok(&app.send(script.get(&dossier_url)).await, 200, "read");
    assert_eq!(read["status"], "closed");
    assert_eq!(read["awarded_cents"], 120_000);

    // 7. The history, as the script reads it: every step in order, nothing of the
    // reviews nor of the note.
    let history = app.send(script.get(format!("{dossier_url}/history"))).await;
    let entries = ok(&history, 200, "history")["data"]
        .as_array()
        .unwrap()
        .clone();
    let steps: Vec<String> = entries.iter().map(step).collect();
    assert_eq!(
        steps,
        [
            "document_added:cession_contract",
            "transition:submit",
            "transition:request_changes",
            "transition:submit",
            "transition:start_review",
            "transition:approve",
            "payment:advance",
            "payment:balance",
            "final_report:submit",
            "final_report:accept",
            "transition:close",
        ],
        "{}",
        text(&history)
    );
    let transitions: Vec<(&str, &str, &str)> = entries
        .iter()
        .filter(|e| e["kind"] == "transition")
        .map(|e| {
            (
                e["from_status"].as_str().unwrap(),
                e["to_status"].as_str().unwrap(),
                e["actor_kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        transitions,
        [
            ("draft", "submitted", "client"),
            ("submitted", "changes_requested", "account"),
            ("changes_requested", "submitted", "client"),
            ("submitted", "in_review", "account"),
            ("in_review", "approved", "account"),
            ("approved", "closed", "account"),
        ]
    );
    assert_eq!(entries[0]["document_id"], document["id"]);
    assert_eq!(entries[0]["actor_kind"], "client");
    assert_eq!(entries[2]["reason"], "Précisez le budget");
    assert_eq!(entries[5]["awarded_cents"], 120_000);
    assert_eq!(entries[5]["reason"], "Avis favorable du comité");
    assert_eq!(entries[6]["amount_cents"], 36_000);
    assert_eq!(entries[7]["amount_cents"], 84_000);
    assert_eq!(entries[8]["actor_kind"], "client");
    let instants: Vec<chrono::DateTime<chrono::Utc>> = entries
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(instants.windows(2).all(|w| w[0] <= w[1]), "{instants:?}");
    let said = text(&history);
    for secret in [
        "Note interne",
        "Je siège au conseil",
        "Projet solide",
        &conflicted_id,
        &scorer_id,
        &conflicted_review,
        &scored_review,
    ] {
        assert!(!said.contains(secret), "{secret} in the history: {said}");
    }
}
