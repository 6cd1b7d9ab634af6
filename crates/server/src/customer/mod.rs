//! The Customer Chat API: tokens (`token`) and the RTM socket (`rtm`).

pub mod rtm;
pub mod token;
