use std::fmt;

use crate::validation::FieldProblem;

/// SIRET: the 14-digit identifier of an establishment (SIREN + NIC), checked with the
/// Luhn algorithm. La Poste's establishments (SIREN 356 000 000) are numbered past what
/// Luhn allows; INSEE validates them by a digit sum divisible by 5 instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

pub const SIRET_PATTERN: &str = "^[0-9]{14}$";
const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldProblem::SiretFormat);
        }
        let valid = luhn_valid(value)
            || (value.starts_with(LA_POSTE_SIREN) && digit_sum(value).is_multiple_of(5));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldProblem::SiretChecksum)
        }
    }

    /// The SIREN: the first nine digits, which identify the legal entity.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

fn digit_sum(value: &str) -> u32 {
    value.bytes().map(|b| u32::from(b - b'0')).sum()
}

fn luhn_valid(value: &str) -> bool {
    let sum: u32 = value
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, b)| {
            let digit = u32::from(b - b'0');
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl AsRef<str> for Siret {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Completes 13 digits with the Luhn check digit: used to make demo and benchmark data.
pub fn with_check_digit(first_thirteen: &str) -> String {
    (0..10)
        .map(|d| format!("{first_thirteen}{d}"))
        .find(|candidate| luhn_valid(candidate))
        .unwrap_or_else(|| format!("{first_thirteen}0"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_sirets_are_accepted() {
        // A textbook example, La Poste head office (Luhn-valid) and a La Poste branch.
        for siret in ["73282932000074", "35600000000048", "35600000052135"] {
            assert!(Siret::parse(siret).is_ok(), "{siret}");
        }
    }

    #[test]
    fn la_poste_establishments_follow_the_sum_by_five_rule() {
        // Neither passes Luhn; digit sums are 15 (divisible by 5) and 16.
        assert!(Siret::parse("35600000000010").is_ok());
        assert_eq!(
            Siret::parse("35600000000011"),
            Err(FieldProblem::SiretChecksum)
        );
    }

    #[test]
    fn wrong_lengths_and_letters_are_format_errors() {
        for bad in [
            "",
            "7328293200007",
            "732829320000744",
            "7328293200007A",
            "73282932 00074",
        ] {
            assert_eq!(Siret::parse(bad), Err(FieldProblem::SiretFormat), "{bad}");
        }
    }

    #[test]
    fn siren_is_the_first_nine_digits() {
        let siret = Siret::parse("73282932000074").unwrap();
        assert_eq!(siret.siren(), "732829320");
    }

    proptest! {
        #[test]
        fn a_completed_number_always_passes(prefix in "[0-9]{13}") {
            let siret = with_check_digit(&prefix);
            prop_assert!(Siret::parse(&siret).is_ok());
        }

        #[test]
        fn changing_one_digit_breaks_the_checksum(prefix in "[1-9][0-9]{12}", position in 0usize..14, delta in 1u8..10) {
            let siret = with_check_digit(&prefix);
            prop_assume!(!siret.starts_with(LA_POSTE_SIREN));
            let mut bytes = siret.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(Siret::parse(&altered), Err(FieldProblem::SiretChecksum));
        }
    }
}
