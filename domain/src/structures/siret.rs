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

    /// The Luhn key of a payload, written apart from the code under test (which checks a
    /// whole number instead): from the payload's rightmost digit, weights 2, 1, 2…;
    /// the digits of every product are summed; the key brings the sum to a ten.
    fn key_of(payload: &str) -> char {
        let sum: u32 = payload
            .chars()
            .rev()
            .zip([2, 1].into_iter().cycle())
            .map(|(c, weight)| {
                let product = c.to_digit(10).unwrap() * weight;
                product / 10 + product % 10
            })
            .sum();
        char::from_digit((10 - sum % 10) % 10, 10).unwrap()
    }

    /// Published SIRETs: INSEE's textbook example, La Poste's head office, Google France
    /// and the city of Toulouse (from their legal notices).
    const PUBLISHED: [&str; 4] = [
        "73282932000074",
        "35600000000048",
        "44306184100047",
        "21310555400017",
    ];

    #[test]
    fn real_sirets_are_accepted() {
        for siret in PUBLISHED.into_iter().chain(["35600000052135"]) {
            assert_eq!(
                Siret::parse(siret).map(|s| s.to_string()),
                Ok(siret.to_owned())
            );
        }
    }

    #[test]
    fn the_tests_own_key_agrees_with_published_numbers() {
        for siret in PUBLISHED {
            assert_eq!(
                key_of(&siret[..13]),
                siret.chars().last().unwrap(),
                "{siret}"
            );
            // A SIREN carries its own Luhn key too.
            assert_eq!(
                key_of(&siret[..8]),
                siret.chars().nth(8).unwrap(),
                "{siret}"
            );
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
            "７３２８２９３２０００７４",
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
        fn a_number_with_its_luhn_key_passes(payload in "[0-9]{13}") {
            let siret = format!("{payload}{}", key_of(&payload));
            prop_assert_eq!(Siret::parse(&siret).map(|s| s.to_string()), Ok(siret));
        }

        #[test]
        fn completing_a_number_appends_its_luhn_key(payload in "[0-9]{13}") {
            prop_assert_eq!(with_check_digit(&payload), format!("{payload}{}", key_of(&payload)));
        }

        #[test]
        fn any_other_key_is_refused(payload in "[0-9]{13}", wrong in 0u32..10) {
            let wrong = char::from_digit(wrong, 10).unwrap();
            prop_assume!(wrong != key_of(&payload) && !payload.starts_with(LA_POSTE_SIREN));
            prop_assert_eq!(
                Siret::parse(&format!("{payload}{wrong}")),
                Err(FieldProblem::SiretChecksum)
            );
        }

        #[test]
        fn changing_one_digit_breaks_the_checksum(payload in "[0-9]{13}", position in 0usize..14, delta in 1u8..10) {
            let mut bytes = format!("{payload}{}", key_of(&payload)).into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assume!(!altered.starts_with(LA_POSTE_SIREN));
            prop_assert_eq!(Siret::parse(&altered), Err(FieldProblem::SiretChecksum));
        }

        #[test]
        fn la_poste_numbers_pass_by_luhn_or_by_their_digit_sum(nic in 0u32..100_000) {
            let siret = format!("{LA_POSTE_SIREN}{nic:05}");
            let by_luhn = key_of(&siret[..13]) == siret.chars().last().unwrap();
            let by_sum = siret.chars().map(|c| c.to_digit(10).unwrap()).sum::<u32>() % 5 == 0;
            let expected = if by_luhn || by_sum { Ok(()) } else { Err(FieldProblem::SiretChecksum) };
            prop_assert_eq!(Siret::parse(&siret).map(|_| ()), expected);
        }
    }
}
