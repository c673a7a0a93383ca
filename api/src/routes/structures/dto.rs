//! Wire types of `/v1/structures`.

use chrono::{DateTime, Utc};
use domain::{AddressInput, Discipline, Structure, StructureInput, StructureKind, StructurePatch};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::enums;
use crate::http::pagination::Page;

/// A licence d'entrepreneur de spectacles as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LicenceView {
    /// 1: venue operator, 2: producer or touring company, 3: presenter.
    #[schema(minimum = 1, maximum = 3, example = 2)]
    pub category: u8,
    #[schema(example = "PLATESV-D-2021-001234")]
    pub number: String,
    /// True for a number issued before the 2019 reform (not in a PLATESV form).
    pub legacy: bool,
}

/// A licence as a client writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceInputDto {
    /// 1: venue operator, 2: producer or touring company, 3: presenter.
    #[schema(minimum = 1, maximum = 3, example = 2)]
    pub category: i64,
    /// `PLATESV-D-2021-001234`, `PLATESV-R-2024-000123`, `L-D-19-1172`, or an older number
    /// (kept and marked `legacy`).
    #[schema(
        pattern = r"^[A-Z0-9][A-Z0-9./-]{1,38}[A-Z0-9]$",
        example = "PLATESV-D-2021-001234"
    )]
    pub number: String,
}

/// A postal address; for French ones, the commune, département and region come from
/// INSEE's reference data. `street` and `postal_code` are private (absent from the
/// public view).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AddressView {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "2 rue de la Loge")]
    pub street: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "34000")]
    pub postal_code: Option<Option<String>>,
    /// Commune name (from INSEE for French addresses).
    #[schema(example = "Montpellier")]
    pub city: String,
    /// INSEE code of the commune (French addresses only).
    #[schema(example = "34172")]
    pub commune_code: Option<String>,
    /// INSEE code of the département, derived from the commune.
    #[schema(example = "34")]
    pub department: Option<String>,
    /// INSEE code of the region, derived from the commune (`76`: Occitanie).
    #[schema(example = "76")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "FR")]
    pub country: String,
}

/// An address as a client writes it: either French or foreign (see the two schemas).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressInputDto {
    street: Option<String>,
    postal_code: Option<String>,
    commune_code: Option<String>,
    city: Option<String>,
    country: Option<String>,
}

/// A French address: the commune by INSEE code and a postal code of that commune. City,
/// département and region are derived, never taken from the client.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FrenchAddressInput {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "2 rue de la Loge"
    )]
    street: Option<String>,
    #[schema(pattern = "^[0-9]{5}$", example = "34000")]
    postal_code: String,
    #[schema(pattern = "^(2[AB]|[0-9]{2})[0-9]{3}$", example = "34172")]
    commune_code: String,
    /// `FR` (the default).
    #[schema(pattern = "^FR$", example = "FR")]
    country: Option<String>,
}

/// An address outside France.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ForeignAddressInput {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "Rue Royale 42"
    )]
    street: Option<String>,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 16,
        example = "1000"
    )]
    postal_code: Option<String>,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100,
        example = "Bruxelles"
    )]
    city: String,
    /// ISO 3166-1 alpha-2, other than `FR`.
    #[schema(pattern = "^([A-EG-Z][A-Z]|F[A-QS-Z])$", example = "BE")]
    country: String,
}

impl PartialSchema for AddressInputDto {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(FrenchAddressInput::name()))
            .item(Ref::from_schema_name(ForeignAddressInput::name()))
            .into()
    }
}

impl ToSchema for AddressInputDto {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            FrenchAddressInput::name().into(),
            FrenchAddressInput::schema(),
        ));
        schemas.push((
            ForeignAddressInput::name().into(),
            ForeignAddressInput::schema(),
        ));
    }
}

impl From<AddressInputDto> for AddressInput {
    fn from(dto: AddressInputDto) -> Self {
        Self {
            street: dto.street,
            postal_code: dto.postal_code,
            commune_code: dto.commune_code,
            city: dto.city,
            country: dto.country,
        }
    }
}

impl From<LicenceInputDto> for domain::structures::LicenceInput {
    fn from(dto: LicenceInputDto) -> Self {
        Self {
            category: dto.category,
            number: dto.number,
        }
    }
}

/// How much of a structure the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everything: members of the structure and agency staff.
    Full,
    /// Public fields only: `legal_name`, `siret`, `licences`, `email`, `phone` and the
    /// street and postal code of the address are left out.
    Public,
}

/// A structure: compagnie, lieu, festival, réseau, collectivité…
///
/// Also deserialized, from the change log's snapshots (see [`StructureView::redacted`]).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StructureView {
    #[schema(example = "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10")]
    pub id: uuid::Uuid,
    pub visibility: Visibility,
    #[schema(value_type = enums::StructureKind)]
    pub kind: StructureKind,
    #[schema(example = "Compagnie du Hasard")]
    pub name: String,
    /// Raison sociale, when it differs from the name (private).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "Association Compagnie du Hasard")]
    pub legal_name: Option<Option<String>>,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "73282932000074")]
    pub siret: Option<Option<String>>,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licences: Option<Vec<LicenceView>>,
    pub address: Option<AddressView>,
    #[schema(value_type = Vec<enums::Discipline>)]
    pub disciplines: Vec<Discipline>,
    #[schema(example = "https://hasard.example")]
    pub website: Option<String>,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "contact@hasard.example")]
    pub email: Option<Option<String>>,
    /// Private.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "+33 4 67 00 00 00")]
    pub phone: Option<Option<String>>,
    /// Set when the structure was archived (`DELETE`).
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also sent as the `ETag`.
    #[schema(example = 1)]
    pub version: i64,
}

