//! Mails, read from a real SMTP server: a small sink started by each test on loopback
//! (EHLO, MAIL, RCPT, DATA, QUIT), which records what it receives and can answer 4xx on
//! demand. Without SMTP configured, mails land in the data folder.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::config::Settings;
use chrono::TimeDelta;
use diesel::RunQueryDsl;
use persistence::mail::NewMail;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::dossiers::{company_with_performance, dossier, test_call};
use crate::helpers::{TestApp, TestDatabase, client_with, spawn_app, spawn_app_with};

/// One mail as the sink received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    to: Vec<String>,
    pub(crate) data: String,
}

impl Received {
    pub(crate) fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map_or(self.data.as_str(), |(_, body)| body)
    }

    fn token(&self) -> String {
        let found = regex::Regex::new(r"token=([A-Za-z0-9_-]+)")
            .unwrap()
            .captures(self.body())
            .unwrap_or_else(|| panic!("no token link in {}", self.data));
        found[1].to_owned()
    }

    pub(crate) fn is_to(&self, address: &str) -> bool {
        self.to.iter().any(|to| to == address)
    }
}

/// An SMTP server on loopback that keeps what it receives.
pub(crate) struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
}

impl SmtpSink {
    pub(crate) async fn start() -> Self {
        Self::start_on(0).await
    }

    async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let (kept, refuse) = (Arc::clone(&received), Arc::clone(&refusing));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&kept), Arc::clone(&refuse)));
            }
        });
        Self {
            port,
            received,
            refusing,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// From now on, answer `451` to every `MAIL FROM` (or accept again).
    fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// What it received once `done` holds of it; fails the test after 20 seconds.
    pub(crate) async fn wait_until(&self, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if done(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the sink did not receive what was expected: {:#?}",
            self.received()
        );
    }

    /// The mails to `address`, once there are `count` of them.
    pub(crate) async fn mails_to(&self, address: &str, count: usize) -> Vec<Received> {
        self.wait_until(|all| all.iter().filter(|m| m.is_to(address)).count() >= count)
            .await
            .into_iter()
            .filter(|m| m.is_to(address))
            .collect()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    kept: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut to = Vec::new();
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if command.starts_with("MAIL FROM") {
            to.clear();
            if refusing.load(Ordering::SeqCst) {
                b"451 4.3.0 Try again later\r\n"
            } else {
                b"250 OK\r\n"
            }
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            to.push(address);
            b"250 OK\r\n"
        } else if command == "DATA" {
            if write.write_all(b"354 Go ahead\r\n").await.is_err() {
                return;
            }
            let mut data = String::new();
            loop {
                let mut line = String::new();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            kept.lock().unwrap().push(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

async fn app_mailing_to(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |settings: &mut Settings| {
        settings.smtp_url = Some(url.into());
        settings.public_url = "https://espace.oes.example/".into();
    })
    .await
}

/// Signs up `email` in `language`; its access token.
async fn sign_up_in(app: &TestApp, email: &str, language: &str) -> String {
    let reply = app
        .send(app.anonymous.post(app.url("/v1/accounts")).json(&json!({
            "email": email,
            "display_name": "Alex Martin",
            "password": "correct horse battery staple",
            "language": language,
        })))
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.json()["language"], language);
    assert_eq!(reply.json()["email_verified"], false);
    let reply = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", email),
            ("password", "correct horse battery staple"),
        ]))
        .await;
    assert_eq!(reply.status, 200);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

async fn verify(app: &TestApp, token: &str) -> crate::helpers::Reply {
    app.send(
        app.anonymous
            .post(app.url("/v1/auth/email-verification"))
            .json(&json!({ "token": token })),
    )
    .await
}

#[tokio::test]
async fn signing_up_mails_a_link_in_the_accounts_language_that_verifies_the_email_once() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink).await;
    // The test member signed up with no language: French.
    let french = sink.mails_to("member@example.org", 1).await;
    assert!(french[0].body().contains("Bonjour"), "{}", french[0].data);
    let token = sign_up_in(&app, "alex@compagnie.example", "en").await;
    let mail = sink.mails_to("alex@compagnie.example", 1).await.remove(0);
    assert!(mail.body().contains("Hello Alex Martin"), "{}", mail.data);
    assert!(
        mail.body()
            .contains("https://espace.oes.example/email-verification?token="),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("no-reply@oes.example"), "{}", mail.data);

    let verified = verify(&app, &mail.token()).await;
    assert_eq!(
        verified.status,
        204,
        "{}",
        String::from_utf8_lossy(&verified.bytes)
    );
    let me = app
        .send(client_with(Some(&token)).get(app.url("/v1/me")))
        .await;
    assert_eq!(me.json()["email_verified"], true);
    assert_eq!(me.json()["language"], "en");

    for spent_or_unknown in [mail.token(), "no-such-token".to_owned()] {
        let again = verify(&app, &spent_or_unknown).await;
        assert_eq!(again.status, 400);
        assert_eq!(again.json()["code"], "verification_token_invalid");
    }
}

