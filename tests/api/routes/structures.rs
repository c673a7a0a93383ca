use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{client_with, company, siret, spawn_app};

#[tokio::test]
async fn creating_a_structure_returns_it_with_location_etag_and_derived_address() {
    let app = spawn_app().await;
    let mut body = company("Compagnie du Hasard");
    body["siret"] = json!("73282932000074");
    let reply = app.post_json("/v1/structures", &body).await;

    assert_eq!(reply.status, 201);
    let created = reply.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/structures/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"v1\""));
    assert_eq!(created["version"], 1);
    assert_eq!(created["address"]["city"], "Montpellier");
    assert_eq!(created["address"]["department"], "34");
    assert_eq!(created["address"]["region"], "76");
    assert_eq!(created["address"]["country"], "FR");
    assert_eq!(created["licences"][0]["legacy"], false);

    let fetched = app.get(&format!("/v1/structures/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), created);
}

#[tokio::test]
async fn every_invalid_field_is_named_in_one_problem() {
    let app = spawn_app().await;
    let reply = app
        .post_json(
            "/v1/structures",
            &json!({
                "kind": "opera_house",
                "name": "   ",
                "siret": "73282932000075",
                "licences": [{"category": 5, "number": "licence?"}],
                "address": {"postal_code": "31000", "commune_code": "34172"},
                "disciplines": ["opera"],
                "website": "ftp://example.org",
                "email": "nobody",
                "phone": "call me"
            }),
        )
        .await;

    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let problem = reply.json();
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["instance"], "/v1/structures");
    assert_eq!(
        reply.error_fields(),
        [
            "kind",
            "name",
            "siret",
            "licences[0].category",
            "licences[0].number",
            "address.postal_code",
            "disciplines[0]",
            "website",
            "email",
            "phone"
        ]
    );
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"siret_checksum"));
    assert!(codes.contains(&"postal_code_mismatch"));
    // Nothing was stored.
    let list = app.get("/v1/structures").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_refused_by_name() {
    let app = spawn_app().await;
    let mut body = company("Compagnie");
    body["owner_id"] = json!("me");
    let reply = app.post_json("/v1/structures", &body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["owner_id"]);
    assert_eq!(reply.json()["errors"][0]["code"], "unknown_field");

    let mut body = company("Compagnie");
    body["address"]["department"] = json!("75");
    let reply = app.post_json("/v1/structures", &body).await;
    assert_eq!(reply.error_fields(), ["address.department"]);

    let mut body = company("Compagnie");
    body["licences"][0]["category"] = json!("two");
    let reply = app.post_json("/v1/structures", &body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["licences[0].category"]);

    let reply = app
        .post_json("/v1/structures", &json!({"kind": "company"}))
        .await;
    assert_eq!(reply.error_fields(), ["name"]);
    assert_eq!(reply.json()["errors"][0]["code"], "required");
}

#[tokio::test]
async fn a_duplicate_siret_is_a_conflict_naming_the_existing_structure() {
    let app = spawn_app().await;
    let mut body = company("Première");
    body["siret"] = json!(siret(1));
    let first = app.create_structure(&body).await;

    body["name"] = json!("Seconde");
    let reply = app.post_json("/v1/structures", &body).await;
    assert_eq!(reply.status, 409);
    let problem = reply.json();
    assert_eq!(problem["code"], "duplicate_siret");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap()),
        "{problem}"
    );

    // Taking it by an update is refused the same way.
    body["siret"] = json!(siret(2));
    let second = app.create_structure(&body).await;
    let reply = app
        .patch_json(
            &format!("/v1/structures/{}", second["id"].as_str().unwrap()),
            &json!({"siret": siret(1)}),
        )
        .await;
    assert_eq!(reply.status, 409);
}

