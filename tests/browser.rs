//! Widget components in headless Chromium (wasm-bindgen-test): what the visitor sees and does.

#![cfg(target_arch = "wasm32")]

use confab_protocol::entity::Event;
use confab_widget::components::composer::Composer;
use confab_widget::components::header::Header;
use confab_widget::components::message_list::MessageList;
use confab_widget::config::WidgetConfig;
use confab_widget::state::{ChatState, Connection};
use leptos::prelude::*;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlElement, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts a view in a fresh container; keep the handle alive for the test.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> (HtmlElement, impl Drop) {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), view);
    (root, handle)
}

fn query<T: JsCast>(root: &HtmlElement, selector: &str) -> T {
    root.query_selector(selector).unwrap().unwrap_or_else(|| panic!("no {selector}")).unchecked_into()
}

fn count(root: &HtmlElement, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

fn press(target: &HtmlElement, key: &str, shift: bool) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

fn type_text(textarea: &HtmlTextAreaElement, text: &str) {
    textarea.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    textarea.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

/// A callback that records what it is called with.
fn recorder<T: Send + Sync + 'static>() -> (Arc<Mutex<Vec<T>>>, Callback<T>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let sink = calls.clone();
    (calls, Callback::new(move |value: T| sink.lock().unwrap().push(value)))
}

/// The chat of a visitor whose customer id is "me".
fn my_chat() -> RwSignal<ChatState> {
    let mut chat = ChatState::default();
    chat.customer_id = Some("me".into());
    RwSignal::new(chat)
}

fn agent_message(id: &str, text: &str) -> Event {
    let mut event = Event::message(text);
    event.id = Some(id.into());
    event.author_id = Some("agent@example.com".into());
    event
}

#[wasm_bindgen_test]
async fn message_markup_is_rendered_as_text() {
    let state = my_chat();
    let payload = r#"<img src=x onerror="window.pwned=1"><b>bold</b><script>window.pwned=1</script>"#;
    state.update(|s| {
        s.upsert(&agent_message("T_1", payload));
    });
    let (root, _keep) = mount(move || view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> });
    leptos::task::tick().await;

    let text: HtmlElement = query(&root, ".message.theirs .text");
    assert_eq!(text.text_content().unwrap(), payload);
    assert_eq!(count(&root, "img, b, script"), 0, "no element from message data");
    let pwned = js_sys::Reflect::get(&web_sys::window().unwrap(), &"pwned".into()).unwrap();
    assert!(pwned.is_undefined());
}

#[wasm_bindgen_test]
async fn new_messages_appear_and_the_empty_greeting_goes() {
    let state = RwSignal::new(ChatState::default());
    let (root, _keep) = mount(move || view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> });
    leptos::task::tick().await;
    assert_eq!(count(&root, ".empty"), 1);

    state.update(|s| s.add_pending("k1", "hello"));
    leptos::task::tick().await;
    assert_eq!(count(&root, ".empty"), 0);
    assert_eq!(count(&root, ".message.mine"), 1);
    let status: HtmlElement = query(&root, ".message.mine .status");
    assert_eq!(status.text_content().unwrap(), "Sending…");
}

#[wasm_bindgen_test]
async fn messages_show_in_seq_order_and_a_confirmed_one_moves_to_its_place() {
    let state = my_chat();
    let (root, _keep) = mount(move || view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> });
    let shown = || {
        let texts = root.query_selector_all(".message .text").unwrap();
        (0..texts.length()).map(|i| texts.item(i).unwrap().text_content().unwrap()).collect::<Vec<_>>()
    };
    let with_seq = |mut event: Event, seq: u64| {
        event.seq = Some(seq);
        event
    };

    state.update(|s| {
        s.upsert(&with_seq(agent_message("T_3", "third"), 3));
        s.upsert(&with_seq(agent_message("T_1", "first"), 1));
        s.add_pending("k1", "mine");
    });
    leptos::task::tick().await;
    assert_eq!(shown(), ["first", "third", "mine"]);

    let mut mine = with_seq(Event::message("mine").with_custom_id("k1"), 2);
    mine.id = Some("T_2".into());
    mine.author_id = Some("me".into());
    state.update(|s| {
        s.upsert(&mine);
    });
    leptos::task::tick().await;
    assert_eq!(shown(), ["first", "mine", "third"]);
    assert_eq!(count(&root, ".status"), 0, "confirmed");
}

