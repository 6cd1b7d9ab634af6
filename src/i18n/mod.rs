//! Every string the visitor reads, one file per language. A language is a [`Strings`] value:
//! adding one is a new file and a line in [`Lang`]; a missing string is a compile error.
//!
//! The language comes from the `lang` the loader passes (the script tag's `data-lang`, or
//! the host page's `<html lang>`), else the browser's, else English.

mod ar;
mod de;
mod en;

use crate::config::SiteTexts;
use crate::state::{Connection, Notice};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    Ar,
}

impl Lang {
    /// The first of `tags` (BCP 47, `de-AT`) this widget speaks, else English.
    pub fn pick<'a>(tags: impl IntoIterator<Item = &'a str>) -> Lang {
        tags.into_iter()
            .find_map(|tag| {
                let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
                match primary.as_str() {
                    "en" => Some(Lang::En),
                    "de" => Some(Lang::De),
                    "ar" => Some(Lang::Ar),
                    _ => None,
                }
            })
            .unwrap_or(Lang::En)
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &en::STRINGS,
            Lang::De => &de::STRINGS,
            Lang::Ar => &ar::STRINGS,
        }
    }
}

/// The words of one language. Sentences with a value in them are functions, so each language
/// puts the value where its grammar wants it.
#[derive(Clone, Copy)]
pub struct Strings {
    /// BCP 47 tag, for `<html lang>` and date formatting.
    pub tag: &'static str,
    /// Right to left.
    pub rtl: bool,
    pub title: &'static str,
    pub subtitle: &'static str,
    /// The subtitle while the group is offline.
    pub away: &'static str,
    pub minimize: &'static str,
    pub welcome: &'static str,
    pub message_label: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub sending: &'static str,
    pub sent: &'static str,
    pub seen: &'static str,
    pub retry: &'static str,
    pub you: &'static str,
    /// An agent whose name is not known.
    pub agent: &'static str,
    pub typing: fn(&str) -> String,
    pub said: fn(&str) -> String,
    pub chat_ended: &'static str,
    pub transferred: &'static str,
    pub agent_joined: fn(&str) -> String,
    /// Position in the queue and the estimated wait in minutes (0: under a minute).
    pub queue: fn(u32, u32) -> String,
    /// The host page's title while replies wait unseen (it alternates with the page's own).
    pub unseen_replies: fn(u32) -> String,
    /// The post-chat survey: above its fields, its send button, and skipping it.
    pub survey_intro: &'static str,
    pub survey_submit: &'static str,
    pub survey_skip: &'static str,
    /// The consent step: the question in our words, yes, no, what no means, and changing one's
    /// mind.
    pub consent_default: &'static str,
    pub consent_accept: &'static str,
    pub consent_decline: &'static str,
    pub consent_declined: &'static str,
    pub consent_reconsider: &'static str,
    /// The message list, for screen readers.
    pub conversation: &'static str,
    pub new_conversation: &'static str,
    pub today: &'static str,
    pub yesterday: &'static str,
    pub new_messages: &'static str,
    pub loading_older: &'static str,
    pub header_ended: &'static str,
    pub rate_prompt: &'static str,
    pub rate_good: &'static str,
    pub rate_bad: &'static str,
    pub rate_comment: &'static str,
    pub rate_send: &'static str,
    pub no_thanks: &'static str,
    pub rate_thanks: &'static str,
    pub rate_change: &'static str,
    pub start_new: &'static str,
    pub connecting: &'static str,
    pub reconnecting: &'static str,
    pub retrying_now: &'static str,
    pub retrying_in: fn(u64) -> String,
    pub paused: &'static str,
    pub continue_chatting: &'static str,
    pub banned: &'static str,
    pub connection_over: &'static str,
    pub not_sent_offline: &'static str,
    pub not_sent_ended: &'static str,
    pub not_sent_timeout: &'static str,
    pub not_sent: fn(&str) -> String,
    pub prechat_intro: &'static str,
    pub prechat_submit: &'static str,
    pub ticket_intro: &'static str,
    pub ticket_submit: &'static str,
    pub ticket_sent: &'static str,
    pub required_note: &'static str,
    pub required: fn(&str) -> String,
    pub not_an_email: fn(&str) -> String,
    pub attach: &'static str,
    pub uploading: &'static str,
    pub cancel: &'static str,
    pub file_too_big: &'static str,
    pub file: &'static str,
    /// The greeting card: who it is from (its label), and its two buttons.
    pub greeting_from: fn(&str) -> String,
    pub greeting_reply: &'static str,
    pub greeting_close: &'static str,
}