#[tokio::test]
async fn a_duplicate_siret_does_not_name_its_holder_to_those_who_may_not_see_it() {
    let app = spawn_app().await;
    let mut body = company("Première");
    body["siret"] = json!(siret(1));
    let first = app.create_structure(&body).await;
    let first_id = first["id"].as_str().unwrap();

    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    body["name"] = json!("Usurpatrice");
    let reply = app
        .send(stranger.post(app.url("/v1/structures")).json(&body))
        .await;
    assert_eq!(reply.status, 409);
    let problem = reply.json();
    assert_eq!(problem["code"], "duplicate_siret");
    assert!(!problem.to_string().contains(first_id), "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("agence"),
        "says whom to ask: {problem}"
    );

    // Nor through an update of the stranger's own structure.
    body["siret"] = json!(siret(2));
    let own = app
        .send(stranger.post(app.url("/v1/structures")).json(&body))
        .await
        .json();
    let reply = app
        .send(
            stranger
                .patch(app.url(&format!("/v1/structures/{}", own["id"].as_str().unwrap())))
                .json(&json!({"siret": siret(1)})),
        )
        .await;
    assert_eq!(reply.status, 409);
    assert!(!reply.json().to_string().contains(first_id));

    // Agency staff, who see every structure's private data, are told which one.
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", domain::access::AgencyRole::Staff)
            .await,
    ));
    body["siret"] = json!(siret(1));
    let reply = app
        .send(staff.post(app.url("/v1/structures")).json(&body))
        .await;
    assert_eq!(reply.status, 409);
    assert!(reply.json()["detail"].as_str().unwrap().contains(first_id));
}

#[tokio::test]
async fn foreign_addresses_keep_their_city_and_french_ones_refuse_one() {
    let app = spawn_app().await;
    let mut body = company("Compañía");
    body["address"] = json!({"country": "ES", "city": "Barcelona", "postal_code": "08001"});
    let created = app.create_structure(&body).await;
    assert_eq!(created["address"]["city"], "Barcelona");
    assert_eq!(created["address"]["department"], Value::Null);

    body["address"] = json!({"postal_code": "34000", "commune_code": "34172", "city": "Paris"});
    let reply = app.post_json("/v1/structures", &body).await;
    assert_eq!(reply.error_fields(), ["address.city"]);
}

