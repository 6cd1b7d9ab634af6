//! Forms the group defines (pre-chat, ticket): the visitor's answers, what is missing, and
//! the filled form sent to the server. Field kinds follow the Customer Chat API: `header`
//! (text only), `name`, `email`, `question`, `textarea`, `radio`, `select`, `checkbox`,
//! `group_chooser`; a kind this widget does not know is left out rather than guessed at.

use confab_protocol::action::{Form, FormField};
use confab_protocol::entity::{FilledFormBody, FilledFormField};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Kinds the visitor types into.
const TEXT_KINDS: &[&str] = &["name", "email", "question", "textarea"];
/// Kinds the visitor chooses one option of.
const CHOICE_KINDS: &[&str] = &["radio", "select", "group_chooser"];

/// The visitor's answers, by field index: text typed, or the indexes of options chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers(BTreeMap<usize, Answer>);

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    Options(Vec<usize>),
}

/// Whether this widget shows the field (as a question, or a header).
pub fn shown(field: &FormField) -> bool {
    field.kind == "header" || asks(field)
}

/// Whether the field asks something (a `rating` field does not: the window's own rating asks
/// that, through `rate_chat`).
pub(crate) fn asks(field: &FormField) -> bool {
    let kind = field.kind.as_str();
    TEXT_KINDS.contains(&kind) || CHOICE_KINDS.contains(&kind) || kind == "checkbox"
}

impl Answers {
    pub fn set_text(&mut self, field: usize, text: String) {
        self.0.insert(field, Answer::Text(text));
    }

    /// Chooses option `option` of field `field`: the only one (radio, select), or one more
    /// (checkbox, `on` false takes it away).
    pub fn choose(&mut self, form: &Form, field: usize, option: usize, on: bool) {
        let many = form.fields.get(field).is_some_and(|f| f.kind == "checkbox");
        let answer = self.0.entry(field).or_insert(Answer::Options(Vec::new()));
        if !matches!(answer, Answer::Options(_)) {
            *answer = Answer::Options(Vec::new());
        }
        let Answer::Options(chosen) = answer else { return };
        if !many {
            chosen.clear();
        }
        chosen.retain(|&o| o != option);
        if on {
            chosen.push(option);
            chosen.sort_unstable();
        }
    }

    pub fn text(&self, field: usize) -> &str {
        match self.0.get(&field) {
            Some(Answer::Text(text)) => text,
            _ => "",
        }
    }

    pub fn is_chosen(&self, field: usize, option: usize) -> bool {
        matches!(self.0.get(&field), Some(Answer::Options(chosen)) if chosen.contains(&option))
    }

    /// The labels of required fields left empty, and of e-mail fields that are not addresses.
    pub fn problems(&self, form: &Form) -> Vec<Problem> {
        form.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| asks(f))
            .filter_map(|(i, field)| {
                let label = field.label.clone().unwrap_or_default();
                let empty = match self.0.get(&i) {
                    Some(Answer::Text(text)) => text.trim().is_empty(),
                    Some(Answer::Options(chosen)) => chosen.is_empty(),
                    None => true,
                };
                if empty && field.required == Some(true) {
                    return Some(Problem::Required { field: i, label });
                }
                let text = self.text(i).trim();
                (field.kind == "email" && !text.is_empty() && !looks_like_email(text))
                    .then_some(Problem::NotAnEmail { field: i, label })
            })
            .collect()
    }

    /// The filled form for the server: every question the form asks, with what was answered.
    pub fn filled(&self, form: &Form) -> FilledFormBody {
        let fields = form
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| asks(f))
            .map(|(i, field)| {
                let options = field.options.as_deref().unwrap_or_default();
                let option = |o: usize| {
                    let option = &options[o];
                    match (field.kind.as_str(), option.group_id) {
                        ("group_chooser", Some(group_id)) => json!({"group_id": group_id, "label": option.label}),
                        _ => json!({"id": option.id.clone().unwrap_or_else(|| o.to_string()), "label": option.label}),
                    }
                };
                let chosen: Vec<usize> = match self.0.get(&i) {
                    Some(Answer::Options(chosen)) => chosen.iter().copied().filter(|&o| o < options.len()).collect(),
                    _ => Vec::new(),
                };
                let (answer, answers) = match field.kind.as_str() {
                    "checkbox" => (None, Some(chosen.into_iter().map(option).collect())),
                    kind if CHOICE_KINDS.contains(&kind) => (chosen.first().map(|&o| option(o)), None),
                    _ => (Some(Value::String(self.text(i).trim().to_owned())), None),
                };
                FilledFormField {
                    id: field.id.clone(),
                    kind: field.kind.clone(),
                    label: field.label.clone().unwrap_or_default(),
                    answer,
                    answers,
                }
            })
            .collect();
        FilledFormBody { form_id: form.id.clone(), fields }
    }

    /// What the visitor said their name and e-mail are, for their customer record.
    pub fn name_and_email(&self, form: &Form) -> (Option<String>, Option<String>) {
        let of = |kind: &str| {
            form.fields
                .iter()
                .position(|f| f.kind == kind)
                .map(|i| self.text(i).trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        (of("name"), of("email"))
    }

    /// The group the visitor chose, if the form lets them.
    pub fn chosen_group(&self, form: &Form) -> Option<u32> {
        form.fields.iter().enumerate().filter(|(_, f)| f.kind == "group_chooser").find_map(|(i, field)| {
            let Some(Answer::Options(chosen)) = self.0.get(&i) else { return None };
            field.options.as_ref()?.get(*chosen.first()?)?.group_id
        })
    }
}

/// Something to fix before the form is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required { field: usize, label: String },
    NotAnEmail { field: usize, label: String },
}

