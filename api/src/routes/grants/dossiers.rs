//! Handlers of `/v1/dossiers`: applicants (members of the applicant structure, API
//! clients acting for it) file and edit dossiers; staff read them all. A dossier the
//! caller may not read is a 404.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{Datelike, Utc};
use domain::access::{
    AgencyRole, GrantsAction, MembershipRole, Principal, dossier_role, may_grants,
    reads_as_reviewer,
};
use domain::grants::{
    AlreadyApproved, Applicant, BudgetInput, CallState, CapHolder, Dossier, DossierContent,
    DossierContentInput, FundedPerformance, LineInput, SubmissionCheck, SubmissionInput,
    editable_by_applicant, submission_problems,
};
use domain::programming::{Performance, Show};
use domain::{DossierId, FieldProblem, PerformanceId, ProgrammeId, StructureId, ValidationError};
use persistence::DbConnection;
use persistence::db::{read_snapshot, write_transaction};
use persistence::grants::context::{self, Context, JudgingReads};
use persistence::grants::documents;
use persistence::grants::dossiers::{self, ListQuery, NewDossier, Reader};
use persistence::grants::programmes;
use persistence::reference::ReferenceGeography;

use super::GrantsProblem;
use super::calls::visible_call;
use super::dossier_dto::*;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching::item_response;
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination;
use crate::routes::programming::not_editable;
use crate::routes::shared::find_live;

/// The caller's role in a dossier's applicant structure: its membership for an
/// account; for an API client acting for it, an editor with `dossiers:write`.
pub(crate) fn dossier_role_in(
    conn: &mut DbConnection,
    principal: &Principal,
    structure: StructureId,
) -> Result<Option<MembershipRole>, ApiError> {
    match principal {
        Principal::Anonymous => Ok(None),
        Principal::Client {
            structures, scopes, ..
        } => Ok(dossier_role(structures, scopes, structure)),
        Principal::Account { id, .. } => Ok(persistence::structures::memberships::membership(
            conn, *id, structure,
        )?),
    }
}

/// The dossier and the caller's role in its applicant, or a 404 for a caller who may
/// not read it. A committee reviewer reads the dossiers assigned to it until it
/// declares a conflict of interest (`domain::access::reads_as_reviewer`).
pub(crate) fn readable_dossier(
    conn: &mut DbConnection,
    principal: &Principal,
    id: DossierId,
) -> Result<(Dossier, Option<MembershipRole>), ApiError> {
    let dossier = dossiers::find(conn, id)?;
    let role = dossier_role_in(conn, principal, dossier.applicant_id)?;
    if may_read(conn, principal, id, role)? {
        Ok((dossier, role))
    } else {
        Err(ApiError::NotFound)
    }
}

/// Whether a caller with `role` in a dossier's applicant may read it.
fn may_read(
    conn: &mut DbConnection,
    principal: &Principal,
    id: DossierId,
    role: Option<MembershipRole>,
) -> Result<bool, ApiError> {
    Ok(may_grants(principal, GrantsAction::ReadDossier, role) || reviews_it(conn, principal, id)?)
}

/// The dossier the caller may read, as [`readable_dossier`] says, with what its judging
/// reads ([`Context`], and on PostgreSQL the rest of it): for a signed-in account in one
/// statement with its standing (a dossier's `GET` and `/check` are the agency's most
/// frequent reads).
fn readable_in_context(
    conn: &mut DbConnection,
    caller: &Caller,
    id: DossierId,
) -> Result<(Dossier, Context, Option<JudgingReads>), ApiError> {
    let Some(account) = caller.account_id() else {
        let principal = caller.principal(conn)?;
        let (dossier, _) = readable_dossier(conn, &principal, id)?;
        let context = context::find(conn, dossier.call_id, dossier.applicant_id)?;
        return Ok((dossier, context, None));
    };
    let (principal, found) =
        caller.judged_with(context::dossier_for_account(conn, id, account)?)?;
    if may_read(conn, &principal, id, found.role)? {
        Ok((found.dossier, found.context, found.reads))
    } else {
        Err(ApiError::NotFound)
    }
}

/// Whether the caller reads the dossier as one of its reviewers (a read for reviewers
/// only).
fn reviews_it(
    conn: &mut DbConnection,
    principal: &Principal,
    dossier: DossierId,
) -> Result<bool, ApiError> {
    match principal {
        Principal::Account {
            id,
            agency_role: Some(AgencyRole::Reviewer),
        } => {
            let standing = persistence::grants::reviews::standing(conn, dossier, *id)?;
            Ok(reads_as_reviewer(principal, standing))
        }
        _ => Ok(false),
    }
}