#[wasm_bindgen_test]
async fn a_failed_message_offers_retry_with_its_key() {
    let state = RwSignal::new(ChatState::default());
    state.update(|s| {
        s.add_pending("k1", "hello");
        s.fail("k1", "Not sent: no connection.");
    });
    let (retried, on_retry) = recorder::<String>();
    let (root, _keep) = mount(move || view! { <MessageList state on_retry /> });
    leptos::task::tick().await;

    let failed: HtmlElement = query(&root, ".status.failed");
    assert!(failed.text_content().unwrap().contains("no connection"));
    query::<HtmlButtonElement>(&root, ".retry").click();
    assert_eq!(*retried.lock().unwrap(), ["k1"]);
}

#[wasm_bindgen_test]
async fn enter_sends_and_clears_shift_enter_does_not() {
    let (sent, on_send) = recorder::<String>();
    let connection = RwSignal::new(Connection::Connected);
    let (root, _keep) = mount(move || view! { <Composer on_send connection focus=Trigger::new() /> });
    leptos::task::tick().await;

    let textarea: HtmlTextAreaElement = query(&root, "textarea");
    type_text(&textarea, "line one");
    press(&textarea, "Enter", true);
    assert!(sent.lock().unwrap().is_empty(), "Shift+Enter is a new line");
    press(&textarea, "Enter", false);
    leptos::task::tick().await;
    assert_eq!(*sent.lock().unwrap(), ["line one"]);
    assert_eq!(textarea.value(), "");

    press(&textarea, "Enter", false);
    assert_eq!(sent.lock().unwrap().len(), 1, "an empty message is not sent");
}

#[wasm_bindgen_test]
async fn while_paused_nothing_is_sent_and_nothing_typed_is_lost() {
    let (sent, on_send) = recorder::<String>();
    let connection = RwSignal::new(Connection::Paused { reason: "inactivity_timeout".into() });
    let (root, _keep) = mount(move || view! { <Composer on_send connection focus=Trigger::new() /> });
    leptos::task::tick().await;

    let textarea: HtmlTextAreaElement = query(&root, "textarea");
    let button: HtmlButtonElement = query(&root, "button.send");
    assert!(button.disabled());
    type_text(&textarea, "are you there?");
    press(&textarea, "Enter", false);
    assert!(sent.lock().unwrap().is_empty());
    assert_eq!(textarea.value(), "are you there?");

    connection.set(Connection::Connected);
    leptos::task::tick().await;
    assert!(!button.disabled());
    press(&textarea, "Enter", false);
    assert_eq!(*sent.lock().unwrap(), ["are you there?"]);
}

#[wasm_bindgen_test]
async fn while_reconnecting_a_message_is_taken_for_the_outbox_but_files_wait() {
    let (sent, on_send) = recorder::<String>();
    let connection = RwSignal::new(Connection::Reconnecting);
    let on_attach = leptos::callback::UnsyncCallback::new(|_: web_sys::File| {});
    let (root, _keep) = mount(move || view! { <Composer on_send connection focus=Trigger::new() on_attach /> });
    leptos::task::tick().await;

    let textarea: HtmlTextAreaElement = query(&root, "textarea");
    assert!(!query::<HtmlButtonElement>(&root, "button.send").disabled());
    assert!(query::<HtmlButtonElement>(&root, "button.attach").disabled(), "an upload needs the server");
    type_text(&textarea, "written offline");
    press(&textarea, "Enter", false);
    leptos::task::tick().await;
    assert_eq!(*sent.lock().unwrap(), ["written offline"], "kept in the outbox until connected");
}

