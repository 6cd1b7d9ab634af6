//! What each Customer Chat API action does, one file per group of actions (in the manner of
//! mini-redis's `cmd/`): `chats` (start, resume, deactivate, read), `events` (send, postback,
//! seen markers, sneak peeks), `properties`, `customers`, `greetings`, `groups` (statuses,
//! predicted agent, forms), `url_info`.
//!
//! Every handler takes the [`Call`] (who asks, on which socket, with which request id) and its
//! typed request; it calls the domain, answers with `call.respond`, and hands the domain
//! events to fan-out with `call.fan_out`, which gives the requester's socket the push that
//! settles its request (protocol.md §3.4) with its `request_id`. A handler that fails returns
//! the error; the socket answers it in the protocol's error shape.

pub(super) mod chats;
mod customers;
mod events;
mod greetings;
mod groups;
mod properties;
mod url_info;

use crate::AppState;
use crate::domain::{DomainEvent, Requester};
use crate::error::Result;
use crate::fanout::Origin;
use crate::fanout::hub::SocketHandle;
use crate::rate::TokenBucket;
use confab_protocol::Request;
use confab_protocol::action::Action;
use confab_protocol::frame::ResponseFrame;
use std::sync::{Arc, Mutex};

/// One request from a logged-in customer.
pub(super) struct Call {
    pub state: AppState,
    pub socket: SocketHandle,
    /// `None` only before login (then only `login` reaches the socket's own code).
    pub customer_id: Option<String>,
    /// The group the customer logged in with (`DEFAULT_GROUP` before login).
    pub group_id: u32,
    pub request_id: Option<String>,
    /// The socket's sneak peek rate (`SNEAK_PEEKS_PER_SECOND`), shared by its calls.
    pub sneak_peeks: Arc<Mutex<TokenBucket>>,
}

impl Call {
    /// The customer asking.
    pub fn customer_id(&self) -> &str {
        self.customer_id.as_deref().expect("actions run after login")
    }

    pub fn me(&self) -> Requester<'_> {
        Requester::Customer(self.customer_id())
    }

    pub fn domain(&self) -> &crate::domain::Domain {
        &self.state.domain
    }

    /// Takes one of the socket's sneak peeks; false beyond its rate.
    pub fn take_sneak_peek(&self) -> bool {
        let now = self.state.domain.clock.now();
        self.sneak_peeks.lock().unwrap_or_else(|e| e.into_inner()).take(now)
    }

    /// Answers the request with `A`'s response.
    pub fn respond<A: Action>(&self, response: A::Response) {
        self.socket.send_frame(ResponseFrame::ok(self.request_id.clone(), A::into_response(response)));
    }

    /// Pushes the domain events; this socket's copies carry the request's id.
    pub fn fan_out(&self, events: &[DomainEvent]) {
        let origin = Origin { socket: self.socket.clone(), request_id: self.request_id.clone() };
        self.state.fanout.deliver(events, Some(&origin));
    }
}

/// Runs one request of a logged-in customer (not `login`, not `ping`: the socket serves those).
pub(super) async fn dispatch(call: &Call, request: Request) -> Result<()> {
    match request {
        Request::StartChat(r) => chats::start_chat(call, r).await,
        Request::ResumeChat(r) => chats::resume_chat(call, r).await,
        Request::ActivateChat(r) => chats::activate_chat(call, r).await,
        Request::DeactivateChat(r) => chats::deactivate_chat(call, r).await,
        Request::GetChat(r) => chats::get_chat(call, r).await,
        Request::ListChats(r) => chats::list_chats(call, r).await,
        Request::ListThreads(r) => chats::list_threads(call, r).await,
        Request::SendEvent(r) => events::send_event(call, r).await,
        Request::SendRichMessagePostback(r) => events::send_rich_message_postback(call, r).await,
        Request::MarkEventsAsSeen(r) => events::mark_events_as_seen(call, r).await,
        Request::SendSneakPeek(r) => events::send_sneak_peek(call, r).await,
        Request::UpdateChatProperties(r) => properties::update_chat_properties(call, r).await,
        Request::DeleteChatProperties(r) => properties::delete_chat_properties(call, r).await,
        Request::UpdateThreadProperties(r) => properties::update_thread_properties(call, r).await,
        Request::DeleteThreadProperties(r) => properties::delete_thread_properties(call, r).await,
        Request::UpdateEventProperties(r) => properties::update_event_properties(call, r).await,
        Request::DeleteEventProperties(r) => properties::delete_event_properties(call, r).await,
        Request::GetCustomer(r) => customers::get_customer(call, r).await,
        Request::UpdateCustomer(r) => customers::update_customer(call, r).await,
        Request::SetCustomerSessionFields(r) => customers::set_customer_session_fields(call, r).await,
        Request::UpdateCustomerPage(r) => customers::update_customer_page(call, r).await,
        Request::AcceptGreeting(r) => greetings::accept_greeting(call, r).await,
        Request::CancelGreeting(r) => greetings::cancel_greeting(call, r).await,
        Request::GetForm(r) => groups::get_form(call, r).await,
        Request::GetPredictedAgent(r) => groups::get_predicted_agent(call, r).await,
        Request::ListGroupStatuses(r) => groups::list_group_statuses(call, r).await,
        Request::GetUrlInfo(r) => url_info::get_url_info(call, r).await,
        Request::Login(_) | Request::Ping(_) => unreachable!("the socket serves these itself"),
    }
}
