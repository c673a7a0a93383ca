//! `/v1/dossiers/{id}/payments` and `/final-report`: an approved dossier paid, reported
//! on and closed.

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, client_with, spawn_app};
use crate::routes::dossiers::{company_with_performance, in_review, test_call};

/// A dossier of the test member's approved by `staff` for `awarded` cents (asked 1,000 €
/// of a maximum of 1,500 €), with `approval` merged into the approval's body: (its
/// performance, its id).
pub async fn approved(
    app: &TestApp,
    staff: &reqwest::Client,
    code: &str,
    awarded: i64,
    approval: Value,
) -> (String, String) {
    let (_, call) = test_call(app, staff, code, 10_000_000).await;
    let (structure, performance) = company_with_performance(app, &app.client, 300_000).await;
    let id = in_review(app, staff, &call, &structure, &performance, 100_000).await;
    let mut body = json!({"awarded_cents": awarded});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), approval.as_object()) {
        body.extend(extra.clone());
    }
    let reply = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/approve")))
                .json(&body),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", text(&reply));
    (performance, id)
}

pub fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.bytes).into_owned()
}

pub fn payment(kind: Option<&str>, amount: i64) -> Value {
    json!({"kind": kind, "amount_cents": amount, "paid_on": "2027-03-01", "reference": "MANDAT-2027-0042"})
}

pub async fn pay(app: &TestApp, staff: &reqwest::Client, id: &str, body: &Value) -> Reply {
    app.send(
        staff
            .post(app.url(&format!("/v1/dossiers/{id}/payments")))
            .json(body),
    )
    .await
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: &Value) -> Reply {
    app.send(client.post(app.url(path)).json(body)).await
}

async fn put(app: &TestApp, client: &reqwest::Client, path: &str, body: &Value) -> Reply {
    app.send(client.put(app.url(path)).json(body)).await
}

