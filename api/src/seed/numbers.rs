//! Numbers that look like a real directory's: SIRETs (which the schema keeps unique),
//! licences in their PLATESV form, phone numbers.

use domain::structures::siret::with_check_digit;
use domain::{Licence, LicenceCategory, LicenceNumber, Siret, StructureKind};
use rand::Rng;

/// SIRENs are nine digits, the first never 0 and the last a Luhn key: 9×10⁷ of them.
const SIREN_SPACE: u64 = 90_000_000;
/// Coprime with `SIREN_SPACE` (2⁷·3²·5⁷): multiplying by it permutes the SIRENs, so
/// that neighbouring serials get unrelated-looking numbers.
const SPREAD: u64 = 48_271_007;
const SHIFT: u64 = 12_345_678;
/// Every serial below this has a SIRET of its own (the NIC runs from 0001 to 9999).
pub const SERIALS: u64 = SIREN_SPACE * 9_999;
/// Serials below this are the demo's; `--scale` draws from the rest.
pub const DEMO_SERIALS: u64 = 1_000_000;

/// The SIRET of `serial`: a SIREN spread over the whole range with its own Luhn key,
/// then the establishment number (NIC: 0001 for the first 9×10⁷ serials, as for most
/// head offices) and the SIRET's key. Distinct serials below [`SERIALS`] give distinct
/// SIRETs: the serial's remainder picks the SIREN (a permutation), its quotient the NIC.
pub fn siret(serial: u64) -> Option<Siret> {
    if serial >= SERIALS {
        return None;
    }
    let siren = 10_000_000 + (serial % SIREN_SPACE * SPREAD + SHIFT) % SIREN_SPACE;
    let nic = 1 + serial / SIREN_SPACE;
    let siren = with_check_digit(&siren.to_string());
    Siret::parse(&with_check_digit(&format!("{siren}{nic:04}"))).ok()
}

/// The licences a structure of `kind` holds (L-1 runs a venue, L-2 produces, L-3
/// presents), numbered as the PLATESV platform numbers them since 2019.
pub fn licences(kind: StructureKind, serial: u64, rng: &mut impl Rng) -> Vec<Licence> {
    let categories: &[u8] = match kind {
        StructureKind::Company => &[2],
        StructureKind::Venue if rng.random_bool(0.5) => &[1, 3],
        StructureKind::Venue => &[1],
        StructureKind::Festival if rng.random_bool(0.3) => &[2, 3],
        StructureKind::Festival => &[3],
        // A town that runs its own theatre.
        StructureKind::LocalAuthority if rng.random_bool(0.4) => &[1],
        _ => &[],
    };
    categories
        .iter()
        .enumerate()
        .filter_map(|(i, &category)| {
            let number = (serial * 104_729 + 17 + i as u64 * 333_331) % 1_000_000;
            let form = if rng.random_bool(0.8) { 'D' } else { 'R' };
            let year = rng.random_range(2019..=2025);
            Some(Licence {
                category: LicenceCategory::new(i64::from(category)).ok()?,
                number: LicenceNumber::parse(&format!("PLATESV-{form}-{year}-{number:06}")).ok()?,
            })
        })
        .collect()
}

/// A phone number with the area's first digit (04 in the east of Occitanie, 05 in the
/// west…), in the blocks ARCEP sets aside for works of fiction, so that no demo number
/// rings a real subscriber.
pub fn phone(department: &str, serial: u64) -> String {
    const SOUTH_WEST: [&str; 20] = [
        "09", "12", "16", "17", "19", "23", "24", "31", "32", "33", "40", "46", "47", "64", "65",
        "79", "81", "82", "86", "87",
    ];
    const NORTH_WEST: [&str; 20] = [
        "14", "18", "22", "27", "28", "29", "35", "36", "37", "41", "44", "45", "49", "50", "53",
        "56", "61", "72", "76", "85",
    ];
    const NORTH_EAST: [&str; 23] = [
        "02", "08", "10", "21", "25", "39", "51", "52", "54", "55", "57", "58", "59", "60", "62",
        "67", "68", "70", "71", "80", "88", "89", "90",
    ];
    const PARIS: [&str; 8] = ["75", "77", "78", "91", "92", "93", "94", "95"];
    let block = if SOUTH_WEST.contains(&department) {
        "5 36 49"
    } else if NORTH_WEST.contains(&department) {
        "2 61 91"
    } else if NORTH_EAST.contains(&department) {
        "3 53 01"
    } else if PARIS.contains(&department) {
        "1 99 00"
    } else {
        "4 65 71"
    };
    let line = serial * 7_919 % 10_000;
    format!("+33 {block} {:02} {:02}", line / 100, line % 100)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn sirets_are_valid_and_unique_across_a_hundred_thousand_serials_anywhere() {
        // The demo's, the first and the last that `--scale` may draw.
        let ranges = [
            0..2_000,
            DEMO_SERIALS..DEMO_SERIALS + 100_000,
            SIREN_SPACE - 10_000..SIREN_SPACE + 10_000,
            SERIALS - 10_000..SERIALS,
        ];
        let mut seen = HashSet::new();
        for serial in ranges.into_iter().flatten() {
            let siret = siret(serial).unwrap_or_else(|| panic!("no SIRET for {serial}"));
            let text = siret.to_string();
            assert!(!text.starts_with('0'), "{text}");
            // The SIREN is itself Luhn-valid, as INSEE makes them.
            assert_eq!(with_check_digit(&text[..8]), text[..9], "{text}");
            assert!(seen.insert(text), "{serial} repeats a SIRET");
        }
        assert_eq!(siret(SERIALS), None);
    }

    #[test]
    fn the_first_serials_are_head_offices() {
        assert!(siret(1).unwrap().to_string()[9..].starts_with("0001"));
    }

    #[test]
    fn licences_and_phones_are_well_formed() {
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
        for serial in 0..500 {
            for kind in StructureKind::ALL {
                for licence in licences(*kind, serial, &mut rng) {
                    let number = licence.number.to_string();
                    assert!(number.starts_with("PLATESV-"), "{number}");
                    assert!(!licence.number.is_legacy(), "{number}");
                }
            }
        }
        assert_eq!(licences(StructureKind::Company, 7, &mut rng).len(), 1);
        assert!(licences(StructureKind::Network, 7, &mut rng).is_empty());
        assert_eq!(phone("34", 1), "+33 4 65 71 79 19");
        assert!(phone("31", 1).starts_with("+33 5 36 49 "));
    }
}
