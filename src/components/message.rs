//! One message: the author (on the first of a group), the words with their links, a file or
//! picture, and (on the last of a group) the time and, for the visitor's own, whether it was
//! sent and seen. Every text is a text node; every URL went through `safe_url`.

use crate::components::rich::RichView;
use crate::format::time_of_day;
use crate::hooks::use_link_preview::use_link_previews;
use crate::hooks::use_strings::use_strings;
use crate::state::{
    AgentCard, Author, Content, Delivery, FileLink, Message, PreviewCard, Segment, preview_card, previewed_link,
    segments,
};
use leptos::prelude::*;

#[component]
pub fn MessageRow(
    message: Message,
    first: bool,
    last: bool,
    on_retry: Callback<String>,
    #[prop(optional)] on_cancel: Option<Callback<String>>,
) -> impl IntoView {
    let strings = use_strings();
    let side = match &message.author {
        Author::Visitor => "mine",
        Author::Agent(_) => "theirs",
        Author::System => "system",
    };
    let body = match message.content.clone() {
        Content::Notice(notice) => {
            return view! { <div class="message system notice-line"><p>{strings.notice(&notice)}</p></div> }.into_any();
        }
        Content::Text(text) => {
            let preview = previewed_link(&text).zip(use_link_previews()).map(|(href, previews)| {
                let info = previews.of(&href);
                move || {
                    info.get().and_then(|info| preview_card(&href, &info)).map(|card| view! { <PreviewView card /> })
                }
            });
            view! {
                <p class="text" dir="auto">{linkify(&text)}</p>
                {preview}
            }
            .into_any()
        }
        Content::File(file) => view! { <FileView file /> }.into_any(),
        Content::Rich(rich) => view! { <RichView message_key=message.key.clone() rich /> }.into_any(),
    };
    let class = format!("message {side}{}{}", if first { " first" } else { "" }, if last { " last" } else { "" });
    // Screen readers hear who wrote each message, whatever is shown.
    let said = match &message.author {
        Author::Visitor => (strings.said)(strings.you),
        Author::Agent(agent) => (strings.said)(strings.name_or_agent(&agent.name)),
        Author::System => String::new(),
    };
    let who = match (&message.author, first) {
        (Author::Agent(agent), true) => Some(view! { <AgentLine agent=agent.clone() /> }),
        _ => None,
    };
    let is_text = matches!(message.content, Content::Text(_));
    let status = match &message.delivery {
        Delivery::Uploading(percent) => {
            let key = message.key.clone();
            let percent = *percent;
            Some(
                view! {
                    <span class="status uploading">
                        <progress max="100" value=percent aria-label=strings.uploading>{percent}"%"</progress>
                        {on_cancel.map(|cancel| view! {
                            <button type="button" class="link cancel" on:click=move |_| cancel.run(key.clone())>{strings.cancel}</button>
                        })}
                    </span>
                }
                .into_any(),
            )
        }
        Delivery::Sending => Some(view! { <span class="status">{strings.sending}</span> }.into_any()),
        Delivery::Failed(reason) if !is_text => {
            Some(view! { <span class="status failed" role="alert">{reason.clone()}</span> }.into_any())
        }
        Delivery::Failed(reason) => {
            let key = message.key.clone();
            Some(
                view! {
                    <span class="status failed" role="alert">
                        {reason.clone()} " "
                        <button type="button" class="retry" on:click=move |_| on_retry.run(key.clone())>{strings.retry}</button>
                    </span>
                }
                .into_any(),
            )
        }
        _ => None,
    };
    let meta = last.then(|| {
        let time = message.created_at.as_deref().and_then(|at| time_of_day(strings, at).map(|t| (at.to_owned(), t)));
        let receipt = match (&message.author, &message.delivery) {
            (Author::Visitor, Delivery::Sent) => Some(("receipt", strings.sent)),
            (Author::Visitor, Delivery::Seen) => Some(("receipt seen", strings.seen)),
            _ => None,
        };
        (time.is_some() || receipt.is_some()).then(|| {
            view! {
                <span class="meta">
                    {time.map(|(at, text)| view! { <time datetime=at>{text}</time> })}
                    {receipt.map(|(class, text)| view! { <span class=class>{text}</span> })}
                </span>
            }
        })
    });
    view! {
        <div class=class>
            {who}
            <span class="sr-only">{said}</span>
            {body}
            {status}
            {meta}
        </div>
    }
    .into_any()
}

/// The agent's avatar (or initials), name and job title.
#[component]
fn AgentLine(agent: AgentCard) -> impl IntoView {
    let strings = use_strings();
    let name = strings.name_or_agent(&agent.name).to_owned();
    view! {
        <div class="who" aria-hidden="true">
            <Avatar agent=agent.clone() />
            <span class="author">{name}</span>
            {agent.job_title.map(|title| view! { <span class="job">{title}</span> })}
        </div>
    }
}

/// A round picture of the agent, or their initials.
#[component]
pub fn Avatar(agent: AgentCard) -> impl IntoView {
    match agent.avatar.clone() {
        Some(url) => view! { <img class="avatar" src=url alt="" width="28" height="28" /> }.into_any(),
        None => view! { <span class="avatar initials">{agent.initials()}</span> }.into_any(),
    }
}

/// A picture shown small (opens full size), or a link to download.
#[component]
fn FileView(file: FileLink) -> impl IntoView {
    let strings = use_strings();
    match (file.url, file.image) {
        (Some(url), true) => view! {
            <a class="file image" href=url.clone() target="_blank" rel="noopener noreferrer">
                <img src=url.clone() alt=file.name width=file.width height=file.height loading="lazy" />
            </a>
        }
        .into_any(),
        (Some(url), false) => view! {
            <a class="file" href=url target="_blank" rel="noopener noreferrer" download="">
                <span class="file-kind">{strings.file}</span>
                <span class="file-name" dir="auto">{file.name}</span>
            </a>
        }
        .into_any(),
        (None, _) => view! {
            <span class="file">
                <span class="file-kind">{strings.file}</span>
                <span class="file-name" dir="auto">{file.name}</span>
            </span>
        }
        .into_any(),
    }
}

/// The text with its web addresses as links (new tab, no referrer, no opener).
/// A link's preview: the whole card opens the page; every text is a text node.
#[component]
pub fn PreviewView(card: PreviewCard) -> impl IntoView {
    view! {
        <a class="preview" href=card.href target="_blank" rel="noopener noreferrer nofollow ugc">
            {card.image.map(|src| view! { <img class="preview-image" src=src alt="" loading="lazy" /> })}
            <span class="preview-host">{card.host}</span>
            <span class="preview-title" dir="auto">{card.title}</span>
            {card.description.map(|d| view! { <span class="preview-description" dir="auto">{d}</span> })}
        </a>
    }
}

fn linkify(text: &str) -> Vec<AnyView> {
    segments(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_owned().into_any(),
            Segment::Link { text, href } => view! {
                <a href=href target="_blank" rel="noopener noreferrer nofollow ugc">{text.to_owned()}</a>
            }
            .into_any(),
        })
        .collect()
}
