//! A programme's extra questions: their JSON Schema (draft 2020-12), which a front end
//! renders and a script validates against, and the server's own check of the
//! answers, which agrees with the schema and reports every bad answer at once.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::programming::{DATE_PATTERN, date};
use crate::text::{self, MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN, compile};
use crate::validation::{FieldProblem, ValidationError};

pub const QUESTION_KEY_PATTERN: &str = "^[a-z][a-z0-9_]{0,63}$";
pub const QUESTIONS_MAX: usize = 100;
pub const LABEL_MAX: usize = 200;
pub const HELP_MAX: usize = 2000;
pub const OPTIONS_MAX: usize = 100;
pub const OPTION_MAX: usize = 200;
/// Longest text answer, and the default `max_length`.
pub const TEXT_ANSWER_MAX: u32 = 10_000;
/// Numbers stay within what every JSON reader holds exactly (±(2⁵³ − 1)).
pub const NUMBER_LIMIT: i64 = (1 << 53) - 1;
/// Where answers sit in a dossier: problems are reported as `answers.<key>`.
pub const ANSWERS_FIELD: &str = "answers";

static QUESTION_KEY: LazyLock<Regex> = LazyLock::new(|| compile(QUESTION_KEY_PATTERN));

/// The key an answer is given under (`audience`, `expected_attendance`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionKey(pub(super) String);

impl QuestionKey {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        text::matching(value, &QUESTION_KEY, 64, FieldProblem::QuestionKeyFormat).map(Self)
    }
}

impl AsRef<str> for QuestionKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QuestionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for QuestionKey {
    type Error = FieldProblem;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<QuestionKey> for String {
    fn from(value: QuestionKey) -> Self {
        value.0
    }
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnswerKind {
    /// A text: one line, or several when `multiline`.
    Text {
        #[serde(default)]
        multiline: bool,
        /// In characters; at most (and by default) [`TEXT_ANSWER_MAX`].
        #[serde(default)]
        max_length: Option<u32>,
    },
    /// A whole number (amounts in cents, counts).
    Number {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the options.
    Choice { options: Vec<String> },
    /// Oui / non: `true` or `false`.
    YesNo,
}

/// One extra question of a programme's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub key: QuestionKey,
    pub label: String,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(flatten)]
    pub answer: AnswerKind,
}

impl Question {
    fn max_length(&self) -> u32 {
        match self.answer {
            AnswerKind::Text { max_length, .. } => max_length.unwrap_or(TEXT_ANSWER_MAX),
            _ => TEXT_ANSWER_MAX,
        }
    }
}

/// Checks a programme's questions, under `field` (`rules.questions`).
pub(super) fn check_questions(errors: &mut ValidationError, field: &str, questions: &[Question]) {
    if questions.len() > QUESTIONS_MAX {
        errors.push(field, FieldProblem::TooMany { max: QUESTIONS_MAX });
    }
    let keys: Vec<&QuestionKey> = questions.iter().map(|q| &q.key).collect();
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            errors.push(format!("{field}[{i}].key"), FieldProblem::Duplicate);
        }
    }
    for (i, question) in questions.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        errors.check(
            || at("label"),
            text::single_line(&question.label, LABEL_MAX),
        );
        if let Some(help) = &question.help {
            errors.check(|| at("help"), text::multi_line(help, HELP_MAX));
        }
        match &question.answer {
            AnswerKind::Text { max_length, .. } => {
                if let Some(max) = max_length
                    && !(1..=TEXT_ANSWER_MAX).contains(max)
                {
                    let range = FieldProblem::OutOfRange {
                        min: 1,
                        max: i64::from(TEXT_ANSWER_MAX),
                    };
                    errors.push(at("max_length"), range);
                }
            }
            AnswerKind::Number { min, max } => {
                let range = FieldProblem::OutOfRange {
                    min: -NUMBER_LIMIT,
                    max: NUMBER_LIMIT,
                };
                for (name, bound) in [("min", min), ("max", max)] {
                    if bound.is_some_and(|b| !(-NUMBER_LIMIT..=NUMBER_LIMIT).contains(&b)) {
                        errors.push(at(name), range.clone());
                    }
                }
                if let (Some(min), Some(max)) = (min, max)
                    && min > max
                {
                    let other = at("min");
                    errors.push(at("max"), FieldProblem::BeforeOther { other });
                }
            }
            AnswerKind::Choice { options } => {
                if options.is_empty() {
                    errors.push(at("options"), FieldProblem::Required);
                } else if options.len() > OPTIONS_MAX {
                    errors.push(at("options"), FieldProblem::TooMany { max: OPTIONS_MAX });
                }
                for (j, option) in options.iter().enumerate() {
                    let here = || format!("{field}[{i}].options[{j}]");
                    if options[..j].contains(option) {
                        errors.push(here(), FieldProblem::Duplicate);
                    } else {
                        errors.check(here, text::single_line(option, OPTION_MAX));
                    }
                }
            }
            AnswerKind::Date | AnswerKind::YesNo => {}
        }
    }
}

