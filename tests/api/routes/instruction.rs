//! Instruction of dossiers: messages, private staff notes, reviewers and their reviews.

use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, client_with, spawn_app};
use crate::routes::dossiers::{company_with_performance, dossier, test_call};
use crate::routes::productions::partner;

/// The criteria the test programme scores against.
pub(crate) fn criteria() -> Value {
    json!([
        {"key": "ancrage_territorial", "label": "Ancrage territorial", "max_score": 10},
        {"key": "qualite_artistique", "label": "Qualité artistique", "max_score": 10, "weight": 2},
        {"key": "budget_realiste", "label": "Budget réaliste", "max_score": 5},
    ])
}

/// Everything a test of the instruction needs: a submitted dossier of the test member's
/// company, in a programme with review criteria, and staff.
struct Instruction {
    staff: reqwest::Client,
    dossier: String,
    structure: String,
}

async fn instruction(app: &TestApp) -> Instruction {
    let staff = app.staff("staff@agency.example").await;
    let (programme, call) = test_call(app, &staff, "DIFF", 10_000_000).await;
    let patched = app
        .send(
            staff
                .patch(app.url(&format!("/v1/programmes/{programme}")))
                .json(&json!({"review_criteria": criteria()})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", text(&patched));
    let (structure, performance) = company_with_performance(app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 150_000),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let submitted = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(submitted.status, 200, "{}", text(&submitted));
    Instruction {
        staff,
        dossier: id,
        structure,
    }
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.bytes).into_owned()
}

/// A reviewer's client and account id.
pub(crate) async fn reviewer(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let client = client_with(Some(&app.agency_account(email, AgencyRole::Reviewer).await));
    let me = app.send(client.get(app.url("/v1/me"))).await;
    (client, me.json()["id"].as_str().unwrap().to_owned())
}

async fn assign(app: &TestApp, staff: &reqwest::Client, dossier: &str, reviewer: &str) -> Reply {
    app.send(
        staff
            .post(app.url(&format!("/v1/dossiers/{dossier}/reviews")))
            .json(&json!({"reviewer_id": reviewer})),
    )
    .await
}

pub(crate) async fn assigned(
    app: &TestApp,
    staff: &reqwest::Client,
    dossier: &str,
    reviewer: &str,
) -> String {
    let reply = assign(app, staff, dossier, reviewer).await;
    assert_eq!(reply.status, 201, "{}", text(&reply));
    reply.json()["id"].as_str().unwrap().to_owned()
}

pub(crate) fn good_scores() -> Value {
    json!({
        "scores": {"ancrage_territorial": 8, "qualite_artistique": 6, "budget_realiste": 4},
        "comment": "Projet solide, budget prudent."
    })
}

#[tokio::test]
async fn messages_go_between_the_applicant_and_staff_and_every_reader_reads_them() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let path = format!("/v1/dossiers/{}/messages", world.dossier);
    let asked = app
        .post_json(
            &path,
            &json!({"body": "Bonjour,\n\tle budget est-il complet ? 🎭 ‏עברית"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{}", text(&asked));
    let asked = asked.json();
    assert_eq!(asked["author_side"], "applicant");
    assert_eq!(asked["author_kind"], "account");
    assert!(asked["created_at"].is_string());
    let answered = app
        .send(
            world
                .staff
                .post(app.url(&path))
                .json(&json!({"body": "Oui, merci."})),
        )
        .await;
    assert_eq!(answered.status, 201);
    assert_eq!(answered.json()["author_side"], "staff");
    let filer = partner(&app, &app.client, &world.structure, &["dossiers:write"]).await;
    let scripted = app
        .send(
            filer
                .post(app.url(&path))
                .json(&json!({"body": "Pièce jointe envoyée."})),
        )
        .await;
    assert_eq!(scripted.status, 201);
    assert_eq!(scripted.json()["author_kind"], "client");
    assert_eq!(scripted.json()["author_side"], "applicant");

    // Oldest first, a page at a time.
    let first = app.get(&format!("{path}?limit=2")).await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["data"][0]["id"], asked["id"]);
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{path}?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(app.get(&format!("{path}?cursor=bm9wZQ")).await.status, 400);

    // A viewer reads them but writes none; a stranger does not see the dossier.
    let viewer = client_with(Some(&app.sign_up("viewer@example.org").await));
    app.add_member(
        &app.client,
        &world.structure,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    assert_eq!(app.send(viewer.get(app.url(&path))).await.status, 200);
    let refused = app
        .send(
            viewer
                .post(app.url(&path))
                .json(&json!({"body": "Moi aussi"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    assert_eq!(app.send(stranger.get(app.url(&path))).await.status, 404);
    let probing = app
        .send(
            stranger
                .post(app.url(&path))
                .json(&json!({"body": "a\u{0}b"})),
        )
        .await;
    assert_eq!(
        probing.status, 404,
        "a body's problem is not told to strangers"
    );
}

#[tokio::test]
async fn a_bad_message_is_a_problem_naming_its_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let path = format!("/v1/dossiers/{}/messages", world.dossier);
    for (body, code) in [
        (json!({"body": "a\u{0}b"}), "control_character"),
        (json!({"body": "bip\u{7}"}), "control_character"),
        (json!({"body": " \n\t "}), "blank"),
        (json!({"body": "é".repeat(10_001)}), "too_long"),
        (json!({"body": 12}), "invalid_value"),
        (json!({}), "required"),
    ] {
        let reply = app.post_json(&path, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", text(&reply));
        assert_eq!(reply.error_fields(), ["body"], "{}", text(&reply));
        assert!(text(&reply).contains(code), "{code}: {}", text(&reply));
    }
    let huge = app
        .post_json(&path, &json!({"body": "x".repeat(3_000_000)}))
        .await;
    assert_eq!(huge.status, 413);
    for notes in [
        format!("/v1/dossiers/{}/notes", world.dossier),
        path.clone(),
    ] {
        let reply = app
            .send(
                world
                    .staff
                    .post(app.url(&notes))
                    .json(&json!({"body": "\u{0}"})),
            )
            .await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.error_fields(), ["body"]);
    }
    assert_eq!(app.get(&path).await.json()["data"], json!([]));
}

#[tokio::test]
async fn a_message_sent_twice_with_one_idempotency_key_is_stored_once() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let path = format!("/v1/dossiers/{}/messages", world.dossier);
    let send = |body: &'static str| {
        app.client
            .post(app.url(&path))
            .header("Idempotency-Key", "message-1")
            .json(&json!({"body": body}))
    };
    let first = app.send(send("Bonjour")).await;
    let again = app.send(send("Bonjour")).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(app.send(send("Autre chose")).await.status, 422);
    assert_eq!(
        app.get(&path).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_dossiers_history_holds_its_messages_in_order_and_never_its_notes() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let d = &world.dossier;
    for (client, path, body) in [
        (&app.client, "messages", "Premier message"),
        (&world.staff, "notes", "Première note"),
        (&world.staff, "messages", "Deuxième message"),
        (&world.staff, "notes", "Deuxième note"),
    ] {
        let reply = app
            .send(
                client
                    .post(app.url(&format!("/v1/dossiers/{d}/{path}")))
                    .json(&json!({"body": body})),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    for reader in [&app.client, &world.staff] {
        let history = app
            .send(reader.get(app.url(&format!("/v1/dossiers/{d}/history"))))
            .await;
        assert_eq!(history.status, 200, "{}", text(&history));
        let entries = history.json()["data"].as_array().unwrap().clone();
        let messages: Vec<&str> = entries
            .iter()
            .filter(|e| e["kind"] == "message")
            .map(|e| e["body"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["Premier message", "Deuxième message"]);
        // The submission came before both messages, and the entries are in time order.
        assert_eq!(entries[0]["kind"], "transition");
        let times: Vec<&str> = entries
            .iter()
            .map(|e| {
                e["occurred_at"]
                    .as_str()
                    .or(e["created_at"].as_str())
                    .unwrap()
            })
            .collect();
        let instants: Vec<chrono::DateTime<chrono::Utc>> =
            times.iter().map(|t| t.parse().unwrap()).collect();
        assert!(instants.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        for note in ["Première note", "Deuxième note"] {
            assert!(!text(&history).contains(note), "{}", text(&history));
        }
    }
}

/// Every response about the dossier an applicant-side caller can get, with its path.
async fn everything_seen_by(
    app: &TestApp,
    client: &reqwest::Client,
    dossier: &str,
) -> Vec<(String, u16, String)> {
    let mut seen = Vec::new();
    for path in [
        format!("/v1/dossiers/{dossier}"),
        "/v1/dossiers".to_owned(),
        "/v1/dossiers?status=submitted".to_owned(),
        format!("/v1/dossiers/{dossier}/history"),
        format!("/v1/dossiers/{dossier}/messages"),
        format!("/v1/dossiers/{dossier}/notes"),
        format!("/v1/dossiers/{dossier}/reviews"),
        "/v1/changes".to_owned(),
        "/v1/audit-events".to_owned(),
        "/v1/me/export".to_owned(),
    ] {
        let reply = app.send(client.get(app.url(&path))).await;
        seen.push((format!("GET {path}"), reply.status, text(&reply)));
    }
    let check = app
        .send(client.post(app.url(&format!("/v1/dossiers/{dossier}/check"))))
        .await;
    seen.push(("POST check".into(), check.status, text(&check)));
    seen
}

#[tokio::test]
async fn notes_are_never_visible_to_the_applicant_anywhere() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let notes = format!("/v1/dossiers/{}/notes", world.dossier);
    let secret = "NOTE-SECRETE-7f3a: la compagnie semble fragile";
    let written = app
        .send(
            world
                .staff
                .post(app.url(&notes))
                .json(&json!({"body": secret})),
        )
        .await;
    assert_eq!(written.status, 201, "{}", text(&written));
    let note_id = written.json()["id"].as_str().unwrap().to_owned();
    // Staff read it back.
    let listed = app.send(world.staff.get(app.url(&notes))).await;
    assert_eq!(listed.json()["data"][0]["body"], secret);
    // A message, so that the messages list is not trivially empty.
    app.post_json(
        &format!("/v1/dossiers/{}/messages", world.dossier),
        &json!({"body": "Question du porteur"}),
    )
    .await;

    let reader = partner(&app, &app.client, &world.structure, &["read"]).await;
    let filer = partner(&app, &app.client, &world.structure, &["dossiers:write"]).await;
    let (reviewer, reviewer_id) = reviewer(&app, "reviewer@agency.example").await;
    assigned(&app, &world.staff, &world.dossier, &reviewer_id).await;
    for (who, client) in [
        ("owner", &app.client),
        ("read client", &reader),
        ("dossiers:write client", &filer),
        ("reviewer", &reviewer),
    ] {
        for (what, status, body) in everything_seen_by(&app, client, &world.dossier).await {
            assert!(
                !body.contains("NOTE-SECRETE") && !body.contains(&note_id),
                "{who}: {what} ({status}) shows the note: {body}"
            );
        }
        // The notes do not exist for them, whatever they send.
        assert_eq!(
            app.send(client.get(app.url(&notes))).await.status,
            404,
            "{who}"
        );
        for body in [
            json!({"body": "Moi"}),
            json!({"body": "\u{0}"}),
            json!({"x": 1}),
        ] {
            let reply = app.send(client.post(app.url(&notes)).json(&body)).await;
            assert_eq!(reply.status, 404, "{who} {body}");
        }
        // Bad parameters tell nothing more than for a dossier that does not exist.
        for query in ["limit=0", "limit=0&cursor=bm9wZQ", "cursor=%00"] {
            let hidden = app
                .send(client.get(app.url(&format!("{notes}?{query}"))))
                .await;
            let missing = app
                .send(client.get(app.url(&format!(
                    "/v1/dossiers/{}/notes?{query}",
                    uuid::Uuid::now_v7()
                ))))
                .await;
            assert_eq!(hidden.status, missing.status, "{who} {query}");
        }
    }
    // The 404 of the notes is word for word a missing dossier's.
    let missing = app
        .get(&format!("/v1/dossiers/{}/notes", uuid::Uuid::now_v7()))
        .await;
    let hidden = app.get(&notes).await;
    let strip = |v: Value| {
        let mut v = v;
        v.as_object_mut().unwrap().remove("instance");
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(strip(missing.json()), strip(hidden.json()));
}

#[tokio::test]
async fn programmes_carry_review_criteria_checked_field_by_field() {
    let app = spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let mut body = crate::helpers::programme("CRIT");
    let plain = app.create_with(&staff, "/v1/programmes", &body).await;
    assert_eq!(plain["review_criteria"], json!([]), "none by default");
    body["code"] = json!("CRIT-2");
    body["review_criteria"] = json!([
        {"key": "qualite", "label": "Qualité", "max_score": 10},
        {"key": "qualite", "label": "Bis", "max_score": 0, "weight": 500},
        {"key": "Bad Key", "label": " ", "max_score": 5.0},
    ]);
    let refused = app
        .send(staff.post(app.url("/v1/programmes")).json(&body))
        .await;
    assert_eq!(refused.status, 422, "{}", text(&refused));
    assert_eq!(
        refused.error_fields(),
        [
            "review_criteria[1].key",
            "review_criteria[1].max_score",
            "review_criteria[1].weight",
            "review_criteria[2].key",
            "review_criteria[2].label",
        ]
    );
    body["review_criteria"] = criteria();
    let made = app.create_with(&staff, "/v1/programmes", &body).await;
    assert_eq!(made["review_criteria"][0]["weight"], 1);
    assert_eq!(made["review_criteria"][1]["weight"], 2);
    let id = made["id"].as_str().unwrap();
    let kept = app
        .send(
            staff
                .patch(app.url(&format!("/v1/programmes/{id}")))
                .json(&json!({"name": "Renommé"})),
        )
        .await;
    assert_eq!(kept.json()["review_criteria"], made["review_criteria"]);
    let cleared = app
        .send(
            staff
                .patch(app.url(&format!("/v1/programmes/{id}")))
                .json(&json!({"review_criteria": []})),
        )
        .await;
    assert_eq!(cleared.json()["review_criteria"], json!([]));
}

#[tokio::test]
async fn reviewers_score_their_own_review_and_staff_read_every_score_and_the_summary() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let (first, first_id) = reviewer(&app, "first@agency.example").await;
    let (second, second_id) = reviewer(&app, "second@agency.example").await;
    let (outsider, _) = reviewer(&app, "outsider@agency.example").await;
    let review_1 = assigned(&app, &world.staff, &world.dossier, &first_id).await;
    let review_2 = assigned(&app, &world.staff, &world.dossier, &second_id).await;
    let reviews = format!("/v1/dossiers/{}/reviews", world.dossier);

    // Each reviewer reads the dossier and lists it; the outsider sees nothing.
    let dossier_path = format!("/v1/dossiers/{}", world.dossier);
    assert_eq!(
        app.send(first.get(app.url(&dossier_path))).await.status,
        200
    );
    let listed = app.send(first.get(app.url("/v1/dossiers"))).await.json();
    assert_eq!(listed["data"][0]["id"], world.dossier.as_str());
    assert_eq!(
        app.send(outsider.get(app.url(&dossier_path))).await.status,
        404
    );
    let none = app.send(outsider.get(app.url("/v1/dossiers"))).await.json();
    assert_eq!(none["data"], json!([]));
    assert_eq!(app.send(outsider.get(app.url(&reviews))).await.status, 404);

    // Every problem of the scores is named.
    let review_path = format!("{reviews}/{review_1}");
    let refused = app
        .send(first.put(app.url(&review_path)).json(&json!({
            "scores": {"ancrage_territorial": 11, "qualite_artistique": -1, "autre": 3},
            "comment": "a\u{0}"
        })))
        .await;
    assert_eq!(refused.status, 422, "{}", text(&refused));
    assert_eq!(refused.error_fields(), ["comment"]);
    let refused = app
        .send(first.put(app.url(&review_path)).json(&json!({
            "scores": {"ancrage_territorial": 11, "qualite_artistique": -1, "autre": 3.5},
        })))
        .await;
    assert_eq!(refused.status, 422, "{}", text(&refused));
    let refused = app
        .send(first.put(app.url(&review_path)).json(&json!({
            "scores": {"ancrage_territorial": 11, "qualite_artistique": -1, "autre": 3},
        })))
        .await;
    assert_eq!(
        refused.error_fields(),
        [
            "scores.ancrage_territorial",
            "scores.qualite_artistique",
            "scores.budget_realiste",
            "scores.autre"
        ],
        "{}",
        text(&refused)
    );

    let scored = app
        .send(first.put(app.url(&review_path)).json(&good_scores()))
        .await;
    assert_eq!(scored.status, 200, "{}", text(&scored));
    assert_eq!(scored.json()["status"], "scored");
    let etag = scored.header("etag").unwrap().to_owned();
    let stale = app
        .send(
            first
                .put(app.url(&review_path))
                .header("If-Match", "\"1\"")
                .json(&good_scores()),
        )
        .await;
    assert_eq!(stale.status, 412);
    let again = app
        .send(
            first
                .put(app.url(&review_path))
                .header("If-Match", etag)
                .json(&good_scores()),
        )
        .await;
    assert_eq!(again.status, 200);
    let second_scores = json!({
        "scores": {"ancrage_territorial": 6, "qualite_artistique": 9, "budget_realiste": 2.0}
    });
    let scored = app
        .send(
            second
                .put(app.url(&format!("{reviews}/{review_2}")))
                .json(&second_scores),
        )
        .await;
    assert_eq!(scored.status, 200, "{}", text(&scored));

    // A reviewer sees its own review only; another's is a 404 to it.
    let own = app.send(first.get(app.url(&reviews))).await.json();
    assert_eq!(own["data"].as_array().unwrap().len(), 1);
    assert_eq!(own["data"][0]["id"], review_1.as_str());
    assert_eq!(own["summary"], Value::Null);
    let other = app
        .send(first.get(app.url(&format!("{reviews}/{review_2}"))))
        .await;
    assert_eq!(other.status, 404);
    let other = app
        .send(
            first
                .put(app.url(&format!("{reviews}/{review_2}")))
                .json(&good_scores()),
        )
        .await;
    assert_eq!(other.status, 404);
    // Reviewers read no notes, and do not write messages (they read them).
    let notes = format!("/v1/dossiers/{}/notes", world.dossier);
    assert_eq!(app.send(first.get(app.url(&notes))).await.status, 404);
    let messages = format!("/v1/dossiers/{}/messages", world.dossier);
    assert_eq!(app.send(first.get(app.url(&messages))).await.status, 200);
    let said = app
        .send(
            first
                .post(app.url(&messages))
                .json(&json!({"body": "Avis"})),
        )
        .await;
    assert_eq!(said.status, 403);
    // Staff do not score.
    let by_staff = app
        .send(world.staff.put(app.url(&review_path)).json(&good_scores()))
        .await;
    assert_eq!(by_staff.status, 403);

    let all = app.send(world.staff.get(app.url(&reviews))).await.json();
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let summary = &all["summary"];
    assert_eq!(summary["reviews"], 2);
    assert_eq!(summary["scored"], 2);
    assert_eq!(summary["conflicts"], 0);
    assert_eq!(summary["criteria"][0]["mean"], 7.0);
    assert_eq!(summary["criteria"][1]["mean"], 7.5);
    assert_eq!(summary["criteria"][2]["mean"], 3.0);
    // 7 × 1 + 7.5 × 2 + 3 × 1, out of 10 + 20 + 5.
    assert_eq!(summary["weighted_total"], 25.0);
    assert_eq!(summary["weighted_max"], 35);

    // The applicant's side never sees reviews nor who reviews.
    for path in [reviews.clone(), format!("{reviews}/{review_1}")] {
        assert_eq!(app.get(&path).await.status, 404, "{path}");
    }
    let seen = everything_seen_by(&app, &app.client, &world.dossier).await;
    for (what, _, body) in seen {
        assert!(
            !body.contains(&first_id) && !body.contains(&review_1),
            "{what} shows a reviewer: {body}"
        );
    }

    // A scored review stays; an untouched one is taken back.
    let unassign = app.send(world.staff.delete(app.url(&review_path))).await;
    assert_eq!(unassign.status, 409);
    assert_eq!(unassign.json()["code"], "review_not_unassignable");
    let (third, third_id) = reviewer(&app, "third@agency.example").await;
    let review_3 = assigned(&app, &world.staff, &world.dossier, &third_id).await;
    assert_eq!(
        app.send(third.delete(app.url(&format!("{reviews}/{review_3}"))))
            .await
            .status,
        403
    );
    let taken_back = app
        .send(
            world
                .staff
                .delete(app.url(&format!("{reviews}/{review_3}"))),
        )
        .await;
    assert_eq!(taken_back.status, 204);
    assert_eq!(
        app.send(third.get(app.url(&dossier_path))).await.status,
        404
    );
}

#[tokio::test]
async fn reviewers_are_assigned_to_submitted_dossiers_only_and_must_be_reviewers() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let (_, reviewer_id) = reviewer(&app, "reviewer@agency.example").await;
    let me = app.get("/v1/me").await.json();
    for not_a_reviewer in [
        me["id"].as_str().unwrap().to_owned(),
        uuid::Uuid::now_v7().to_string(),
    ] {
        let reply = assign(&app, &world.staff, &world.dossier, &not_a_reviewer).await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.error_fields(), ["reviewer_id"]);
    }
    let reply = assign(&app, &world.staff, &world.dossier, "not-a-uuid").await;
    assert_eq!(reply.status, 422);
    // Withdrawn, the dossier takes no more reviewers.
    let withdrawn = app
        .post_json(
            &format!("/v1/dossiers/{}/withdraw", world.dossier),
            &json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, 200);
    let reply = assign(&app, &world.staff, &world.dossier, &reviewer_id).await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.json()["code"], "dossier_not_reviewable");
    // And the applicant may not assign at all: the reviews are not theirs to see.
    let reply = assign(&app, &app.client, &world.dossier, &reviewer_id).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn a_reviewer_who_declares_a_conflict_of_interest_sees_nothing_more_of_the_dossier() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let (reviewer, reviewer_id) = reviewer(&app, "reviewer@agency.example").await;
    let review = assigned(&app, &world.staff, &world.dossier, &reviewer_id).await;
    let reviews = format!("/v1/dossiers/{}/reviews", world.dossier);
    let conflict = format!("{reviews}/{review}/conflict");
    let scored = app
        .send(
            reviewer
                .put(app.url(&format!("{reviews}/{review}")))
                .json(&good_scores()),
        )
        .await;
    assert_eq!(scored.status, 200);
    let blank = app
        .send(
            reviewer
                .post(app.url(&conflict))
                .json(&json!({"reason": "  "})),
        )
        .await;
    assert_eq!(blank.status, 422);
    assert_eq!(blank.error_fields(), ["reason"]);
    let by_staff = app
        .send(
            world
                .staff
                .post(app.url(&conflict))
                .json(&json!({"reason": "Non"})),
        )
        .await;
    assert_eq!(by_staff.status, 403);
    let declared = app
        .send(
            reviewer
                .post(app.url(&conflict))
                .json(&json!({"reason": "Je suis administrateur de la compagnie."})),
        )
        .await;
    assert_eq!(declared.status, 200, "{}", text(&declared));
    assert_eq!(declared.json()["status"], "conflicted");
    assert_eq!(declared.json()["scores"], json!({}));

    let d = &world.dossier;
    for path in [
        format!("/v1/dossiers/{d}"),
        format!("/v1/dossiers/{d}/history"),
        format!("/v1/dossiers/{d}/messages"),
        reviews.clone(),
        format!("{reviews}/{review}"),
    ] {
        assert_eq!(
            app.send(reviewer.get(app.url(&path))).await.status,
            404,
            "{path}"
        );
    }
    for (method, path, body) in [
        ("PUT", format!("{reviews}/{review}"), good_scores()),
        ("POST", conflict.clone(), json!({"reason": "Encore"})),
        ("POST", format!("/v1/dossiers/{d}/check"), json!({})),
        (
            "POST",
            format!("/v1/dossiers/{d}/messages"),
            json!({"body": "?"}),
        ),
    ] {
        let reply = app
            .send(
                reviewer
                    .request(method.parse().unwrap(), app.url(&path))
                    .json(&body),
            )
            .await;
        assert_eq!(reply.status, 404, "{method} {path}");
    }
    let listed = app.send(reviewer.get(app.url("/v1/dossiers"))).await.json();
    assert_eq!(listed["data"], json!([]));

    let all = app.send(world.staff.get(app.url(&reviews))).await.json();
    assert_eq!(all["data"][0]["status"], "conflicted");
    assert_eq!(
        all["data"][0]["conflict_reason"],
        "Je suis administrateur de la compagnie."
    );
    assert_eq!(all["summary"]["conflicts"], 1);
    assert_eq!(all["summary"]["scored"], 0);
    assert_eq!(all["summary"]["weighted_total"], Value::Null);
    // Staff cannot assign the same reviewer afresh: the conflict stays on record.
    let again = assign(&app, &world.staff, &world.dossier, &reviewer_id).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["code"], "reviewer_already_assigned");
    let audit = app
        .send(world.staff.get(app.url("/v1/audit-events?limit=200")))
        .await
        .json();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["review.assign", "review.score", "review.conflict"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn one_reviewer_assigned_many_times_at_once_gets_one_review() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let (_, reviewer_id) = reviewer(&app, "reviewer@agency.example").await;
    let attempts = (0..12).map(|_| assign(&app, &world.staff, &world.dossier, &reviewer_id));
    let replies = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 409), "{statuses:?}");
    for reply in &replies[..] {
        if reply.status == 409 {
            assert_eq!(reply.json()["code"], "reviewer_already_assigned");
        }
    }
    let all = app
        .send(
            world
                .staff
                .get(app.url(&format!("/v1/dossiers/{}/reviews", world.dossier))),
        )
        .await
        .json();
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_score_and_a_conflict_declared_at_once_leave_a_consistent_review() {
    let app = spawn_app().await;
    let world = instruction(&app).await;
    let reviews = format!("/v1/dossiers/{}/reviews", world.dossier);
    for round in 0..6 {
        let (reviewer, reviewer_id) = reviewer(&app, &format!("r{round}@agency.example")).await;
        let review = assigned(&app, &world.staff, &world.dossier, &reviewer_id).await;
        let path = format!("{reviews}/{review}");
        let score = app.send(reviewer.put(app.url(&path)).json(&good_scores()));
        let conflict = app.send(
            reviewer
                .post(app.url(&format!("{path}/conflict")))
                .json(&json!({"reason": "Conflit"})),
        );
        let (scored, declared) = futures_util::future::join(score, conflict).await;
        for reply in [&scored, &declared] {
            assert!(
                matches!(reply.status, 200 | 404 | 409),
                "round {round}: {} {}",
                reply.status,
                text(reply)
            );
        }
        let after = app.send(world.staff.get(app.url(&path))).await.json();
        match after["status"].as_str().unwrap() {
            // The conflict won, first or last: no score survives it.
            "conflicted" => {
                assert_eq!(declared.status, 200, "round {round}");
                assert_eq!(after["scores"], json!({}));
                assert_eq!(after["comment"], Value::Null);
            }
            // The score won and the conflict was told the review moved on.
            "scored" => {
                assert_eq!(scored.status, 200, "round {round}");
                assert_eq!(declared.status, 409, "round {round}");
                assert_eq!(declared.json()["code"], "review_changed");
                assert_eq!(after["scores"]["budget_realiste"], 4);
            }
            other => panic!("round {round}: {other}"),
        }
    }
}

/// The actors of the instruction's own matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Stranger,
    Viewer,
    Editor,
    Owner,
    FilingClient,
    ReadingClient,
    AssignedReviewer,
    UnassignedReviewer,
    ConflictedReviewer,
    Staff,
}

const ACTORS: [Actor; 11] = [
    Actor::Anonymous,
    Actor::Stranger,
    Actor::Viewer,
    Actor::Editor,
    Actor::Owner,
    Actor::FilingClient,
    Actor::ReadingClient,
    Actor::UnassignedReviewer,
    Actor::ConflictedReviewer,
    Actor::Staff,
    // Last: its conflict ends its access.
    Actor::AssignedReviewer,
];

/// Expected status of `operation` for `actor` (in the order [`ACTORS`] runs them).
fn expected(operation: &str, actor: Actor) -> Option<u16> {
    use Actor::*;
    let applicant = matches!(actor, Editor | Owner | FilingClient);
    let reader = applicant || matches!(actor, Viewer | ReadingClient);
    Some(match (operation, actor) {
        (_, Anonymous) => 401,
        ("GET dossier" | "GET history" | "GET messages", _)
            if reader || matches!(actor, AssignedReviewer | Staff) =>
        {
            200
        }
        ("POST messages", _) if applicant || actor == Staff => 201,
        ("POST messages", Viewer | ReadingClient | AssignedReviewer) => 403,
        ("GET notes", Staff) => 200,
        ("POST notes", Staff) => 201,
        ("POST reviews", Staff) => 201,
        ("POST reviews" | "DELETE own review", AssignedReviewer) => 403,
        ("GET reviews" | "GET own review", Staff | AssignedReviewer) => 200,
        ("PUT own review", AssignedReviewer) => 200,
        ("PUT own review" | "POST own conflict", Staff) => 403,
        ("POST own conflict", AssignedReviewer) => 200,
        ("DELETE spare review", Staff) => 204,
        ("DELETE own review", Staff) => return None,
        _ => 404,
    })
}

#[tokio::test]
async fn every_instruction_operation_answers_every_actor_as_the_policy_says() {
    let app = spawn_app().await;
    let app = &app;
    let world = instruction(app).await;
    let d = world.dossier.clone();
    let member = |email: &'static str| async move { client_with(Some(&app.sign_up(email).await)) };
    let viewer = member("viewer@example.org").await;
    app.add_member(
        &app.client,
        &world.structure,
        &viewer,
        "viewer@example.org",
        "viewer",
    )
    .await;
    let editor = member("editor@example.org").await;
    app.add_member(
        &app.client,
        &world.structure,
        &editor,
        "editor@example.org",
        "editor",
    )
    .await;
    let (assigned_reviewer, assigned_id) = reviewer(app, "assigned@agency.example").await;
    let (unassigned, _) = reviewer(app, "unassigned@agency.example").await;
    let (conflicted, conflicted_id) = reviewer(app, "conflicted@agency.example").await;
    let (_, spare_id) = reviewer(app, "spare@agency.example").await;
    let (_, newcomer_id) = reviewer(app, "newcomer@agency.example").await;
    let own_review = assigned(app, &world.staff, &d, &assigned_id).await;
    let conflicted_review = assigned(app, &world.staff, &d, &conflicted_id).await;
    let spare_review = assigned(app, &world.staff, &d, &spare_id).await;
    let declared = app
        .send(
            conflicted
                .post(app.url(&format!(
                    "/v1/dossiers/{d}/reviews/{conflicted_review}/conflict"
                )))
                .json(&json!({"reason": "Conflit"})),
        )
        .await;
    assert_eq!(declared.status, 200);
    let entries: [(Actor, reqwest::Client); 11] = [
        (Actor::Anonymous, app.anonymous.clone()),
        (Actor::Stranger, member("stranger@example.org").await),
        (Actor::Viewer, viewer),
        (Actor::Editor, editor),
        (Actor::Owner, app.client.clone()),
        (
            Actor::FilingClient,
            partner(app, &app.client, &world.structure, &["dossiers:write"]).await,
        ),
        (
            Actor::ReadingClient,
            partner(app, &app.client, &world.structure, &["read"]).await,
        ),
        (Actor::AssignedReviewer, assigned_reviewer),
        (Actor::UnassignedReviewer, unassigned),
        (Actor::ConflictedReviewer, conflicted),
        (Actor::Staff, world.staff.clone()),
    ];
    let client_of = |actor: Actor| {
        entries
            .iter()
            .find(|(a, _)| *a == actor)
            .map(|(_, c)| c.clone())
            .unwrap()
    };
    let reviews = format!("/v1/dossiers/{d}/reviews");
    let operations: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("GET dossier", "GET", format!("/v1/dossiers/{d}"), None),
        (
            "GET history",
            "GET",
            format!("/v1/dossiers/{d}/history"),
            None,
        ),
        (
            "GET messages",
            "GET",
            format!("/v1/dossiers/{d}/messages"),
            None,
        ),
        (
            "POST messages",
            "POST",
            format!("/v1/dossiers/{d}/messages"),
            Some(json!({"body": "Bonjour"})),
        ),
        ("GET notes", "GET", format!("/v1/dossiers/{d}/notes"), None),
        (
            "POST notes",
            "POST",
            format!("/v1/dossiers/{d}/notes"),
            Some(json!({"body": "Interne"})),
        ),
        (
            "POST reviews",
            "POST",
            reviews.clone(),
            Some(json!({"reviewer_id": newcomer_id})),
        ),
        ("GET reviews", "GET", reviews.clone(), None),
        (
            "GET own review",
            "GET",
            format!("{reviews}/{own_review}"),
            None,
        ),
        (
            "PUT own review",
            "PUT",
            format!("{reviews}/{own_review}"),
            Some(good_scores()),
        ),
        (
            "DELETE own review",
            "DELETE",
            format!("{reviews}/{own_review}"),
            None,
        ),
        (
            "DELETE spare review",
            "DELETE",
            format!("{reviews}/{spare_review}"),
            None,
        ),
        (
            "POST own conflict",
            "POST",
            format!("{reviews}/{own_review}/conflict"),
            Some(json!({"reason": "Conflit"})),
        ),
    ];
    let mut failures = Vec::new();
    for (operation, method, path, body) in &operations {
        for actor in ACTORS {
            let Some(status) = expected(operation, actor) else {
                continue;
            };
            let client = client_of(actor);
            let request = |body: Option<&Value>| {
                let request = client.request(method.parse().unwrap(), app.url(path));
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            };
            // Refused, a caller is refused alike with a bad body: it learns nothing.
            if body.is_some() && matches!(status, 401 | 403 | 404) {
                for bad in [
                    json!({"no_such_field": 1}),
                    json!({"body": "\u{0}", "reason": 1}),
                ] {
                    let reply = app.send(request(Some(&bad))).await;
                    if reply.status != status {
                        failures.push(format!(
                            "{operation} as {actor:?} with {bad}: {} instead of {status}",
                            reply.status
                        ));
                    }
                }
            }
            let reply = app.send(request(body.as_ref())).await;
            if reply.status != status {
                failures.push(format!(
                    "{operation} as {actor:?}: {} instead of {status}: {}",
                    reply.status,
                    text(&reply)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