/// Editing a dossier the caller reads: 403 without the right to file for its applicant.
pub(crate) fn check_applicant(
    principal: &Principal,
    role: Option<MembershipRole>,
) -> Result<(), ApiError> {
    if may_grants(principal, GrantsAction::WriteDossier, role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The performances a dossier names, as the rules read them, in one query (those
/// deleted since are left out: the check then counts fewer).
fn funded(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    ids: &[PerformanceId],
) -> Result<Vec<FundedPerformance>, ApiError> {
    let found = persistence::programming::performances::find_many(conn, ids)?;
    Ok(in_dossier_order(geography, ids, &found))
}

/// The `found` performances in the dossier's order (`ids`): the aid names its
/// performances in it.
fn in_dossier_order(
    geography: &ReferenceGeography,
    ids: &[PerformanceId],
    found: &std::collections::HashMap<PerformanceId, domain::programming::Performance>,
) -> Vec<FundedPerformance> {
    ids.iter()
        .filter_map(|id| found.get(id))
        .map(|performance| FundedPerformance::of(performance, geography))
        .collect()
}

/// What a submission would say of `dossier` now: every problem, every warning, and
/// the maximum aid with the rule that limited it.
pub fn judge(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    dossier: &Dossier,
) -> Result<SubmissionCheck, ApiError> {
    judged(conn, geography, dossier).map(|(check, _)| check)
}

/// [`judge`]'s check and the performances as the rules read them.
pub(crate) fn judged(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    dossier: &Dossier,
) -> Result<(SubmissionCheck, Vec<FundedPerformance>), ApiError> {
    let context = context::find(conn, dossier.call_id, dossier.applicant_id)?;
    judged_in(conn, geography, dossier.into(), &context, None)
}

/// What judging reads of a dossier: a stored one's, or a new one's before it is stored.
#[derive(Debug, Clone, Copy)]
struct Judged<'a> {
    id: DossierId,
    programme_id: ProgrammeId,
    applicant_id: StructureId,
    content: &'a DossierContent,
}

impl<'a> From<&'a Dossier> for Judged<'a> {
    fn from(dossier: &'a Dossier) -> Self {
        Self {
            id: dossier.id,
            programme_id: dossier.programme_id,
            applicant_id: dossier.applicant_id,
            content: &dossier.content,
        }
    }
}

impl<'a> From<&'a NewDossier> for Judged<'a> {
    fn from(new: &'a NewDossier) -> Self {
        Self {
            id: new.id,
            programme_id: new.programme_id,
            applicant_id: new.applicant_id,
            content: &new.content,
        }
    }
}

/// [`judged`] with the dossier's context already read, and what else the judging reads
/// when it was read with it (`reads`; else it is read here). The yearly caps count what
/// the programme's other approved (or closed) dossiers gave the same presenters and the
/// same applicant in the same calendar years (each only when a cap counts per it).
fn judged_in(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    dossier: Judged<'_>,
    context: &Context,
    reads: Option<JudgingReads>,
) -> Result<(SubmissionCheck, Vec<FundedPerformance>), ApiError> {
    let Context {
        call,
        programme,
        applicant,
    } = context;
    let ids = &dossier.content.performance_ids;
    let performances = match &reads {
        None => funded(conn, geography, ids)?,
        Some(read) => in_dossier_order(geography, ids, &read.performances),
    };
    let caps = &programme.data.rules.amounts().yearly_caps;
    let approved = if caps.is_empty() {
        AlreadyApproved::none()
    } else {
        let capped = |holder: CapHolder| caps.iter().any(|cap| cap.per == holder);
        let mut presenters: Vec<StructureId> = if capped(CapHolder::Presenter) {
            performances.iter().filter_map(|p| p.presenter).collect()
        } else {
            Vec::new()
        };
        presenters.sort();
        presenters.dedup();
        let mut years: Vec<i32> = performances.iter().map(FundedPerformance::year).collect();
        years.sort_unstable();
        years.dedup();
        let applicant = capped(CapHolder::Applicant).then_some(dossier.applicant_id);
        persistence::grants::awards::already_approved(
            conn,
            dossier.programme_id,
            applicant,
            &presenters,
            &years,
            dossier.id,
            reads.as_ref().and_then(|read| read.awards.as_ref()),
        )?
    };
    let documents = match reads {
        Some(read) => read.document_kinds,
        None => {
            // Inside a write (a submission, an approval), the dossier is locked before
            // its documents are read: no removal can commit under the check.
            documents::lock_dossier(conn, dossier.id)?;
            documents::live_kinds(conn, dossier.id)?
        }
    };
    let check = submission_problems(&SubmissionInput {
        now: Utc::now(),
        window: &call.data.window,
        rules: &programme.data.rules,
        applicant: &Applicant::of(applicant),
        performances: &performances,
        approved: &approved,
        answers: &dossier.content.answers,
        documents: &documents,
        budget: &dossier.content.budget,
    });
    Ok((check, performances))
}

