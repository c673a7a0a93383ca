//! Preparing the database and starting the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, guard, web};
use persistence::reference::{self, ReferenceGeography, Sources};
use persistence::{PersistenceError, Pool, db};
use secrecy::ExposeSecret;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::tokens::{self, TokenKeys};
use crate::config::Settings;
use crate::http::extract::{BatchBodyLimit, BodyLimit, UploadLimit};
use crate::http::fallback::{RouteTable, not_found_or_not_allowed};
use crate::http::limits::Limits;
use crate::http::metrics::Metrics;
use crate::http::observe::observe;
use crate::storage::Storage;
use crate::webhooks::{Sealer, WebhookSettings};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] PersistenceError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("OpenAPI document: {0}")]
    Spec(String),
    #[error("token signing secret: {0}")]
    Secret(String),
    #[error("the agency's identity: {0}")]
    Agency(String),
    #[error("document storage: {0}")]
    Storage(String),
    #[error("mail: {0}")]
    Mail(String),
}

/// What every handler shares.
#[derive(Clone)]
pub struct State {
    pub pool: Pool,
    pub geography: Arc<ReferenceGeography>,
    pub keys: TokenKeys,
    pub storage: Storage,
    pub sealer: Sealer,
    pub mailer: crate::mail::Mailer,
}

/// Opens the pool, applies pending migrations and loads the reference geography.
/// Blocking: call it before the server starts, or from a blocking thread.
pub fn prepare(settings: &Settings) -> Result<State, StartupError> {
    let pool = db::connect(
        settings.database_url.expose_secret(),
        settings.pool_size,
        Duration::from_secs(settings.pool_timeout_secs),
    )?;
    let mut conn = pool.get().map_err(PersistenceError::from)?;
    let applied = db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "migrations applied");
    }
    let refreshed = persistence::grants::dossiers::refresh_listings(
        &mut conn,
        &crate::routes::grants::DOSSIER_LISTING,
    )?;
    if refreshed.stored > 0 {
        tracing::info!(
            dossiers = refreshed.stored,
            "dossier listings rendered again"
        );
    }
    if refreshed.unreadable > 0 {
        tracing::warn!(
            dossiers = refreshed.unreadable,
            "dossier rows that do not read as dossiers: their listings were left as they are"
        );
    }
    if !reference::is_loaded(&mut conn)? {
        let report = reference::load(&mut conn, Sources::embedded())?;
        tracing::info!(
            communes = report.communes,
            departments = report.departments,
            "reference geography loaded"
        );
    }
    let geography = Arc::new(ReferenceGeography::read(&mut conn)?);
    let keys = match &settings.jwt_private_key_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| StartupError::Secret(format!("{}: {e}", path.display())))?;
            TokenKeys::es256(
                &pem,
                settings.jwt_key_id.as_deref(),
                &settings.jwt_issuer,
                settings.access_token_ttl,
                settings.refresh_token_ttl,
            )
            .map_err(StartupError::Secret)?
        }
        None => {
            let secret = tokens::secret(settings.jwt_secret.as_ref(), &settings.data_dir)
                .map_err(StartupError::Secret)?;
            TokenKeys::new(
                secret.expose_secret(),
                &settings.jwt_issuer,
                settings.access_token_ttl,
                settings.refresh_token_ttl,
            )
        }
    };
    let storage = Storage::open(settings).map_err(StartupError::Storage)?;
    // One key seals what is kept at rest: webhook secrets and mail bodies.
    let sealing =
        crate::crypto::SealingKey::load(settings.encryption_key.as_ref(), &settings.data_dir)
            .map_err(StartupError::Secret)?;
    Ok(State {
        pool,
        geography,
        keys,
        storage,
        sealer: Sealer::new(sealing.clone()),
        mailer: crate::mail::Mailer::new(sealing, settings),
    })
}

