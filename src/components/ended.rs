//! When a conversation has ended: the group's post-chat survey if it has one (sent or skipped
//! first), then the rating (good / bad, an optional comment, or no thanks), thanks once rated
//! (and a way to change it), and "start a new chat", which brings back the composer; the next
//! message opens a new conversation in the same chat.

use crate::components::form::FormView;
use crate::hooks::use_strings::use_strings;
use crate::state::{Answers, ChatState, RatingState};
use leptos::prelude::*;

#[component]
pub fn Ended(
    state: RwSignal<ChatState>,
    on_rate: Callback<(u8, Option<String>)>,
    on_decline: Callback<()>,
    /// Back to the rating form (a new rating replaces the one given).
    on_change: Callback<()>,
    on_start_new: Callback<()>,
    /// The post-chat survey's answers, and skipping it.
    on_survey: Callback<Answers>,
    on_skip_survey: Callback<()>,
    /// Why the survey could not be sent.
    survey_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let strings = use_strings();
    let survey = Memo::new(move |_| state.with(|s| s.survey().cloned()));
    let rating = move || state.with(|s| s.ended.as_ref().map(|e| e.rating.clone()));
    let score = RwSignal::new(None::<u8>);
    let comment = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(score) = score.get_untracked() {
            on_rate.run((score, Some(comment.get_untracked())));
        }
    };
    let thumb = move |value: u8, label: &'static str| {
        view! {
            <button
                type="button"
                class="thumb"
                class:chosen=move || score.get() == Some(value)
                aria-pressed=move || (score.get() == Some(value)).to_string()
                aria-label=label
                on:click=move |_| score.set(Some(value))
            >
                <Thumb down=value == 0 />
            </button>
        }
    };

    let rating_view = move || {
        match rating() {
            Some(RatingState::Asking) => view! {
                <form class="rating" on:submit=submit>
                    <p class="prompt" id="rate-prompt">{strings.rate_prompt}</p>
                    <div class="thumbs" role="group" aria-labelledby="rate-prompt">
                        {thumb(1, strings.rate_good)}
                        {thumb(0, strings.rate_bad)}
                    </div>
                    <Show when=move || score.get().is_some()>
                        <textarea
                            class="comment"
                            rows="2"
                            dir="auto"
                            aria-label=strings.rate_comment
                            placeholder=strings.rate_comment
                            prop:value=move || comment.get()
                            on:input=move |ev| comment.set(event_target_value(&ev))
                        ></textarea>
                    </Show>
                    <div class="actions">
                        <button type="button" class="link" on:click=move |_| on_decline.run(())>{strings.no_thanks}</button>
                        <button type="submit" class="primary" disabled=move || score.get().is_none()>{strings.rate_send}</button>
                    </div>
                </form>
            }
            .into_any(),
            Some(RatingState::Rated { score: given }) => view! {
                <p class="thanks" role="status">
                    <Thumb down=given == 0 />
                    {strings.rate_thanks} " "
                    <button type="button" class="link" on:click=move |_| on_change.run(())>{strings.rate_change}</button>
                </p>
            }
            .into_any(),
            _ => ().into_any(),
    }
    };

    view! {
        <section class="end-panel" aria-label=strings.header_ended>
            {move || match survey.get() {
                Some(form) => view! {
                    <div class="survey">
                        <FormView
                            form
                            intro=strings.survey_intro
                            submit_label=strings.survey_submit
                            on_submit=on_survey
                            error=survey_error
                        />
                        <button type="button" class="link skip" on:click=move |_| on_skip_survey.run(())>{strings.survey_skip}</button>
                    </div>
                }
                .into_any(),
                None => rating_view().into_any(),
            }}
            <button type="button" class="primary start-new" on:click=move |_| on_start_new.run(())>{strings.start_new}</button>
        </section>
    }
}
/// A thumb drawn in SVG (emoji fonts are missing on many systems); down is up turned over.
#[component]
fn Thumb(down: bool) -> impl IntoView {
    view! {
        <svg class="thumb-icon" class:down=down viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
            <path d="M7 10v11H3V10zM7 10l4-8c1.7 0 3 1.3 3 3v3h5.5c1.4 0 2.4 1.3 2 2.6l-2.3 8c-.3.9-1.1 1.4-2 1.4H7" />
        </svg>
    }
}
