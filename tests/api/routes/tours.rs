use serde_json::json;

use crate::helpers::{client_with, company, performance, production, spawn_app};

#[tokio::test]
async fn a_tour_follows_its_production_rights_and_dates() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let made = app
        .create_with(
            &app.client,
            "/v1/productions",
            &production(structure["id"].as_str().unwrap()),
        )
        .await;
    let production_id = made["id"].as_str().unwrap();
    let body = json!({
        "production_id": production_id, "name": "Tournée d'hiver",
        "starts_on": "2027-01-10", "ends_on": "2027-01-09"
    });
    let reply = app.post_json("/v1/tours", &body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["ends_on"]);
    assert_eq!(reply.json()["errors"][0]["code"], "before_other");

    let mut body = body;
    body["ends_on"] = json!("2027-02-28");
    let reply = app.post_json("/v1/tours", &body).await;
    assert_eq!(reply.status, 201);
    let tour = reply.json();
    let path = format!("/v1/tours/{}", tour["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await.json(), tour);

    // The production is unpublished: its tours are nobody else's business.
    let other = client_with(Some(&app.sign_up("other@example.org").await));
    assert_eq!(app.send(other.get(app.url(&path))).await.status, 404);
    assert_eq!(
        app.send(app.anonymous.get(app.url(&path))).await.status,
        404
    );
    let listed = app.send(other.get(app.url("/v1/tours"))).await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
    let reply = app.send(other.post(app.url("/v1/tours")).json(&body)).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["production_id"]);

    let renamed = app
        .send(
            app.client
                .patch(app.url(&path))
                .header("If-Match", "\"v1\"")
                .json(&json!({"name": "Tournée d'hiver 2027"})),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["version"], 2);
    let stale = app
        .send(
            app.client
                .patch(app.url(&path))
                .header("If-Match", "\"v1\"")
                .json(&json!({"name": "Encore"})),
        )
        .await;
    assert_eq!(stale.status, 412);

    // A performance on the tour holds it.
    let mut date = performance(production_id, "34172", "2027-01-20T20:30:00+01:00");
    date["tour_id"] = tour["id"].clone();
    let date = app
        .create_with(&app.client, "/v1/performances", &date)
        .await;
    assert_eq!(date["tour_id"], tour["id"]);
    let refused = app.send(app.client.delete(app.url(&path))).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.json()["code"], "has_performances");
    let date_path = format!("/v1/performances/{}", date["id"].as_str().unwrap());
    assert_eq!(
        app.send(app.client.delete(app.url(&date_path)))
            .await
            .status,
        204
    );
    assert_eq!(
        app.send(app.client.delete(app.url(&path))).await.status,
        204
    );
    assert_eq!(app.get(&path).await.status, 404);
}

#[tokio::test]
async fn a_performance_takes_only_a_tour_of_its_own_production() {
    let app = spawn_app().await;
    let structure = app.create_structure(&company("Compagnie du Hasard")).await;
    let structure = structure["id"].as_str().unwrap();
    let first = app
        .create_with(&app.client, "/v1/productions", &production(structure))
        .await;
    let second = app
        .create_with(&app.client, "/v1/productions", &production(structure))
        .await;
    let tour = app
        .create_with(
            &app.client,
            "/v1/tours",
            &json!({"production_id": first["id"], "name": "Été", "starts_on": "2027-06-01", "ends_on": "2027-08-31"}),
        )
        .await;
    let mut date = performance(
        second["id"].as_str().unwrap(),
        "34172",
        "2027-07-01T21:00:00+02:00",
    );
    date["tour_id"] = tour["id"].clone();
    let reply = app.post_json("/v1/performances", &date).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["tour_id"]);
    assert_eq!(reply.json()["errors"][0]["code"], "other_production");
}
