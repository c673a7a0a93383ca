//! `/v1/webhooks`: subscriptions, signed deliveries to a receiver run by the test, and
//! what the delivery machinery promises (retries, order, leases, several workers).

use std::collections::{BTreeMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use api::config::Settings;
use api::webhooks::sender::{Sender, Sent};
use api::webhooks::{Engine, Sealer, WebhookSettings, signing};
use domain::access::AgencyRole;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, company, performance, production, spawn_app_with};

/// What the receiver answers, in turn; once the script is spent, 200.
#[derive(Debug, Clone)]
enum Answer {
    Status(u16),
    /// Answers 200 after this long (beyond the client's time-out: a time-out).
    Sleep(Duration),
    /// 307 to this URL.
    Redirect(String),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    url: String,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    receiver: web::Data<Receiver>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.hits.lock().unwrap().push(Hit {
        path: req.path().to_owned(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = receiver.script.lock().unwrap().pop_front();
    match answer {
        None => HttpResponse::Ok().finish(),
        Some(Answer::Status(status)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
        }
        Some(Answer::Sleep(pause)) => {
            actix_web::rt::time::sleep(pause).await;
            HttpResponse::Ok().finish()
        }
        Some(Answer::Redirect(to)) => HttpResponse::TemporaryRedirect()
            .insert_header(("location", to))
            .finish(),
    }
}

impl Receiver {
    /// A receiver on 127.0.0.1 and a port of its own.
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            ..Default::default()
        };
        let data = web::Data::new(receiver.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        receiver
    }

    fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().unwrap().extend(answers);
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the hits, or fails after `limit`.
    async fn wait_for(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(&[Hit]) -> bool,
    ) -> Vec<Hit> {
        let started = Instant::now();
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(
                started.elapsed() < limit,
                "waited {limit:?} for {what}; got {} hits: {:#?}",
                hits.len(),
                hits.iter().map(|h| (&h.path, &h.body)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn events(hits: &[Hit]) -> Vec<Value> {
    hits.iter()
        .map(|h| serde_json::from_str(&h.body).unwrap())
        .collect()
}

fn of_type<'a>(hits: &'a [Hit], event: &str) -> Vec<&'a Hit> {
    hits.iter()
        .filter(|h| serde_json::from_str::<Value>(&h.body).unwrap()["type"] == event)
        .collect()
}

/// The base64 key every test app of this file seals with, so that a test may run an
/// engine of its own on the app's database.
fn test_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

/// Settings for fast tests: insecure targets allowed, short delays.
fn fast(settings: &mut Settings) {
    settings.webhook_allow_insecure = true;
    settings.webhook_retry_base_ms = 100;
    settings.webhook_poll_ms = 50;
    settings.webhook_timeout_secs = 2;
    settings.webhook_connect_timeout_secs = 1;
    settings.webhook_lease_secs = 10;
    settings.encryption_key = Some(test_key().into());
}

async fn fast_app() -> TestApp {
    spawn_app_with(fast).await
}

/// The member's company and a published production of it: (structure, production).
async fn company_with_production(app: &TestApp) -> (String, String) {
    let structure = app.create_structure(&company("Compagnie des Vents")).await;
    let structure = structure["id"].as_str().unwrap().to_owned();
    let mut body = production(&structure);
    body["published"] = json!(true);
    let made = app.create_with(&app.client, "/v1/productions", &body).await;
    (structure, made["id"].as_str().unwrap().to_owned())
}

/// Subscribes as `client`; returns (subscription, secret).
async fn subscribe(
    app: &TestApp,
    client: &reqwest::Client,
    url: &str,
    event_types: &[&str],
    structures: &[&str],
) -> (Value, String) {
    let made = app
        .create_with(
            client,
            "/v1/webhooks",
            &json!({"url": url, "event_types": event_types, "structure_ids": structures}),
        )
        .await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    (made["webhook"].clone(), secret)
}

fn verifies(hit: &Hit, secret: &str) -> bool {
    let secret: SecretString = secret.to_owned().into();
    let expected = signing::signature(
        &[secret],
        &hit.id,
        hit.timestamp.parse().unwrap(),
        hit.body.as_bytes(),
    )
    .unwrap();
    hit.signature.split(' ').any(|s| s == expected)
}

async fn deliveries(app: &TestApp, client: &reqwest::Client, webhook: &str) -> Vec<Value> {
    let reply = app
        .send(client.get(app.url(&format!("/v1/webhooks/{webhook}/deliveries"))))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply.json()["data"].as_array().unwrap().clone()
}

/// A venue `client` makes, and its subscription to every event of it: the webhook.
async fn subscribe_to_own_venue(app: &TestApp, client: &reqwest::Client, url: &str) -> Value {
    let mut venue = company("Théâtre de la Mer");
    venue["kind"] = json!("venue");
    let venue = app.create_with(client, "/v1/structures", &venue).await;
    subscribe(app, client, url, &["*"], &[venue["id"].as_str().unwrap()])
        .await
        .0
}

const WAIT: Duration = Duration::from_secs(15);

/// The deliveries of `webhook`, newest first, once the newest is no longer pending (a
/// receiver has its request before the worker records the answer).
async fn settled(app: &TestApp, client: &reqwest::Client, webhook: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let listed = deliveries(app, client, webhook).await;
        if listed.first().is_some_and(|d| d["status"] != "pending") {
            return listed;
        }
        assert!(started.elapsed() < WAIT, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_subscriber_receives_a_signed_event_with_what_it_may_read() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (structure, production) = company_with_production(&app).await;
    let (webhook, secret) = subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["performance.*"],
        &[&structure],
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(webhook["enabled"], true);
    let made = app
        .create_with(
            &app.client,
            "/v1/performances",
            &performance(&production, "34172", "2027-03-01T20:30:00+01:00"),
        )
        .await;
    let hits = receiver
        .wait_for(WAIT, "performance.created", |h| !h.is_empty())
        .await;
    let hit = &hits[0];
    assert!(verifies(hit, &secret), "{hit:?}");
    assert!(hit.id.starts_with("msg_"));
    let age = chrono::Utc::now().timestamp() - hit.timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "{age}");
    let event: Value = serde_json::from_str(&hit.body).unwrap();
    assert_eq!(event["type"], "performance.created");
    assert_eq!(event["data"]["object_type"], "performance");
    assert_eq!(event["data"]["object_id"], made["id"]);
    assert_eq!(event["data"]["version"], 1);
    // Its company reads the fee: the event carries it.
    assert_eq!(event["data"]["object"]["fee_cents"], 250000);
    // The production was made before the subscription, and is not asked for.
    assert_eq!(hits.len(), 1, "{hits:?}");

    let listed = settled(&app, &app.client, webhook["id"].as_str().unwrap()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_status_code"], 200);
    assert_eq!(listed[0]["message_id"], json!(hit.id));
    assert!(listed[0]["last_latency_ms"].is_i64());
}

#[tokio::test]
async fn nobody_subscribes_to_what_it_does_not_own_nor_sees_another_callers_subscription() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (structure, production) = company_with_production(&app).await;
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    let refused = app
        .send(stranger.post(app.url("/v1/webhooks")).json(&json!({
            "url": receiver.url, "event_types": ["*"], "structure_ids": [structure]
        })))
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["structure_ids[0]"]);
    // Every structure at once is for staff.
    let refused = app
        .send(stranger.post(app.url("/v1/webhooks")).json(&json!({
            "url": receiver.url, "event_types": ["*"]
        })))
        .await;
    assert_eq!(refused.error_fields(), ["structure_ids"]);

    // The stranger's own venue hears nothing of the member's company.
    let theirs = subscribe_to_own_venue(&app, &stranger, &receiver.url).await;
    let theirs = theirs["id"].as_str().unwrap();
    for (client, status) in [(&app.client, 404), (&stranger, 200)] {
        let reply = app
            .send(client.get(app.url(&format!("/v1/webhooks/{theirs}"))))
            .await;
        assert_eq!(reply.status, status);
    }
    let listed = app.get("/v1/webhooks").await.json();
    assert_eq!(listed["data"], json!([]));
    let staff = app.staff("staff@example.org").await;
    let all = app.send(staff.get(app.url("/v1/webhooks"))).await.json();
    assert_eq!(all["data"].as_array().unwrap().len(), 1);

    app.create_with(
        &app.client,
        "/v1/performances",
        &performance(&production, "34172", "2027-03-01T20:30:00+01:00"),
    )
    .await;
    // A ping after the change: once it arrives, the change was dispatched before it.
    let ping = app
        .send(stranger.post(app.url(&format!("/v1/webhooks/{theirs}/ping"))))
        .await;
    assert_eq!(ping.status, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = receiver
        .wait_for(WAIT, "the ping", |h| !of_type(h, "webhook.ping").is_empty())
        .await;
    assert_eq!(
        events(&hits)
            .iter()
            .map(|e| e["type"].clone())
            .collect::<Vec<_>>(),
        [json!("webhook.ping")]
    );
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_until_it_answers_with_the_same_webhook_id() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    receiver.script([
        Answer::Status(500),
        Answer::Sleep(Duration::from_secs(3)),
        Answer::Status(503),
    ]);
    let (structure, _) = company_with_production(&app).await;
    let (webhook, secret) = subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["structure.*"],
        &[&structure],
    )
    .await;
    let patched = app
        .patch_json(
            &format!("/v1/structures/{structure}"),
            &json!({"name": "Compagnie des Brises"}),
        )
        .await;
    assert_eq!(patched.status, 200);
    let hits = receiver
        .wait_for(WAIT, "four attempts", |h| h.len() >= 4)
        .await;
    assert!(hits.iter().all(|h| h.id == hits[0].id), "{hits:?}");
    assert!(hits.iter().all(|h| verifies(h, &secret)));
    let listed = settled(&app, &app.client, webhook["id"].as_str().unwrap()).await;
    assert_eq!(listed[0]["status"], "delivered", "{listed:?}");
    assert_eq!(listed[0]["attempts"], 4);
    assert_eq!(events(&hits)[0]["type"], "structure.updated");
}

#[tokio::test]
async fn a_timed_out_attempt_is_recorded_as_such_and_retried() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    receiver.script([Answer::Sleep(Duration::from_secs(4))]);
    let (structure, _) = company_with_production(&app).await;
    let (webhook, _) = subscribe(&app, &app.client, &receiver.url, &["*"], &[&structure]).await;
    let webhook = webhook["id"].as_str().unwrap().to_owned();
    app.send(
        app.client
            .post(app.url(&format!("/v1/webhooks/{webhook}/ping"))),
    )
    .await;
    receiver.wait_for(WAIT, "a retry", |h| h.len() >= 2).await;
    let started = Instant::now();
    loop {
        let listed = deliveries(&app, &app.client, &webhook).await;
        if listed[0]["status"] == "delivered" {
            assert_eq!(listed[0]["attempts"], 2);
            break;
        }
        assert!(started.elapsed() < WAIT, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn gone_disables_the_subscription_and_says_why() {
    let sink = crate::routes::mail::SmtpSink::start().await;
    let app = mailing_app(&sink, fast).await;
    let receiver = Receiver::start();
    receiver.script([Answer::Status(410)]);
    let (structure, _) = company_with_production(&app).await;
    let (webhook, _) = subscribe(&app, &app.client, &receiver.url, &["*"], &[&structure]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    app.send(app.client.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    receiver.wait_for(WAIT, "the ping", |h| !h.is_empty()).await;
    let started = Instant::now();
    loop {
        let now = app.get(&format!("/v1/webhooks/{id}")).await.json();
        if now["enabled"] == false {
            assert_eq!(now["disabled_reason"], "the endpoint answered 410 Gone");
            break;
        }
        assert!(started.elapsed() < WAIT);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = deliveries(&app, &app.client, &id).await;
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["last_status_code"], 410);
    // Its owner is mailed, in its language (French by default).
    let mails = mails_about(&sink, "member@example.org", &id).await;
    assert!(
        mails[0].body().contains("Nous avons désactivé") && mails[0].body().contains("410 Gone"),
        "{}",
        mails[0].data
    );
    // Nothing more goes out until its owner enables it again.
    app.send(app.client.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.hits().len(), 1);
    let enabled = app
        .patch_json(&format!("/v1/webhooks/{id}"), &json!({"enabled": true}))
        .await;
    assert_eq!(enabled.status, 200);
    assert_eq!(enabled.json()["disabled_reason"], Value::Null);
    receiver
        .wait_for(WAIT, "the second ping", |h| h.len() == 2)
        .await;
    let staff = app.staff("staff@example.org").await;
    let audit = app
        .send(staff.get(app.url("/v1/audit-events?limit=200")))
        .await
        .json();
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "webhook.disable" && e["actor_kind"] == "system"),
        "{audit}"
    );
    // Disabled once: mailed once.
    assert_eq!(mails_about(&sink, "member@example.org", &id).await.len(), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let elsewhere = receiver.url.replace("/hook", "/elsewhere");
    receiver.script([Answer::Redirect(elsewhere)]);
    let (structure, _) = company_with_production(&app).await;
    let (webhook, _) = subscribe(&app, &app.client, &receiver.url, &["*"], &[&structure]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    app.send(app.client.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    let hits = receiver.wait_for(WAIT, "a retry", |h| h.len() >= 2).await;
    assert!(hits.iter().all(|h| h.path == "/hook"), "{hits:?}");
    let listed = settled(&app, &app.client, &id).await;
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 2);
}

#[tokio::test]
async fn reserved_targets_are_refused_without_the_development_flag() {
    let app = spawn_app_with(|s| s.encryption_key = Some(test_key().into())).await;
    let (structure, _) = company_with_production(&app).await;
    for (url, code) in [
        ("http://hooks.example.org/", "webhook_url"),
        ("https://127.0.0.1/hook", "reserved_address"),
        ("https://[::1]/hook", "reserved_address"),
        ("https://10.0.0.7/hook", "reserved_address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "reserved_address",
        ),
        ("https://[fd00:ec2::254]/", "reserved_address"),
        ("https://localhost/hook", "reserved_address"),
    ] {
        let reply = app
            .post_json(
                "/v1/webhooks",
                &json!({"url": url, "event_types": ["*"], "structure_ids": [structure]}),
            )
            .await;
        assert_eq!(reply.status, 422, "{url}");
        assert_eq!(reply.error_fields(), ["url"], "{url}");
        assert_eq!(reply.json()["errors"][0]["code"], code, "{url}");
    }
    // At delivery: an IP literal, and a name that resolves to loopback.
    let receiver = Receiver::start();
    let sender = Sender::new(Duration::from_secs(1), Duration::from_secs(2), false).unwrap();
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hook")
        .to_owned();
    for (url, why) in [
        (receiver.url.clone(), "only https"),
        (format!("https://127.0.0.1:{port}/hook"), "reserved address"),
        (
            format!("https://[::ffff:127.0.0.1]:{port}/hook"),
            "reserved address",
        ),
        // A name is judged by the addresses it resolves to, by the resolver the
        // connection uses.
        (
            format!("https://localhost:{port}/hook"),
            "resolves to no address a webhook may be sent to",
        ),
    ] {
        let (sent, _) = sender.send(&url, vec![], "{}".into()).await;
        match sent {
            Sent::Failed { error, .. } => assert!(error.contains(why), "{url}: {error}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(receiver.hits().is_empty());
    // With the flag, the same target is reached.
    let allowed = Sender::new(Duration::from_secs(1), Duration::from_secs(2), true).unwrap();
    let (sent, _) = allowed.send(&receiver.url, vec![], "{}".into()).await;
    assert_eq!(sent, Sent::Answered { status: 200 });
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_for_a_day_and_a_delivery_can_be_replayed() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (structure, _) = company_with_production(&app).await;
    let (webhook, old) = subscribe(&app, &app.client, &receiver.url, &["*"], &[&structure]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let rotated = app
        .send(
            app.client
                .post(app.url(&format!("/v1/webhooks/{id}/rotate-secret"))),
        )
        .await;
    assert_eq!(
        rotated.status,
        200,
        "{}",
        String::from_utf8_lossy(&rotated.bytes)
    );
    let rotated = rotated.json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["webhook"]["previous_secret_expires_at"].is_string());
    app.send(app.client.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    let hits = receiver.wait_for(WAIT, "the ping", |h| !h.is_empty()).await;
    assert_eq!(hits[0].signature.split(' ').count(), 2, "{:?}", hits[0]);
    assert!(verifies(&hits[0], &new) && verifies(&hits[0], &old));

    let listed = deliveries(&app, &app.client, &id).await;
    let delivery = listed[0]["id"].as_str().unwrap();
    let replayed = app
        .send(
            app.client
                .post(app.url(&format!("/v1/webhooks/{id}/deliveries/{delivery}/replay"))),
        )
        .await;
    assert_eq!(replayed.status, 202);
    assert_eq!(replayed.json()["message_id"], json!(hits[0].id));
    let hits = receiver
        .wait_for(WAIT, "the replay", |h| h.len() == 2)
        .await;
    assert_eq!(hits[0].id, hits[1].id);
    assert_eq!(hits[0].body, hits[1].body);
    // Another caller's delivery is not found.
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    let reply = app
        .send(stranger.post(app.url(&format!("/v1/webhooks/{id}/deliveries/{delivery}/replay"))))
        .await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn the_database_never_holds_a_secret_in_clear() {
    let app = fast_app().await;
    let (structure, _) = company_with_production(&app).await;
    let (webhook, secret) = subscribe(
        &app,
        &app.client,
        "https://hooks.example.org/",
        &["*"],
        &[&structure],
    )
    .await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let rotated = app
        .send(
            app.client
                .post(app.url(&format!("/v1/webhooks/{id}/rotate-secret"))),
        )
        .await
        .json();
    let second = rotated["secret"].as_str().unwrap().to_owned();
    let pool = app.pool.clone();
    let stored = tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            secret_sealed: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            previous_secret_sealed: Option<String>,
        }
        let mut conn = pool.get().unwrap();
        let rows: Vec<Row> =
            diesel::sql_query("SELECT secret_sealed, previous_secret_sealed FROM webhooks")
                .load(&mut conn)
                .unwrap();
        rows.into_iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.secret_sealed,
                    r.previous_secret_sealed.unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(stored.len(), 1);
    for secret in [&secret, &second] {
        let key = secret.trim_start_matches("whsec_");
        assert!(!stored[0].contains(key), "{stored:?}");
    }
    // The sealed values open with the key, for this subscription only.
    let sealer = Sealer::from_base64(&test_key()).unwrap();
    let current = stored[0].split(' ').next().unwrap();
    let opened = sealer.open_secret(id.parse().unwrap(), current).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), second);
    assert!(
        sealer
            .open_secret(domain::WebhookId::generate(), current)
            .is_err()
    );
}

#[tokio::test]
async fn bad_input_names_its_field_and_is_never_a_500() {
    let app = fast_app().await;
    let (structure, _) = company_with_production(&app).await;
    let huge = format!("https://example.org/{}", "a".repeat(5000));
    for (body, field) in [
        (
            json!({"url": "https://exa\u{0}mple.org/", "event_types": ["*"], "structure_ids": [structure]}),
            "url",
        ),
        (
            json!({"url": huge, "event_types": ["*"], "structure_ids": [structure]}),
            "url",
        ),
        (
            json!({"url": "https://🦀.example/", "event_types": ["perf\u{202e}ormance.created"], "structure_ids": [structure]}),
            "event_types[0]",
        ),
        (
            json!({"url": "https://example.org/", "event_types": ["performance.created\u{0}"], "structure_ids": [structure]}),
            "event_types[0]",
        ),
        (
            json!({"url": "https://example.org/", "event_types": [], "structure_ids": [structure]}),
            "event_types",
        ),
        (
            json!({"url": "https://example.org/", "event_types": ["*"], "structure_ids": [structure], "description": "a\u{0}b"}),
            "description",
        ),
        (
            json!({"url": "https://example.org/", "event_types": ["*"], "structure_ids": [structure, structure]}),
            "structure_ids",
        ),
    ] {
        let reply = app.post_json("/v1/webhooks", &body).await;
        assert_eq!(
            reply.status,
            422,
            "{body}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert!(
            reply.error_fields().contains(&field.to_owned()),
            "{body}: {:?}",
            reply.error_fields()
        );
    }
    let reply = app
        .post_json("/v1/webhooks", &json!({"url": 7, "event_types": ["*"]}))
        .await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    for path in [
        "/v1/webhooks/not-a-uuid",
        "/v1/webhooks?cursor=%00",
        "/v1/webhooks?limit=0",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 400, "{path}");
    }
    let (webhook, _) = subscribe(
        &app,
        &app.client,
        "https://hooks.example.org/",
        &["*"],
        &[&structure],
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let reply = app
        .patch_json(&format!("/v1/webhooks/{id}"), &json!({"url": "ftp://x"}))
        .await;
    assert_eq!(reply.error_fields(), ["url"]);
    let reply = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/webhooks/{id}")))
                .header("if-match", "\"v9\"")
                .json(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(reply.status, 412);
    let reply = app
        .send(
            app.client
                .patch(app.url(&format!("/v1/webhooks/{id}")))
                .header("if-match", "\"v1\"")
                .json(&json!({"enabled": false, "description": null})),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["disabled_reason"], "disabled by its owner");
    let reply = app
        .send(app.client.delete(app.url(&format!("/v1/webhooks/{id}"))))
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(app.get(&format!("/v1/webhooks/{id}")).await.status, 404);
}

#[tokio::test]
async fn an_api_client_subscribes_for_the_structures_it_acts_for() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (structure, production) = company_with_production(&app).await;
    let partner =
        crate::routes::productions::partner(&app, &app.client, &structure, &["read"]).await;
    let (webhook, secret) = subscribe(
        &app,
        &partner,
        &receiver.url,
        &["performance.created"],
        &[&structure],
    )
    .await;
    // Its owner account does not see it: it is the client's.
    let reply = app
        .get(&format!("/v1/webhooks/{}", webhook["id"].as_str().unwrap()))
        .await;
    assert_eq!(reply.status, 404);
    app.create_with(
        &app.client,
        "/v1/performances",
        &performance(&production, "34172", "2027-03-01T20:30:00+01:00"),
    )
    .await;
    let hits = receiver
        .wait_for(WAIT, "the performance", |h| !h.is_empty())
        .await;
    assert!(verifies(&hits[0], &secret));
    assert_eq!(events(&hits)[0]["data"]["object"]["fee_cents"], 250000);
}

/// Settings of an app whose own workers do nothing, for tests that drive an engine.
fn without_workers(settings: &mut Settings) {
    fast(settings);
    settings.webhook_workers = 0;
}

fn engine(app: &TestApp, workers: usize) -> Engine {
    let mut settings = Settings::for_database("sqlite://unused");
    fast(&mut settings);
    settings.webhook_workers = workers;
    let key = api::crypto::SealingKey::from_base64(&test_key()).unwrap();
    Engine::new(
        app.pool.clone(),
        Sealer::new(key.clone()),
        api::mail::Mailer::new(key, &settings),
        WebhookSettings::from_settings(&settings),
    )
    .unwrap()
}

#[tokio::test]
async fn a_delivery_whose_worker_died_goes_again_with_the_same_webhook_id() {
    let app = spawn_app_with(without_workers).await;
    let receiver = Receiver::start();
    let (structure, _) = company_with_production(&app).await;
    let (webhook, _) = subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["structure.*"],
        &[&structure],
    )
    .await;
    app.patch_json(
        &format!("/v1/structures/{structure}"),
        &json!({"name": "Compagnie Morte"}),
    )
    .await;
    let engine = engine(&app, 1);
    assert!(engine.dispatch_once().await.unwrap() >= 1);
    // A worker claims it and dies before sending.
    assert_eq!(
        engine.claim_and_die(Duration::from_secs(1)).await.unwrap(),
        1
    );
    assert_eq!(engine.deliver_once().await.unwrap(), 0, "still leased");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(engine.deliver_once().await.unwrap(), 1, "the lease ran out");
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    let listed = settled(&app, &app.client, webhook["id"].as_str().unwrap()).await;
    assert_eq!(listed[0]["message_id"], json!(hits[0].id));
    assert_eq!(listed[0]["status"], "delivered");
}

#[tokio::test]
async fn two_dispatchers_and_their_workers_on_one_database_deliver_every_event_in_order() {
    let app = spawn_app_with(without_workers).await;
    let receiver = Receiver::start();
    let (structure, production) = company_with_production(&app).await;
    subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["performance.*"],
        &[&structure],
    )
    .await;
    // Two engines, as two instances would run them, each with its dispatcher and workers.
    let engines: Vec<Arc<Engine>> = (0..2).map(|_| Arc::new(engine(&app, 2))).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for engine in &engines {
        for dispatcher in [true, false, false] {
            let (engine, stop) = (engine.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let busy = if dispatcher {
                        engine.dispatch_once().await.unwrap() > 0
                    } else {
                        engine.deliver_once().await.unwrap() > 0
                    };
                    if !busy {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }));
        }
    }
    // 10 performances, each updated twice: 30 events.
    let mut made = Vec::new();
    for day in 1..=10 {
        let body = performance(
            &production,
            "34172",
            &format!("2027-03-{day:02}T20:30:00+01:00"),
        );
        made.push(
            app.create_with(&app.client, "/v1/performances", &body)
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for round in 0..2 {
        for id in &made {
            let reply = app
                .patch_json(
                    &format!("/v1/performances/{id}"),
                    &json!({"fee_cents": 100_000 + round}),
                )
                .await;
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.bytes)
            );
        }
    }
    receiver
        .wait_for(Duration::from_secs(30), "30 events", |h| {
            h.iter()
                .map(|h| &h.id)
                .collect::<std::collections::HashSet<_>>()
                .len()
                >= 30
        })
        .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let hits = receiver.hits();
    let distinct: std::collections::HashSet<_> = hits.iter().map(|h| h.id.clone()).collect();
    let duplicates = hits.len() - distinct.len();
    eprintln!(
        "two instances: {} events, {} requests, {duplicates} duplicates",
        distinct.len(),
        hits.len()
    );
    assert_eq!(distinct.len(), 30);
    // Each performance's events arrived in version order.
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    for event in events(&hits) {
        let id = event["data"]["object_id"].as_str().unwrap().to_owned();
        let version = event["data"]["version"].as_i64().unwrap();
        let previous = versions.insert(id.clone(), version);
        assert!(
            previous.is_none_or(|p| p <= version),
            "{id}: {version} after {previous:?}"
        );
    }
    assert_eq!(duplicates, 0, "no lease ran out: no duplicate");
}

#[tokio::test]
async fn staff_subscribe_to_every_structure_and_dossier_decisions_are_named() {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let staff = app.staff("staff@example.org").await;
    let made = app
        .create_with(
            &staff,
            "/v1/webhooks",
            &json!({"url": receiver.url, "event_types": ["structure.created"]}),
        )
        .await;
    assert_eq!(made["webhook"]["structure_ids"], json!([]));
    let _ = app.create_structure(&company("Compagnie Nouvelle")).await;
    let hits = receiver
        .wait_for(WAIT, "structure.created", |h| !h.is_empty())
        .await;
    let event = &events(&hits)[0];
    assert_eq!(event["type"], "structure.created");
    // Staff read private fields.
    assert!(event["data"]["object"]["email"].is_string(), "{event}");
    let _ = AgencyRole::Staff;
}

/// The Python that has the `standardwebhooks` package (PyPI), an implementation of the
/// specification independent of ours: `OES_TEST_WEBHOOK_PYTHON` (CI points it at a venv
/// made from `.ci/requirements-webhooks.txt`), else `python3`. `None` (the test is
/// skipped, saying so) only on a machine without it where nothing requires it: CI sets
/// `OES_TEST_REQUIRE_STANDARDWEBHOOKS`, and then a missing package fails the test.
fn standardwebhooks_python() -> Option<String> {
    let configured = std::env::var("OES_TEST_WEBHOOK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let required =
        configured.is_some() || std::env::var_os("OES_TEST_REQUIRE_STANDARDWEBHOOKS").is_some();
    let python = configured.unwrap_or_else(|| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|out| out.status.success());
    match (found, required) {
        (true, _) => Some(python),
        (false, true) => panic!(
            "{python} cannot import standardwebhooks, and this run requires it \
             (pip install -r .ci/requirements-webhooks.txt)"
        ),
        (false, false) => {
            eprintln!(
                "skipped: {python} has no standardwebhooks package \
                 (pip install -r .ci/requirements-webhooks.txt to run this test)"
            );
            None
        }
    }
}

/// Verifies `hit` with `secret` in Python's `standardwebhooks`; also checks that it
/// refuses the body altered by one byte.
fn python_verifies(python: &str, hit: &Hit, secret: &str) -> Result<(), String> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import sys
from standardwebhooks.webhooks import Webhook
secret, msg_id, timestamp, signature = sys.argv[1:5]
body = sys.stdin.buffer.read()
headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
Webhook(secret).verify(body, headers)
try:
    Webhook(secret).verify(body + b" ", headers)
except Exception:
    print("verified")
    sys.exit(0)
sys.exit("an altered body verified")
"#;
    let mut child = std::process::Command::new(python)
        .args([
            "-c",
            SCRIPT,
            secret,
            &hit.id,
            &hit.timestamp,
            &hit.signature,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hit.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "verified" {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn the_standardwebhooks_python_package_verifies_our_deliveries_before_and_after_a_rotation() {
    let Some(python) = standardwebhooks_python() else {
        return;
    };
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (structure, _) = company_with_production(&app).await;
    let (webhook, old) = subscribe(&app, &app.client, &receiver.url, &["*"], &[&structure]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    app.patch_json(
        &format!("/v1/structures/{structure}"),
        &json!({"name": "Compagnie Signée"}),
    )
    .await;
    let hits = receiver
        .wait_for(WAIT, "the update", |h| !h.is_empty())
        .await;
    python_verifies(&python, &hits[0], &old).unwrap();
    assert!(python_verifies(&python, &hits[0], &signing::new_secret_text()).is_err());
    let rotated = app
        .send(
            app.client
                .post(app.url(&format!("/v1/webhooks/{id}/rotate-secret"))),
        )
        .await
        .json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    app.send(app.client.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    let hits = receiver.wait_for(WAIT, "the ping", |h| h.len() == 2).await;
    for secret in [&old, &new] {
        python_verifies(&python, &hits[1], secret).unwrap();
    }
}

/// The `oes` binary to run as a process of its own: `OES_TEST_OES_BINARY` (`.ci/run`
/// sets it once it has built the binaries). `None`, with a message, when it is unset.
fn oes_binary() -> Option<std::path::PathBuf> {
    match std::env::var_os("OES_TEST_OES_BINARY") {
        Some(path) if !path.is_empty() => {
            let path = std::path::PathBuf::from(path);
            assert!(
                path.is_file(),
                "OES_TEST_OES_BINARY: no file at {}",
                path.display()
            );
            Some(path)
        }
        _ => {
            eprintln!(
                "skipped: set OES_TEST_OES_BINARY to a built oes binary \
                 (cargo build -p api --bin oes) to run the kill -9 test"
            );
            None
        }
    }
}

/// A small pseudo-random sequence (the tests crate has no `rand`), seeded by the clock.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

#[tokio::test]
async fn oes_worker_killed_twenty_times_at_random_moments_loses_no_committed_event() {
    let Some(oes) = oes_binary() else {
        return;
    };
    let app = spawn_app_with(without_workers).await;
    let receiver = Receiver::start();
    let (structure, production) = company_with_production(&app).await;
    subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["performance.*"],
        &[&structure],
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let start_worker = || {
        std::process::Command::new(&oes)
            .arg("worker")
            .env("OES_DATABASE_URL", &app.database_url)
            .env("OES_DATA_DIR", data_dir.path())
            .env("OES_ENCRYPTION_KEY", test_key())
            .env("OES_WEBHOOK_ALLOW_INSECURE", "true")
            .env("OES_WEBHOOK_RETRY_BASE_MS", "100")
            .env("OES_WEBHOOK_POLL_MS", "20")
            .env("OES_WEBHOOK_LEASE_SECS", "2")
            .env("OES_WEBHOOK_TIMEOUT_SECS", "1")
            .env("OES_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(data_dir.path().join("worker.log"))
                    .unwrap(),
            )
            .spawn()
            .expect("oes worker starts")
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut random = Lcg(seed);
    let mut committed = 0usize;
    let mut performances = Vec::new();
    for _ in 0..20 {
        let mut worker = start_worker();
        // Changes while the worker runs: a performance made, or one changed.
        for _ in 0..3 {
            if performances.is_empty() || random.below(3) == 0 {
                let body = performance(&production, "34172", "2027-03-01T20:30:00+01:00");
                let made = app
                    .create_with(&app.client, "/v1/performances", &body)
                    .await;
                performances.push(made["id"].as_str().unwrap().to_owned());
            } else {
                let id = &performances[random.below(performances.len() as u64) as usize];
                let reply = app
                    .patch_json(
                        &format!("/v1/performances/{id}"),
                        // A fee never sent before: an update that changes nothing records nothing.
                        &json!({"fee_cents": 100_000 + committed}),
                    )
                    .await;
                assert_eq!(reply.status, 200);
            }
            committed += 1;
        }
        // And a write that is refused: its transaction rolls back, nothing is sent.
        let id = &performances[0];
        let refused = app
            .send(
                app.client
                    .patch(app.url(&format!("/v1/performances/{id}")))
                    .header("if-match", "\"v999\"")
                    .json(&json!({"fee_cents": 1})),
            )
            .await;
        assert_eq!(refused.status, 412);
        tokio::time::sleep(Duration::from_millis(20 + random.below(400))).await;
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();
    }
    let mut last = start_worker();
    let log = data_dir.path().join("worker.log");
    let started = Instant::now();
    loop {
        let hits = receiver.hits();
        let distinct: std::collections::HashSet<_> = hits.iter().map(|h| &h.id).collect();
        if distinct.len() >= committed {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let pool = app.pool.clone();
            let states = tokio::task::spawn_blocking(move || {
                use diesel::RunQueryDsl;
                #[derive(diesel::QueryableByName, Debug)]
                #[allow(dead_code)] // printed
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    status: String,
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    attempts: i64,
                    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
                    last_error: Option<String>,
                }
                let mut conn = pool.get().unwrap();
                diesel::sql_query("SELECT status, attempts, last_error FROM webhook_deliveries")
                    .load::<Row>(&mut conn)
                    .unwrap()
            })
            .await
            .unwrap();
            panic!(
                "{} of {committed} events delivered; deliveries {states:?}; worker log: {}",
                distinct.len(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing more than what was committed comes, even given time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    last.kill().unwrap();
    last.wait().unwrap();
    let hits = receiver.hits();
    let distinct: std::collections::HashSet<_> = hits.iter().map(|h| h.id.clone()).collect();
    eprintln!(
        "kill -9 x20: {committed} changes committed, {} events delivered, {} requests ({} duplicates)",
        distinct.len(),
        hits.len(),
        hits.len() - distinct.len()
    );
    assert_eq!(distinct.len(), committed);
    // Duplicates are the same event, under the same webhook-id.
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for hit in &hits {
        let first = bodies
            .entry(hit.id.clone())
            .or_insert_with(|| hit.body.clone());
        assert_eq!(first, &hit.body);
    }
}

#[tokio::test]
async fn a_performance_that_leaves_a_venue_reaches_its_subscriber_without_what_it_may_no_longer_read()
 {
    let app = fast_app().await;
    let receiver = Receiver::start();
    let (_, production) = company_with_production(&app).await;
    let venue_owner = client_with(Some(&app.sign_up("venue@example.org").await));
    let mut venue = company("Théâtre Molière");
    venue["kind"] = json!("venue");
    let venue = app
        .create_with(&venue_owner, "/v1/structures", &venue)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, secret) = subscribe(
        &app,
        &venue_owner,
        &receiver.url,
        &["performance.*"],
        &[&venue],
    )
    .await;
    let made = app
        .create_with(
            &venue_owner,
            "/v1/performances",
            &json!({"production_id": production, "venue_structure_id": venue,
                    "starts_at": "2027-07-14T22:00:00+02:00", "fee_cents": 320000,
                    "published": true}),
        )
        .await;
    let path = format!("/v1/performances/{}", made["id"].as_str().unwrap());
    // The company moves it elsewhere: the venue no longer reads its fee; then it is
    // unpublished: the venue may no longer see it at all.
    let moved = app
        .patch_json(
            &path,
            &json!({"venue_structure_id": null,
                    "place": {"name": "Salle des fêtes", "commune_code": "34172"}}),
        )
        .await;
    assert_eq!(
        moved.status,
        200,
        "{}",
        String::from_utf8_lossy(&moved.bytes)
    );
    let hidden = app.patch_json(&path, &json!({"published": false})).await;
    assert_eq!(
        hidden.status,
        200,
        "{}",
        String::from_utf8_lossy(&hidden.bytes)
    );
    let hits = receiver
        .wait_for(WAIT, "three events", |h| h.len() >= 3)
        .await;
    assert!(hits.iter().all(|h| verifies(h, &secret)));
    let events = events(&hits);
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("performance.created", 1),
            ("performance.updated", 2),
            ("performance.deleted", 3)
        ]
    );
    assert_eq!(events[0]["data"]["object"]["fee_cents"], 320000);
    let public = &events[1]["data"]["object"];
    assert!(
        public.is_object() && public.get("fee_cents").is_none(),
        "{public}"
    );
    assert_eq!(events[2]["data"]["object"], Value::Null);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3);
}

#[tokio::test]
async fn a_script_filing_dossiers_hears_of_their_submission_and_decision_by_name() {
    use crate::routes::dossiers::{company_with_performance, in_review, test_call};
    let app = fast_app().await;
    let receiver = Receiver::start();
    let staff = app.staff("staff@example.org").await;
    let (_, call) = test_call(&app, &staff, "WEBHOOK-TEST", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 200_000).await;
    subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["dossier.submitted", "dossier.approved", "dossier.rejected"],
        &[&structure],
    )
    .await;
    let id = in_review(&app, &staff, &call, &structure, &performance, 100_000).await;
    let approved = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/approve")))
                .json(&json!({"awarded_cents": 50_000})),
        )
        .await;
    assert_eq!(
        approved.status,
        200,
        "{}",
        String::from_utf8_lossy(&approved.bytes)
    );
    let hits = receiver
        .wait_for(WAIT, "two events", |h| h.len() >= 2)
        .await;
    let events = events(&hits);
    let names: Vec<_> = events.iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        names,
        [json!("dossier.submitted"), json!("dossier.approved")]
    );
    assert_eq!(events[1]["data"]["object"]["awarded_cents"], 50_000);
    assert_eq!(events[1]["data"]["object_id"], json!(id));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.hits().len(),
        2,
        "the draft's creation and the review are not asked for"
    );
}

/// A payment entered on a dossier is `payment.recorded` to its applicant's subscriber,
/// with the dossier as its applicant reads it; a stranger subscribed to everything of
/// its own hears nothing of it.
#[tokio::test]
async fn a_recorded_payment_reaches_the_applicants_subscriber_by_name_and_no_stranger() {
    use crate::routes::payments::{approved, pay, payment};
    let app = fast_app().await;
    let receiver = Receiver::start();
    let stranger_receiver = Receiver::start();
    let staff = app.staff("staff@example.org").await;
    let (_, id) = approved(&app, &staff, "WEBHOOK-PAY", 100_000, json!({})).await;
    let dossier = app.get(&format!("/v1/dossiers/{id}")).await.json();
    let applicant = dossier["applicant_id"].as_str().unwrap().to_owned();
    subscribe(
        &app,
        &app.client,
        &receiver.url,
        &["payment.*", "dossier.closed"],
        &[&applicant],
    )
    .await;
    let stranger = client_with(Some(&app.sign_up("stranger@example.org").await));
    subscribe_to_own_venue(&app, &stranger, &stranger_receiver.url).await;

    let paid = pay(&app, &staff, &id, &payment(Some("advance"), 30_000)).await;
    assert_eq!(paid.status, 201, "{}", String::from_utf8_lossy(&paid.bytes));
    let hits = receiver
        .wait_for(WAIT, "the payment", |h| !h.is_empty())
        .await;
    let events = events(&hits);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "payment.recorded");
    assert_eq!(events[0]["data"]["object_type"], "dossier");
    assert_eq!(events[0]["data"]["object_id"], json!(id));
    assert_eq!(events[0]["data"]["action"], "updated");
    assert_eq!(events[0]["data"]["object"]["awarded_cents"], 100_000);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        stranger_receiver
            .hits()
            .iter()
            .all(|h| !h.body.contains(&id)),
        "a stranger heard of the dossier"
    );
}

/// An app made with `settings` that mails through `sink`.
async fn mailing_app(sink: &crate::routes::mail::SmtpSink, settings: fn(&mut Settings)) -> TestApp {
    let smtp = sink.url();
    spawn_app_with(move |s: &mut Settings| {
        settings(s);
        s.smtp_url = Some(smtp.into());
    })
    .await
}

/// The mails to `address` that name `id`, once there is one.
async fn mails_about(
    sink: &crate::routes::mail::SmtpSink,
    address: &str,
    id: &str,
) -> Vec<crate::routes::mail::Received> {
    let about = |m: &crate::routes::mail::Received| m.is_to(address) && m.body().contains(id);
    sink.wait_until(|all| all.iter().any(about))
        .await
        .into_iter()
        .filter(about)
        .collect()
}

/// A subscription whose deliveries are given up again and again (for days, with the real
/// backoff) is disabled, and the account that made its API client is mailed, once.
#[tokio::test]
async fn an_endpoint_failing_for_days_is_disabled_and_the_maker_of_its_client_is_mailed() {
    use diesel::RunQueryDsl;
    let sink = crate::routes::mail::SmtpSink::start().await;
    let app = mailing_app(&sink, without_workers).await;
    let receiver = Receiver::start();
    receiver.script([Answer::Status(500), Answer::Status(500)]);
    let (structure, _) = company_with_production(&app).await;
    let partner =
        crate::routes::productions::partner(&app, &app.client, &structure, &["read"]).await;
    let (webhook, _) = subscribe(&app, &partner, &receiver.url, &["*"], &[&structure]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let pinged = app
        .send(partner.post(app.url(&format!("/v1/webhooks/{id}/ping"))))
        .await;
    assert_eq!(
        pinged.status,
        202,
        "{}",
        String::from_utf8_lossy(&pinged.bytes)
    );
    // Days of failures, told in the database: deliveries given up in a row but one, and
    // this one at its last attempt.
    {
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query(format!(
            "UPDATE webhooks SET failed_in_a_row = {} WHERE id = '{id}'",
            domain::webhooks::FAILED_IN_A_ROW_TO_DISABLE - 1
        ))
        .execute(&mut *conn)
        .unwrap();
        diesel::sql_query(format!(
            "UPDATE webhook_deliveries SET attempts = {} WHERE webhook_id = '{id}'",
            domain::webhooks::MAX_ATTEMPTS - 1
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    let engine = engine(&app, 1);
    assert_eq!(engine.deliver_once().await.unwrap(), 1);
    let now = app
        .send(partner.get(app.url(&format!("/v1/webhooks/{id}"))))
        .await
        .json();
    assert_eq!(now["enabled"], false);
    assert_eq!(now["disabled_reason"], "deliveries failed for days");

    let mails = mails_about(&sink, "member@example.org", &id).await;
    assert!(
        mails[0].body().contains("échouent depuis plusieurs jours"),
        "{}",
        mails[0].data
    );
    // Nothing is claimed any more, and nobody is mailed twice.
    assert_eq!(engine.deliver_once().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mails_about(&sink, "member@example.org", &id).await.len(), 1);
}