/// The JSON Schema (draft 2020-12) of the answers to `questions`: an object with one
/// property per question, the required ones listed, no other property.
pub fn form_schema(title: &str, questions: &[Question]) -> Value {
    let mut properties = Map::new();
    for question in questions {
        let mut property = match &question.answer {
            AnswerKind::Text { multiline, .. } => json!({
                "type": "string",
                "minLength": 1,
                "maxLength": question.max_length(),
                "pattern": if *multiline { MULTI_LINE_PATTERN } else { SINGLE_LINE_PATTERN },
            }),
            AnswerKind::Number { min, max } => json!({
                "type": "integer",
                "minimum": min.unwrap_or(-NUMBER_LIMIT),
                "maximum": max.unwrap_or(NUMBER_LIMIT),
            }),
            AnswerKind::Date => json!({
                "type": "string",
                "format": "date",
                "pattern": DATE_PATTERN,
            }),
            AnswerKind::Choice { options } => json!({ "type": "string", "enum": options }),
            AnswerKind::YesNo => json!({ "type": "boolean" }),
        };
        if let Some(object) = property.as_object_mut() {
            object.insert("title".into(), json!(question.label));
            if let Some(help) = &question.help {
                object.insert("description".into(), json!(help));
            }
        }
        properties.insert(question.key.to_string(), property);
    }
    let required: Vec<&str> = questions
        .iter()
        .filter(|q| q.required)
        .map(|q| q.key.as_ref())
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Checks the answers given so far, as the schema would minus `required`: each answer
/// of its question's type and bounds, no answer to a question the form does not ask.
/// What a draft must satisfy at every write.
pub fn answer_problems(questions: &[Question], answers: &Value) -> ValidationError {
    let mut errors = ValidationError::default();
    let Some(answers) = answers.as_object() else {
        errors.push(
            ANSWERS_FIELD,
            FieldProblem::InvalidValue { expected: "object" },
        );
        return errors;
    };
    for (key, answer) in answers {
        let field = format!("{ANSWERS_FIELD}.{key}");
        match questions.iter().find(|q| q.key.as_ref() == key) {
            None => errors.push(field, FieldProblem::NotAllowed),
            Some(question) => {
                if let Err(problem) = check_answer(question, answer) {
                    errors.push(field, problem);
                }
            }
        }
    }
    errors
}

/// Checks complete answers as the schema does: [`answer_problems`], and every required
/// question answered (`answers.<key>` is `required`).
pub fn validate_answers(questions: &[Question], answers: &Value) -> Result<(), ValidationError> {
    let mut errors = answer_problems(questions, answers);
    if let Some(given) = answers.as_object() {
        for question in questions.iter().filter(|q| q.required) {
            if !given.contains_key(question.key.as_ref()) {
                let field = format!("{ANSWERS_FIELD}.{}", question.key);
                errors.push(field, FieldProblem::Required);
            }
        }
    }
    errors.into_result()
}

/// The optional questions left unanswered.
pub fn unanswered_optional<'q>(questions: &'q [Question], answers: &Value) -> Vec<&'q QuestionKey> {
    questions
        .iter()
        .filter(|q| !q.required)
        .filter(|q| answers.get(q.key.as_ref()).is_none())
        .map(|q| &q.key)
        .collect()
}