/// The content, checked by the domain, and every named performance one of the
/// applicant's productions: every bad field at once. With the named performances, read
/// in one statement, by id.
fn checked_content(
    conn: &mut DbConnection,
    applicant: StructureId,
    input: &DossierContentInput,
    questions: &[domain::grants::Question],
) -> Result<(DossierContent, HashMap<PerformanceId, Performance>), ApiError> {
    let mut errors = ValidationError::default();
    let content = match DossierContent::parse(input, questions) {
        Ok(content) => Some(content),
        Err(problems) => {
            errors.errors.extend(problems.errors);
            None
        }
    };
    let named = &input.performance_ids[..input.performance_ids.len().min(1000)];
    let performances = persistence::programming::performances::find_many(conn, named)?;
    for (i, id) in named.iter().enumerate() {
        let of_the_applicant = performances.get(id).is_some_and(|performance| {
            matches!(performance.data.show,
                Show::Production { structure_id, .. } if structure_id == applicant)
        });
        if !of_the_applicant {
            errors.push(format!("performance_ids[{i}]"), FieldProblem::NotEditable);
        }
    }
    errors.into_result()?;
    let content =
        content.ok_or_else(|| ValidationError::single("title", FieldProblem::Required))?;
    Ok((content, performances))
}

/// The year a new dossier's reference counts in: this one, in Paris.
fn paris_year() -> i32 {
    Utc::now()
        .with_timezone(&domain::programming::performance::PARIS)
        .year()
}

/// File a dossier.
///
/// A draft for an open call, for a structure you file for (its owners and editors, API
/// clients with `dossiers:write`); any other `applicant_id` or `call_id` is a 422
/// naming it (`not_editable`), a call not open a 422 (`call_not_open`). Performances
/// must be of the applicant's productions. The reference
/// (`{PROGRAMME}-{YEAR}-{NNNN}`) is the next of its programme and year. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateDossier,
    responses(
        (status = 201, description = "Created.", body = DossierView, headers(
            ("Location" = String, description = "URL of the new dossier."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers")]
pub async fn create_dossier(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    body: JsonBody<CreateDossier>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(&geography);
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut event = audit::event(
            &caller,
            "dossier.create",
            "dossier",
            "",
            &[
                "call_id",
                "applicant_id",
                "title",
                "summary",
                "performance_ids",
                "answers",
                "budget",
            ],
        );
        Ok(move |conn: &mut DbConnection| {
            write_transaction(conn, |conn| {
                let principal = caller.principal(conn)?;
                let applicant = find_live(conn, value.applicant_id)
                    .map_err(|_| not_editable("applicant_id"))?;
                let role = dossier_role_in(conn, &principal, applicant.id)?;
                if !may_grants(&principal, GrantsAction::WriteDossier, role) {
                    return Err(not_editable("applicant_id"));
                }
                let (call, programme) =
                    visible_call(conn, &principal, value.call_id).map_err(|e| match e {
                        ApiError::NotFound => not_editable("call_id"),
                        other => other,
                    })?;
                if call.data.window.state(Utc::now()) != CallState::Open {
                    return Err(GrantsProblem::CallNotOpen.into());
                }
                let input = DossierContentInput {
                    title: value.title,
                    summary: value.summary,
                    performance_ids: value.performance_ids,
                    answers: value.answers,
                    budget: BudgetInput::from(value.budget),
                };
                let (content, performances) =
                    checked_content(conn, applicant.id, &input, programme.data.rules.questions())?;
                let new = NewDossier {
                    id: DossierId::generate(),
                    call_id: call.id,
                    programme_id: programme.id,
                    programme_code: programme.data.code.clone(),
                    applicant_id: applicant.id,
                    content,
                    year: paris_year(),
                };
                // Judged before it takes its number, which on PostgreSQL locks the
                // programme's counter until the commit: whatever runs after it
                // serializes the creations of the programme. With the call, programme
                // and applicant read above and the performances the check read; a new
                // dossier has no document.
                let context = Context {
                    call,
                    programme,
                    applicant,
                };
                let reads = JudgingReads {
                    performances,
                    document_kinds: Vec::new(),
                    awards: None,
                };
                let (check, _) = judged_in(conn, &geography, (&new).into(), &context, Some(reads))?;
                let created = persistence::audit::recorded(
                    conn,
                    |conn| dossiers::create(conn, new, &DOSSIER_LISTING),
                    move |created| {
                        event.object_id = created.id.to_string();
                        event
                    },
                )?;
                // Last: the change log's numbering is held until the commit.
                super::transitions::record(conn, &caller, &created)?;
                let location = format!("/v1/dossiers/{}", created.id);
                Ok(Reply::json(
                    StatusCode::CREATED,
                    &DossierView::of(&created, Some(&check.maximum)),
                )?
                .header(header::LOCATION, location)
                .header(header::ETAG, etag(created.version)))
            })
        })
    })
    .await
}

/// Get a dossier.
///
/// For the applicant's members and API clients, and agency staff; a 404 for anyone
/// else. With the maximum aid the rules compute now, naming the rule that limited it.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The dossier.", body = DossierView,
            headers(("ETag" = String, description = "Current version."))),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}")]