#[wasm_bindgen_test]
async fn while_connecting_for_the_first_time_a_message_is_taken() {
    let (sent, on_send) = recorder::<String>();
    let connection = RwSignal::new(Connection::Connecting);
    let (root, _keep) = mount(move || view! { <Composer on_send connection focus=Trigger::new() /> });
    leptos::task::tick().await;

    let textarea: HtmlTextAreaElement = query(&root, "textarea");
    assert!(!query::<HtmlButtonElement>(&root, "button.send").disabled());
    type_text(&textarea, "hello early");
    press(&textarea, "Enter", false);
    leptos::task::tick().await;
    assert_eq!(*sent.lock().unwrap(), ["hello early"], "the send queue holds it until the login");
    assert_eq!(textarea.value(), "");
}

#[wasm_bindgen_test]
async fn the_header_explains_every_connection_problem() {
    let connection = RwSignal::new(Connection::Connected);
    let (root, _keep) = mount(move || {
        view! { <Header connection on_close=Callback::new(|_: ()| {}) can_close=false /> }
    });
    leptos::task::tick().await;
    assert_eq!(count(&root, ".notice"), 0);
    assert_eq!(count(&root, ".minimize"), 0, "no minimize without a host page");

    for (state, expected) in [
        (Connection::Reconnecting, "Reconnecting"),
        (Connection::Retrying { retry_in_secs: 4 }, "Retrying in 4 s"),
        (Connection::Ended { reason: "customer_banned".into() }, "not available"),
    ] {
        connection.set(state);
        leptos::task::tick().await;
        let notice: HtmlElement = query(&root, ".notice");
        assert!(notice.text_content().unwrap().contains(expected), "{expected}");
    }
}

#[wasm_bindgen_test]
fn the_widget_reads_its_config_and_refuses_odd_host_origins() {
    let config = WidgetConfig::from_parts(
        "https://chat.example".into(),
        "?organization-id=11111111-2222-4333-8444-555555555555&host-origin=https%3A%2F%2Fshop.example\
         &color=rgb(225%2C%2029%2C%2072)&sneak-peek=on&sound=on",
    );
    assert_eq!(config.organization_id, "11111111-2222-4333-8444-555555555555");
    assert_eq!(config.host_origin.as_deref(), Some("https://shop.example"));
    assert_eq!(config.color.as_deref(), Some("rgb(225, 29, 72)"), "the bubble's computed colour");
    assert!(config.sneak_peek && config.sound);
    let odd = WidgetConfig::from_parts(
        "https://chat.example".into(),
        "?host-origin=javascript%3Aalert(1)&color=red%3Bbackground%3Aurl(x)&sound=1",
    );
    assert_eq!(odd.host_origin, None);
    assert_eq!(odd.color, None);
    assert!(!odd.sound, "only the script tag's \"on\" turns the sound on");

    let long = "x".repeat(confab_widget::config::MAX_SITE_TEXT + 1);
    let texts = WidgetConfig::from_parts(
        "https://chat.example".into(),
        &format!("?title=%20Bean%20help%20&subtitle=&welcome={long}"),
    )
    .texts;
    assert_eq!(texts.title.as_deref(), Some("Bean help"));
    assert_eq!((texts.subtitle, texts.welcome), (None, None), "empty and overlong words are ignored");
}

fn with_time(mut event: Event, seq: u64, at: &str) -> Event {
    event.seq = Some(seq);
    event.created_at = Some(at.into());
    event
}

