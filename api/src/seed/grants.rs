//! The demo's grants: Région Occitanie's aide à la diffusion de proximité, as the
//! domain expresses it, one call open from a month ago to two months ahead, and
//! dossiers of the directory's companies in every state of their life; and, for
//! benchmarks, as many dossiers as asked.
//!
//! Dossiers move through the domain's table (`domain::grants::transition`), each step
//! recorded in their history as the API records it, approvals award what the rules
//! compute (and the call's envelope keeps the sum), and every dossier enters the change
//! log as of its last state.

use chrono::{DurationRound, TimeDelta, Utc};
use domain::changes::{ChangeAction, ChangedObject};
use domain::grants::{
    Budget, BudgetInput, Call, CallWindow, DEFAULT_ADVANCE, Dossier, DossierAction, DossierActor,
    DossierContent, LineInput, NewCall, Programme, TransitionContext, occitanie, transition,
};
use domain::programming::Performance;
use domain::{DossierId, PerformanceId, Structure, StructureKind};
use persistence::changes::{self, NewChange};
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::dossiers::{self, NewDossier};
use persistence::grants::events::{self, DossierEvent};
use persistence::grants::{calls, programmes};
use persistence::programming::performances;
use persistence::reference::ReferenceGeography;
use persistence::{DbConnection, PersistenceError};

use crate::routes::grants::{DOSSIER_LISTING, DossierView, award, judge};

use DossierAction::*;

/// The life of each demo dossier, as the actions taken on it in turn.
const DEMO_LIVES: [&[DossierAction]; 9] = [
    &[],
    &[Submit],
    &[Submit, RequestChanges],
    &[Submit, StartReview],
    &[Submit, StartReview, Approve],
    &[Submit, StartReview, Reject],
    &[Withdraw],
    &[Submit, Dismiss],
    &[Submit, RequestChanges, Submit, StartReview, Approve],
];

/// The benchmark's mix, out of 20: 8 drafts, 6 submitted, 2 in review, 2 approved,
/// a rejection and a withdrawal.
fn bench_life(serial: u64) -> &'static [DossierAction] {
    match serial % 20 {
        0..=7 => &[],
        8..=13 => &[Submit],
        14 | 15 => &[Submit, StartReview],
        16 | 17 => &[Submit, StartReview, Approve],
        18 => &[Submit, StartReview, Reject],
        _ => &[Withdraw],
    }
}

fn corrupt(what: &str, error: impl std::fmt::Debug) -> PersistenceError {
    PersistenceError::Corrupt(format!("seeding {what}: {error:?}"))
}

/// The programme and a call open from a month ago to two months ahead, with
/// `envelope_cents`.
fn programme_and_call(
    conn: &mut DbConnection,
    title: &str,
    envelope_cents: i64,
) -> Result<(Programme, Call), PersistenceError> {
    let now = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or_else(|_| Utc::now());
    let window = CallWindow::new(now - TimeDelta::days(30), now + TimeDelta::days(60))
        .map_err(|e| corrupt("the call window", e))?;
    write_transaction(conn, |conn| {
        let programme = programmes::create(conn, occitanie::diffusion_de_proximite())?;
        let call = calls::create(
            conn,
            NewCall {
                programme_id: programme.id,
                title: title.to_owned(),
                window,
                committee_date: Some((now + TimeDelta::days(75)).date_naive()),
                envelope_cents,
            },
        )?;
        Ok((programme, call))
    })
}

/// A company's performances the scheme funds: in Occitanie communes of fewer than
/// 15,000 inhabitants, at most `limit`.
fn fundable(
    conn: &mut DbConnection,
    company: &Structure,
    limit: i64,
) -> Result<Vec<Performance>, PersistenceError> {
    Ok(performances::list(
        conn,
        &performances::ListQuery {
            reader: persistence::programming::Reader::Everything,
            structure: Some(company.id),
            region: Some(domain::geography::OCCITANIE.to_owned()),
            max_commune_population: Some(14_999),
            limit,
            ..Default::default()
        },
    )?
    .items)
}