pub async fn get_dossier(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let geography = Arc::clone(&geography);
    let (dossier, check) = db::run(&pool, move |conn| {
        read_snapshot(conn, |conn| {
            let (dossier, context, reads) = readable_in_context(conn, &caller, id)?;
            let (check, _) = judged_in(conn, &geography, (&dossier).into(), &context, reads)?;
            Ok::<_, ApiError>((dossier, check))
        })
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        dossier.version,
        &DossierView::of(&dossier, Some(&check.maximum)),
    ))
}

/// List dossiers.
///
/// Those of the structures you file for (all of them for agency staff; for a committee
/// reviewer, also those assigned to it on which it declared no conflict of interest),
/// in creation order; `maximum` is given by each dossier's own `GET`.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(ListDossiersParams),
    responses(
        (status = 200, description = "One page of dossiers.", body = DossierPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
    )
)]
#[get("/dossiers")]
pub async fn list_dossiers(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListDossiersParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let limit = pagination::limit(params.limit)?;
    let after = params
        .cursor
        .as_deref()
        .map(pagination::decode::<String>)
        .transpose()?
        .map(|id| {
            id.parse::<DossierId>()
                .map_err(|_| pagination::invalid_cursor())
        })
        .transpose()?;
    let page = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let reader = match &principal {
            p if p.is_staff() => Reader::Everything,
            Principal::Anonymous => Reader::Nobody,
            Principal::Account {
                id,
                agency_role: Some(AgencyRole::Reviewer),
            } => Reader::Reviewer(*id),
            Principal::Account { id, .. } => Reader::Member(*id),
            Principal::Client {
                structures, scopes, ..
            } => Reader::Acting(
                structures
                    .iter()
                    .copied()
                    .filter(|s| dossier_role(structures, scopes, *s).is_some())
                    .collect(),
            ),
        };
        let query = ListQuery {
            reader,
            status: params.status,
            call: params.call_id.map(Into::into),
            after,
            limit,
            ..ListQuery::default()
        };
        Ok::<_, ApiError>(dossiers::listed(conn, &query, &DOSSIER_LISTING)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |d| d.id.to_string());
    Ok(pagination::respond_rendered(
        &req,
        page.items.iter().map(|d| d.json.as_str()),
        next_cursor.as_deref(),
    ))
}