#[wasm_bindgen_test]
async fn links_are_links_only_with_allowed_schemes_and_open_safely() {
    let state = my_chat();
    state.update(|s| {
        s.upsert(&agent_message(
            "T_1",
            "Docs: https://docs.example/start?x=1. Or javascript:alert(1) or www.example.org",
        ));
    });
    let (root, _keep) = mount(move || view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> });
    leptos::task::tick().await;

    let links = root.query_selector_all(".message .text a").unwrap();
    let hrefs: Vec<String> = (0..links.length())
        .map(|i| links.item(i).unwrap().dyn_into::<web_sys::Element>().unwrap().get_attribute("href").unwrap())
        .collect();
    assert_eq!(hrefs, ["https://docs.example/start?x=1", "https://www.example.org"]);
    let first: web_sys::Element = query(&root, ".message .text a");
    assert_eq!(first.get_attribute("target").as_deref(), Some("_blank"));
    assert!(first.get_attribute("rel").unwrap().contains("noopener"));
    let text: HtmlElement = query(&root, ".message .text");
    assert_eq!(text.get_attribute("dir").as_deref(), Some("auto"), "each message finds its own direction");
    assert!(text.text_content().unwrap().contains("javascript:alert(1)"), "kept as text");
}

#[wasm_bindgen_test]
async fn messages_group_by_author_with_one_name_and_a_time_per_group() {
    let state = my_chat();
    state.update(|s| {
        s.upsert(&with_time(agent_message("T_1", "one"), 1, "2026-11-22T10:00:00Z"));
        s.upsert(&with_time(agent_message("T_2", "two"), 2, "2026-11-22T10:01:00Z"));
        let mut mine = with_time(Event::message("three"), 3, "2026-11-22T10:02:00Z");
        mine.id = Some("T_3".into());
        mine.author_id = Some("me".into());
        s.upsert(&mine);
    });
    let (root, _keep) = mount(move || view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> });
    leptos::task::tick().await;

    assert_eq!(count(&root, ".message.theirs"), 2);
    assert_eq!(count(&root, ".message.theirs .author"), 1, "the name once per group");
    assert_eq!(count(&root, ".message time"), 2, "a time per group");
    assert_eq!(count(&root, ".separator.day"), 1);
    let receipt: HtmlElement = query(&root, ".message.mine .receipt");
    assert_eq!(receipt.text_content().unwrap(), "Sent");
    let said: HtmlElement = query(&root, ".message.theirs .sr-only");
    assert_eq!(said.text_content().unwrap(), "Agent said:", "screen readers hear the author");
}

