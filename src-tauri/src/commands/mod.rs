//! The commands the UI invokes, by noun: thin, typed, and never carrying
//! a secret. Each calls into the module that owns its logic.

pub(crate) mod about;
pub(crate) mod connections;
pub(crate) mod logs;
pub(crate) mod schedules;
pub(crate) mod settings;
pub(crate) mod tasks;