fn cors(origins: &str) -> Cors {
    let cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["ETag", "Location", "Link", "X-Request-Id"])
        .max_age(3600);
    match origins.trim() {
        "" => cors,
        "*" => cors.allow_any_origin(),
        list => list
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
    }
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(settings: &Settings, state: State) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(&settings.bind).map_err(|source| StartupError::Listen {
                address: settings.bind.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                address: settings.bind.clone(),
                source,
            })?
            .port();
        let metrics = Metrics::install().map_err(StartupError::Metrics)?;
        let spec = crate::openapi::document();
        let routes = web::Data::new(RouteTable::from_openapi(&spec));
        // The document is served as the bytes it serializes to, made once and shared by
        // every worker: each copy of the document itself held some 10 MB (a tree of
        // small allocations), and the workers' factories held four of them.
        let spec = SpecJson(web::Bytes::from(
            serde_json::to_vec(&spec).map_err(|e| StartupError::Spec(e.to_string()))?,
        ));
        let body_limit = BodyLimit(settings.body_limit);
        let batch_body_limit = BatchBodyLimit(settings.batch_body_limit);
        let upload_limit = UploadLimit(settings.upload_limit_bytes);
        state
            .storage
            .sweep_in_background(state.pool.clone())
            .map_err(|source| StartupError::Listen {
                address: "document sweep thread".into(),
                source,
            })?;
        let webhook_settings = WebhookSettings::from_settings(settings);
        if webhook_settings.workers > 0 {
            crate::webhooks::spawn(
                state.pool.clone(),
                state.sealer.clone(),
                state.mailer.clone(),
                webhook_settings.clone(),
            )
            .map_err(|source| StartupError::Listen {
                address: "webhook thread".into(),
                source,
            })?;
        }
        let webhooks = web::Data::new(crate::routes::webhooks::Context {
            sealer: state.sealer,
            allow_insecure: webhook_settings.allow_insecure,
        });
        // The mail worker shares the server's runtime: it stops with it.
        let mail_worker = crate::mail::worker::Worker::new(
            state.pool.clone(),
            state.mailer.key().clone(),
            settings,
        )
        .map_err(StartupError::Mail)?;
        tokio::spawn(mail_worker.run());
        let mailer = web::Data::new(state.mailer);
        let storage = web::Data::new(state.storage);
        let cors_origins = settings.cors_origins.clone();
        let pool = web::Data::new(state.pool);
        let geography = web::Data::new(state.geography);
        let keys = web::Data::new(state.keys);
        let limits = web::Data::new(Limits::from_settings(settings));
        let agency = web::Data::new(
            crate::routes::grants::Agency::from_settings(settings).map_err(StartupError::Agency)?,
        );
        {
            // Keyed limiters remember every key; forget the idle ones now and then. And
            // give back what the workers freed: first once they have built their
            // applications, then after every minute of requests (see crate::memory).
            let limits = limits.clone();
            std::thread::Builder::new()
                .name("housekeeping".into())
                .spawn(move || {
                    std::thread::sleep(std::time::Duration::from_secs(2));
                    crate::memory::release_free_memory();
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(60));
                        limits.shrink();
                        crate::memory::release_free_memory();
                    }
                })
                .map_err(|source| StartupError::Listen {
                    address: "housekeeping thread".into(),
                    source,
                })?;
        }
        let metrics = web::Data::new(metrics);
        let mut server = HttpServer::new(move || {
            crate::openapi::register(App::new().into_utoipa_app())
                .into_app()
                .app_data(pool.clone())
                .app_data(geography.clone())
                .app_data(keys.clone())
                .app_data(limits.clone())
                .app_data(metrics.clone())
                .app_data(routes.clone())
                .app_data(agency.clone())
                .app_data(body_limit)
                .app_data(batch_body_limit)
                .app_data(upload_limit)
                .app_data(storage.clone())
                .app_data(webhooks.clone())
                .app_data(mailer.clone())
                .service(
                    web::resource("/openapi.json")
                        .guard(guard::Get())
                        .app_data(web::Data::new(spec.clone()))
                        .to(serve_spec),
                )
                .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(not_found_or_not_allowed))
                .wrap(cors(&cors_origins))
                .wrap(from_fn(observe))
        })
        .listen(listener)
        .map_err(|source| StartupError::Listen {
            address: settings.bind.clone(),
            source,
        })?;
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // Database work waits for a pooled connection anyway: more blocking threads than
        // connections only add context switches and memory (each thread has its own
        // allocator arena), so each worker gets its share of the pool.
        let blocking_threads = (settings.pool_size as usize).div_ceil(workers).max(2);
        server = server
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads);
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The OpenAPI document as JSON, serialized once.
#[derive(Clone)]
struct SpecJson(web::Bytes);

/// `GET /openapi.json`: the document the interactive docs read.
async fn serve_spec(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::http::negotiate::JSON)
        .body(spec.0.clone())
}