async fn names(app: &crate::helpers::TestApp, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/v1/structures?{query}")).await;
    assert_eq!(
        reply.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn lists_filter_by_kind_department_region_and_discipline() {
    let app = spawn_app().await;
    app.create_structure(&company("Compagnie montpelliéraine"))
        .await;
    let mut venue = company("Théâtre du Capitole");
    venue["kind"] = json!("venue");
    venue["address"] = json!({"postal_code": "31000", "commune_code": "31555"});
    venue["disciplines"] = json!(["music", "dance"]);
    app.create_structure(&venue).await;
    let mut lyon = company("Compagnie lyonnaise");
    lyon["address"] = json!({"postal_code": "69001", "commune_code": "69123"});
    lyon["disciplines"] = json!(["circus"]);
    app.create_structure(&lyon).await;

    assert_eq!(names(&app, "kind=venue").await, ["Théâtre du Capitole"]);
    assert_eq!(
        names(&app, "department=34").await,
        ["Compagnie montpelliéraine"]
    );
    assert_eq!(
        names(&app, "region=76").await,
        ["Compagnie montpelliéraine", "Théâtre du Capitole"]
    );
    assert_eq!(
        names(&app, "discipline=dance").await,
        ["Théâtre du Capitole"]
    );
    assert_eq!(
        names(&app, "discipline=circus&region=84").await,
        ["Compagnie lyonnaise"]
    );
    assert!(names(&app, "kind=festival").await.is_empty());
    assert_eq!(
        names(&app, "sort=-name").await,
        [
            "Théâtre du Capitole",
            "Compagnie montpelliéraine",
            "Compagnie lyonnaise"
        ]
    );
}

#[tokio::test]
async fn search_ignores_case_and_accents() {
    let app = spawn_app().await;
    app.create_structure(&company("Théâtre de l'Œuf")).await;
    app.create_structure(&company("THEATRE DU PONT")).await;
    app.create_structure(&company("Compagnie 100% Cirque"))
        .await;

    assert_eq!(
        names(&app, "q=theatre").await,
        ["Théâtre de l'Œuf", "THEATRE DU PONT"]
    );
    assert_eq!(names(&app, "q=THÉÂTRE%20de").await, ["Théâtre de l'Œuf"]);
    assert_eq!(names(&app, "q=oeuf").await, ["Théâtre de l'Œuf"]);
    // LIKE wildcards in the search are plain characters.
    assert_eq!(names(&app, "q=100%25").await, ["Compagnie 100% Cirque"]);
    assert!(names(&app, "q=_").await.is_empty());
}

#[tokio::test]
async fn paging_through_every_page_returns_each_structure_once_in_every_order() {
    let app = spawn_app().await;
    let mut expected = HashSet::new();
    for i in 0..23 {
        // Same names in pairs: ties are broken by id.
        let created = app
            .create_structure(&company(&format!("Compagnie {:02}", i / 2)))
            .await;
        expected.insert(created["id"].as_str().unwrap().to_owned());
    }
    for sort in ["name", "-name", "created_at", "-created_at"] {
        let mut seen = Vec::new();
        let mut path = format!("/v1/structures?limit=5&sort={sort}");
        let mut pages = 0;
        loop {
            let reply = app.get(&path).await;
            assert_eq!(reply.status, 200);
            let page = reply.json();
            for item in page["data"].as_array().unwrap() {
                seen.push((
                    item["name"].as_str().unwrap().to_owned(),
                    item["created_at"].as_str().unwrap().to_owned(),
                    item["id"].as_str().unwrap().to_owned(),
                ));
            }
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    let link = reply
                        .header("link")
                        .expect("Link header on a page with a next");
                    assert!(link.ends_with("rel=\"next\""), "{link}");
                    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                    path = format!("/v1/structures?limit=5&sort={sort}&cursor={cursor}");
                }
                None => {
                    assert!(reply.header("link").is_none());
                    break;
                }
            }
        }
        assert_eq!(pages, 5, "{sort}");
        let ids: HashSet<String> = seen.iter().map(|(_, _, id)| id.clone()).collect();
        assert_eq!(seen.len(), 23, "no duplicate ({sort})");
        assert_eq!(ids, expected, "no gap ({sort})");
        let mut sorted = seen.clone();
        match sort {
            "name" => sorted.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2))),
            "-name" => sorted.sort_by(|a, b| (&b.0, &b.2).cmp(&(&a.0, &a.2))),
            "created_at" => sorted.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2))),
            _ => sorted.sort_by(|a, b| (&b.1, &b.2).cmp(&(&a.1, &a.2))),
        }
        assert_eq!(seen, sorted, "order ({sort})");
    }
}

#[tokio::test]
async fn a_cursor_is_refused_for_another_sort_or_when_forged() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_structure(&company(&format!("Compagnie {i}")))
            .await;
    }
    let page = app.get("/v1/structures?limit=1").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let reply = app
        .get(&format!(
            "/v1/structures?limit=1&sort=created_at&cursor={cursor}"
        ))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["cursor"]);
    let reply = app.get("/v1/structures?cursor=bm90LWEtY3Vyc29y").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["cursor"]);
}