impl Strings {
    /// What the header says about the connection, if anything needs saying.
    pub fn connection_notice(&self, connection: &Connection) -> Option<String> {
        Some(match connection {
            Connection::Connected => return None,
            Connection::Connecting => self.connecting.into(),
            Connection::Reconnecting => self.reconnecting.into(),
            Connection::Retrying { retry_in_secs: 0 } => self.retrying_now.into(),
            Connection::Retrying { retry_in_secs } => (self.retrying_in)(*retry_in_secs),
            Connection::Paused { .. } => self.paused.into(),
            Connection::Ended { reason } if reason == "customer_banned" => self.banned.into(),
            Connection::Ended { .. } => self.connection_over.into(),
        })
    }

    /// A notice in the conversation.
    pub fn notice(&self, notice: &Notice) -> String {
        match notice {
            Notice::ChatEnded => self.chat_ended.into(),
            Notice::Transferred => self.transferred.into(),
            Notice::AgentJoined { name } => (self.agent_joined)(self.name_or_agent(name)),
        }
    }

    /// An agent's name, or the word for an agent when they have none.
    pub fn name_or_agent<'a>(&'a self, name: &'a str) -> &'a str {
        if name.trim().is_empty() { self.agent } else { name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_s_own_words_replace_the_language_s_and_only_those() {
        let de = Lang::De.strings();
        assert!(std::ptr::eq(de.with_site_texts(&SiteTexts::default()), de), "no copy without site words");
        let texts = SiteTexts { title: Some("Kaffee-Hilfe".into()), subtitle: None, welcome: Some("Servus!".into()) };
        let site = de.with_site_texts(&texts);
        assert_eq!((site.title, site.subtitle, site.welcome), ("Kaffee-Hilfe", de.subtitle, "Servus!"));
        assert_eq!(site.send, de.send, "everything else stays in the visitor's language");
    }

    #[test]
    fn the_language_is_the_first_one_spoken_here() {
        assert_eq!(Lang::pick(["de-AT"]), Lang::De);
        assert_eq!(Lang::pick(["fr-FR", "ar_EG", "en"]), Lang::Ar);
        assert_eq!(Lang::pick(["", "xx"]), Lang::En);
        assert_eq!(Lang::pick([]), Lang::En);
    }

    #[test]
    fn every_language_says_every_connection_problem_and_notice() {
        for lang in [Lang::En, Lang::De, Lang::Ar] {
            let s = lang.strings();
            assert_eq!(s.connection_notice(&Connection::Connected), None);
            for c in [
                Connection::Connecting,
                Connection::Reconnecting,
                Connection::Retrying { retry_in_secs: 0 },
                Connection::Retrying { retry_in_secs: 3 },
                Connection::Paused { reason: "inactivity_timeout".into() },
                Connection::Ended { reason: "customer_banned".into() },
                Connection::Ended { reason: "x".into() },
            ] {
                assert!(s.connection_notice(&c).is_some_and(|n| !n.is_empty()), "{lang:?} {c:?}");
            }
            assert!(s.connection_notice(&Connection::Retrying { retry_in_secs: 7 }).unwrap().contains('7'));
            assert!(s.notice(&Notice::AgentJoined { name: "Alex".into() }).contains("Alex"));
            assert!(s.notice(&Notice::AgentJoined { name: String::new() }).contains(s.agent));
            assert!((s.queue)(3, 5).contains('3') && (s.queue)(3, 5).contains('5'));
            assert_eq!(s.rtl, lang == Lang::Ar);
        }
    }
}

impl Strings {
    /// These words, with the site's own where it gave some. Made once per window, so the
    /// copy lives as long as the page, like the languages themselves.
    pub fn with_site_texts(&'static self, texts: &SiteTexts) -> &'static Strings {
        if *texts == SiteTexts::default() {
            return self;
        }
        let keep = |text: &Option<String>, ours: &'static str| -> &'static str {
            text.as_ref().map_or(ours, |t| Box::leak(t.clone().into_boxed_str()))
        };
        let mut strings = *self;
        strings.title = keep(&texts.title, self.title);
        strings.subtitle = keep(&texts.subtitle, self.subtitle);
        strings.welcome = keep(&texts.welcome, self.welcome);
        Box::leak(Box::new(strings))
    }
}