impl StructureView {
    pub fn new(structure: Structure, visibility: Visibility) -> Self {
        let full = visibility == Visibility::Full;
        let private = |value| if full { Some(value) } else { None };
        let data = structure.data;
        Self {
            id: structure.id.as_uuid(),
            visibility,
            kind: data.kind,
            name: data.name,
            legal_name: private(data.legal_name),
            siret: private(data.siret.map(|s| s.to_string())),
            licences: full.then(|| {
                data.licences
                    .into_iter()
                    .map(|l| LicenceView {
                        category: l.category.get(),
                        legacy: l.number.is_legacy(),
                        number: l.number.to_string(),
                    })
                    .collect()
            }),
            address: data.address.map(|a| AddressView {
                street: private(a.street),
                postal_code: private(a.postal_code),
                city: a.city,
                commune_code: a.commune_code,
                department: a.department,
                region: a.region,
                country: a.country,
            }),
            disciplines: data.disciplines,
            website: data.website,
            email: private(data.email),
            phone: private(data.phone),
            archived_at: structure.archived_at,
            created_at: structure.created_at,
            updated_at: structure.updated_at,
            version: structure.version,
        }
    }

    /// The view of those who may not see private fields, from the full one (the change
    /// feed keeps the full view and hands each caller its share).
    pub fn redacted(self) -> Self {
        Self {
            visibility: Visibility::Public,
            legal_name: None,
            siret: None,
            licences: None,
            address: self.address.map(|address| AddressView {
                street: None,
                postal_code: None,
                ..address
            }),
            email: None,
            phone: None,
            ..self
        }
    }
}

/// A new structure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "company",
    "name": "Compagnie du Hasard",
    "siret": "73282932000074",
    "licences": [{"category": 2, "number": "PLATESV-D-2021-001234"}],
    "address": {"street": "2 rue de la Loge", "postal_code": "34000", "commune_code": "34172"},
    "disciplines": ["theatre", "circus"],
    "email": "contact@hasard.example"
}))]
pub struct CreateStructure {
    #[schema(value_type = enums::StructureKind)]
    kind: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    name: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    legal_name: Option<String>,
    /// 14 digits with a valid Luhn key (La Poste's establishments: digit sum divisible by 5).
    #[schema(pattern = "^[0-9]{14}$")]
    siret: Option<String>,
    #[serde(default)]
    #[schema(schema_with = licence_set)]
    licences: Vec<LicenceInputDto>,
    address: Option<AddressInputDto>,
    #[serde(default)]
    #[schema(schema_with = discipline_set)]
    disciplines: Vec<String>,
    #[schema(
        pattern = r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$",
        max_length = 2048
    )]
    website: Option<String>,
    #[schema(
        pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        max_length = 254
    )]
    email: Option<String>,
    #[schema(pattern = r"^\+?[0-9][0-9 .-]{4,17}[0-9]$", max_length = 20)]
    phone: Option<String>,
}

impl From<CreateStructure> for StructureInput {
    fn from(dto: CreateStructure) -> Self {
        Self {
            kind: dto.kind,
            name: dto.name,
            legal_name: dto.legal_name,
            siret: dto.siret,
            licences: dto.licences.into_iter().map(Into::into).collect(),
            address: dto.address.map(Into::into),
            disciplines: dto.disciplines,
            website: dto.website,
            email: dto.email,
            phone: dto.phone,
        }
    }
}

/// Licences held: at most 6, no two alike.
fn licence_set() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(LicenceInputDto::name()))
        .max_items(Some(domain::structures::LICENCES_MAX))
        .unique_items(true)
        .build()
}

/// Disciplines: a set.
fn discipline_set() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(enums::Discipline::name()))
        .max_items(Some(domain::structures::DISCIPLINES_MAX))
        .unique_items(true)
        .build()
}

/// Changes to a structure, as a JSON merge patch: absent fields stay as they are, `null`
/// clears an optional field. The result is checked as a whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Compagnie du Hasard", "phone": null}))]
pub struct UpdateStructure {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::StructureKind)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    legal_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{14}$")]
    siret: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = licence_set)]
    licences: Option<Vec<LicenceInputDto>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<AddressInputDto>)]
    address: Option<Option<AddressInputDto>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = discipline_set)]
    disciplines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$", max_length = 2048)]
    website: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", max_length = 254)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9][0-9 .-]{4,17}[0-9]$", max_length = 20)]
    phone: Option<Option<String>>,
}

impl From<UpdateStructure> for StructurePatch {
    fn from(dto: UpdateStructure) -> Self {
        Self {
            kind: dto.kind,
            name: dto.name,
            legal_name: dto.legal_name,
            siret: dto.siret,
            licences: dto
                .licences
                .map(|l| l.into_iter().map(Into::into).collect()),
            address: dto.address.map(|a| a.map(Into::into)),
            disciplines: dto.disciplines,
            website: dto.website,
            email: dto.email,
            phone: dto.phone,
        }
    }
}

/// One page of structures.
pub type StructurePage = Page<StructureView>;
