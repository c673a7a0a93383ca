//! `oes seed --demo`: the first thing a newcomer sees reads like a real directory.

use std::collections::{BTreeMap, HashSet};

use api::config::Settings;
use api::startup;
use domain::{Discipline, NewStructure, StructureKind};
use persistence::structures::{self, ListQuery};

use crate::helpers::TestDatabase;

/// The slug a web address should hold for a place, made apart from the seed's code.
fn expected_slug(place: &str) -> String {
    domain::search::fold(place)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[test]
fn the_demo_reads_like_a_season_directory_of_occitanie() {
    let database = TestDatabase::new();
    let state = startup::prepare(&Settings::for_database(database.url())).unwrap();
    let mut conn = state.pool.get().unwrap();
    let created = api::seed::demo(&mut conn, &state.geography).unwrap();
    assert!(created >= 150, "{created}");
    assert_eq!(
        api::seed::demo(&mut conn, &state.geography).unwrap(),
        0,
        "only into an empty database"
    );
    let all = structures::list(
        &mut conn,
        &ListQuery {
            limit: 1_000,
            include_archived: true,
            ..Default::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(all.len(), created);

    let mut names = HashSet::new();
    let mut sirets = HashSet::new();
    let mut kinds_by_department: BTreeMap<String, HashSet<StructureKind>> = BTreeMap::new();
    let mut accented_towns_in_addresses = HashSet::new();
    for structure in &all {
        let data = &structure.data;
        let name = &data.name;
        // No numbered names: "Compagnie Petits Pas 33" was test data.
        assert!(!name.contains(|c: char| c.is_numeric()), "{name}");
        assert!(names.insert(name.clone()), "{name} twice");
        // Every field passes the rules a client's input passes.
        assert_eq!(
            NewStructure::parse(&data.to_input(), &*state.geography).as_ref(),
            Ok(data),
            "{name}"
        );
        let siret = data.siret.as_ref().expect("a SIRET").to_string();
        assert!(sirets.insert(siret.clone()), "{siret} twice");
        for licence in &data.licences {
            assert!(licence.number.to_string().starts_with("PLATESV-"), "{name}");
            assert!(!licence.number.is_legacy(), "{name}");
        }
        let address = data.address.as_ref().expect("an address");
        let city = &address.city;
        let department = address.department.clone().expect("a French address");
        kinds_by_department
            .entry(department)
            .or_default()
            .insert(data.kind);

        // Web addresses: ASCII slugs, accents transliterated (Sète → sete, not ste).
        let host = data
            .email
            .as_deref()
            .and_then(|email| email.split_once('@'))
            .map(|(_, host)| host.to_owned())
            .expect("an e-mail");
        if let Some(website) = &data.website {
            assert_eq!(website, &format!("https://{host}"), "{name}");
        }
        assert!(
            host.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
            "{host}"
        );
        // Named after its town, or a venue (whose own name needs the town on the web).
        if name.contains(city.as_str()) || data.kind == StructureKind::Venue {
            let slug = expected_slug(city);
            assert!(
                host.contains(&slug),
                "{name} in {city}: {host} lacks {slug}"
            );
            if !city.is_ascii() {
                accented_towns_in_addresses.insert((city.clone(), host.clone()));
            }
        }

        // Disciplines fit the name.
        let folded = domain::search::fold(name);
        for (words, discipline) in [
            (
                &[
                    "jazz",
                    "ensemble",
                    "quatuor",
                    "orchestre",
                    "musiques",
                    "musicales",
                    "fanfare",
                    "auditorium",
                ][..],
                Discipline::Music,
            ),
            (
                &["cirque", "chapiteaux", "funambules", "voltigeurs"][..],
                Discipline::Circus,
            ),
            (&["marionnettes"][..], Discipline::Puppetry),
            (&["choregraphiques", "danse"][..], Discipline::Dance),
            (
                &["arts de la rue", "batteurs de pave"][..],
                Discipline::StreetArts,
            ),
            (&["theatre"][..], Discipline::Theatre),
        ] {
            if words.iter().any(|word| folded.contains(word)) {
                assert!(
                    data.disciplines.contains(&discipline),
                    "{name}: {:?}",
                    data.disciplines
                );
            }
        }
        assert!(!data.disciplines.is_empty(), "{name}");
    }

    // All 13 départements, each with every kind of structure.
    assert_eq!(
        kinds_by_department
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"
        ]
    );
    for (department, kinds) in &kinds_by_department {
        for kind in [
            StructureKind::Company,
            StructureKind::Venue,
            StructureKind::Festival,
            StructureKind::Network,
            StructureKind::LocalAuthority,
        ] {
            assert!(kinds.contains(&kind), "no {kind} in {department}");
        }
    }
    // Accented towns are spelt in full on the web.
    assert!(
        accented_towns_in_addresses.len() >= 5,
        "{accented_towns_in_addresses:?}"
    );
    for (city, slug) in [
        ("Nîmes", "nimes"),
        ("Béziers", "beziers"),
        ("Sète", "sete"),
        ("Alès", "ales"),
    ] {
        let hosts: Vec<&String> = accented_towns_in_addresses
            .iter()
            .filter(|(town, _)| town == city)
            .map(|(_, host)| host)
            .collect();
        assert!(!hosts.is_empty(), "no structure named after {city}");
        assert!(hosts.iter().all(|host| host.contains(slug)), "{hosts:?}");
    }
}

#[test]
fn the_demo_is_the_same_every_time() {
    let database = TestDatabase::new();
    let state = startup::prepare(&Settings::for_database(database.url())).unwrap();
    let directory = || {
        api::seed::demo_structures(&state.geography)
            .into_iter()
            .map(|s| s.data)
            .collect::<Vec<_>>()
    };
    let first = directory();
    assert!(!first.is_empty());
    assert_eq!(first, directory());
}

/// The demo's season: every company's productions play in all 13 départements of
/// Occitanie, elsewhere in France and abroad, as the public agenda shows them.
#[tokio::test]
async fn the_demo_season_plays_across_the_region_and_beyond() {
    let app = crate::helpers::spawn_app().await;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let geography = persistence::reference::ReferenceGeography::read(&mut conn).unwrap();
        api::seed::demo(&mut conn, &geography).unwrap();
    })
    .await
    .unwrap();
    let count = |path: String| {
        let app = &app;
        async move {
            let reply = app.get(&path).await;
            assert_eq!(
                reply.status,
                200,
                "{path}: {}",
                String::from_utf8_lossy(&reply.bytes)
            );
            reply.json()["data"].as_array().unwrap().len()
        }
    };
    for department in [
        "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
    ] {
        assert!(
            count(format!(
                "/v1/performances?department={department}&limit=200"
            ))
            .await
                > 0,
            "no performance in {department}"
        );
    }
    assert!(count("/v1/performances?outside_region=true&limit=200".into()).await > 0);
    let productions = app.get("/v1/productions?limit=200").await.json();
    let productions = productions["data"].as_array().unwrap();
    assert!(productions.len() > 50, "{}", productions.len());
    // The public sees no fee; the anonymous list holds published performances only.
    let public = app
        .anonymous
        .get(app.url("/v1/performances?limit=200"))
        .send()
        .await
        .unwrap();
    let public: serde_json::Value = public.json().await.unwrap();
    for performance in public["data"].as_array().unwrap() {
        assert!(performance.get("fee_cents").is_none(), "{performance}");
        assert_eq!(performance["published"], true, "{performance}");
    }
}

