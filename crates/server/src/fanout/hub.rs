//! The hub delivers pushes: it knows which sockets each user has open right now.
//!
//! A socket subscribes under its user id when it logs in and unsubscribes when it ends. A push
//! is encoded once and handed to every socket of every recipient without waiting: a socket
//! whose queue is full (a reader too slow for `OUTBOUND_QUEUE_FRAMES`) is told to close
//! instead of slowing everyone else down.
//!
//! Customer sockets also subscribe under the group they logged in with, for the group's
//! pushes (`groups_status_updated`).
//!
//! The hub knows only this node's sockets; pushes for sockets on other nodes travel there as
//! domain events on the bus (`fanout::bus`), and that node's hub delivers them.

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::limits::OUTBOUND_QUEUE_FRAMES;
use confab_protocol::ServerFrame;
use confab_protocol::frame::PushFrame;
use confab_protocol::push::Push;

/// An encoded frame, shared by every socket it is queued for. Half the size of `Utf8Bytes` in
/// each slot of every socket's queue (tokio allocates a block of slots per queue up front), and
/// handed to the WebSocket without a copy.
#[derive(Debug, Clone)]
pub struct Frame(Arc<str>);

impl Frame {
    pub fn new(text: String) -> Self {
        Frame(text.into())
    }

    pub fn into_message(self) -> Message {
        let text = Utf8Bytes::try_from(Bytes::from_owner(self)).expect("frames are built from strings");
        Message::Text(text)
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Identifies one subscribed socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketId(u64);

/// The hub's end of one socket: its outbound queue, and the signal that it must end (it fell
/// behind, or its customer's sessions were ended).
#[derive(Debug, Clone)]
pub struct SocketHandle {
    pub id: SocketId,
    tx: mpsc::Sender<Frame>,
    overflowed: CancellationToken,
    flags: Arc<SocketFlags>,
}

/// What the hub tells a socket besides frames.
#[derive(Debug, Default)]
pub struct SocketFlags {
    /// Why the socket must end (a `customer_disconnected` reason), when it is told to end
    /// (`overflowed` is cancelled then too); unset when it fell behind.
    ended_for: OnceLock<&'static str>,
    /// Set by every push the hub delivers (chat activity, for the inactivity timeout).
    pushed: AtomicBool,
}

impl SocketFlags {
    /// The reason the socket was told to end with, if any.
    pub fn ended_for(&self) -> Option<&'static str> {
        self.ended_for.get().copied()
    }

    /// Whether a push arrived since the last call.
    pub fn take_pushed(&self) -> bool {
        self.pushed.swap(false, Ordering::Relaxed)
    }
}

/// The socket's own end: frames to write, and when to give up (a slow reader, or an end
/// the hub was told of: see `flags`).
pub struct SocketQueue {
    pub frames: mpsc::Receiver<Frame>,
    pub overflowed: CancellationToken,
    pub flags: Arc<SocketFlags>,
}

/// The id every agent socket subscribes under besides its agent's: pushes for all agents (a
/// new chat, a closed one, a transfer, a routing status) name it. No user has this id
/// (customer ids are UUIDs, agent ids emails).
pub const EVERY_AGENT: &str = "*agents";

#[derive(Default)]
pub struct Hub {
    next_id: AtomicU64,
    sockets: Mutex<HashMap<String, Vec<SocketHandle>>>,
    groups: Mutex<HashMap<u32, Vec<SocketHandle>>>,
}

impl SocketHandle {
    /// Queues a frame for this socket without waiting; a full queue marks it overflowed.
    pub fn send(&self, frame: Frame) {
        if self.tx.try_send(frame).is_err() {
            self.overflowed.cancel();
        }
    }

    /// Queues a frame of ours (a response, or a push for this socket alone).
    pub fn send_frame(&self, frame: impl Into<ServerFrame>) {
        self.send(Frame::new(frame.into().encode()));
    }
}

impl Hub {
    /// A fresh socket: the handle pushes go through, and the queue its writer drains.
    pub fn open_socket(&self) -> (SocketHandle, SocketQueue) {
        let id = SocketId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, frames) = mpsc::channel(OUTBOUND_QUEUE_FRAMES);
        let overflowed = CancellationToken::new();
        let flags = Arc::new(SocketFlags::default());
        (
            SocketHandle { id, tx, overflowed: overflowed.clone(), flags: flags.clone() },
            SocketQueue { frames, overflowed, flags },
        )
    }

