/// Folds a text for search: lower case, accents and ligatures removed, so that
/// `theatre` finds `Théâtre` and `oeuvre` finds `Œuvre`, on SQLite and PostgreSQL alike.
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn accents_case_and_ligatures_fold_away() {
        assert_eq!(fold("Théâtre de l'Œuf"), "theatre de l'oeuf");
        assert_eq!(fold("CIRQUE"), "cirque");
    }
}
