//! A form of the group's (pre-chat, ticket), drawn from its fields. Nothing is sent until
//! every required field is filled and e-mail fields hold addresses; each problem is said next
//! to its field (and the first one gets the focus).

use crate::hooks::use_strings::use_strings;
use crate::state::{Answers, Problem, form_field_shown};
use confab_protocol::action::{Form, FormField};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn FormView(
    form: Form,
    /// Said above the fields.
    intro: &'static str,
    submit_label: &'static str,
    on_submit: Callback<Answers>,
    /// A failure to send, said under the form.
    #[prop(optional)]
    error: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let strings = use_strings();
    let answers = RwSignal::new(Answers::default());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let shape = form.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let found = answers.with_untracked(|a| a.problems(&shape));
        if let Some(first) = found.first() {
            let selector = format!(
                "[data-field=\"{}\"] input, [data-field=\"{}\"] textarea, [data-field=\"{}\"] select",
                first.field(),
                first.field(),
                first.field()
            );
            if let Some(el) = form_ref.get_untracked().and_then(|f| f.query_selector(&selector).ok().flatten()) {
                let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
            }
            problems.set(found);
            return;
        }
        problems.set(Vec::new());
        on_submit.run(answers.get_untracked());
    };
    let fields = form
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| form_field_shown(f))
        .map(|(index, field)| view! { <Field form=form.clone() field=field.clone() index answers problems /> })
        .collect_view();

    view! {
        <form class="group-form" node_ref=form_ref on:submit=submit novalidate>
            <p class="intro">{intro}</p>
            {fields}
            {move || error.and_then(|e| e.get()).map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <button type="submit" class="primary">{submit_label}</button>
            <span class="sr-only">{strings.required_note}</span>
        </form>
    }
}

#[component]
fn Field(
    form: Form,
    field: FormField,
    index: usize,
    answers: RwSignal<Answers>,
    problems: RwSignal<Vec<Problem>>,
) -> impl IntoView {
    let strings = use_strings();
    let label = field.label.clone().unwrap_or_default();
    if field.kind == "header" {
        return view! { <p class="form-header" dir="auto">{label}</p> }.into_any();
    }
    let id = format!("field-{index}");
    let error_id = format!("field-{index}-error");
    let required = field.required == Some(true);
    let problem = move || {
        problems.with(|all| {
            all.iter().find(|p| p.field() == index).map(|p| match p {
                Problem::Required { label, .. } => (strings.required)(label),
                Problem::NotAnEmail { label, .. } => (strings.not_an_email)(label),
            })
        })
    };
    let invalid = move || problem().is_some().to_string();
    let options = field.options.clone().unwrap_or_default();
    let described_by = error_id.clone();
    let control = match field.kind.as_str() {
        "textarea" => view! {
            <textarea
                id=id.clone()
                rows="3"
                dir="auto"
                required=required
                aria-invalid=invalid
                aria-describedby=error_id.clone()
                on:input=move |ev| answers.update(|a| a.set_text(index, event_target_value(&ev)))
            ></textarea>
        }
        .into_any(),
        "select" | "group_chooser" => {
            let form = form.clone();
            view! {
                <select
                    id=id.clone()
                    required=required
                    aria-invalid=invalid
                    aria-describedby=error_id.clone()
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev).parse::<usize>().ok();
                        answers.update(|a| match chosen {
                            Some(option) => a.choose(&form, index, option, true),
                            None => a.set_text(index, String::new()),
                        });
                    }
                >
                    <option value="">"—"</option>
                    {options.iter().enumerate().map(|(o, option)| view! { <option value=o.to_string()>{option.label.clone()}</option> }).collect_view()}
                </select>
            }
            .into_any()
        }
        kind @ ("radio" | "checkbox") => {
            let kind = kind.to_owned();
            let choices = options
                .iter()
                .enumerate()
                .map(|(o, option)| {
                    let form = form.clone();
                    view! {
                        <label class="choice">
                            <input
                                type=kind.clone()
                                name=id.clone()
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    answers.update(|a| a.choose(&form, index, o, on));
                                }
                            />
                            <span dir="auto">{option.label.clone()}</span>
                        </label>
                    }
                })
                .collect_view();
            return view! {
                <fieldset class="field" data-field=index aria-describedby=error_id.clone() aria-invalid=invalid>
                    <legend dir="auto">{label}{required.then_some(" *")}</legend>
                    {choices}
                    <p class="field-error" id=error_id.clone()>{problem}</p>
                </fieldset>
            }
            .into_any();
        }
        kind => {
            let input_type = if kind == "email" { "email" } else { "text" };
            let autocomplete = match kind {
                "name" => "name",
                "email" => "email",
                _ => "off",
            };
            view! {
                <input
                    id=id.clone()
                    type=input_type
                    dir="auto"
                    autocomplete=autocomplete
                    required=required
                    aria-invalid=invalid
                    aria-describedby=error_id.clone()
                    on:input=move |ev| answers.update(|a| a.set_text(index, event_target_value(&ev)))
                />
            }
            .into_any()
        }
    };
    view! {
        <div class="field" data-field=index>
            <label for=id dir="auto">{label}{required.then_some(" *")}</label>
            {control}
            <p class="field-error" id=described_by>{problem}</p>
        </div>
    }
    .into_any()
}