/// The demo's grants: the Occitanie scheme, its open call, and dossiers in every state
/// of their life, consistent with what the API would have done: approvals within what
/// the rules compute and the envelope, each step in the history, each dossier in the
/// change feed.
#[tokio::test]
async fn the_demo_files_dossiers_in_every_state_of_their_life() {
    let app = crate::helpers::spawn_app().await;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let geography = persistence::reference::ReferenceGeography::read(&mut conn).unwrap();
        api::seed::demo(&mut conn, &geography).unwrap();
    })
    .await
    .unwrap();
    let staff = app.staff("staff@agency.example").await;
    let programmes = app.get("/v1/programmes").await.json();
    assert!(
        programmes["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "DIFF-PROX"),
        "{programmes}"
    );
    let dossiers = app
        .send(staff.get(app.url("/v1/dossiers?limit=200")))
        .await
        .json();
    let dossiers = dossiers["data"].as_array().unwrap();
    let states: HashSet<&str> = dossiers
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    for state in [
        "draft",
        "submitted",
        "changes_requested",
        "in_review",
        "approved",
        "rejected",
        "withdrawn",
        "dismissed",
    ] {
        assert!(states.contains(state), "no {state} dossier: {states:?}");
    }
    let mut awarded = 0;
    for dossier in dossiers {
        let id = dossier["id"].as_str().unwrap();
        assert!(
            dossier["reference"]
                .as_str()
                .unwrap()
                .starts_with("DIFF-PROX-"),
            "{dossier}"
        );
        let history = app
            .send(staff.get(app.url(&format!("/v1/dossiers/{id}/history"))))
            .await
            .json();
        let last = history["data"].as_array().unwrap().last().cloned();
        match dossier["status"].as_str().unwrap() {
            "draft" => assert!(last.is_none(), "{history}"),
            status => assert_eq!(last.unwrap()["to_status"], status, "{history}"),
        }
        if let Some(cents) = dossier["awarded_cents"].as_i64() {
            let check = app
                .send(staff.post(app.url(&format!("/v1/dossiers/{id}/check"))))
                .await
                .json();
            assert!(
                cents <= check["maximum"]["total_cents"].as_i64().unwrap(),
                "{dossier} {check}"
            );
            awarded += cents;
        }
    }
    assert!(awarded > 0);
    let call = app
        .get(&format!(
            "/v1/calls/{}",
            dossiers[0]["call_id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(call["awarded_cents"], awarded);
    let mut followed = 0;
    let mut path = "/v1/changes?limit=200".to_owned();
    loop {
        let feed = app.send(staff.get(app.url(&path))).await.json();
        let page = feed["data"].as_array().unwrap();
        followed += page
            .iter()
            .filter(|c| c["object_type"] == "dossier")
            .count();
        if page.len() < 200 {
            break;
        }
        path = format!(
            "/v1/changes?limit=200&after={}",
            feed["next_cursor"].as_str().unwrap()
        );
    }
    assert_eq!(followed, dossiers.len());
}

/// `oes seed --dossiers D`: the benchmark's dossiers, in its mix of states, each with
/// its reference, numbered without a gap.
#[test]
fn the_benchmark_seed_files_dossiers_in_its_mix_of_states() {
    let database = TestDatabase::new();
    let state = startup::prepare(&Settings::for_database(database.url())).unwrap();
    let mut conn = state.pool.get().unwrap();
    api::seed::scale(&mut conn, &state.geography, 300, |_| {}).unwrap();
    api::seed::scale_performances(&mut conn, &state.geography, 600, |_| {}).unwrap();
    let mut reported = Vec::new();
    api::seed::scale_dossiers(&mut conn, &state.geography, 1_040, |done| {
        reported.push(done)
    })
    .unwrap();
    assert_eq!(reported, vec![1_000, 1_040]);
    let page = persistence::grants::dossiers::list(
        &mut conn,
        &persistence::grants::dossiers::ListQuery {
            reader: persistence::grants::dossiers::Reader::Everything,
            limit: 2_000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(page.items.len(), 1_040);
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut numbers = Vec::new();
    for dossier in &page.items {
        *by_status.entry(dossier.status.as_str()).or_default() += 1;
        numbers.push(dossier.reference.number());
        if dossier.status.as_str() == "approved" {
            let maximum = api::routes::grants::judge(&mut conn, &state.geography, dossier)
                .unwrap()
                .maximum
                .total_cents;
            let awarded = dossier.awarded_cents.unwrap();
            assert!(awarded > 0 && awarded <= maximum, "{awarded} of {maximum}");
        }
    }
    // An approval the rules give nothing to is a rejection instead.
    let decided = by_status["approved"] + by_status["rejected"];
    assert_eq!(decided, 156, "{by_status:?}");
    assert!(by_status["approved"] > 0, "{by_status:?}");
    for (status, count) in [
        ("draft", 416),
        ("in_review", 104),
        ("submitted", 312),
        ("withdrawn", 52),
    ] {
        assert_eq!(by_status[status], count, "{by_status:?}");
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=1_040).collect::<Vec<u32>>());
}