/// What a company writes for its performances: answers, and a balanced budget asking
/// the agency for half the fees.
fn content(
    company: &Structure,
    performances: &[Performance],
) -> Result<DossierContent, PersistenceError> {
    let fees: i64 = performances.iter().filter_map(|p| p.data.fee_cents).sum();
    let fees = fees.max(100_000);
    let request = fees / 2;
    let travel = 30_000 * performances.len() as i64;
    let line = |category: &str, amount_cents: i64| LineInput {
        category: category.to_owned(),
        label: None,
        amount_cents,
    };
    let budget = Budget::parse(&BudgetInput {
        expenses: vec![line("artistic_pay", fees), line("travel", travel)],
        incomes: vec![
            line("fees", fees - request + travel),
            line("agency_request", request),
        ],
    })
    .map_err(|e| corrupt("a budget", e))?;
    Ok(DossierContent {
        title: format!("Diffusion de proximité : {}", company.data.name)
            .chars()
            .take(200)
            .collect(),
        summary: Some(format!(
            "{} représentation(s) dans des communes de moins de 15 000 habitants.",
            performances.len()
        )),
        performance_ids: performances
            .iter()
            .map(|p| p.id)
            .collect::<Vec<PerformanceId>>(),
        answers: serde_json::json!({"audience": "tout public", "cultural_action": true}),
        budget,
    })
}

/// Files a dossier and takes it through `life`, recording each step; returns it as it
/// ends, with what it was awarded.
fn live(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    programme: &Programme,
    call: &Call,
    company: &Structure,
    performances: &[Performance],
    life: &[DossierAction],
) -> Result<Dossier, crate::http::error::ApiError> {
    let year = chrono::Datelike::year(&call.data.window.opens_at());
    let mut dossier = dossiers::create(
        conn,
        NewDossier {
            id: DossierId::generate(),
            call_id: call.id,
            programme_id: programme.id,
            programme_code: programme.data.code.clone(),
            applicant_id: company.id,
            content: content(company, performances)?,
            year,
        },
        &DOSSIER_LISTING,
    )?;
    for &planned in life {
        // The rules give nothing to some performances (no fee, too large a town):
        // their dossiers are rejected, as a committee would.
        let action =
            if planned == Approve && judge(conn, geography, &dossier)?.maximum.total_cents == 0 {
                Reject
            } else {
                planned
            };
        let actor = if matches!(action, Submit | Withdraw) {
            DossierActor::Applicant
        } else {
            DossierActor::Staff
        };
        let reason = match action {
            RequestChanges => Some("Merci de préciser le budget de déplacement.".to_owned()),
            Reject => Some("Dossier hors des priorités de la session.".to_owned()),
            Dismiss => Some("Représentations reportées à la saison prochaine.".to_owned()),
            _ => None,
        };
        let context = TransitionContext {
            reason: reason.clone(),
            final_report_accepted: false,
            payments_complete: false,
        };
        let to = transition(dossier.status, action, actor, &context)
            .map_err(|e| corrupt("a transition", e))?;
        let now = storable_now();
        let mut next = dossiers::moved(&dossier, to, now);
        let mut awarded = None;
        match action {
            Submit => next.submitted_at = Some(now),
            Approve => {
                let requested = dossier.content.budget.requested_cents().unwrap_or(0);
                let choose = |maximum: i64| requested.min(maximum).max(1);
                let cents = award(conn, geography, &dossier, choose, DEFAULT_ADVANCE, now)?;
                next.awarded_cents = Some(cents);
                next.decided_at = Some(now);
                awarded = Some(cents);
            }
            Reject | Dismiss => next.decided_at = Some(now),
            _ => {}
        }
        dossiers::replace(conn, &dossier, &next, &DOSSIER_LISTING)?;
        events::record(
            conn,
            &DossierEvent {
                id: String::new(),
                dossier_id: dossier.id,
                action,
                from: dossier.status,
                to,
                actor_kind: "system".to_owned(),
                actor_id: None,
                reason,
                awarded_cents: awarded,
                occurred_at: now,
            },
        )?;
        dossier = next;
    }
    Ok(dossier)
}

