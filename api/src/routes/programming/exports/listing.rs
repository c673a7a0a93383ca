//! A performance as the exports show it: with what it shows (title, company,
//! disciplines) and where (the venue's or place's name and town), read for a whole page
//! at once.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use domain::access::{MembershipRole, Principal, ProgrammingAction, may_program, stronger};
use domain::programming::{Audience, Performance, Place, Production, Show};
use domain::{Discipline, Geography, ProductionId, Structure, StructureId};
use persistence::DbConnection;
use persistence::programming::productions;
use persistence::reference::ReferenceGeography;

use crate::http::error::ApiError;

/// One performance and what the exports say of it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub performance: Performance,
    /// The production's title, or the outside show's; `None` for a production the
    /// reader may not see (unpublished since), whose details stay hidden.
    pub title: Option<String>,
    /// The company: the production's structure, or the outside show's company.
    pub company: Option<String>,
    pub disciplines: Vec<Discipline>,
    /// For a young audience: from this age.
    pub minimum_age: Option<i64>,
    pub duration_minutes: Option<i64>,
    /// The venue structure's name, or the inline place's.
    pub venue: Option<String>,
    /// The town: the venue's, the commune's (INSEE's name), or the city abroad.
    pub city: Option<String>,
    /// Whether the reader may see the fee.
    pub fee_visible: bool,
}

impl Listing {
    /// What a calendar or a search engine names the event: its title, or lacking one the
    /// company.
    pub fn name(&self) -> String {
        self.title
            .clone()
            .or_else(|| self.company.clone())
            .unwrap_or_else(|| "Performance".to_owned())
    }

    /// Where, in one line: `Théâtre Molière, Sète`.
    pub fn location(&self) -> Option<String> {
        match (&self.venue, &self.city) {
            (Some(venue), Some(city)) if venue != city => Some(format!("{venue}, {city}")),
            (Some(venue), _) => Some(venue.clone()),
            (None, city) => city.clone(),
        }
    }

    /// When it ends, if the production's duration is known.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.duration_minutes
            .map(|minutes| self.performance.data.starts_at + Duration::minutes(minutes))
    }
}

/// The listings of `page` for `principal`, whose roles in the page's structures are
/// `roles`: two queries (its productions, its structures), whatever the page's size.
pub fn listings(
    conn: &mut DbConnection,
    principal: &Principal,
    roles: &HashMap<StructureId, MembershipRole>,
    geography: &ReferenceGeography,
    page: Vec<Performance>,
) -> Result<Vec<Listing>, ApiError> {
    let production_ids: Vec<ProductionId> = page
        .iter()
        .filter_map(|p| match p.data.show {
            Show::Production { id, .. } => Some(id),
            Show::Outside { .. } => None,
        })
        .collect();
    let structure_ids: Vec<StructureId> = page
        .iter()
        .flat_map(|p| [p.data.company_structure(), p.data.venue_structure()])
        .flatten()
        .collect();
    let productions: HashMap<ProductionId, Production> =
        productions::find_many(conn, &dedup(production_ids))?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let structures: HashMap<StructureId, Structure> =
        persistence::structures::find_many(conn, &dedup(structure_ids))?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let role_of = |structure: Option<StructureId>| structure.and_then(|s| roles.get(&s).copied());
    Ok(page
        .into_iter()
        .map(|performance| {
            let company_role = role_of(performance.data.company_structure());
            let role = stronger(company_role, role_of(performance.data.venue_structure()));
            let fee_visible = may_program(principal, ProgrammingAction::ReadFee, role);
            let mut listing = Listing {
                title: None,
                company: None,
                disciplines: Vec::new(),
                minimum_age: None,
                duration_minutes: None,
                venue: None,
                city: None,
                fee_visible,
                performance,
            };
            let data = &listing.performance.data;
            match &data.show {
                Show::Production { id, structure_id } => {
                    listing.company = structures.get(structure_id).map(|s| s.data.name.clone());
                    if let Some(production) = productions.get(id).filter(|p| {
                        p.data.published
                            || may_program(
                                principal,
                                ProgrammingAction::ReadUnpublished,
                                company_role,
                            )
                    }) {
                        let shown = &production.data;
                        listing.title = Some(shown.title.clone());
                        listing.disciplines = shown.disciplines.clone();
                        listing.minimum_age = (shown.audience == Audience::YoungAudience)
                            .then_some(shown.minimum_age)
                            .flatten();
                        listing.duration_minutes = Some(shown.duration_minutes);
                    }
                }
                Show::Outside {
                    title,
                    company_name,
                    discipline,
                } => {
                    listing.title = Some(title.clone());
                    listing.company = Some(company_name.clone());
                    listing.disciplines = vec![*discipline];
                }
            }
            let commune = || {
                data.location
                    .commune_code
                    .as_deref()
                    .and_then(|code| geography.commune(code))
                    .map(|c| c.name.to_string())
            };
            (listing.venue, listing.city) = match &data.place {
                Place::Venue { structure_id } => {
                    let venue = structures.get(structure_id);
                    (
                        venue.map(|v| v.data.name.clone()),
                        venue
                            .and_then(|v| v.data.address.as_ref())
                            .map(|a| a.city.clone())
                            .or_else(commune),
                    )
                }
                Place::Commune { name } => (Some(name.clone()), commune()),
                Place::Abroad { name, city } => (Some(name.clone()), Some(city.clone())),
            };
            listing
        })
        .collect())
}

fn dedup<T: Ord>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort();
    ids.dedup();
    ids
}
