//! The yearly caps of a programme (Région Occitanie's diffusion de proximité: at most
//! 4,000 € and 5 performances per presenter per calendar year) count the dossiers
//! already approved, across dossiers and calls, and under concurrent approvals.

use serde_json::{Value, json};

use crate::helpers::{TestApp, company, open_call, production, programme};
use crate::routes::dossiers::dossier;
use crate::routes::payments::text;

/// The Occitanie scheme with no documents to attach (none are uploaded here), and
/// `calls` open calls of it: their ids.
async fn occitanie_calls(
    app: &TestApp,
    staff: &reqwest::Client,
    code: &str,
    calls: usize,
) -> Vec<String> {
    let mut body = programme(code);
    body["rules"]["documents"] = json!([]);
    let made = app.create_with(staff, "/v1/programmes", &body).await;
    let programme_id = made["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for _ in 0..calls {
        let call = app
            .create_with(staff, "/v1/calls", &open_call(&programme_id, 100_000_000))
            .await;
        ids.push(call["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// A venue in Foix (9,934 inhabitants) of the test member's: its id.
async fn venue_in_foix(app: &TestApp) -> String {
    let mut body = company("Théâtre de Foix");
    body["kind"] = json!("venue");
    body["address"] =
        json!({"street": "Rue Noël Peyrevidal", "postal_code": "09000", "commune_code": "09122"});
    app.create_structure(&body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The test member's company and a production of it: (company, production).
async fn company_and_production(app: &TestApp) -> (String, String) {
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let made = app
        .create_with(&app.client, "/v1/productions", &production(&structure))
        .await;
    (structure, made["id"].as_str().unwrap().to_owned())
}

/// A performance of `production` at `venue` on `day` with a prix de cession of `fee`.
async fn date_at(app: &TestApp, production: &str, venue: &str, day: &str, fee: i64) -> String {
    let body = json!({
        "production_id": production,
        "venue_structure_id": venue,
        "starts_at": format!("{day}T20:30:00+01:00"),
        "fee_cents": fee,
    });
    app.create_with(&app.client, "/v1/performances", &body)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn approve(
    app: &TestApp,
    staff: &reqwest::Client,
    id: &str,
    cents: i64,
) -> crate::helpers::Reply {
    app.send(
        staff
            .post(app.url(&format!("/v1/dossiers/{id}/approve")))
            .json(&json!({"awarded_cents": cents})),
    )
    .await
}

async fn maximum(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/dossiers/{id}")).await.json()["maximum"].clone()
}

/// A dossier in review naming `performances`, asking `requested`: its id.
async fn filed(
    app: &TestApp,
    staff: &reqwest::Client,
    call: &str,
    structure: &str,
    performances: &[&str],
    requested: i64,
) -> String {
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(call, structure, performances, requested),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    for (client, step) in [(&app.client, "submit"), (staff, "start-review")] {
        let reply = app
            .send(
                client
                    .post(app.url(&format!("/v1/dossiers/{id}/{step}")))
                    .json(&json!({})),
            )
            .await;
        assert_eq!(reply.status, 200, "{step}: {}", text(&reply));
    }
    id
}

#[tokio::test]
async fn the_occitanie_yearly_caps_per_presenter_count_the_dossiers_already_approved() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let calls = occitanie_calls(&app, &staff, "OCC", 2).await;
    let venue = venue_in_foix(&app).await;
    let (structure, production) = company_and_production(&app).await;

    // First dossier: two performances at 3,000 € of cession, 1,500 € of aid each.
    let a1 = date_at(&app, &production, &venue, "2030-03-01", 300_000).await;
    let a2 = date_at(&app, &production, &venue, "2030-03-02", 300_000).await;
    let first = filed(&app, &staff, &calls[0], &structure, &[&a1, &a2], 100_000).await;
    assert_eq!(maximum(&app, &first).await["total_cents"], 300_000);
    assert_eq!(approve(&app, &staff, &first, 300_000).await.status, 200);
    // Its own awards never count against it.
    assert_eq!(maximum(&app, &first).await["total_cents"], 300_000);

    // Second dossier, in the other call: 2,000 € by the rate and the cap per
    // performance, but only 1,000 € left of the presenter's 4,000 € in 2030.
    let b1 = date_at(&app, &production, &venue, "2030-06-01", 400_000).await;
    let next_year = date_at(&app, &production, &venue, "2031-06-01", 400_000).await;
    let second = filed(
        &app,
        &staff,
        &calls[1],
        &structure,
        &[&b1, &next_year],
        100_000,
    )
    .await;
    let computed = maximum(&app, &second).await;
    assert_eq!(computed["total_cents"], 300_000, "{computed}");
    assert_eq!(computed["limited_by"], "yearly_cap_amount");
    let aids = computed["performances"].as_array().unwrap();
    assert_eq!(aids[0]["aid_cents"], 100_000);
    assert_eq!(aids[0]["limited_by"], "yearly_cap_amount");
    assert_eq!(aids[0]["cap_holder"], "presenter");
    // Another year, another cap: the rate's 2,000 € (the cap per performance, exactly).
    assert_eq!(aids[1]["aid_cents"], 200_000);
    assert_eq!(aids[1]["limited_by"], "rate");
    let above = approve(&app, &staff, &second, 300_001).await;
    assert_eq!(above.status, 422, "{}", text(&above));
    assert_eq!(above.json()["code"], "award_above_maximum");

    // Reopening the first gives its share of the cap back.
    let reopen = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{first}/reopen")))
                .json(&json!({"reason": "Nouvel examen"})),
        )
        .await;
    assert_eq!(reopen.status, 200, "{}", text(&reopen));
    assert_eq!(maximum(&app, &second).await["total_cents"], 400_000);
    assert_eq!(approve(&app, &staff, &second, 400_000).await.status, 200);
    // Now the first is the one the cap cuts: 2,000 € left of 2030's 4,000 €.
    let again = maximum(&app, &first).await;
    assert_eq!(again["total_cents"], 200_000, "{again}");
    assert_eq!(again["limited_by"], "yearly_cap_amount");
}

#[tokio::test]
async fn the_sixth_performance_of_a_presenter_in_a_year_gets_nothing() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let calls = occitanie_calls(&app, &staff, "COUNT", 1).await;
    let venue = venue_in_foix(&app).await;
    let (structure, production) = company_and_production(&app).await;
    // Five performances at 1,000 € of cession: 500 € each, the floor.
    let mut five = Vec::new();
    for day in 1..=5 {
        five.push(
            date_at(
                &app,
                &production,
                &venue,
                &format!("2030-04-0{day}"),
                100_000,
            )
            .await,
        );
    }
    let five_refs: Vec<&str> = five.iter().map(String::as_str).collect();
    let first = filed(&app, &staff, &calls[0], &structure, &five_refs, 50_000).await;
    assert_eq!(maximum(&app, &first).await["total_cents"], 250_000);
    assert_eq!(approve(&app, &staff, &first, 250_000).await.status, 200);
    let sixth = date_at(&app, &production, &venue, "2030-05-01", 100_000).await;
    let mut second_body = dossier(&calls[0], &structure, &[&sixth], 0);
    second_body["budget"]["incomes"] = json!([{"category": "fees", "amount_cents": 500000}]);
    let second = app
        .create_with(&app.client, "/v1/dossiers", &second_body)
        .await;
    let computed = maximum(&app, second["id"].as_str().unwrap()).await;
    assert_eq!(computed["total_cents"], 0, "{computed}");
    assert_eq!(
        computed["performances"][0]["limited_by"],
        "yearly_cap_count"
    );
    assert_eq!(computed["performances"][0]["cap_holder"], "presenter");
}

#[tokio::test]
async fn concurrent_approvals_across_calls_never_go_beyond_a_presenters_yearly_cap() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let calls = occitanie_calls(&app, &staff, "CONC", 2).await;
    let venue = venue_in_foix(&app).await;
    let (structure, production) = company_and_production(&app).await;
    // Six dossiers of 2,000 € each at one venue in 2030, three per call: the
    // presenter's 4,000 € hold two of them.
    let mut ids = Vec::new();
    for i in 0..6 {
        let date = date_at(
            &app,
            &production,
            &venue,
            &format!("2030-09-0{}", i + 1),
            400_000,
        )
        .await;
        ids.push(filed(&app, &staff, &calls[i % 2], &structure, &[&date], 100_000).await);
    }
    let replies =
        futures_util::future::join_all(ids.iter().map(|id| approve(&app, &staff, id, 200_000)))
            .await;
    let mut approved = 0;
    for reply in &replies {
        match reply.status {
            200 => approved += 1,
            422 => assert_eq!(
                reply.json()["code"],
                "award_above_maximum",
                "{}",
                text(reply)
            ),
            other => panic!("{other}: {}", text(reply)),
        }
    }
    assert_eq!(approved, 2);
}

#[tokio::test]
async fn a_yearly_cap_per_applicant_counts_its_dossiers_already_approved() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let mut body = programme("APPL");
    body["rules"]["documents"] = json!([]);
    body["rules"]["amounts"]["yearly_caps"] =
        json!([{"per": "applicant", "amount_cents": 200_000}]);
    let made = app.create_with(&staff, "/v1/programmes", &body).await;
    let call = app
        .create_with(
            &staff,
            "/v1/calls",
            &open_call(made["id"].as_str().unwrap(), 100_000_000),
        )
        .await;
    let call = call["id"].as_str().unwrap();
    let (structure, production) = company_and_production(&app).await;
    let mut dates = Vec::new();
    for day in ["2030-03-01", "2030-05-01"] {
        // Inline places in Foix: no presenter, and no presenter's cap to need one.
        let mut date =
            crate::helpers::performance(&production, "09122", &format!("{day}T20:30:00+01:00"));
        date["fee_cents"] = json!(300_000);
        dates.push(
            app.create_with(&app.client, "/v1/performances", &date)
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = filed(&app, &staff, call, &structure, &[&dates[0]], 100_000).await;
    assert_eq!(approve(&app, &staff, &first, 150_000).await.status, 200);
    let second = filed(&app, &staff, call, &structure, &[&dates[1]], 50_000).await;
    let computed = maximum(&app, &second).await;
    assert_eq!(computed["total_cents"], 50_000, "{computed}");
    assert_eq!(computed["limited_by"], "yearly_cap_amount");
    assert_eq!(computed["performances"][0]["cap_holder"], "applicant");
}