fn check_answer(question: &Question, answer: &Value) -> Result<(), FieldProblem> {
    let wrong = |expected| FieldProblem::InvalidValue { expected };
    match &question.answer {
        AnswerKind::Text { multiline, .. } => {
            let text = answer.as_str().ok_or(wrong("string"))?;
            let max = usize::try_from(question.max_length()).unwrap_or(usize::MAX);
            if *multiline {
                text::multi_line(text, max).map(drop)
            } else {
                text::single_line(text, max).map(drop)
            }
        }
        AnswerKind::Number { min, max } => {
            // JSON Schema's integer: any number whose fraction is zero (3.0 too).
            let number = answer
                .as_i64()
                .or_else(|| {
                    answer
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() <= NUMBER_LIMIT as f64)
                        .map(|f| f as i64)
                })
                .ok_or(wrong("integer"))?;
            let (min, max) = (min.unwrap_or(-NUMBER_LIMIT), max.unwrap_or(NUMBER_LIMIT));
            if (min..=max).contains(&number) {
                Ok(())
            } else {
                Err(FieldProblem::OutOfRange { min, max })
            }
        }
        AnswerKind::Date => date(answer.as_str().ok_or(FieldProblem::Date)?).map(drop),
        AnswerKind::Choice { options } => match answer.as_str() {
            Some(choice) if options.iter().any(|o| o == choice) => Ok(()),
            _ => Err(FieldProblem::NotOneOf {
                allowed: options.join(", "),
            }),
        },
        AnswerKind::YesNo => answer.as_bool().map(drop).ok_or(wrong("boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(key: &str, required: bool, answer: AnswerKind) -> Question {
        Question {
            key: QuestionKey::parse(key).unwrap(),
            label: format!("Question {key}"),
            help: None,
            required,
            answer,
        }
    }

    fn form() -> Vec<Question> {
        vec![
            question(
                "summary",
                true,
                AnswerKind::Text {
                    multiline: true,
                    max_length: Some(20),
                },
            ),
            question(
                "attendance",
                true,
                AnswerKind::Number {
                    min: Some(0),
                    max: Some(5000),
                },
            ),
            question("first_date", false, AnswerKind::Date),
            question(
                "audience",
                true,
                AnswerKind::Choice {
                    options: vec!["jeune public".into(), "tout public".into()],
                },
            ),
            question("accessible", false, AnswerKind::YesNo),
        ]
    }

    #[test]
    fn question_keys_are_snake_case() {
        assert!(QuestionKey::parse("expected_attendance_2").is_ok());
        for bad in ["", "Audience", "2nd", "_x", "a-b", "é"] {
            assert_eq!(
                QuestionKey::parse(bad),
                Err(FieldProblem::QuestionKeyFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_schema_states_each_question() {
        let schema = form_schema("Diffusion", &form());
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["required"],
            json!(["summary", "attendance", "audience"])
        );
        let p = &schema["properties"];
        assert_eq!(p["summary"]["maxLength"], 20);
        assert_eq!(p["summary"]["pattern"], MULTI_LINE_PATTERN);
        assert_eq!(p["summary"]["title"], "Question summary");
        assert_eq!(
            p["attendance"],
            json!({"type": "integer", "minimum": 0,
            "maximum": 5000, "title": "Question attendance"})
        );
        assert_eq!(p["first_date"]["format"], "date");
        assert_eq!(
            p["audience"]["enum"],
            json!(["jeune public", "tout public"])
        );
        assert_eq!(p["accessible"]["type"], "boolean");
    }

    #[test]
    fn good_answers_pass() {
        let answers = json!({
            "summary": "Deux dates\nen été",
            "attendance": 120.0,
            "first_date": "2026-10-03",
            "audience": "tout public",
            "accessible": false,
        });
        assert_eq!(validate_answers(&form(), &answers), Ok(()));
        assert!(unanswered_optional(&form(), &answers).is_empty());
    }

    #[test]
    fn every_bad_answer_is_reported_at_once() {
        let answers = json!({
            "summary": "x".repeat(21),
            "attendance": 12.5,
            "first_date": "03/10/2026",
            "audience": "adultes",
            "accessible": "oui",
            "colour": "bleu",
        });
        let error = validate_answers(&form(), &answers).unwrap_err();
        let mut got: Vec<(String, &str)> = error
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.problem.code()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("answers.accessible".into(), "invalid_value"),
                ("answers.attendance".into(), "invalid_value"),
                ("answers.audience".into(), "not_one_of"),
                ("answers.colour".into(), "not_allowed"),
                ("answers.first_date".into(), "date_format"),
                ("answers.summary".into(), "too_long"),
            ]
        );
    }

    #[test]
    fn missing_required_answers_count_only_when_complete() {
        let answers = json!({ "attendance": 6000, "summary": " " });
        let draft = answer_problems(&form(), &answers);
        let fields: Vec<&str> = draft.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["answers.attendance", "answers.summary"]);
        assert_eq!(
            draft.errors[0].problem,
            FieldProblem::OutOfRange { min: 0, max: 5000 }
        );
        assert_eq!(draft.errors[1].problem, FieldProblem::Blank);
        let complete = validate_answers(&form(), &answers).unwrap_err();
        let fields: Vec<&str> = complete.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["answers.attendance", "answers.summary", "answers.audience"]
        );
        assert_eq!(
            unanswered_optional(&form(), &answers)
                .iter()
                .map(|k| k.as_ref())
                .collect::<Vec<_>>(),
            ["first_date", "accessible"]
        );
        // `null` is not an answer: the schema refuses it too.
        let null = answer_problems(&form(), &json!({ "accessible": null }));
        assert_eq!(null.errors[0].problem.code(), "invalid_value");
        let not_object = answer_problems(&form(), &json!(["x"]));
        assert_eq!(not_object.errors[0].field, "answers");
    }

    #[test]
    fn malformed_questions_are_refused() {
        let mut questions = form();
        questions.push(question("summary", false, AnswerKind::YesNo));
        questions.push(question(
            "range",
            false,
            AnswerKind::Number {
                min: Some(10),
                max: Some(1),
            },
        ));
        questions.push(question(
            "pick",
            false,
            AnswerKind::Choice {
                options: vec!["a".into(), "a".into(), " ".into()],
            },
        ));
        questions.push(question(
            "empty",
            false,
            AnswerKind::Choice { options: vec![] },
        ));
        questions[0].label = String::new();
        let mut errors = ValidationError::default();
        check_questions(&mut errors, "rules.questions", &questions);
        let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rules.questions[5].key",
                "rules.questions[0].label",
                "rules.questions[6].max",
                "rules.questions[7].options[1]",
                "rules.questions[7].options[2]",
                "rules.questions[8].options",
            ]
        );
    }
}