/// The change log's entries of seeded dossiers, as of their last state.
fn followed(seeded: &[Dossier]) -> Result<Vec<NewChange>, PersistenceError> {
    seeded
        .iter()
        .map(|dossier| {
            Ok(NewChange {
                object_type: ChangedObject::Dossier,
                object_id: dossier.id.to_string(),
                action: ChangeAction::Created,
                version: dossier.version,
                actor_kind: "system",
                actor_id: None,
                object: Some(serde_json::to_value(DossierView::of(dossier, None))?),
                structures: vec![dossier.applicant_id],
                public: false,
                cause: None,
            })
        })
        .collect()
}

fn seeding_failed(error: crate::http::error::ApiError) -> PersistenceError {
    PersistenceError::Corrupt(format!("seeding dossiers: {error}"))
}

/// Adds the Occitanie programme, its open call, and a dossier in each state of its
/// life for the first Occitanie companies that play in small communes.
pub fn demo(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    companies: &[Structure],
) -> Result<(), PersistenceError> {
    let (programme, call) = programme_and_call(
        conn,
        "Diffusion de proximité : session en cours",
        30_000_000,
    )?;
    let mut cast = Vec::new();
    for company in companies.iter().filter(|c| {
        c.data.kind == StructureKind::Company
            && c.data.address.as_ref().and_then(|a| a.region.as_deref())
                == Some(domain::geography::OCCITANIE)
    }) {
        let performances = fundable(conn, company, 2)?;
        if !performances.is_empty() {
            cast.push((company, performances));
        }
        if cast.len() == DEMO_LIVES.len() {
            break;
        }
    }
    write_transaction(conn, |conn| {
        let mut seeded = Vec::new();
        for ((company, performances), life) in cast.iter().zip(DEMO_LIVES) {
            seeded.push(
                live(
                    conn,
                    geography,
                    &programme,
                    &call,
                    company,
                    performances,
                    life,
                )
                .map_err(seeding_failed)?,
            );
        }
        changes::record_created(conn, followed(&seeded)?)
    })
}

/// Adds `count` dossiers of the directory's companies (with their performances) to a
/// call of their own, in the benchmark's mix of states, a thousand per transaction.
pub fn scale(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    count: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), PersistenceError> {
    let (companies, _) = super::programming::cast_from_directory(conn, 2_000)?;
    let mut cast = Vec::new();
    for company in &companies {
        let performances = performances::list(
            conn,
            &performances::ListQuery {
                reader: persistence::programming::Reader::Everything,
                structure: Some(company.id),
                limit: 3,
                ..Default::default()
            },
        )?
        .items;
        cast.push((company, performances));
    }
    if cast.is_empty() {
        return Err(PersistenceError::Corrupt(
            "no company to file dossiers for: seed --scale first".into(),
        ));
    }
    let (programme, call) =
        programme_and_call(conn, "Diffusion de proximité : banc d'essai", i64::MAX / 4)?;
    let mut done = 0;
    while done < count {
        let size = (count - done).min(1_000);
        write_transaction(conn, |conn| {
            let mut seeded = Vec::with_capacity(size as usize);
            for serial in done..done + size {
                let (company, performances) = &cast[serial as usize % cast.len()];
                seeded.push(
                    live(
                        conn,
                        geography,
                        &programme,
                        &call,
                        company,
                        performances,
                        bench_life(serial),
                    )
                    .map_err(seeding_failed)?,
                );
            }
            changes::record_created(conn, followed(&seeded)?)
        })?;
        done += size;
        progress(done);
    }
    persistence::db::analyze(conn)
}
