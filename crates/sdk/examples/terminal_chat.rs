//! A terminal chat client on the native adapter.
//!
//! ```text
//! cargo run -p confab-sdk --features native --example terminal_chat -- http://127.0.0.1:8080 <organization-id>
//! CONFAB_SERVER=http://127.0.0.1:8080 CONFAB_ORGANIZATION_ID=<organization-id> cargo run -p confab-sdk --features native --example terminal_chat
//! ```
//!
//! Connects, resumes the customer's chat (or starts one with the first line typed), sends each
//! line typed and prints what arrives with its author's name. `/file <path>` uploads a file,
//! `/quit` leaves.

use confab_sdk::protocol::Event;
use confab_sdk::protocol::entity::{Chat, User};
use confab_sdk::{ClientEvent, Config, DisconnectOutcome, UploadFile};
use futures::StreamExt;
use std::collections::HashMap;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let server = args.next().or_else(|| std::env::var("CONFAB_SERVER").ok());
    let organization = args.next().or_else(|| std::env::var("CONFAB_ORGANIZATION_ID").ok());
    let (Some(server), Some(organization)) = (server, organization) else {
        eprintln!("usage: terminal_chat <server-url> <organization-id>   (or CONFAB_SERVER, CONFAB_ORGANIZATION_ID)");
        std::process::exit(2);
    };

    let (client, mut events) = confab_sdk::native::connect(Config::new(server, organization));
    let mut names: HashMap<String, String> = HashMap::new();
    // Who we are, and the chat to write to: the customer's active chat, an inactive one to
    // resume, or none yet.
    let (me, mut chat) = loop {
        match events.next().await {
            Some(ClientEvent::Connected { customer, chats, availability, .. }) => {
                println!("* connected as {} (agents {})", customer.id, availability.as_str());
                let chat = chats.first().map(|c| (c.chat_id.clone(), c.has_active_thread == Some(true)));
                break (customer.id, chat);
            }
            Some(ClientEvent::ConnectFailed { error, retry_in }) => {
                eprintln!("* could not connect ({error}); retrying in {retry_in:?}")
            }
            Some(ClientEvent::Disconnected { reason, .. }) => {
                eprintln!("* disconnected: {reason}");
                return;
            }
            Some(_) => {}
            None => return,
        }
    };
    if let Some((chat_id, _)) = &chat {
        match client.get_chat(chat_id, None).await {
            Ok(fetched) => print_chat(&fetched, &mut names, &me),
            Err(error) => eprintln!("* could not load the chat: {error}"),
        }
    }
    println!("* type a message and press Enter; /file <path> sends a file, /quit leaves");

    // stdin on a thread of its own: lines arrive on a channel.
    let (lines_tx, mut lines) = futures::channel::mpsc::unbounded::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.unbounded_send(line).is_err() {
                break;
            }
        }
    });

    loop {
        futures::select! {
            line = lines.next() => {
                let Some(line) = line else { break };
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                if line == "/quit" {
                    break;
                }
                if let Some(path) = line.strip_prefix("/file ") {
                    match &chat {
                        Some((chat_id, true)) => send_file(&client, chat_id, path.trim()).await,
                        _ => eprintln!("* start the chat with a message first"),
                    }
                    continue;
                }
                let result = match &chat {
                    Some((chat_id, true)) => client.send_event(chat_id, Event::message(line)).await.map(|_| None),
                    Some((chat_id, false)) => client.resume_chat(chat_id, Some(line)).await.map(Some),
                    None => client.start_chat(Some(line)).await.map(Some),
                };
                match result {
                    Ok(Some(started)) => chat = Some((started.id, true)),
                    Ok(None) => {}
                    Err(error) => eprintln!("* not sent ({}): {error}", error.code()),
                }
            }
            event = events.next() => {
                let Some(event) = event else { break };
                match event {
                    ClientEvent::UserData(user) => learn(&mut names, &user),
                    ClientEvent::IncomingEvent(incoming) => {
                        let author = incoming.event.author_id.clone().unwrap_or_default();
                        if author != me {
                            let name = names.get(&author).cloned().unwrap_or(author);
                            println!("{name}: {}", describe(&incoming.event));
                        }
                    }
                    ClientEvent::IncomingChat(incoming) => {
                        chat = Some((incoming.chat.id.clone(), true));
                    }
                    ClientEvent::ChatDeactivated(deactivated) => {
                        println!("* the chat has ended; write again to reopen it");
                        chat = Some((deactivated.chat_id, false));
                    }
                    ClientEvent::IncomingTypingIndicator(typing) if typing.typing_indicator.is_typing => {
                        let author = &typing.typing_indicator.author_id;
                        println!("* {} is typing…", names.get(author).unwrap_or(author));
                    }
                    ClientEvent::Connected { .. } => println!("* connected again"),
                    ClientEvent::Disconnected { reason, outcome, .. } => {
                        println!("* disconnected: {reason}");
                        match outcome {
                            DisconnectOutcome::Reconnecting => {}
                            DisconnectOutcome::Paused => client.connect(),
                            DisconnectOutcome::Destroyed => break,
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    client.destroy();
}

/// Uploads `path` and sends it as a file event, with a progress bar.
async fn send_file(client: &confab_sdk::Client, chat_id: &str, path: &str) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return eprintln!("* cannot read {path}: {error}"),
    };
    let name = std::path::Path::new(path).file_name().map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let mut upload = client.upload_file(UploadFile::from_bytes(name, bytes));
    let mut progress = upload.progress();
    let bar = async {
        while let Some(share) = progress.next().await {
            let done = (share * 20.0).round() as usize;
            eprint!("\r* uploading [{}{}] {:>3.0} %", "#".repeat(done), " ".repeat(20 - done), share * 100.0);
        }
        eprintln!();
    };
    let (uploaded, ()) = futures::join!(upload, bar);
    match uploaded {
        Ok(uploaded) => {
            let event = Event::file(uploaded.url);
            if let Err(error) = client.send_event(chat_id, event).await {
                eprintln!("* file not sent ({}): {error}", error.code());
            }
        }
        Err(error) => eprintln!("* upload failed ({}): {error}", error.code()),
    }
}

fn learn(names: &mut HashMap<String, String>, user: &User) {
    let name = match user {
        User::Agent(agent) => agent.name.clone(),
        User::Customer(customer) => customer.name.clone(),
        User::Unknown(_) => None,
    };
    if let Some(name) = name {
        names.insert(user.id().to_owned(), name);
    }
}

fn print_chat(chat: &Chat, names: &mut HashMap<String, String>, me: &str) {
    chat.users.iter().for_each(|user| learn(names, user));
    for event in chat.thread.iter().flat_map(|thread| &thread.events) {
        let author = event.author_id.clone().unwrap_or_default();
        let name = if author == me { "you".to_owned() } else { names.get(&author).cloned().unwrap_or(author) };
        println!("{name}: {}", describe(event));
    }
}

fn describe(event: &Event) -> String {
    match event.text() {
        Some(text) => text.to_owned(),
        None => format!("[{}]", event.body.kind()),
    }
}