impl Problem {
    pub fn field(&self) -> usize {
        match self {
            Problem::Required { field, .. } | Problem::NotAnEmail { field, .. } => *field,
        }
    }
}

/// Roughly an address: something@something.something, no spaces.
fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_protocol::action::FormOption;

    fn field(kind: &str, label: &str, required: bool, options: &[&str]) -> FormField {
        FormField {
            id: Some(format!("f-{kind}")),
            kind: kind.into(),
            label: Some(label.into()),
            required: Some(required),
            options: (!options.is_empty()).then(|| {
                options
                    .iter()
                    .enumerate()
                    .map(|(i, l)| FormOption {
                        id: Some(format!("o{i}")),
                        label: (*l).into(),
                        checked: None,
                        group_id: None,
                    })
                    .collect()
            }),
            comment_label: None,
        }
    }

    fn form() -> Form {
        Form {
            id: "prechat".into(),
            fields: vec![
                field("header", "Welcome!", false, &[]),
                field("name", "Your name", true, &[]),
                field("email", "E-mail", true, &[]),
                field("select", "Topic", false, &["Orders", "Beans"]),
                field("checkbox", "Also", false, &["Newsletter", "Offers"]),
                field("rating", "Unknown kind", false, &[]),
            ],
        }
    }

    #[test]
    fn required_fields_and_email_addresses_are_checked() {
        let form = form();
        let mut answers = Answers::default();
        assert_eq!(
            answers.problems(&form),
            [
                Problem::Required { field: 1, label: "Your name".into() },
                Problem::Required { field: 2, label: "E-mail".into() }
            ]
        );
        answers.set_text(1, "Ada".into());
        answers.set_text(2, "ada at example".into());
        assert_eq!(answers.problems(&form), [Problem::NotAnEmail { field: 2, label: "E-mail".into() }]);
        answers.set_text(2, "ada@example.com".into());
        assert_eq!(answers.problems(&form), []);
    }

    #[test]
    fn the_filled_form_carries_every_question_with_its_answer() {
        let form = form();
        let mut answers = Answers::default();
        answers.set_text(1, " Ada ".into());
        answers.set_text(2, "ada@example.com".into());
        answers.choose(&form, 3, 0, true);
        answers.choose(&form, 3, 1, true);
        answers.choose(&form, 4, 0, true);
        answers.choose(&form, 4, 1, true);
        answers.choose(&form, 4, 0, false);
        let filled = answers.filled(&form);
        assert_eq!(filled.form_id, "prechat");
        let kinds: Vec<_> = filled.fields.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["name", "email", "select", "checkbox"], "no header, no unknown kind");
        assert_eq!(filled.fields[0].answer, Some(json!("Ada")));
        assert_eq!(filled.fields[2].answer, Some(json!({"id": "o1", "label": "Beans"})), "a select keeps one");
        assert_eq!(filled.fields[3].answers, Some(vec![json!({"id": "o1", "label": "Offers"})]));
        assert_eq!(answers.name_and_email(&form), (Some("Ada".into()), Some("ada@example.com".into())));
    }

    #[test]
    fn a_group_chooser_answers_with_the_group() {
        let mut chooser = field("group_chooser", "Department", true, &["Sales", "Billing"]);
        for (i, option) in chooser.options.as_mut().unwrap().iter_mut().enumerate() {
            option.group_id = Some(i as u32 + 1);
        }
        let form = Form { id: "f".into(), fields: vec![chooser] };
        let mut answers = Answers::default();
        answers.choose(&form, 0, 1, true);
        assert_eq!(answers.chosen_group(&form), Some(2));
        assert_eq!(answers.filled(&form).fields[0].answer, Some(json!({"group_id": 2, "label": "Billing"})));
    }
}
