//! A dossier's budget (budget prévisionnel): expense and income lines by category, in
//! cents. The request to the agency is one of the income lines.

use serde::Serialize;

use crate::programming::performance::FEE_MAX;
use crate::text;
use crate::validation::{FieldProblem, ValidationError};

/// Most lines on each side.
pub const LINES_MAX: usize = 100;
pub const LINE_LABEL_MAX: usize = 200;

string_enum!(
    /// What an expense is for.
    ExpenseCategory {
        /// Salaires et cachets artistiques.
        ArtisticPay = "artistic_pay",
        /// Salaires techniques.
        TechnicalPay = "technical_pay",
        /// Transport des personnes.
        Travel = "travel",
        /// Transport du décor (fret).
        Freight = "freight",
        /// Hébergement.
        Accommodation = "accommodation",
        /// Repas, défraiements.
        Subsistence = "subsistence",
        /// Droits d'auteur (SACD, SACEM).
        Rights = "rights",
        /// Location de matériel ou de salle.
        Rental = "rental",
        Communication = "communication",
        Other = "other",
    }
);

string_enum!(
    /// Where an income comes from.
    IncomeCategory {
        /// The request to the agency: the dossier's requested amount.
        AgencyRequest = "agency_request",
        /// Prix de cession, coréalisation.
        Fees = "fees",
        /// Billetterie.
        Ticketing = "ticketing",
        /// Fonds propres.
        OwnFunds = "own_funds",
        /// État (DRAC, ONDA…).
        State = "state",
        Region = "region",
        /// Département.
        Department = "department",
        /// Commune, intercommunalité.
        Municipality = "municipality",
        Europe = "europe",
        /// Sociétés civiles (SACD, ADAMI, SPEDIDAM…).
        CollectingSocieties = "collecting_societies",
        /// Mécénat, partenariats privés.
        Private = "private",
        Other = "other",
    }
);

/// One budget line as a client writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub category: String,
    pub label: Option<String>,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetInput {
    pub expenses: Vec<LineInput>,
    pub incomes: Vec<LineInput>,
}

/// One checked line: an amount in cents, never negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetLine<C> {
    category: C,
    label: Option<String>,
    amount_cents: i64,
}

impl<C: Copy> BudgetLine<C> {
    pub fn category(&self) -> C {
        self.category
    }

    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    pub fn amount_cents(&self) -> i64 {
        self.amount_cents
    }
}

/// A checked budget: at most [`LINES_MAX`] lines a side, amounts within
/// 0..=[`FEE_MAX`], at most one `agency_request` line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    expenses: Vec<BudgetLine<ExpenseCategory>>,
    incomes: Vec<BudgetLine<IncomeCategory>>,
}

impl Budget {
    /// Checks every line, reporting all problems at once under `budget.`.
    pub fn parse(input: &BudgetInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let expenses = lines(
            &mut errors,
            "budget.expenses",
            &input.expenses,
            ExpenseCategory::parse,
        );
        let incomes = lines(
            &mut errors,
            "budget.incomes",
            &input.incomes,
            IncomeCategory::parse,
        );
        let requests = incomes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.category == IncomeCategory::AgencyRequest);
        for (i, _) in requests.skip(1) {
            errors.push(
                format!("budget.incomes[{i}].category"),
                FieldProblem::Duplicate,
            );
        }
        errors.into_result()?;
        Ok(Self { expenses, incomes })
    }

    pub fn expenses(&self) -> &[BudgetLine<ExpenseCategory>] {
        &self.expenses
    }

    pub fn incomes(&self) -> &[BudgetLine<IncomeCategory>] {
        &self.incomes
    }

    pub fn total_expenses_cents(&self) -> i64 {
        self.expenses.iter().map(|l| l.amount_cents).sum()
    }

    pub fn total_incomes_cents(&self) -> i64 {
        self.incomes.iter().map(|l| l.amount_cents).sum()
    }

    /// A budget is balanced when its expenses equal its incomes, to the cent.
    pub fn is_balanced(&self) -> bool {
        self.total_expenses_cents() == self.total_incomes_cents()
    }

    /// The amount requested of the agency: its income line, if there is one.
    pub fn requested_cents(&self) -> Option<i64> {
        self.incomes
            .iter()
            .find(|l| l.category == IncomeCategory::AgencyRequest)
            .map(|l| l.amount_cents)
    }
}

fn lines<C>(
    errors: &mut ValidationError,
    field: &str,
    input: &[LineInput],
    category: impl Fn(&str) -> Result<C, FieldProblem>,
) -> Vec<BudgetLine<C>> {
    if input.len() > LINES_MAX {
        errors.push(field, FieldProblem::TooMany { max: LINES_MAX });
        return Vec::new();
    }
    let mut lines = Vec::new();
    for (i, line) in input.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let kind = errors.check(|| at("category"), category(&line.category));
        let label = match &line.label {
            Some(label) => errors
                .check(|| at("label"), text::single_line(label, LINE_LABEL_MAX))
                .map(Some),
            None => Some(None),
        };
        let amount = errors.check(
            || at("amount_cents"),
            crate::programming::within(line.amount_cents, 0, FEE_MAX),
        );
        if let (Some(category), Some(label), Some(amount_cents)) = (kind, label, amount) {
            lines.push(BudgetLine {
                category,
                label,
                amount_cents,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(category: &str, amount_cents: i64) -> LineInput {
        LineInput {
            category: category.to_owned(),
            label: None,
            amount_cents,
        }
    }

    #[test]
    fn a_budget_is_balanced_to_the_cent_and_its_request_is_the_agency_line() {
        let input = BudgetInput {
            expenses: vec![line("artistic_pay", 300_000), line("travel", 50_001)],
            incomes: vec![line("fees", 200_000), line("agency_request", 150_001)],
        };
        let budget = Budget::parse(&input).unwrap();
        assert_eq!(budget.total_expenses_cents(), 350_001);
        assert!(budget.is_balanced());
        assert_eq!(budget.requested_cents(), Some(150_001));
        assert_eq!(
            budget.incomes()[1].category(),
            IncomeCategory::AgencyRequest
        );

        let mut short = input;
        short.incomes[0].amount_cents -= 1;
        let budget = Budget::parse(&short).unwrap();
        assert!(!budget.is_balanced());
        let none = Budget::parse(&BudgetInput::default()).unwrap();
        assert!(none.is_balanced());
        assert_eq!(none.requested_cents(), None);
    }

    #[test]
    fn every_bad_line_is_reported() {
        let input = BudgetInput {
            expenses: vec![
                line("catering", 10),
                LineInput {
                    label: Some("\t".into()),
                    ..line("travel", -1)
                },
            ],
            incomes: vec![
                line("agency_request", 1),
                line("agency_request", 2),
                line("fees", FEE_MAX + 1),
            ],
        };
        let error = Budget::parse(&input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "budget.expenses[0].category",
                "budget.expenses[1].label",
                "budget.expenses[1].amount_cents",
                "budget.incomes[2].amount_cents",
                "budget.incomes[1].category",
            ]
        );
        let many = BudgetInput {
            expenses: vec![line("other", 1); LINES_MAX + 1],
            incomes: vec![],
        };
        assert_eq!(
            Budget::parse(&many).unwrap_err().errors[0].problem,
            FieldProblem::TooMany { max: LINES_MAX }
        );
    }
}
