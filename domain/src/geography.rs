//! French administrative geography (INSEE): communes and départements, used to check
//! addresses and to derive their département and region.

/// A commune of the Code officiel géographique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    pub insee_code: String,
    pub name: String,
    pub department: String,
    pub region: String,
    pub postal_codes: Vec<String>,
    pub population: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub region: String,
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