#[tokio::test]
async fn payments_follow_the_schedule_and_never_go_beyond_the_award() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, id) = approved(&app, &staff, "PAY", 100_000, json!({})).await;
    let path = format!("/v1/dossiers/{id}/payments");

    // Half now, half once the report is in; the applicant reads it too.
    let view = app.get(&path).await;
    assert_eq!(view.status, 200, "{}", text(&view));
    let view = view.json();
    assert_eq!(view["awarded_cents"], 100_000);
    assert_eq!(view["advance_basis_points"], 5000);
    assert_eq!(
        view["schedule"],
        json!([
            {"kind": "advance", "amount_cents": 50_000, "paid_cents": 0},
            {"kind": "balance", "amount_cents": 50_000, "paid_cents": 0}
        ])
    );
    assert_eq!(view["remaining_cents"], 100_000);
    assert_eq!(view["complete"], false);

    // The applicant does not pay itself.
    assert_eq!(
        pay(&app, &app.client, &id, &payment(Some("advance"), 50_000))
            .await
            .status,
        403
    );
    let version = app.get(&format!("/v1/dossiers/{id}")).await.json()["version"].clone();
    let paid = pay(&app, &staff, &id, &payment(Some("advance"), 50_000)).await;
    assert_eq!(paid.status, 201, "{}", text(&paid));
    let paid = paid.json();
    assert_eq!(paid["paid_cents"], 50_000);
    assert_eq!(paid["schedule"][0]["paid_cents"], 50_000);
    assert_eq!(paid["payments"][0]["reference"], "MANDAT-2027-0042");
    assert_eq!(paid["payments"][0]["paid_on"], "2027-03-01");
    // A payment is a change of the dossier, in the change log.
    let now = app.get(&format!("/v1/dossiers/{id}")).await.json();
    assert_eq!(now["version"], version.as_i64().unwrap() + 1);
    let feed = app
        .send(staff.get(app.url("/v1/changes?limit=200")))
        .await
        .json();
    assert!(
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["object_id"] == json!(id) && c["version"] == now["version"]),
        "{feed}"
    );

    // One cent beyond the award is refused, naming the award and what was paid.
    let beyond = pay(&app, &staff, &id, &payment(None, 50_001)).await;
    assert_eq!(beyond.status, 409, "{}", text(&beyond));
    let problem = beyond.json();
    assert_eq!(problem["code"], "payment_above_awarded");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("100000") && detail.contains("50000"),
        "{detail}"
    );

    // Every bad field at once; NUL bytes and huge input are bad fields, not a 500.
    let bad = pay(
        &app,
        &staff,
        &id,
        &json!({"kind": "bonus", "amount_cents": 0, "paid_on": "01/03/2027", "reference": " "}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", text(&bad));
    assert_eq!(
        bad.error_fields(),
        ["kind", "amount_cents", "paid_on", "reference"]
    );
    let nul = pay(
        &app,
        &staff,
        &id,
        &json!({"amount_cents": 1, "paid_on": "2027-03-01", "reference": "MANDAT\u{0}42"}),
    )
    .await;
    assert_eq!(nul.status, 422, "{}", text(&nul));
    assert_eq!(nul.error_fields(), ["reference"]);
    let huge = pay(
        &app,
        &staff,
        &id,
        &json!({"amount_cents": 1, "paid_on": "2027-03-01", "reference": "é".repeat(10_000)}),
    )
    .await;
    assert_eq!(huge.status, 422, "{}", text(&huge));
    assert_eq!(huge.error_fields(), ["reference"]);
    let unknown = pay(
        &app,
        &staff,
        &id,
        &json!({"amount_cents": 1, "paid_on": "2027-03-01", "reference": "x", "iban": "FR76"}),
    )
    .await;
    assert_eq!(unknown.status, 422, "{}", text(&unknown));

    // Staff replace the schedule: one payment of the whole award, an advance.
    let single = put(
        &app,
        &staff,
        &format!("{path}/schedule"),
        &json!({"advance_basis_points": 10000}),
    )
    .await;
    assert_eq!(single.status, 200, "{}", text(&single));
    assert_eq!(
        single.json()["schedule"],
        json!([{"kind": "advance", "amount_cents": 100_000, "paid_cents": 50_000}])
    );
    let no_balance = pay(&app, &staff, &id, &payment(Some("balance"), 1)).await;
    assert_eq!(no_balance.status, 422, "{}", text(&no_balance));
    assert_eq!(no_balance.error_fields(), ["kind"]);
    let out_of_range = put(
        &app,
        &staff,
        &format!("{path}/schedule"),
        &json!({"advance_basis_points": 10001}),
    )
    .await;
    assert_eq!(out_of_range.status, 422);
    assert_eq!(out_of_range.error_fields(), ["advance_basis_points"]);
    assert_eq!(
        put(
            &app,
            &app.client,
            &format!("{path}/schedule"),
            &json!({"advance_basis_points": 0})
        )
        .await
        .status,
        403
    );

    // A retried payment with its Idempotency-Key is paid once.
    let retried = |key: &'static str| {
        staff
            .post(app.url(&path))
            .header("Idempotency-Key", key)
            .json(&payment(None, 10_000))
    };
    let first = app.send(retried("pay-once")).await;
    let again = app.send(retried("pay-once")).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(app.get(&path).await.json()["paid_cents"], 60_000);

    // A decision that was paid stays.
    let reopen = post(
        &app,
        &staff,
        &format!("/v1/dossiers/{id}/reopen"),
        &json!({"reason": "Erreur de montant"}),
    )
    .await;
    assert_eq!(reopen.status, 409, "{}", text(&reopen));
    assert_eq!(reopen.json()["code"], "payments_recorded");

    // Another member's client sees nothing of it.
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    assert_eq!(app.send(stranger.get(app.url(&path))).await.status, 404);
    assert_eq!(
        pay(&app, &stranger, &id, &payment(None, 1)).await.status,
        404
    );
}

#[tokio::test]
async fn concurrent_payments_never_go_beyond_the_award() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, id) = approved(
        &app,
        &staff,
        "RACE",
        100_000,
        json!({"advance_basis_points": 0}),
    )
    .await;
    // Twenty payments of 100 € at once against an award of 1,000 €.
    let body = payment(None, 10_000);
    let replies =
        futures_util::future::join_all((0..20).map(|_| pay(&app, &staff, &id, &body))).await;
    let mut recorded = 0;
    for reply in &replies {
        match reply.status {
            201 => recorded += 1,
            409 => assert_eq!(reply.json()["code"], "payment_above_awarded"),
            other => panic!("{other}: {}", text(reply)),
        }
    }
    assert_eq!(recorded, 10);
    let view = app.get(&format!("/v1/dossiers/{id}/payments")).await.json();
    assert_eq!(view["paid_cents"], 100_000);
    assert_eq!(view["payments"].as_array().unwrap().len(), 10);
    assert_eq!(view["complete"], true);
}

