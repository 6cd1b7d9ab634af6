//! The greeter: this node's alarm clock for greetings whose delay has not passed yet.
//!
//! A greeting rule with a delay makes a `pending` greeting (`domain::greet_on_page`); the
//! node that served the login or page change schedules the customer here, and when the
//! server's `Clock` reaches the time, asks the domain to show what is due and fans the events
//! out (to the customer's sockets on every node). Tests move a manual clock; nothing sleeps.
//!
//! The queue is memory only, bounded by `MAX_SCHEDULED_GREETINGS`: a node that restarts (or
//! drops an alarm) loses nothing stored; the customer's next login or page change shows what
//! is due and schedules the rest.

use crate::clock::Micros;
use crate::domain::Domain;
use crate::fanout::Fanout;
use crate::limits::MAX_SCHEDULED_GREETINGS;
use crate::shutdown::Shutdown;
use futures::FutureExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Greeter {
    alarms: Mutex<BinaryHeap<Reverse<(Micros, String)>>>,
    wake: Notify,
}

impl Greeter {
    /// Looks at `customer_id`'s greetings again at `at`.
    pub fn schedule(&self, customer_id: &str, at: Micros) {
        let mut alarms = self.alarms.lock().unwrap_or_else(|e| e.into_inner());
        if alarms.len() >= MAX_SCHEDULED_GREETINGS {
            tracing::warn!("greeter: {MAX_SCHEDULED_GREETINGS} alarms waiting; one dropped");
            return;
        }
        alarms.push(Reverse((at, customer_id.to_owned())));
        drop(alarms);
        self.wake.notify_one();
    }

    fn next(&self) -> Option<Micros> {
        self.alarms.lock().unwrap_or_else(|e| e.into_inner()).peek().map(|Reverse((at, _))| *at)
    }

    /// The customers whose alarm has rung at `now`, each once.
    fn due(&self, now: Micros) -> Vec<String> {
        let mut alarms = self.alarms.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        while alarms.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            let Reverse((_, customer_id)) = alarms.pop().expect("peeked");
            if !due.contains(&customer_id) {
                due.push(customer_id);
            }
        }
        due
    }

    /// Runs the alarms until shutdown.
    pub fn start(self: Arc<Self>, domain: Arc<Domain>, fanout: Arc<Fanout>, shutdown: Shutdown) {
        tokio::spawn(async move {
            loop {
                let sleep = match self.next() {
                    Some(at) => domain.clock.sleep_until(at).boxed(),
                    None => std::future::pending().boxed(),
                };
                tokio::select! {
                    _ = shutdown.signalled() => return,
                    _ = self.wake.notified() => continue,
                    _ = sleep => {}
                }
                for customer_id in self.due(domain.clock.now()) {
                    match domain.show_due_greetings(&customer_id).await {
                        Ok((events, next_due)) => {
                            fanout.deliver(&events, None);
                            if let Some(at) = next_due {
                                self.schedule(&customer_id, at);
                            }
                        }
                        Err(error) => tracing::warn!(%error, "greeter: cannot show a due greeting"),
                    }
                }
            }
        });
    }
}