#[wasm_bindgen_test]
async fn the_ended_panel_rates_declines_and_starts_anew() {
    use confab_widget::components::ended::Ended;
    use confab_widget::state::RatingState;
    let mut chat = ChatState::default();
    chat.chat_id = Some("C".into());
    let state = RwSignal::new(chat);
    state.update(|s| {
        s.apply_push(&confab_protocol::push::Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            user_id: None,
        }));
    });
    let (rated, on_rate) = recorder::<(u8, Option<String>)>();
    let (declined, on_decline) = recorder::<()>();
    let (started, on_start_new) = recorder::<()>();
    let on_change = Callback::new(move |()| state.update(|s| s.rated(RatingState::Asking)));
    let (root, _keep) = mount(move || {
        view! {
            <Ended
                state
                on_rate
                on_decline
                on_change
                on_start_new
                on_survey=Callback::new(|_| {})
                on_skip_survey=Callback::new(|()| {})
                survey_error=RwSignal::new(None)
            />
        }
    });
    leptos::task::tick().await;

    let send: HtmlButtonElement = query(&root, ".rating button[type=submit]");
    assert!(send.disabled(), "nothing to send before a thumb is chosen");
    query::<HtmlButtonElement>(&root, ".thumb[aria-label=Good]").click();
    leptos::task::tick().await;
    let comment: HtmlTextAreaElement = query(&root, ".rating textarea");
    type_text(&comment, "quick and kind");
    send.click();
    assert_eq!(*rated.lock().unwrap(), [(1, Some("quick and kind".into()))]);

    query::<HtmlButtonElement>(&root, ".rating .link").click();
    assert_eq!(declined.lock().unwrap().len(), 1);
    query::<HtmlButtonElement>(&root, ".start-new").click();
    assert_eq!(started.lock().unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn the_ended_panel_asks_the_survey_first_and_keeps_the_answers_when_it_fails() {
    use confab_protocol::action::{Form, FormField};
    use confab_widget::components::ended::Ended;
    let mut chat = ChatState::default();
    chat.chat_id = Some("C".into());
    chat.postchat = Some(Form {
        id: "post".into(),
        fields: vec![FormField {
            id: Some("q1".into()),
            kind: "textarea".into(),
            label: Some("What could we do better?".into()),
            required: Some(true),
            options: None,
            comment_label: None,
        }],
    });
    let state = RwSignal::new(chat);
    state.update(|s| {
        s.apply_push(&confab_protocol::push::Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            user_id: None,
        }));
    });
    let (answered, on_survey) = recorder::<confab_widget::state::Answers>();
    let survey_error = RwSignal::new(None::<String>);
    let on_skip_survey = Callback::new(move |()| state.update(ChatState::surveyed));
    let (root, _keep) = mount(move || {
        view! {
            <Ended
                state
                on_rate=Callback::new(|_| {})
                on_decline=Callback::new(|()| {})
                on_change=Callback::new(|()| {})
                on_start_new=Callback::new(|()| {})
                on_survey
                on_skip_survey
                survey_error
            />
        }
    });
    leptos::task::tick().await;

    assert_eq!(count(&root, ".survey form"), 1);
    assert_eq!(count(&root, ".rating"), 0, "the rating comes after the survey");
    let answer: HtmlTextAreaElement = query(&root, ".survey textarea");
    type_text(&answer, "<b>faster</b>");
    query::<HtmlButtonElement>(&root, ".survey button[type=submit]").click();
    leptos::task::tick().await;
    assert_eq!(answered.lock().unwrap().len(), 1);
    // The send failed: the reason shows and the answer is still there to send again.
    survey_error.set(Some("Not sent: no connection.".into()));
    leptos::task::tick().await;
    assert!(root.text_content().unwrap().contains("Not sent: no connection."));
    let answer: HtmlTextAreaElement = query(&root, ".survey textarea");
    assert_eq!(answer.value(), "<b>faster</b>");
    assert_eq!(count(&root, ".survey b"), 0, "answers are text");

    query::<HtmlButtonElement>(&root, ".survey .skip").click();
    leptos::task::tick().await;
    assert_eq!(count(&root, ".survey"), 0);
    assert_eq!(count(&root, ".rating"), 1, "then the rating");
}

