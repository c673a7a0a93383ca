use api::config::Settings;
use api::startup::{self, Application};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use persistence::Pool;
use reqwest::header::HeaderMap;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A database of the backend under test, made for one test and removed after it.
pub enum TestDatabase {
    Sqlite {
        _dir: TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub fn new() -> Self {
        match std::env::var("OES_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("oes_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach {admin_url}: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base.to_owned())
                    .expect("OES_TEST_DATABASE_URL names a database");
                Self::Postgres {
                    url: format!("{base}/{name}"),
                    admin_url,
                    name,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("oes.db").display());
                Self::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// Signed in as `member`, a fresh account with no agency role.
    pub client: reqwest::Client,
    /// No token at all.
    pub anonymous: reqwest::Client,
    pub member_token: String,
    /// The secret the server signs tokens with.
    pub jwt_secret: String,
    pub pool: Pool,
    /// Where the server keeps documents: its own folder, or its own bucket when
    /// `OES_TEST_S3_URL` names an S3-compatible endpoint.
    pub storage: api::storage::Storage,
    /// The server's data folder (`OES_DATA_DIR`): mails land in its `mail` folder when no
    /// SMTP server is configured.
    pub data_dir: std::path::PathBuf,
    _storage_dir: TempDir,
    /// The database's URL, for another process on the same database (`oes worker`).
    pub database_url: String,
    // Dropped last: the database outlives the pool's connections.
    _database: TestDatabase,
}

/// A pool on a test database, waiting for a connection as long as a test server does.
pub fn pool(url: &str, max_size: u32) -> Pool {
    let timeout = Settings::for_database(url).pool_timeout_secs;
    persistence::db::connect(url, max_size, std::time::Duration::from_secs(timeout))
        .expect("test pool")
}

/// Starts the real server on a random port against a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new();
    let mut settings = Settings::for_database(database.url());
    let storage_dir = tempfile::tempdir().expect("temp dir");
    settings.data_dir = storage_dir.path().to_path_buf();
    if let Ok(endpoint) = std::env::var("OES_TEST_S3_URL")
        && !endpoint.is_empty()
    {
        settings.storage_url = Some(format!("s3://{}", test_bucket(&endpoint).await));
        settings.storage_endpoint = Some(endpoint);
    }
    adjust(&mut settings);
    let prepared = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || startup::prepare(&settings))
            .await
            .expect("prepare task")
            .expect("database prepared")
    };
    let pool = prepared.pool.clone();
    let app = Application::build(&settings, prepared).expect("server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let anonymous = client_with(None);
    let mut app = TestApp {
        address,
        client: anonymous.clone(),
        anonymous,
        member_token: String::new(),
        jwt_secret: settings
            .jwt_secret
            .as_ref()
            .expect("test settings carry a secret")
            .expose_secret()
            .to_owned(),
        pool,
        storage: api::storage::Storage::open(&settings).expect("document storage"),
        data_dir: settings.data_dir.clone(),
        _storage_dir: storage_dir,
        database_url: database.url().to_owned(),
        _database: database,
    };
    let member_token = app.sign_up("member@example.org").await;
    app.client = client_with(Some(&member_token));
    app.member_token = member_token;
    app
}