fn report(performance: &str, attendance: i64) -> Value {
    json!({
        "held": [{"performance_id": performance, "attendance": attendance}],
        "budget": {
            "expenses": [{"category": "artistic_pay", "amount_cents": 480000}],
            "incomes": [
                {"category": "fees", "amount_cents": 380000},
                {"category": "agency_request", "amount_cents": 100000}
            ]
        },
        "comment": "Salle comble à Foix."
    })
}

#[tokio::test]
async fn a_dossier_closes_once_its_final_report_is_accepted_and_its_payments_complete() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (performance, id) = approved(&app, &staff, "CLOSE", 100_000, json!({})).await;
    let close = |client: &reqwest::Client| {
        client
            .post(app.url(&format!("/v1/dossiers/{id}/close")))
            .json(&json!({}))
    };
    let report_path = format!("/v1/dossiers/{id}/final-report");

    let refused = app.send(close(&staff)).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.json()["code"], "final_report_not_accepted");
    assert_eq!(app.get(&report_path).await.status, 404);
    // Staff decide on a report only once sent.
    let early = post(&app, &staff, &format!("{report_path}/accept"), &json!({})).await;
    assert_eq!(early.status, 409);
    assert_eq!(early.json()["code"], "final_report_not_submitted");

    // The applicant sends it; staff ask for changes; it is sent again and accepted.
    assert_eq!(
        put(&app, &staff, &report_path, &report(&performance, 120))
            .await
            .status,
        403
    );
    let sent = put(&app, &app.client, &report_path, &report(&performance, 120)).await;
    assert_eq!(sent.status, 200, "{}", text(&sent));
    let sent = sent.json();
    assert_eq!(sent["status"], "submitted");
    assert_eq!(sent["total_attendance"], 120);
    assert_eq!(sent["budget"]["balanced"], true);
    assert_eq!(
        post(
            &app,
            &app.client,
            &format!("{report_path}/accept"),
            &json!({})
        )
        .await
        .status,
        403
    );
    let changes = post(
        &app,
        &staff,
        &format!("{report_path}/request-changes"),
        &json!({"reason": "Précisez la billetterie"}),
    )
    .await;
    assert_eq!(changes.status, 200, "{}", text(&changes));
    assert_eq!(changes.json()["status"], "changes_requested");
    let again = put(&app, &app.client, &report_path, &report(&performance, 180)).await;
    assert_eq!(again.json()["status"], "submitted");
    let accepted = post(&app, &staff, &format!("{report_path}/accept"), &json!({})).await;
    assert_eq!(accepted.status, 200, "{}", text(&accepted));
    assert_eq!(accepted.json()["status"], "accepted");
    assert_eq!(accepted.json()["total_attendance"], 180);
    // Accepted is final.
    let late = put(&app, &app.client, &report_path, &report(&performance, 1)).await;
    assert_eq!(late.status, 409);
    assert_eq!(late.json()["code"], "final_report_accepted");
    assert_eq!(app.get(&report_path).await.json()["status"], "accepted");

    // The report alone does not close it: every cent awarded must be paid.
    let unpaid = app.send(close(&staff)).await;
    assert_eq!(unpaid.status, 409);
    assert_eq!(unpaid.json()["code"], "payments_incomplete");
    for kind in ["advance", "balance"] {
        let paid = pay(&app, &staff, &id, &payment(Some(kind), 50_000)).await;
        assert_eq!(paid.status, 201, "{}", text(&paid));
    }
    assert_eq!(app.send(close(&app.client)).await.status, 403);
    let closed = app.send(close(&staff)).await;
    assert_eq!(closed.status, 200, "{}", text(&closed));
    assert_eq!(closed.json()["status"], "closed");
    // Closed: no more payments.
    let after = pay(&app, &staff, &id, &payment(None, 1)).await;
    assert_eq!(after.status, 409);
    assert_eq!(after.json()["code"], "dossier_not_approved");
}