#[wasm_bindgen_test]
async fn the_header_names_the_agent_says_when_the_chat_ended_and_offers_to_continue_after_a_pause() {
    use confab_protocol::entity::{Agent, User};
    let mut chat = ChatState::default();
    chat.chat_id = Some("C".into());
    let state = RwSignal::new(chat);
    let connection = RwSignal::new(Connection::Connected);
    let (reconnected, on_reconnect) = recorder::<()>();
    let (root, _keep) = mount(move || {
        view! { <Header connection on_close=Callback::new(|_: ()| {}) can_close=true state on_reconnect /> }
    });
    state.update(|s| {
        s.apply_push(&confab_protocol::push::Push::UserAddedToChat(confab_protocol::push::UserAddedToChat {
            chat_id: "C".into(),
            thread_id: Some("T".into()),
            user: User::Agent(Agent {
                id: "a".into(),
                name: Some("Alex Morgan".into()),
                job_title: Some("Support".into()),
                ..Default::default()
            }),
            reason: "assigned".into(),
            requester_id: None,
        }));
    });
    leptos::task::tick().await;
    assert_eq!(query::<HtmlElement>(&root, ".header h1").text_content().unwrap(), "Alex Morgan");
    assert_eq!(query::<HtmlElement>(&root, ".header .subtitle").text_content().unwrap(), "Support");
    assert_eq!(query::<HtmlElement>(&root, ".header .avatar").text_content().unwrap(), "AM");

    connection.set(Connection::Paused { reason: "inactivity_timeout".into() });
    leptos::task::tick().await;
    query::<HtmlButtonElement>(&root, ".notice .continue").click();
    assert_eq!(reconnected.lock().unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn components_speak_the_language_provided() {
    use confab_widget::hooks::use_strings::provide_strings;
    use confab_widget::i18n::Lang;
    let state = RwSignal::new(ChatState::default());
    let (root, _keep) = mount(move || {
        provide_strings(Lang::Ar.strings());
        view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> }
    });
    leptos::task::tick().await;
    assert_eq!(query::<HtmlElement>(&root, ".empty").text_content().unwrap(), Lang::Ar.strings().welcome);
}

/// Waits for `n` frames (what the list measures after a resize happens in the next frame).
async fn frames(n: u32) {
    for _ in 0..n {
        let (done, frame) = futures::channel::oneshot::channel();
        request_animation_frame(move || {
            let _ = done.send(());
        });
        let _ = frame.await;
    }
}

/// The message list in a 400 px window styled by the widget's own stylesheet; returns the
/// root and the scrolling element.
fn mount_list_in_window(state: RwSignal<ChatState>) -> (HtmlElement, HtmlElement, impl Drop) {
    let document = web_sys::window().unwrap().document().unwrap();
    if document.get_element_by_id("widget-css").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("widget-css");
        style.set_text_content(Some(include_str!("../style/widget.css")));
        document.head().unwrap().append_child(&style).unwrap();
    }
    let (root, keep) = mount(move || {
        view! {
            <div style="height: 400px; width: 360px; display: flex; flex-direction: column">
                <MessageList state on_retry=Callback::new(|_: String| {}) />
            </div>
        }
    });
    let list = query::<HtmlElement>(&root, ".messages");
    (root, list, keep)
}

/// The texts of the drawn messages, top to bottom.
fn drawn_texts(root: &HtmlElement) -> Vec<String> {
    let texts = root.query_selector_all(".message .text").unwrap();
    (0..texts.length()).map(|i| texts.item(i).unwrap().text_content().unwrap()).collect()
}

/// Agent and visitor messages one minute apart from `seq` on, some of several lines.
fn long_history(state: RwSignal<ChatState>, seqs: std::ops::Range<u64>) {
    state.update(|s| {
        for seq in seqs {
            let text = if seq % 7 == 0 { format!("m{seq}\nsecond line\nthird line") } else { format!("m{seq}") };
            let at = format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + seq / 1440, (seq / 60) % 24, seq % 60);
            let mut event = with_time(agent_message(&format!("T_{seq}"), &text), seq, &at);
            if seq % 3 == 0 {
                event.author_id = Some("me".into());
            }
            s.upsert(&event);
        }
    });
}

#[wasm_bindgen_test]
async fn a_long_history_draws_only_the_rows_near_the_view_and_scrolls_through_all() {
    let state = my_chat();
    long_history(state, 1000..2500);
    let (root, list, _keep) = mount_list_in_window(state);
    frames(3).await;

    let drawn = count(&root, ".row");
    assert!(drawn < 150, "{drawn} of 1500 rows drawn");
    assert!(drawn_texts(&root).last().unwrap().starts_with("m2499"), "the newest is shown");
    let gap = list.scroll_height() - list.scroll_top() - list.client_height();
    assert!(gap.abs() <= 1, "at the bottom: {gap} px below");

    // The top: the first message is reached by scrolling, with as few rows drawn.
    list.set_scroll_top(0);
    frames(4).await;
    assert_eq!(drawn_texts(&root).first().map(String::as_str), Some("m1000"));
    assert!(count(&root, ".row") < 150);
    // Scrolling down page by page meets every message once.
    let mut seen = std::collections::BTreeSet::new();
    loop {
        seen.extend(drawn_texts(&root).into_iter().map(|t| t.lines().next().unwrap().to_owned()));
        if list.scroll_height() - list.scroll_top() - list.client_height() <= 1 {
            break;
        }
        list.set_scroll_top(list.scroll_top() + list.client_height());
        frames(2).await;
        assert!(count(&root, ".row") < 150);
    }
    assert_eq!(seen.len(), 1500, "every message was drawn on the way down");
}