/// A new bucket on the S3-compatible server at `endpoint` (moto in CI, which takes
/// unsigned requests), for one test. Credentials come from `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`, which must be set: without them the S3 client would ask
/// the cloud's instance metadata service.
async fn test_bucket(endpoint: &str) -> String {
    assert!(
        std::env::var("AWS_ACCESS_KEY_ID").is_ok()
            && std::env::var("AWS_SECRET_ACCESS_KEY").is_ok(),
        "OES_TEST_S3_URL needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    let bucket = format!("oes-test-{}", uuid::Uuid::now_v7().simple());
    let made = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .expect("S3 endpoint reached");
    assert!(
        made.status().is_success(),
        "bucket {bucket}: {}",
        made.status()
    );
    bucket
}

/// A client that sends `token` with every request.
pub fn client_with(token: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header value"),
        );
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a connection idle for 5 s (actix-web's keep-alive); a client
        // that reused one at that very moment would see it closed under its request.
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .default_headers(headers)
        .build()
        .expect("client")
}

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field` of every entry of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        // A 408 comes from actix before any handler ran: the request's head did not reach
        // it within its client request timeout (seen in CI under a load average of 33).
        // Nothing was read or stored, so it is sent again once, as RFC 9110 (15.5.9)
        // allows. A streamed (multipart) body cannot be cloned: it is sent once.
        let again = request.try_clone();
        let mut response = request.send().await.expect("request sent");
        if response.status() == reqwest::StatusCode::REQUEST_TIMEOUT
            && let Some(again) = again
        {
            response = again.send().await.expect("request sent again");
        }
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("body").to_vec(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.patch(self.url(path)).json(body))
            .await
    }

    /// Signs up an account and returns an access token for it.
    pub async fn sign_up(&self, email: &str) -> String {
        let reply = self
            .send(self.anonymous.post(self.url("/v1/accounts")).json(&json!({
                "email": email,
                "display_name": "Test account",
                "password": PASSWORD,
            })))
            .await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        self.sign_in(email).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// The token response for `email` and the test password.
    pub async fn sign_in(&self, email: &str) -> Value {
        let reply = self
            .send(self.anonymous.post(self.url("/v1/auth/token")).form(&[
                ("grant_type", "password"),
                ("username", email),
                ("password", PASSWORD),
            ]))
            .await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        reply.json()
    }

    /// An account with an agency role, made as `oes admin create` makes it; its token.
    pub async fn agency_account(&self, email: &str, role: domain::access::AgencyRole) -> String {
        let pool = self.pool.clone();
        let email_owned = email.to_owned();
        tokio::task::spawn_blocking(move || {
            let new = domain::access::NewAccount::parse(&email_owned, "Agency", PASSWORD).unwrap();
            let hash = api::auth::passwords::hash(PASSWORD).unwrap();
            let mut conn = pool.get().unwrap();
            persistence::identity::accounts::create(&mut conn, new, hash, Some(role)).unwrap();
        })
        .await
        .unwrap();
        self.sign_in(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Makes the account behind `invitee` a member of `structure` the way people do: an
    /// owner (`owner`) invites its `email`, and it accepts. Fails the test otherwise.
    pub async fn add_member(
        &self,
        owner: &reqwest::Client,
        structure: &str,
        invitee: &reqwest::Client,
        email: &str,
        role: &str,
    ) {
        let invited = self
            .send(
                owner
                    .post(self.url(&format!("/v1/structures/{structure}/invitations")))
                    .json(&json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(
            invited.status,
            201,
            "{}",
            String::from_utf8_lossy(&invited.bytes)
        );
        let id = invited.json()["id"]
            .as_str()
            .expect("invitation id")
            .to_owned();
        let accepted = self
            .send(invitee.post(self.url(&format!("/v1/me/invitations/{id}/accept"))))
            .await;
        assert_eq!(
            accepted.status,
            201,
            "{}",
            String::from_utf8_lossy(&accepted.bytes)
        );
    }

    /// Creates a structure and returns its JSON, failing the test if it is refused.
    pub async fn create_structure(&self, body: &Value) -> Value {
        let reply = self.post_json("/v1/structures", body).await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.bytes)
        );
        reply.json()
    }
}

/// A valid company in Montpellier; `siret` is optional so that tests can make many.
pub fn company(name: &str) -> Value {
    json!({
        "kind": "company",
        "name": name,
        "licences": [{"category": 2, "number": "PLATESV-D-2021-001234"}],
        "address": {"street": "2 rue de la Loge", "postal_code": "34000", "commune_code": "34172"},
        "disciplines": ["theatre"],
        "email": "contact@example.org"
    })
}

/// The SIRET for a small serial, with its Luhn key.
pub fn siret(serial: u32) -> String {
    domain::structures::siret::with_check_digit(&format!("1{serial:012}"))
}

/// A valid, unpublished production of `structure`.
pub fn production(structure: &str) -> Value {
    json!({
        "structure_id": structure,
        "title": "Les Oiseaux de passage",
        "disciplines": ["theatre"],
        "audience": "all_audiences",
        "duration_minutes": 60,
        "space": "stage"
    })
}

/// A performance of `production` at an inline place in `commune` (INSEE code).
pub fn performance(production: &str, commune: &str, starts_at: &str) -> Value {
    json!({
        "production_id": production,
        "place": {"name": "Salle des fêtes", "commune_code": commune},
        "starts_at": starts_at,
        "fee_cents": 250000
    })
}

impl TestApp {
    /// POSTs `body` to `path` as `client` and returns the created JSON, failing the test
    /// if it is refused.
    pub async fn create_with(&self, client: &reqwest::Client, path: &str, body: &Value) -> Value {
        let reply = self.send(client.post(self.url(path)).json(body)).await;
        assert_eq!(
            reply.status,
            201,
            "POST {path}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        reply.json()
    }
}

/// A published programme with `code` and Région Occitanie's rules of the diffusion de
/// proximité (as the domain ships them).
pub fn programme(code: &str) -> Value {
    let scheme = domain::grants::occitanie::diffusion_de_proximite();
    json!({
        "code": code,
        "name": scheme.name,
        "description": scheme.description,
        "kind": "diffusion",
        "published": true,
        "rules": serde_json::to_value(&scheme.rules).expect("rules as JSON"),
    })
}

/// A call of `programme` open from a month ago to two months ahead (Paris time).
pub fn open_call(programme: &str, envelope_cents: i64) -> Value {
    let paris = |days: i64| {
        (chrono::Utc::now() + chrono::TimeDelta::days(days))
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    json!({
        "programme_id": programme,
        "title": "Session de printemps",
        "opens_at": paris(-30),
        "closes_at": paris(60),
        "committee_date": "2030-04-15",
        "envelope_cents": envelope_cents,
    })
}

impl TestApp {
    /// A staff account's client.
    pub async fn staff(&self, email: &str) -> reqwest::Client {
        client_with(Some(
            &self
                .agency_account(email, domain::access::AgencyRole::Staff)
                .await,
        ))
    }

    /// A published programme (`code`) and an open call of it with `envelope_cents`, made
    /// by `staff`: their ids.
    pub async fn programme_and_call(
        &self,
        staff: &reqwest::Client,
        code: &str,
        envelope_cents: i64,
    ) -> (String, String) {
        let programme = self
            .create_with(staff, "/v1/programmes", &programme(code))
            .await["id"]
            .as_str()
            .expect("programme id")
            .to_owned();
        let call = self
            .create_with(staff, "/v1/calls", &open_call(&programme, envelope_cents))
            .await["id"]
            .as_str()
            .expect("call id")
            .to_owned();
        (programme, call)
    }
}