    /// Delivers pushes for `user_id` to this socket from now on.
    pub fn subscribe(&self, user_id: &str, socket: &SocketHandle) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        sockets.entry(user_id.to_owned()).or_default().push(socket.clone());
    }

    /// Subscribes the socket unless `user_id` has `max` sockets here already; false then.
    pub fn try_subscribe(&self, user_id: &str, socket: &SocketHandle, max: usize) -> bool {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        let list = sockets.entry(user_id.to_owned()).or_default();
        if list.len() >= max {
            return false;
        }
        list.push(socket.clone());
        true
    }

    /// Tells every socket of every user in `user_ids` to end with `reason`
    /// (`customer_disconnected`). Each says its goodbye after the frames queued before.
    pub fn disconnect(&self, user_ids: &[&str], reason: &'static str) {
        let sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        for handle in user_ids.iter().filter_map(|id| sockets.get(*id)).flatten() {
            let _ = handle.flags.ended_for.set(reason);
            handle.overflowed.cancel();
        }
    }

    pub fn unsubscribe(&self, user_id: &str, socket: SocketId) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = sockets.get_mut(user_id) {
            list.retain(|handle| handle.id != socket);
            if list.is_empty() {
                sockets.remove(user_id);
            }
        }
    }

    /// Delivers pushes for customers logged in with `group` to this socket from now on.
    pub fn subscribe_group(&self, group: u32, socket: &SocketHandle) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.entry(group).or_default().push(socket.clone());
    }

    pub fn unsubscribe_group(&self, group: u32, socket: SocketId) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = groups.get_mut(&group) {
            list.retain(|handle| handle.id != socket);
            if list.is_empty() {
                groups.remove(&group);
            }
        }
    }

    /// Sends `push` to every socket of every user in `user_ids` and of the customers logged
    /// in with `group`. The requester's socket (`origin`, when it is one of the users') gets
    /// its own copy carrying the request's id; the frame is encoded once for all the others.
    pub fn push(&self, user_ids: &[&str], group: Option<u32>, push: Push, origin: Option<(SocketId, Option<String>)>) {
        // The requester's copy, when there is a requester.
        let mut own = origin.map(|(id, request_id)| (id, PushFrame { request_id, push: push.clone() }));
        let mut push = Some(push);
        // Encoded on the first socket found: every node sees every domain event of the
        // cluster, and most have no socket of its recipients.
        let mut frame: Option<Frame> = None;
        self.each_socket(user_ids, group, |handle| {
            handle.flags.pushed.store(true, Ordering::Relaxed);
            match own.take_if(|(id, _)| *id == handle.id) {
                Some((_, copy)) => handle.send_frame(copy),
                None => {
                    let frame = frame.get_or_insert_with(|| {
                        let push = push.take().expect("encoded once");
                        Frame::new(ServerFrame::Push(PushFrame { request_id: None, push }).encode())
                    });
                    handle.send(frame.clone());
                }
            }
        });
    }

    /// Sends a frame encoded already (a push of the Agent Chat API's own) to every socket of
    /// every user in `user_ids`; `encode` runs only if one of them has a socket here.
    pub fn push_encoded(&self, user_ids: &[&str], encode: impl FnOnce() -> String) {
        let mut encode = Some(encode);
        let mut frame: Option<Frame> = None;
        self.each_socket(user_ids, None, |handle| {
            let frame = frame.get_or_insert_with(|| Frame::new(encode.take().expect("encoded once")()));
            handle.flags.pushed.store(true, Ordering::Relaxed);
            handle.send(frame.clone());
        });
    }

    /// Calls `send` once for each socket of `user_ids` and of `group`'s customers. A socket
    /// subscribed under two of the ids (an agent's, under its id and [`EVERY_AGENT`]) is
    /// called once.
    fn each_socket(&self, user_ids: &[&str], group: Option<u32>, mut send: impl FnMut(&SocketHandle)) {
        let mut seen: Vec<SocketId> = Vec::new();
        let dedup = user_ids.len() > 1 && user_ids.contains(&EVERY_AGENT);
        {
            let sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
            for user_id in user_ids {
                for handle in sockets.get(*user_id).into_iter().flatten() {
                    if dedup {
                        if seen.contains(&handle.id) {
                            continue;
                        }
                        seen.push(handle.id);
                    }
                    send(handle);
                }
            }
        }
        if let Some(group) = group {
            let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            for handle in groups.get(&group).into_iter().flatten() {
                send(handle);
            }
        }
    }
}