/// The content with a patch applied, as the domain checks it.
fn patched(current: &DossierContent, patch: UpdateDossier) -> DossierContentInput {
    let budget = &current.budget;
    let (expenses, incomes) = match patch.budget {
        None => (lines_of(budget.expenses()), lines_of(budget.incomes())),
        Some(sides) => (
            sides
                .expenses
                .map(|l| {
                    BudgetInput::from(BudgetInputDto {
                        expenses: l,
                        incomes: vec![],
                    })
                    .expenses
                })
                .unwrap_or_else(|| lines_of(budget.expenses())),
            sides
                .incomes
                .map(|l| {
                    BudgetInput::from(BudgetInputDto {
                        expenses: vec![],
                        incomes: l,
                    })
                    .incomes
                })
                .unwrap_or_else(|| lines_of(budget.incomes())),
        ),
    };
    let mut answers = current.answers.as_object().cloned().unwrap_or_default();
    for (key, value) in patch.answers.unwrap_or_default() {
        if value.is_null() {
            answers.remove(&key);
        } else {
            answers.insert(key, value);
        }
    }
    DossierContentInput {
        title: patch.title.unwrap_or_else(|| current.title.clone()),
        summary: patch.summary.unwrap_or_else(|| current.summary.clone()),
        performance_ids: patch
            .performance_ids
            .unwrap_or_else(|| current.performance_ids.clone()),
        answers: serde_json::Value::Object(answers),
        budget: BudgetInput { expenses, incomes },
    }
}

fn lines_of<C: Copy + std::fmt::Display>(
    lines: &[domain::grants::BudgetLine<C>],
) -> Vec<LineInput> {
    lines
        .iter()
        .map(|l| LineInput {
            category: l.category().to_string(),
            label: l.label().map(str::to_owned),
            amount_cents: l.amount_cents(),
        })
        .collect()
}

/// Update a dossier.
///
/// While it is a draft or changes are requested (409 `dossier_not_editable`
/// otherwise), by those who file for its applicant. A JSON merge patch; send
/// `If-Match` with the `ETag` you read to refuse lost updates (412).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the dossier changed since."),
    ),
    request_body = UpdateDossier,
    responses(
        (status = 200, description = "The updated dossier.", body = DossierView,
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
#[patch("/dossiers/{id}")]
pub async fn update_dossier(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    body: JsonBody<UpdateDossier>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => opened.value,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, role) = readable_dossier(conn, &principal, id)?;
                check_applicant(&principal, role)
            })
            .await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(&geography);
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch, geography) =
            (condition.clone(), patch.clone(), Arc::clone(&geography));
        let mut event = audit::event(&caller, "dossier.update", "dossier", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Dossiers, id)?;
                let (current, role) = readable_dossier(conn, &principal, id)?;
                check_applicant(&principal, role)?;
                if !editable_by_applicant(current.status) {
                    return Err(GrantsProblem::DossierNotEditable.into());
                }
                let programme = programmes::find(conn, current.programme_id)?;
                let input = patched(&current.content, patch);
                let (content, _) = checked_content(
                    conn,
                    current.applicant_id,
                    &input,
                    programme.data.rules.questions(),
                )?;
                check_if_match(precondition.as_ref(), current.version)?;
                let changed = content != current.content;
                let dossier = if !changed {
                    current
                } else {
                    event.changed_fields = changed_fields(&current.content, &content);
                    let updated = dossiers::edited(&current, content);
                    persistence::audit::recorded(
                        conn,
                        |conn| dossiers::replace(conn, &current, &updated, &DOSSIER_LISTING),
                        |_| event,
                    )?;
                    updated
                };
                let check = judge(conn, &geography, &dossier)?;
                if changed {
                    super::transitions::record(conn, &caller, &dossier)?;
                }
                Ok((dossier, check))
            })
        })
    })
    .await;
    let (dossier, check) = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        dossier.version,
        &DossierView::of(&dossier, Some(&check.maximum)),
    ))
}

fn changed_fields(before: &DossierContent, after: &DossierContent) -> Vec<String> {
    [
        ("title", before.title != after.title),
        ("summary", before.summary != after.summary),
        (
            "performance_ids",
            before.performance_ids != after.performance_ids,
        ),
        ("answers", before.answers != after.answers),
        ("budget", before.budget != after.budget),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect()
}

/// Check a dossier.
///
/// A dry run of the submission: every reason it could not be submitted now (call
/// closed, required answers and documents missing, budget unbalanced, ineligibility,
/// amount above the computed maximum) and every warning. Changes nothing.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "What a submission would say now.", body = CheckView),
        responses::NotFound,
    )
)]
#[post("/dossiers/{id}/check")]
pub async fn check_dossier(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let geography = Arc::clone(&geography);
    let check = db::run(&pool, move |conn| {
        read_snapshot(conn, |conn| {
            let (dossier, context, reads) = readable_in_context(conn, &caller, id)?;
            judged_in(conn, &geography, (&dossier).into(), &context, reads).map(|(check, _)| check)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(CheckView::from(&check)))
}