#[tokio::test]
async fn writes_honour_if_match_and_reads_honour_if_none_match() {
    let app = spawn_app().await;
    let created = app.create_structure(&company("Compagnie")).await;
    let path = format!("/v1/structures/{}", created["id"].as_str().unwrap());

    let reply = app
        .send(
            app.client
                .get(app.url(&path))
                .header("If-None-Match", "\"v1\""),
        )
        .await;
    assert_eq!(reply.status, 304);
    assert!(reply.bytes.is_empty());
    assert_eq!(reply.header("etag"), Some("\"v1\""));

    let stale = app
        .send(
            app.client
                .patch(app.url(&path))
                .header("If-Match", "\"v7\"")
                .json(&json!({"name": "Perdu"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.json()["code"], "precondition_failed");

    let fresh = app
        .send(
            app.client
                .patch(app.url(&path))
                .header("If-Match", "\"v1\"")
                .json(&json!({"name": "Gardé"})),
        )
        .await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.header("etag"), Some("\"v2\""));
    assert_eq!(fresh.json()["name"], "Gardé");

    // The old tag no longer matches: a 200 with the new version, not a 304.
    let reply = app
        .send(
            app.client
                .get(app.url(&path))
                .header("If-None-Match", "\"v1\""),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["version"], 2);

    let stale_delete = app
        .send(
            app.client
                .delete(app.url(&path))
                .header("If-Match", "\"v1\""),
        )
        .await;
    assert_eq!(stale_delete.status, 412);
    assert_eq!(app.get(&path).await.status, 200);
}

#[tokio::test]
async fn a_patch_changes_what_it_names_and_null_clears() {
    let app = spawn_app().await;
    let mut body = company("Compagnie");
    body["phone"] = json!("+33 4 67 00 00 00");
    let created = app.create_structure(&body).await;
    let path = format!("/v1/structures/{}", created["id"].as_str().unwrap());

    let reply = app
        .patch_json(
            &path,
            &json!({"phone": null, "disciplines": ["dance", "circus"]}),
        )
        .await;
    assert_eq!(reply.status, 200);
    let updated = reply.json();
    assert_eq!(updated["phone"], Value::Null);
    assert_eq!(updated["disciplines"], json!(["circus", "dance"]));
    assert_eq!(updated["email"], created["email"]);
    assert_eq!(updated["address"], created["address"]);
    assert_eq!(updated["created_at"], created["created_at"]);

    // Required fields cannot be cleared; the structure is left as it was.
    let reply = app.patch_json(&path, &json!({"name": null})).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), ["name"]);
    let reply = app
        .patch_json(&path, &json!({"email": "bad", "kind": "x"}))
        .await;
    assert_eq!(reply.error_fields(), ["kind", "email"]);
    assert_eq!(app.get(&path).await.json(), updated);
}

#[tokio::test]
async fn archiving_hides_a_structure_unless_asked_for() {
    let app = spawn_app().await;
    let kept = app.create_structure(&company("Gardée")).await;
    let archived = app.create_structure(&company("Archivée")).await;
    let path = format!("/v1/structures/{}", archived["id"].as_str().unwrap());

    let reply = app.send(app.client.delete(app.url(&path))).await;
    assert_eq!(reply.status, 204);

    let reply = app.get(&path).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["code"], "archived");
    assert_eq!(
        app.patch_json(&path, &json!({"name": "x"})).await.status,
        404
    );
    assert_eq!(
        app.send(app.client.delete(app.url(&path))).await.status,
        404
    );
    assert_eq!(names(&app, "").await, [kept["name"].as_str().unwrap()]);
    let all = app.get("/v1/structures?include_archived=true").await.json();
    let archived_view = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == archived["id"])
        .expect("listed when asked for")
        .clone();
    assert!(archived_view["archived_at"].is_string());
    assert_eq!(archived_view["version"], 2);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_byte_for_byte() {
    let app = spawn_app().await;
    let body = company("Compagnie idempotente");
    let send = || {
        app.send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Idempotency-Key", "key-1")
                .json(&body),
        )
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(first.bytes, second.bytes);
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(first.header("etag"), second.header("etag"));
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        app.get("/v1/structures").await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Another body under the same key.
    let reply = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Idempotency-Key", "key-1")
                .json(&company("Autre")),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["code"], "idempotency_key_reused");
}

#[tokio::test]
async fn messages_follow_accept_language() {
    let app = spawn_app().await;
    let body = json!({"kind": "company", "name": ""});
    let french = app.post_json("/v1/structures", &body).await.json();
    assert_eq!(french["title"], "Données invalides");
    assert_eq!(french["errors"][0]["message"], "ne doit pas être vide");
    let english = app
        .send(
            app.client
                .post(app.url("/v1/structures"))
                .header("Accept-Language", "de-CH, en;q=0.8, fr;q=0.5")
                .json(&body),
        )
        .await
        .json();
    assert_eq!(english["title"], "Invalid data");
    assert_eq!(english["errors"][0]["message"], "must not be blank");
    assert_eq!(english["errors"][0]["code"], french["errors"][0]["code"]);
}