#[wasm_bindgen_test]
async fn earlier_messages_loaded_above_leave_the_reader_where_they_were() {
    let state = my_chat();
    long_history(state, 5000..5400);
    let (root, list, _keep) = mount_list_in_window(state);
    frames(3).await;
    // Read somewhere in the middle.
    list.set_scroll_top(list.scroll_height() / 2);
    frames(3).await;
    let top_message = || {
        let list_top = list.get_bounding_client_rect().top();
        let texts = root.query_selector_all(".message .text").unwrap();
        (0..texts.length())
            .map(|i| texts.item(i).unwrap().unchecked_into::<HtmlElement>())
            .find(|t| t.get_bounding_client_rect().top() >= list_top)
            .map(|t| (t.text_content().unwrap(), t.get_bounding_client_rect().top() - list_top))
            .unwrap()
    };
    let before = top_message();

    long_history(state, 1000..1600);
    frames(4).await;
    let after = top_message();
    assert_eq!(after.0, before.0, "the same message at the top");
    assert!((after.1 - before.1).abs() <= 1.0, "at the same place: {before:?} then {after:?}");
    assert!(count(&root, ".row") < 150);

    // Only arrivals are news for screen readers: not rows drawn while scrolling or loaded above.
    let live: HtmlElement = query(&root, "[role=log]");
    assert_eq!(live.text_content().unwrap(), "");
    long_history(state, 6001..6002);
    frames(2).await;
    assert_eq!(live.text_content().unwrap(), "Agent said: m6001");
}

#[wasm_bindgen_test]
async fn a_link_gets_one_preview_card_of_text_and_only_a_web_picture() {
    use confab_protocol::action::UrlInfo;
    use confab_widget::hooks::use_link_preview::LinkPreviews;
    let state = my_chat();
    state.update(|s| {
        s.upsert(&agent_message("T_1", "Our beans: https://shop.example/beans"));
        s.upsert(&agent_message("T_2", "Again https://shop.example/beans and https://other.example"));
        s.upsert(&agent_message("T_3", "A page without a title: https://bare.example"));
    });
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let previews = LinkPreviews::new(std::rc::Rc::new(move |url: String| {
        log.lock().unwrap().push(url.clone());
        Box::pin(async move {
            (url != "https://bare.example").then(|| UrlInfo {
                url,
                title: Some("<img src=x onerror=\"window.pwned=1\">Beans".into()),
                description: Some("<b>Fresh</b> every week".into()),
                image_url: Some("javascript:alert(1)".into()),
                ..UrlInfo::default()
            })
        })
    }));
    let (root, _keep) = mount(move || {
        provide_context(previews);
        view! { <MessageList state on_retry=Callback::new(|_: String| {}) /> }
    });
    frames(2).await;

    assert_eq!(*asked.lock().unwrap(), ["https://shop.example/beans", "https://bare.example"], "once per address");
    assert_eq!(count(&root, "a.preview"), 2, "one card per message with a titled page");
    let card: web_sys::Element = query(&root, "a.preview");
    assert_eq!(card.get_attribute("href").as_deref(), Some("https://shop.example/beans"));
    assert!(card.get_attribute("rel").unwrap().contains("noopener"));
    let title: HtmlElement = query(&root, ".preview-title");
    assert_eq!(title.text_content().unwrap(), "<img src=x onerror=\"window.pwned=1\">Beans");
    assert_eq!(count(&root, ".preview img, .preview b"), 0, "text stays text; a javascript: picture is dropped");
    let host: HtmlElement = query(&root, ".preview-host");
    assert_eq!(host.text_content().unwrap(), "shop.example");
}
