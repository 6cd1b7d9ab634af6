//! A rich message: cards (picture, title, subtitle, buttons) or quick replies (words, then
//! buttons offered as answers until the visitor answers), from typed data only.
//!
//! A button answers with its words (`message`), opens a page (`url`, `webview`: a new tab;
//! the address passed the allowlist), calls a number (`phone`), or only tells the agents
//! (`cancel`); each with its postback. The chosen button shows as pressed.

use crate::state::{ButtonAction, ChatState, Rich, RichButton};
use leptos::prelude::*;

/// What rich messages need from the chat, provided by the app: the state (which button was
/// chosen) and what a click does.
#[derive(Clone, Copy)]
pub struct RichChoices {
    pub state: RwSignal<ChatState>,
    /// The visitor chose a button of the message with this key.
    pub choose: Callback<(String, RichButton)>,
}

#[component]
pub fn RichView(message_key: String, rich: Rich) -> impl IntoView {
    let choices = use_context::<RichChoices>();
    let key = StoredValue::new(message_key);
    let chosen = move || choices.and_then(|c| c.state.with(|s| s.chosen(&key.get_value())));
    let button_view = move |button: RichButton| {
        let label = button.text.clone();
        let pressed_id = button.postback_id.clone();
        let pressed = move || pressed_id.is_some() && chosen() == pressed_id;
        let on_click = {
            let button = button.clone();
            move |_| {
                if let Some(c) = choices {
                    c.choose.run((key.get_value(), button.clone()));
                }
            }
        };
        match button.action {
            ButtonAction::Link(url) => view! {
                <a class="rich-button" class:chosen=pressed href=url target="_blank" rel="noopener noreferrer" on:click=on_click>
                    {label}
                </a>
            }
            .into_any(),
            ButtonAction::Phone(number) => view! {
                <a class="rich-button" class:chosen=pressed href=format!("tel:{number}") on:click=on_click>{label}</a>
            }
            .into_any(),
            ButtonAction::Message | ButtonAction::Postback => view! {
                <button type="button" class="rich-button" aria-pressed=move || pressed().to_string() on:click=on_click>
                    {label}
                </button>
            }
            .into_any(),
        }
    };

    if rich.quick_replies {
        let offered = move || choices.is_some_and(|c| c.state.with(|s| s.offers_quick_replies(&key.get_value())));
        let words: Vec<String> =
            rich.elements.iter().filter_map(|e| e.title.clone().or_else(|| e.subtitle.clone())).collect();
        let buttons: Vec<RichButton> = rich.elements.into_iter().flat_map(|e| e.buttons).collect();
        return view! {
            <div class="rich quick-replies">
                {words.into_iter().map(|w| view! { <p class="text" dir="auto">{w}</p> }).collect_view()}
                <Show when=offered>
                    <div class="quick-reply-buttons">{buttons.clone().into_iter().map(button_view).collect_view()}</div>
                </Show>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="rich cards">
            {rich
                .elements
                .into_iter()
                .map(|element| {
                    view! {
                        <div class="card">
                            {element.image.map(|(url, alt)| view! { <img src=url alt=alt loading="lazy" /> })}
                            {element.title.map(|t| view! { <p class="card-title" dir="auto">{t}</p> })}
                            {element.subtitle.map(|t| view! { <p class="card-subtitle" dir="auto">{t}</p> })}
                            {(!element.buttons.is_empty()).then(|| view! {
                                <div class="card-buttons">{element.buttons.into_iter().map(button_view).collect_view()}</div>
                            })}
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}