#[tokio::test]
async fn simultaneous_presentations_of_one_verification_token_verify_once() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink).await;
    let token = sink.mails_to("member@example.org", 1).await[0].token();
    let answers = futures_util::future::join_all((0..16).map(|_| verify(&app, &token))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        15,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_database_never_holds_a_mailed_token_in_clear() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink).await;
    let token = sink.mails_to("member@example.org", 1).await[0].token();
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject: String,
        #[diesel(sql_type = diesel::sql_types::Binary)]
        body: Vec<u8>,
    }
    #[derive(diesel::QueryableByName)]
    struct Verification {
        #[diesel(sql_type = diesel::sql_types::Text)]
        token_hash: String,
    }
    let pool = app.pool.clone();
    let (mails, verifications) = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let mails: Vec<Stored> = diesel::sql_query("SELECT subject, body FROM mail_outbox")
            .load(&mut conn)
            .unwrap();
        let verifications: Vec<Verification> =
            diesel::sql_query("SELECT token_hash FROM email_verifications")
                .load(&mut conn)
                .unwrap();
        (mails, verifications)
    })
    .await
    .unwrap();
    assert!(!mails.is_empty());
    for mail in &mails {
        assert!(!mail.subject.contains(&token));
        let body = String::from_utf8_lossy(&mail.body);
        assert!(!body.contains(&token));
        assert!(!body.contains("email-verification"), "the body is sealed");
    }
    assert_eq!(verifications.len(), 1);
    assert_ne!(verifications[0].token_hash, token);
    assert!(!verifications[0].token_hash.contains(&token));
}

