//! French administrative geography (INSEE): communes and départements, used to check
//! addresses and to derive their département and region.

/// Text of the reference geography: held inline up to 24 bytes (every code and nearly
/// every name), so that the 35,000 communes held in memory cost no allocation per field
/// (16 MB of heap as `String`s, 6 MB so; measured with heaptrack at start).
pub type GeoText = compact_str::CompactString;

/// A commune of the Code officiel géographique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    pub insee_code: GeoText,
    pub name: GeoText,
    pub department: GeoText,
    pub region: GeoText,
    pub postal_codes: Vec<GeoText>,
    pub population: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: GeoText,
    pub name: GeoText,
    pub region: GeoText,
    pub population: i64,
}

/// Read access to the reference geography, whatever holds it.
pub trait Geography {
    fn commune(&self, insee_code: &str) -> Option<&Commune>;
    fn department(&self, code: &str) -> Option<&Department>;
    fn region_exists(&self, code: &str) -> bool;
}

/// INSEE code of the Occitanie region.
pub const OCCITANIE: &str = "76";

/// INSEE département codes: two digits, `2A`/`2B` (Corse), or three digits overseas.
pub const DEPARTMENT_CODE_PATTERN: &str = "^(2[AB]|[0-9]{2,3})$";
/// INSEE region codes: two digits.
pub const REGION_CODE_PATTERN: &str = "^[0-9]{2}$";

static DEPARTMENT_CODE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| crate::text::compile(DEPARTMENT_CODE_PATTERN));
static REGION_CODE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| crate::text::compile(REGION_CODE_PATTERN));

/// A département code in INSEE's form (whether it exists is another matter).
pub fn department_code(value: &str) -> Result<String, crate::FieldProblem> {
    crate::text::matching(
        value,
        &DEPARTMENT_CODE,
        3,
        crate::FieldProblem::DepartmentCodeFormat,
    )
}

static COMMUNE_CODE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| crate::text::compile(crate::structures::COMMUNE_CODE_PATTERN));

/// A commune code in INSEE's form (`34172`, `2A004`).
pub fn commune_code(value: &str) -> Result<String, crate::FieldProblem> {
    crate::text::matching(
        value,
        &COMMUNE_CODE,
        5,
        crate::FieldProblem::CommuneCodeFormat,
    )
}

/// A region code in INSEE's form.
pub fn region_code(value: &str) -> Result<String, crate::FieldProblem> {
    crate::text::matching(
        value,
        &REGION_CODE,
        2,
        crate::FieldProblem::RegionCodeFormat,
    )
}
