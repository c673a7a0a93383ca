//! `/v1/changes`: the change feed, as a follower uses it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::access::AgencyRole;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, spawn_app};

/// A copy kept by following the feed: object id to object, with the last number and
/// the versions seen, to check the order.
#[derive(Default)]
struct Follower {
    after: Option<String>,
    copy: BTreeMap<String, Value>,
    last_seq: i64,
    versions: BTreeMap<String, i64>,
}

impl Follower {
    /// Reads one page and applies it; returns how many entries it held.
    async fn poll(&mut self, app: &TestApp, client: &reqwest::Client, limit: u32) -> usize {
        let mut url = app.url(&format!("/v1/changes?limit={limit}"));
        if let Some(after) = &self.after {
            url.push_str(&format!("&after={after}"));
        }
        let reply = app.send(client.get(&url)).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        let page = reply.json();
        let next = page["next_cursor"]
            .as_str()
            .expect("next_cursor always present");
        assert!(
            reply
                .header("link")
                .is_some_and(|link| link.contains(&format!("after={next}"))),
            "{:?}",
            reply.header("link")
        );
        let entries = page["data"].as_array().unwrap();
        for entry in entries {
            let seq = entry["seq"].as_i64().unwrap();
            assert!(seq > self.last_seq, "{seq} after {}", self.last_seq);
            self.last_seq = seq;
            let id = entry["object_id"].as_str().unwrap().to_owned();
            let version = entry["version"].as_i64().unwrap();
            let previous = self.versions.insert(id.clone(), version);
            assert!(
                previous.is_none_or(|previous| previous < version),
                "{id}: version {version} after {previous:?}"
            );
            match entry["action"].as_str().unwrap() {
                "created" | "updated" => {
                    let object = &entry["object"];
                    assert_eq!(object["id"], json!(id));
                    assert_eq!(object["version"], json!(version));
                    self.copy.insert(id, object.clone());
                }
                "deleted" => {
                    assert_eq!(entry["object"], Value::Null);
                    self.copy.remove(&id);
                }
                other => panic!("action {other}"),
            }
        }
        self.after = Some(next.to_owned());
        entries.len()
    }

    /// Polls until a page is not full: up to date.
    async fn drain(&mut self, app: &TestApp, client: &reqwest::Client) {
        while self.poll(app, client, 50).await == 50 {}
    }
}

