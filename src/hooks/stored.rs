//! A value the widget keeps across pages in its own `localStorage`, as JSON under one key.
//! The widget's storage belongs to its origin and, framed by a site, is partitioned by that
//! site in every current browser: what one site's pages keep, another site never reads.
//!
//! Storage may be missing or refuse (private modes, blocked storage, a full quota): then
//! nothing is kept and `load` finds nothing, so a value lasts as long as the page.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

pub struct Stored<T> {
    key: String,
    value: PhantomData<T>,
}

impl<T> Clone for Stored<T> {
    fn clone(&self) -> Self {
        Self { key: self.key.clone(), value: PhantomData }
    }
}

impl<T: Serialize + DeserializeOwned> Stored<T> {
    pub fn new(key: String) -> Self {
        Self { key, value: PhantomData }
    }

    /// The kept value; `None` when there is none or it no longer reads as a `T`.
    pub fn load(&self) -> Option<T> {
        storage().and_then(|s| s.get_item(&self.key).ok().flatten()).and_then(|json| serde_json::from_str(&json).ok())
    }

    pub fn save(&self, value: &T) {
        if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(value)) {
            let _ = storage.set_item(&self.key, &json);
        }
    }

    pub fn clear(&self) {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(&self.key);
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