#[tokio::test]
async fn a_password_reset_made_by_staff_is_mailed_to_the_holder_and_its_link_works() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink).await;
    let member = app.get("/v1/me").await.json();
    let staff = app.staff("staff@agency.example").await;
    let made = app
        .send(staff.post(app.url(&format!(
            "/v1/accounts/{}/password-resets",
            member["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.bytes));
    let mails = sink
        .wait_until(|all| {
            all.iter()
                .any(|m| m.is_to("member@example.org") && m.body().contains("password-reset"))
        })
        .await;
    let mail = mails
        .iter()
        .find(|m| m.is_to("member@example.org") && m.body().contains("password-reset"))
        .unwrap();
    assert!(mail.body().contains("mot de passe"), "{}", mail.data);
    assert_eq!(mail.token(), made.json()["reset_token"].as_str().unwrap());
    let reset = app
        .send(
            app.anonymous
                .post(app.url("/v1/auth/password-reset"))
                .json(&json!({
                    "token": mail.token(),
                    "password": "a brand new passphrase for me",
                })),
        )
        .await;
    assert_eq!(
        reset.status,
        204,
        "{}",
        String::from_utf8_lossy(&reset.bytes)
    );
    let signed_in = app
        .send(app.anonymous.post(app.url("/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "member@example.org"),
            ("password", "a brand new passphrase for me"),
        ]))
        .await;
    assert_eq!(signed_in.status, 200);
}

#[tokio::test]
async fn a_dossiers_transitions_and_the_agencys_messages_reach_its_members_and_submissions_reach_staff()
 {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink).await;
    let staff = app.staff("staff@agency.example").await;
    let (_, call) = test_call(&app, &staff, "DIFF", 10_000_000).await;
    let (structure, performance) = company_with_performance(&app, &app.client, 300_000).await;
    let editor = client_with(Some(
        &sign_up_in(&app, "editor@compagnie.example", "en").await,
    ));
    app.add_member(
        &app.client,
        &structure,
        &editor,
        "editor@compagnie.example",
        "editor",
    )
    .await;
    let viewer = client_with(Some(
        &sign_up_in(&app, "viewer@compagnie.example", "fr").await,
    ));
    app.add_member(
        &app.client,
        &structure,
        &viewer,
        "viewer@compagnie.example",
        "viewer",
    )
    .await;
    let made = app
        .create_with(
            &app.client,
            "/v1/dossiers",
            &dossier(&call, &structure, &[&performance], 150_000),
        )
        .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let reference = made["reference"].as_str().unwrap().to_owned();

    let submitted = app
        .post_json(&format!("/v1/dossiers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(submitted.status, 200);
    let owner_mail = sink
        .wait_until(|all| {
            all.iter()
                .any(|m| m.is_to("member@example.org") && m.body().contains("a été déposé"))
        })
        .await;
    assert!(owner_mail.iter().any(|m| m.body().contains(&reference)));
    let english = sink
        .wait_until(|all| {
            all.iter().any(|m| {
                m.is_to("editor@compagnie.example") && m.body().contains("has been submitted")
            })
        })
        .await;
    assert!(!english.is_empty());
    sink.wait_until(|all| {
        all.iter().any(|m| {
            m.is_to("staff@agency.example")
                && m.body().contains("Compagnie du Hasard a déposé le dossier")
                && m.body().contains(&reference)
        })
    })
    .await;

    // A note: staff's alone, never mailed. A request for changes and a message: mailed.
    let note = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/notes")))
                .json(&json!({"body": "NOTE-INTERNE-7731 budget douteux"})),
        )
        .await;
    assert_eq!(note.status, 201, "{}", String::from_utf8_lossy(&note.bytes));
    let changes = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/request-changes")))
                .json(&json!({"reason": "Budget à préciser"})),
        )
        .await;
    assert_eq!(
        changes.status,
        200,
        "{}",
        String::from_utf8_lossy(&changes.bytes)
    );
    let message = app
        .send(
            staff
                .post(app.url(&format!("/v1/dossiers/{id}/messages")))
                .json(&json!({"body": "Merci de détailler les cachets."})),
        )
        .await;
    assert_eq!(
        message.status,
        201,
        "{}",
        String::from_utf8_lossy(&message.bytes)
    );
    let all = sink
        .wait_until(|all| {
            ["member@example.org", "editor@compagnie.example"]
                .iter()
                .all(|member| {
                    all.iter().any(|m| {
                        m.is_to(member) && m.body().contains("Merci de détailler les cachets.")
                    }) && all
                        .iter()
                        .any(|m| m.is_to(member) && m.body().contains("Budget à préciser"))
                })
        })
        .await;
    // Give a wrongly enqueued mail the time to arrive before saying none did.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = sink.received().into_iter().chain(all).collect::<Vec<_>>();
    assert!(all.iter().all(|m| !m.data.contains("NOTE-INTERNE-7731")));
    // A viewer reads the dossier but does not file for it: only its own sign-up mail.
    let to_viewer: Vec<_> = all
        .iter()
        .filter(|m| m.is_to("viewer@compagnie.example"))
        .collect();
    assert!(
        to_viewer
            .iter()
            .all(|m| m.body().contains("email-verification")),
        "{to_viewer:#?}"
    );
}

#[tokio::test]
async fn a_mail_waits_out_an_smtp_server_that_is_down_or_answers_4xx_and_is_delivered_once_back() {
    // Down: nothing listens on the port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(move |settings: &mut Settings| {
        settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pending = outbox_statuses(&app).await;
    assert_eq!(pending, vec![("pending".to_owned(), true)], "kept, tried");
    let sink = SmtpSink::start_on(port).await;
    let delivered = sink.mails_to("member@example.org", 1).await;
    assert_eq!(delivered.len(), 1);

    // 4xx: refused for a while, then accepted.
    sink.refuse(true);
    let staff = app.staff("staff@agency.example").await;
    let member = app.get("/v1/me").await.json();
    let made = app
        .send(staff.post(app.url(&format!(
            "/v1/accounts/{}/password-resets",
            member["id"].as_str().unwrap()
        ))))
        .await;
    assert_eq!(made.status, 201);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.received().len(), 1, "nothing passes a 451");
    sink.refuse(false);
    let mails = sink.mails_to("member@example.org", 2).await;
    assert!(mails[1].body().contains("password-reset"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 2, "each delivered once");
    let statuses = outbox_statuses(&app).await;
    assert!(
        statuses.iter().all(|(status, _)| status == "sent"),
        "{statuses:?}"
    );
}

/// Each mail's status, and whether it was tried more than once.
async fn outbox_statuses(app: &TestApp) -> Vec<(String, bool)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        last_error: Option<String>,
    }
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let rows: Vec<Row> =
            diesel::sql_query("SELECT status, attempts, last_error FROM mail_outbox ORDER BY id")
                .load(&mut pool.get().unwrap())
                .unwrap();
        rows.into_iter()
            .map(|row| {
                let status = match row.last_error {
                    Some(error) if row.status == "failed" => format!("failed: {error}"),
                    _ => row.status,
                };
                (status, row.attempts > 1)
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn without_smtp_mails_are_written_into_the_data_folder_for_the_owner_only() {
    let app = spawn_app().await;
    let folder = app.data_dir.join("mail");
    let mut files = Vec::new();
    for _ in 0..200 {
        files = std::fs::read_dir(&folder)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("To: member@example.org"), "{text}");
    assert!(text.contains("/email-verification?token="), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

fn new_mail(n: usize) -> NewMail {
    NewMail {
        id: uuid::Uuid::now_v7().to_string(),
        kind: "email_verification",
        recipient: format!("someone{n}@example.org"),
        subject: "Subject".into(),
        sealed_body: vec![1, 2, 3],
    }
}

/// A pool on a fresh database, with no server and so no worker running.
async fn bare_pool() -> (persistence::Pool, TestDatabase) {
    let database = TestDatabase::new();
    let settings = Settings::for_database(database.url());
    let pool = tokio::task::spawn_blocking(move || api::startup::prepare(&settings).unwrap().pool)
        .await
        .unwrap();
    (pool, database)
}

#[tokio::test]
async fn a_rolled_back_write_enqueues_nothing_and_a_dead_workers_lease_expires() {
    let (pool, _database) = bare_pool().await;
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let rolled_back: Result<(), persistence::PersistenceError> =
            persistence::db::write_transaction(&mut conn, |conn| {
                persistence::mail::enqueue(conn, vec![new_mail(0)])?;
                Err(persistence::PersistenceError::NotFound)
            });
        assert!(rolled_back.is_err());
        assert!(!persistence::mail::any_due(&mut conn, chrono::Utc::now()).unwrap());

        persistence::mail::enqueue(&mut conn, vec![new_mail(1)]).unwrap();
        let now = chrono::Utc::now();
        let lease = TimeDelta::seconds(60);
        let first = persistence::mail::claim(&mut conn, now, lease, 10).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].attempts, 1);
        // Its worker dies: nobody else claims it while the lease holds…
        let during = now + TimeDelta::seconds(30);
        assert!(
            persistence::mail::claim(&mut conn, during, lease, 10)
                .unwrap()
                .is_empty()
        );
        // …and once it has run out, the mail is claimed again.
        let after = now + TimeDelta::seconds(61);
        let again = persistence::mail::claim(&mut conn, after, lease, 10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, first[0].id);
        assert_eq!(again[0].attempts, 2);
        persistence::mail::mark_sent(&mut conn, &again[0].id).unwrap();
        let later = now + TimeDelta::hours(1);
        assert!(
            persistence::mail::claim(&mut conn, later, lease, 10)
                .unwrap()
                .is_empty()
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn workers_claiming_at_once_never_claim_one_mail_twice() {
    let (pool, _database) = bare_pool().await;
    {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mails = (0..60).map(new_mail).collect();
            persistence::mail::enqueue(&mut pool.get().unwrap(), mails).unwrap();
        })
        .await
        .unwrap();
    }
    let workers = (0..4).map(|_| {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut claimed = Vec::new();
            loop {
                let now = chrono::Utc::now();
                let batch = persistence::mail::claim(
                    &mut pool.get().unwrap(),
                    now,
                    TimeDelta::minutes(5),
                    3,
                )
                .unwrap();
                if batch.is_empty() {
                    return claimed;
                }
                claimed.extend(batch.into_iter().map(|m| m.id));
            }
        })
    });
    let claimed: Vec<String> = futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let distinct: BTreeSet<&String> = claimed.iter().collect();
    assert_eq!(claimed.len(), 60);
    assert_eq!(distinct.len(), 60);
}

#[tokio::test]
async fn an_erased_account_leaves_no_mail_waiting_for_it() {
    // Nothing listens: mails wait in the outbox.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(move |settings: &mut Settings| {
        settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
    })
    .await;
    let token = sign_up_in(&app, "gone@compagnie.example", "fr").await;
    let erased = app
        .send(client_with(Some(&token)).delete(app.url("/v1/me")))
        .await;
    assert_eq!(erased.status, 204);
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        recipient: String,
    }
    let pool = app.pool.clone();
    let recipients: Vec<String> = tokio::task::spawn_blocking(move || {
        let rows: Vec<Row> = diesel::sql_query("SELECT recipient FROM mail_outbox")
            .load(&mut pool.get().unwrap())
            .unwrap();
        rows.into_iter().map(|row| row.recipient).collect()
    })
    .await
    .unwrap();
    assert_eq!(recipients, vec!["member@example.org".to_owned()]);
}