/// Every live structure, as `client` lists them.
async fn current(app: &TestApp, client: &reqwest::Client) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/v1/structures?limit=200&include_archived=false");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.send(client.get(&url)).await.json();
        for structure in page["data"].as_array().unwrap() {
            all.insert(
                structure["id"].as_str().unwrap().to_owned(),
                structure.clone(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

#[tokio::test]
async fn a_follower_sees_creations_updates_and_archivings_as_its_rights_allow() {
    let app = spawn_app().await;
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let created = app.create_structure(&company("Compagnie du Hasard")).await;
    let id = created["id"].as_str().unwrap();
    let renamed = app
        .patch_json(&format!("/v1/structures/{id}"), &json!({"name": "Hasard"}))
        .await;
    assert_eq!(renamed.status, 200);
    // A patch that changes nothing records nothing.
    let same = app
        .patch_json(&format!("/v1/structures/{id}"), &json!({"name": "Hasard"}))
        .await;
    assert_eq!(same.json()["version"], 2);

    let mut public = Follower::default();
    assert_eq!(public.poll(&app, &app.anonymous, 50).await, 2);
    let entries: Vec<_> = public.versions.iter().collect();
    assert_eq!(entries, [(&id.to_owned(), &2)]);
    let seen = &public.copy[id];
    assert_eq!(seen["visibility"], "public");
    assert_eq!(seen["name"], "Hasard");
    assert!(seen.get("email").is_none() && seen["address"].get("street").is_none());
    assert_eq!(
        *seen,
        app.send(app.anonymous.get(app.url(&format!("/v1/structures/{id}"))))
            .await
            .json()
    );

    let mut owner = Follower::default();
    owner.drain(&app, &app.client).await;
    assert_eq!(owner.copy[id], renamed.json());
    assert_eq!(owner.copy[id]["email"], "contact@example.org");

    // Nothing new: an empty page, and a cursor to poll with.
    let cursor = public.after.clone();
    assert_eq!(public.poll(&app, &app.anonymous, 50).await, 0);
    assert_eq!(public.after, cursor);

    let archived = app
        .send(app.client.delete(app.url(&format!("/v1/structures/{id}"))))
        .await;
    assert_eq!(archived.status, 204);
    for (follower, client) in [(&mut public, &app.anonymous), (&mut owner, &app.client)] {
        assert_eq!(follower.poll(&app, client, 50).await, 1);
        assert!(follower.copy.is_empty());
        assert_eq!(follower.versions[id], 3);
    }
    let mut agency = Follower::default();
    agency.drain(&app, &staff).await;
    assert_eq!(agency.versions[id], 3);
    assert!(agency.copy.is_empty());
}

#[tokio::test]
async fn pages_follow_one_another_and_a_forged_cursor_is_refused() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.create_structure(&company(&format!("Compagnie {n}")))
            .await;
    }
    let mut follower = Follower::default();
    assert_eq!(follower.poll(&app, &app.anonymous, 2).await, 2);
    assert_eq!(follower.poll(&app, &app.anonymous, 2).await, 2);
    assert_eq!(follower.poll(&app, &app.anonymous, 2).await, 1);
    assert_eq!(follower.copy.len(), 5);

    // An entry's own cursor resumes right after it.
    let first = app.get("/v1/changes?limit=1").await.json();
    let resumed = app
        .get(&format!(
            "/v1/changes?limit=1&after={}",
            first["data"][0]["cursor"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(
        resumed["data"][0]["seq"].as_i64().unwrap(),
        first["data"][0]["seq"].as_i64().unwrap() + 1
    );

    for bad in ["nope", "eyJhZnRlciI6LTF9", "e30"] {
        let reply = app.get(&format!("/v1/changes?after={bad}")).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.error_fields(), ["after"]);
    }
    let reply = app.get("/v1/changes?limit=201").await;
    assert_eq!(reply.status, 400);
}

/// The proof: writers commit concurrently while followers poll; at the end each
/// follower's copy is exactly the current data its caller may see.
#[tokio::test]
async fn followers_end_with_exactly_the_current_data_they_may_see_under_concurrent_writers() {
    const WRITERS: usize = 8;
    let app = Arc::new(spawn_app().await);
    let staff = client_with(Some(
        &app.agency_account("staff@agency.example", AgencyRole::Staff)
            .await,
    ));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        writers.push(client_with(Some(
            &app.sign_up(&format!("writer{w}@example.org")).await,
        )));
    }
    let member = writers[0].clone();

    let done = Arc::new(AtomicBool::new(false));
    let follow = |client: reqwest::Client| {
        let (app, done) = (Arc::clone(&app), Arc::clone(&done));
        tokio::spawn(async move {
            let mut follower = Follower::default();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let read = follower.poll(&app, &client, 7).await;
                if finished && read < 7 {
                    return follower;
                }
                if read < 7 {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        })
    };
    let followers = [
        follow(staff.clone()),
        follow(app.anonymous.clone()),
        follow(member.clone()),
    ];

    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, client)| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for round in 0..4 {
                    let mut body = company(&format!("Writer {w} structure {round}"));
                    body["phone"] = json!(format!("+33 4 67 00 0{w} 0{round}"));
                    let reply = app
                        .send(client.post(app.url("/v1/structures")).json(&body))
                        .await;
                    assert_eq!(reply.status, 201);
                    mine.push(reply.json()["id"].as_str().unwrap().to_owned());
                    for (n, id) in mine.iter().enumerate() {
                        let reply = app
                            .send(client.patch(app.url(&format!("/v1/structures/{id}"))).json(
                                &json!({"name": format!("Writer {w} structure {n} round {round}")}),
                            ))
                            .await;
                        assert_eq!(reply.status, 200);
                    }
                    if round % 2 == 1 {
                        let id = mine.remove(0);
                        let reply = app
                            .send(client.delete(app.url(&format!("/v1/structures/{id}"))))
                            .await;
                        assert_eq!(reply.status, 204);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let [staff_copy, public_copy, member_copy] = followers;
    let (staff_copy, public_copy, member_copy) = (
        staff_copy.await.unwrap(),
        public_copy.await.unwrap(),
        member_copy.await.unwrap(),
    );

    let expected = current(&app, &staff).await;
    // Four structures per writer and two archived, and the feed followed them all.
    assert_eq!(expected.len(), WRITERS * 2);
    assert_eq!(staff_copy.versions.len(), WRITERS * 4);
    assert!(expected.values().all(|s| s["visibility"] == "full"));
    assert_eq!(staff_copy.copy, expected);

    let public = current(&app, &app.anonymous).await;
    assert!(public.values().all(|s| s["visibility"] == "public"));
    assert_eq!(public_copy.copy, public);

    let members = current(&app, &member).await;
    assert_eq!(
        members
            .values()
            .filter(|s| s["visibility"] == "full")
            .count(),
        2
    );
    assert_eq!(member_copy.copy, members);
}
