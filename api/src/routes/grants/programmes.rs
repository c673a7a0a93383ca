//! Handlers of `/v1/programmes`: staff define programmes, everyone reads the published
//! ones (an unpublished one is a 404 but for staff).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::ProgrammeId;
use domain::access::Principal;
use domain::grants::{NewProgramme, Programme, ProgrammeInput, RulesInput, form_schema};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::grants::programmes::{self, ListQuery};

use super::dto::*;
use super::{code_taken, manage, staff_sees};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching;
use crate::http::caching::{item_response, read_item};
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams, parse_value};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};

/// The programme, if the caller may see it (404 otherwise).
pub(crate) fn visible_programme(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ProgrammeId,
) -> Result<Programme, ApiError> {
    let programme = programmes::find(conn, id)?;
    if programme.data.published || staff_sees(principal) {
        Ok(programme)
    } else {
        Err(ApiError::NotFound)
    }
}

fn rules(value: serde_json::Value) -> Result<RulesInput, ApiError> {
    parse_value(value, "rules")
}

/// List programmes.
///
/// The published programmes (all of them for agency staff), in creation order.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(
        ListProgrammesParams,
        ("If-None-Match" = Option<String>, Header, description = "The page's ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "One page of programmes.", body = ProgrammePage,
            headers(
                ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."),
                ("ETag" = String, description = "A digest of the page."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy of the page is current."),
    )
)]
#[get("/programmes")]
pub async fn list_programmes(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListProgrammesParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let anonymous = caller.is_anonymous();
    let after = params
        .cursor
        .as_deref()
        .map(pagination::decode::<String>)
        .transpose()?
        .map(|id| {
            id.parse::<ProgrammeId>()
                .map_err(|_| pagination::invalid_cursor())
        })
        .transpose()?;
    let page = db::run(&pool, move |conn| {
        let query = ListQuery {
            unpublished: staff_sees(&caller.principal(conn)?),
            after,
            limit,
        };
        Ok::<_, ApiError>(programmes::list(conn, &query)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |p| p.id.to_string());
    Page {
        data: page.items.into_iter().map(ProgrammeView::from).collect(),
        next_cursor,
    }
    .respond_cached(&req, anonymous, caching::VARY_AUTHORIZATION)
}

/// Create a programme.
///
/// For agency staff. Its rules are checked by the domain, every bad one named
/// (`rules.amounts.floor_cents`…); a code another programme holds is a 409. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateProgramme,
    responses(
        (status = 201, description = "Created.", body = ProgrammeView, headers(
            ("Location" = String, description = "URL of the new programme."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Forbidden,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/programmes")]
pub async fn create_programme(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateProgramme>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        // What is wrong with the body is told only to those who may create.
        Err(problem) => {
            manage(&caller.resolve(&pool).await?)?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut event = audit::event(
            &caller,
            "programme.create",
            "programme",
            "",
            &[
                "code",
                "name",
                "description",
                "kind",
                "published",
                "rules",
                "review_criteria",
            ],
        );
        Ok(move |conn: &mut DbConnection| {
            manage(&caller.principal(conn)?)?;
            let input = ProgrammeInput {
                code: value.code,
                name: value.name,
                description: value.description,
                kind: value.kind,
                published: value.published,
                rules: rules(value.rules)?,
                review_criteria: criteria_input(value.review_criteria),
            };
            let data = NewProgramme::parse(&input)?;
            let created = persistence::audit::recorded(
                conn,
                |conn| programmes::create(conn, data),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )
            .map_err(code_taken)?;
            let (location, version) = (format!("/v1/programmes/{}", created.id), created.version);
            Ok(
                Reply::json(StatusCode::CREATED, &ProgrammeView::from(created))?
                    .header(header::LOCATION, location)
                    .header(header::ETAG, etag(version)),
            )
        })
    })
    .await
}

/// Get a programme.
///
/// An unpublished programme is a 404 but for agency staff. Answers 304 when
/// `If-None-Match` holds the current `ETag`.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Programme id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The programme.", body = ProgrammeView,
            headers(
                ("ETag" = String, description = "Current version."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
    )
)]
#[get("/programmes/{id}")]
pub async fn get_programme(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<ProgrammeId>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    let programme = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        visible_programme(conn, &principal, id)
    })
    .await?;
    read_item(
        &req,
        anonymous,
        caching::VARY_AUTHORIZATION,
        programme.version,
        &ProgrammeView::from(programme),
    )
}

/// Get a programme's form as JSON Schema.
///
/// The questions its dossiers answer (`answers`), as a JSON Schema (draft 2020-12): a
/// front end renders the form from it, a script checks its answers before sending.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Programme id."),
    ),
    responses(
        (status = 200, description = "The JSON Schema of the programme's answers.", body = Object),
        responses::NotFound,
    )
)]
#[get("/programmes/{id}/form-schema")]
pub async fn get_programme_form_schema(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<ProgrammeId>,
) -> Result<HttpResponse, ApiError> {
    let programme = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        visible_programme(conn, &principal, id)
    })
    .await?;
    let schema = form_schema(&programme.data.name, programme.data.rules.questions());
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(etag(programme.version)))
        .json(schema))
}

/// Update a programme.
///
/// For agency staff. A JSON merge patch (`application/json` or
/// `application/merge-patch+json`); `rules`, when given, replace the rules whole. Send
/// `If-Match` with the `ETag` you read to refuse lost updates (412).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Programme id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the programme changed since."),
    ),
    request_body = UpdateProgramme,
    responses(
        (status = 200, description = "The updated programme.", body = ProgrammeView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/programmes/{id}")]
pub async fn update_programme(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<ProgrammeId>,
    body: JsonBody<UpdateProgramme>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => opened.value,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let programme = visible_programme(conn, &principal, id)?;
                manage(&principal).map(|()| programme)
            })
            .await?;
            return Err(problem);
        }
    };
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch) = (condition.clone(), patch.clone());
        let mut event = audit::event(&caller, "programme.update", "programme", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Programmes, id)?;
                let current = visible_programme(conn, &principal, id)?;
                manage(&principal)?;
                let (code, name, description, kind, published) = programme_fields(&current.data);
                let input = ProgrammeInput {
                    code: patch.code.unwrap_or(code),
                    name: patch.name.unwrap_or(name),
                    description: patch.description.unwrap_or(description),
                    kind: patch.kind.unwrap_or(kind),
                    published: patch.published.unwrap_or(published),
                    rules: match patch.rules {
                        Some(value) => rules(value)?,
                        None => current.data.rules.input().clone(),
                    },
                    review_criteria: match patch.review_criteria {
                        Some(criteria) => criteria_input(criteria),
                        None => criteria_as_input(&current.data.review_criteria),
                    },
                };
                let data = NewProgramme::parse(&input)?;
                check_if_match(precondition.as_ref(), current.version)?;
                if data == current.data {
                    return Ok(current);
                }
                event.changed_fields = changed_fields(&current.data, &data);
                persistence::audit::recorded(
                    conn,
                    |conn| programmes::update(conn, &current, data),
                    |_| event,
                )
                .map_err(code_taken)
            })
        })
    })
    .await;
    let updated = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &ProgrammeView::from(updated),
    ))
}

fn changed_fields(before: &NewProgramme, after: &NewProgramme) -> Vec<String> {
    [
        ("code", before.code != after.code),
        ("name", before.name != after.name),
        ("description", before.description != after.description),
        ("kind", before.kind != after.kind),
        ("published", before.published != after.published),
        ("rules", before.rules != after.rules),
        (
            "review_criteria",
            before.review_criteria != after.review_criteria,
        ),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect()
}
