//! The contract's closed sets. Those of the domain are generated from its own enums
//! (their values, name and description), so the contract cannot drift from the rules;
//! fields hold the domain type and point at the schema here with
//! `#[schema(value_type = enums::StructureKind)]`.

use std::borrow::Cow;

use domain::ClosedSet;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

/// The schema of a closed set: a string with its values enumerated.
pub fn closed_set_schema<T: ClosedSet>() -> RefOr<Schema> {
    let description = T::DESCRIPTION
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description((!description.is_empty()).then_some(description))
        .enum_values(Some(T::values()))
        .into()
}

macro_rules! domain_enums {
    ($($name:ident => $domain:path),+ $(,)?) => {$(
        #[doc = concat!("The contract's schema of `", stringify!($domain), "`.")]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                closed_set_schema::<$domain>()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(<$domain as ClosedSet>::NAME)
            }
        }
    )+};
}

domain_enums!(
    StructureKind => domain::StructureKind,
    Discipline => domain::Discipline,
    MembershipRole => domain::access::MembershipRole,
    AgencyRole => domain::access::AgencyRole,
    AccountStatus => domain::access::AccountStatus,
    Language => domain::mail::Language,
    Scope => domain::access::Scope,
    ActorKind => domain::access::ActorKind,
    Audience => domain::programming::Audience,
    Space => domain::programming::Space,
    PerformanceStatus => domain::programming::PerformanceStatus,
    Booking => domain::programming::Booking,
    Accessibility => domain::programming::Accessibility,
    ChangedObject => domain::changes::ChangedObject,
    ProgrammeKind => domain::grants::ProgrammeKind,
    CallState => domain::grants::CallState,
    DossierStatus => domain::grants::DossierStatus,
    DossierAction => domain::grants::DossierAction,
    DocumentKind => domain::grants::DocumentKind,
    DocumentFormat => domain::grants::DocumentFormat,
    MessageSide => domain::grants::MessageSide,
    ReviewStatus => domain::grants::ReviewStatus,
    AidLimit => domain::grants::Limit,
    PaymentKind => domain::grants::PaymentKind,
    CapHolder => domain::grants::CapHolder,
    FinalReportStatus => domain::grants::FinalReportStatus,
    FinalReportAction => domain::grants::FinalReportAction,
    AttentionKind => domain::grants::AttentionKind,
    ChangeAction => domain::changes::ChangeAction,
    SyncAction => domain::programming::SyncAction,
    SyncResult => domain::programming::SyncResult,
);
