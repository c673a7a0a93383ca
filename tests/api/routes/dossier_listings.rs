//! A list shows each dossier from the rendering kept with its row (see
//! `persistence::grants::dossiers::Listing`): it must always be the dossier's own read
//! without `maximum`, whichever write came last and whoever wrote it.

use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::routes::dossiers::{company_with_performance, dossier, test_call};
use crate::routes::payments::{approved, pay, payment, text};

/// The dossier as `client` lists it, and as its own `GET` shows it without `maximum`.
async fn listed_and_read(app: &TestApp, client: &reqwest::Client, id: &str) -> (Value, Value) {
    let mut read = app
        .send(client.get(app.url(&format!("/v1/dossiers/{id}"))))
        .await
        .json();
    read["maximum"] = Value::Null;
    let list = app
        .send(client.get(app.url("/v1/dossiers?limit=200")))
        .await
        .json();
    let listed = list["data"]
        .as_array()
        .expect("a page")
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
        .clone();
    (listed, read)
}

async fn assert_listed_as_read(app: &TestApp, client: &reqwest::Client, id: &str, step: &str) {
    let (listed, read) = listed_and_read(app, client, id).await;
    assert_eq!(listed, read, "after {step}");
}

#[tokio::test]
async fn a_list_shows_each_dossier_as_its_own_read_after_every_kind_of_write() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "LIST", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 100_000),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    assert_listed_as_read(&app, &app.client, &id, "the creation").await;

    let edited = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/dossiers/{id}")))
                .json(&json!({"summary": "Résumé « précisé »\u{2028}", "answers": {"audience": "jeune public"}})),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", text(&edited));
    assert_listed_as_read(&app, &app.client, &id, "an edit").await;
    assert_listed_as_read(&app, &staff, &id, "an edit, as staff").await;

    for (client, action) in [
        (&app.client, "submit"),
        (&staff, "start-review"),
        (&staff, "approve"),
    ] {
        let body = match action {
            "approve" => json!({"awarded_cents": 90_000}),
            _ => json!({}),
        };
        let moved = app
            .send(
                client
                    .post(app.url(&format!("/v1/dossiers/{id}/{action}")))
                    .json(&body),
            )
            .await;
        assert_eq!(moved.status, 200, "{action}: {}", text(&moved));
        assert_listed_as_read(&app, &staff, &id, action).await;
    }
    let (listed, _) = listed_and_read(&app, &app.client, &id).await;
    assert_eq!(listed["status"], "approved");
    assert_eq!(listed["awarded_cents"], 90_000);

    let paid = pay(&app, &staff, &id, &payment(Some("advance"), 45_000)).await;
    assert_eq!(paid.status, 201, "{}", text(&paid));
    assert_listed_as_read(&app, &app.client, &id, "a payment").await;
}

#[tokio::test]
async fn a_rendering_that_is_not_current_is_made_again_from_the_row_and_stored_at_start_up() {
    let app = crate::helpers::spawn_app().await;
    let staff = app.staff("staff@agency.example").await;
    let (_, id) = approved(&app, &staff, "STALE", 80_000, json!({})).await;
    let other = approved(&app, &staff, "KEPT", 70_000, json!({})).await.1;

    // An older instance (a rolling deploy) writes the row but not its rendering.
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(format!(
        "UPDATE dossiers SET title = 'Écrit par une instance plus ancienne', \
         version = version + 1 WHERE id = '{id}'"
    ))
    .execute(&mut conn)
    .unwrap();
    drop(conn);
    let (listed, read) = listed_and_read(&app, &staff, &id).await;
    assert_eq!(listed["title"], "Écrit par une instance plus ancienne");
    assert_eq!(listed, read);

    // A damaged rendering, of the current format and version, is not shown either.
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(format!(
        "UPDATE dossiers SET listed = 'not json' WHERE id = '{other}'"
    ))
    .execute(&mut conn)
    .unwrap();
    let (listed, read) = listed_and_read(&app, &staff, &other).await;
    assert_eq!(listed, read);

    // Start-up stores what the reads made, for those two rows only.
    let listing = &api::routes::grants::DOSSIER_LISTING;
    let refresh = |conn: &mut persistence::DbConnection| {
        persistence::grants::dossiers::refresh_listings(conn, listing).unwrap()
    };
    let refreshed = refresh(&mut conn);
    assert_eq!((refreshed.stored, refreshed.unreadable), (2, 0));
    assert_eq!(refresh(&mut conn), Default::default());
    for id in [&id, &other] {
        let (listed, read) = listed_and_read(&app, &staff, id).await;
        assert_eq!(listed, read);
    }

    // A row that no longer reads as a dossier is left as it is: it does not stop the
    // server's start.
    diesel::sql_query(format!(
        "UPDATE dossiers SET budget = 'damaged', version = version + 1 WHERE id = '{other}'"
    ))
    .execute(&mut conn)
    .unwrap();
    let refreshed = refresh(&mut conn);
    assert_eq!((refreshed.stored, refreshed.unreadable), (0, 1));
}
