//! The Customer Chat API: tokens (`token`), the RTM socket (`rtm`), and what each RTM action
//! does (`actions`, one file per group).

mod actions;
pub mod greets;
pub mod rtm;
pub mod tickets;
pub mod token;
pub mod upload;