#[tokio::test]
async fn concurrent_writers_all_succeed() {
    let app = spawn_app().await;
    let requests = (0..32).map(|i| {
        let mut body = company(&format!("Compagnie {i}"));
        body["siret"] = json!(siret(100 + i));
        app.send(app.client.post(app.url("/v1/structures")).json(&body))
    });
    let replies = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let page = app.get("/v1/structures?limit=200").await.json();
    assert_eq!(page["data"].as_array().unwrap().len(), 32);
}

/// A signed-in read of a structure or a performance by id reads the caller's standing in
/// the same query as the object: the caller is still judged first (401 for a disabled
/// account, even for an id that does not exist), and the role it holds still decides
/// what it sees (a member sees private fields and the fee, anyone else does not).
#[tokio::test]
async fn a_read_by_id_judges_the_caller_first_and_shows_what_its_role_allows() {
    let app = spawn_app().await;
    let admin = client_with(Some(
        &app.agency_account("admin@example.org", domain::access::AgencyRole::Admin)
            .await,
    ));
    let structure = app
        .create_structure(&company("Compagnie du Lendemain"))
        .await;
    let id = structure["id"].as_str().unwrap();
    let production = app
        .create_with(
            &app.client,
            "/v1/productions",
            &crate::helpers::production(id),
        )
        .await;
    let performance = app
        .create_with(
            &app.client,
            "/v1/performances",
            &crate::helpers::performance(
                production["id"].as_str().unwrap(),
                "34172",
                "2027-03-01T19:30:00Z",
            ),
        )
        .await;
    let performance_id = performance["id"].as_str().unwrap();
    let structure_path = format!("/v1/structures/{id}");
    let performance_path = format!("/v1/performances/{performance_id}");

    // The owner: private fields and the fee.
    let owned = app.get(&structure_path).await;
    assert_eq!(owned.status, 200);
    assert_eq!(owned.json()["visibility"], "full");
    assert_eq!(owned.json()["email"], "contact@example.org");
    let fee = app.get(&performance_path).await;
    assert_eq!(fee.status, 200);
    assert_eq!(fee.json()["fee_cents"], 250000);

    // An editor invited in sees the same; an unrelated account does not (the
    // production is unpublished: a 404 to outsiders, as to anonymous callers).
    let editor_token = app.sign_up("editor@example.org").await;
    let editor = client_with(Some(&editor_token));
    app.add_member(&app.client, id, &editor, "editor@example.org", "editor")
        .await;
    let seen = app.send(editor.get(app.url(&structure_path))).await.json();
    assert_eq!(seen["visibility"], "full", "{seen}");
    let seen = app.send(editor.get(app.url(&performance_path))).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.json()["fee_cents"], 250000);
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    let seen = app
        .send(stranger.get(app.url(&structure_path)))
        .await
        .json();
    assert_eq!(seen["visibility"], "public", "{seen}");
    assert!(seen.get("email").is_none(), "{seen}");
    assert_eq!(
        app.send(stranger.get(app.url(&performance_path)))
            .await
            .status,
        404
    );
    // Staff see everything.
    let seen = app.send(admin.get(app.url(&performance_path))).await;
    assert_eq!(seen.json()["fee_cents"], 250000);

    // Disabled: 401 at once, for what exists and for what does not.
    let editor_id = app.send(editor.get(app.url("/v1/me"))).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = app
        .send(
            admin
                .patch(app.url(&format!("/v1/accounts/{editor_id}")))
                .json(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(disabled.status, 200);
    let missing = uuid::Uuid::now_v7();
    for path in [
        structure_path.clone(),
        performance_path.clone(),
        format!("/v1/structures/{missing}"),
        format!("/v1/performances/{missing}"),
    ] {
        let reply = app.send(editor.get(app.url(&path))).await;
        assert_eq!(reply.status, 401, "GET {path} by a disabled account");
    }
    // And an existing account's read of a missing id is a plain 404.
    let reply = app.get(&format!("/v1/structures/{missing}")).await;
    assert_eq!(reply.status, 404);
    let reply = app.get(&format!("/v1/performances/{missing}")).await;
    assert_eq!(reply.status, 404);
}
