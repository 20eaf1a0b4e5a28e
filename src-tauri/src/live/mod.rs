//! Keeping Sites live: one [`follow::Follower`] per connected Site reads the
//! first page, then applies the Site's event stream to a [`list::LiveList`]
//! and announces failures through a [`failures::FailureWatch`]. Nothing
//! here knows Tauri: a follower reports to a [`follow::LiveSink`] (the
//! app's is `crate::sink::TauriSink`).

pub mod failures;
pub mod follow;
pub mod list;