#[tokio::test]
async fn a_final_report_names_every_bad_field_and_only_the_dossiers_performances() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (performance, id) = approved(&app, &staff, "BILAN", 100_000, json!({})).await;
    let (_, other) = company_with_performance(&app, &app.client, 300_000).await;
    let path = format!("/v1/dossiers/{id}/final-report");
    let bad = put(
        &app,
        &app.client,
        &path,
        &json!({
            "held": [
                {"performance_id": other, "attendance": -1},
                {"performance_id": performance, "attendance": 10},
                {"performance_id": performance, "attendance": 1_000_001}
            ],
            "budget": {"expenses": [{"category": "yachts", "amount_cents": 1}]},
            "comment": " "
        }),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", text(&bad));
    let fields = bad.error_fields();
    for field in [
        "held",
        "held[0].performance_id",
        "held[0].attendance",
        "held[2].performance_id",
        "held[2].attendance",
        "budget.expenses[0].category",
        "comment",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    // A NUL byte is refused as the body is read, naming its field.
    let nul = put(
        &app,
        &app.client,
        &path,
        &json!({"held": [], "comment": "nul\u{0}"}),
    )
    .await;
    assert_eq!(nul.status, 422, "{}", text(&nul));
    assert_eq!(nul.error_fields(), ["comment"]);
    let not_an_id = put(
        &app,
        &app.client,
        &path,
        &json!({"held": [{"performance_id": "nope", "attendance": 1}]}),
    )
    .await;
    assert_eq!(not_an_id.status, 422, "{}", text(&not_an_id));
    assert!(not_an_id.error_fields()[0].starts_with("held[0]"));
    // Nothing was stored.
    assert_eq!(app.get(&path).await.status, 404);
    // A report with no performance held is a report (all cancelled).
    let none_held = put(&app, &app.client, &path, &json!({"held": [], "budget": {}})).await;
    assert_eq!(none_held.status, 200, "{}", text(&none_held));
    // Others' dossiers: not found, whatever the body.
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    assert_eq!(
        put(&app, &stranger, &path, &report(&performance, 1))
            .await
            .status,
        404
    );
    assert_eq!(
        app.send(stranger.put(app.url(&path)).body("{"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn payments_and_final_reports_wait_for_the_approval() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "WAIT", 1_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let id = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    let view = app.get(&format!("/v1/dossiers/{id}/payments")).await;
    assert_eq!(view.status, 200);
    assert_eq!(view.json()["awarded_cents"], Value::Null);
    assert_eq!(view.json()["schedule"], json!([]));
    let early = pay(&app, &staff, &id, &payment(None, 1)).await;
    assert_eq!(early.status, 409);
    assert_eq!(early.json()["code"], "dossier_not_approved");
    let report = put(
        &app,
        &app.client,
        &format!("/v1/dossiers/{id}/final-report"),
        &report(&performance, 1),
    )
    .await;
    assert_eq!(report.status, 409);
    assert_eq!(report.json()["code"], "dossier_not_approved");
    // An approval with a bad schedule is a 422 naming it, and approves nothing.
    let bad = post(
        &app,
        &staff,
        &format!("/v1/dossiers/{id}/approve"),
        &json!({"awarded_cents": 100_000, "advance_basis_points": -1}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", text(&bad));
    assert_eq!(bad.error_fields(), ["advance_basis_points"]);
    assert_eq!(
        app.get(&format!("/v1/dossiers/{id}")).await.json()["status"],
        "in_review"
    );
    // A reopened approval with nothing paid is reopened, its schedule gone with the award.
    let approve = post(
        &app,
        &staff,
        &format!("/v1/dossiers/{id}/approve"),
        &json!({"awarded_cents": 100_000, "advance_basis_points": 3000}),
    )
    .await;
    assert_eq!(approve.status, 200, "{}", text(&approve));
    let view = app.get(&format!("/v1/dossiers/{id}/payments")).await.json();
    assert_eq!(view["schedule"][0]["amount_cents"], 30_000);
    let reopen = post(
        &app,
        &staff,
        &format!("/v1/dossiers/{id}/reopen"),
        &json!({"reason": "Nouvel examen"}),
    )
    .await;
    assert_eq!(reopen.status, 200, "{}", text(&reopen));
    let view = app.get(&format!("/v1/dossiers/{id}/payments")).await.json();
    assert_eq!(view["schedule"], json!([]));
}
