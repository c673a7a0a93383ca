//! Operational routes: liveness, readiness, metrics.

use actix_web::{HttpResponse, get, web};
use persistence::db;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Db, run};
use crate::http::metrics::Metrics;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// The database answers.
    pub database: bool,
    /// Every migration is applied.
    pub migrations_current: bool,
}

/// Whether the instance can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
    NotReady,
}

/// Liveness: the process answers. Touches nothing else.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive.", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers and its migrations are current.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Ready to serve.", body = Readiness),
    (status = 503, description = "Not ready.", body = Readiness),
))]
#[get("/readyz")]
pub async fn readyz(pool: web::Data<Db>) -> HttpResponse {
    let checks = run(&pool, |conn| {
        db::ping(conn)?;
        db::migrations_current(conn)
    })
    .await;
    let (database, migrations_current) = match checks {
        Ok(current) => (true, current),
        Err(_) => (false, false),
    };
    let ready = database && migrations_current;
    let body = Readiness {
        status: if ready {
            ReadinessStatus::Ready
        } else {
            ReadinessStatus::NotReady
        },
        database,
        migrations_current,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics: requests by route and status, latency histograms, pool usage.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format.", content_type = "text/plain; version=0.0.4", body = String),
))]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>, pool: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&pool))
}
