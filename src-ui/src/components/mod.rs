//! Components, one per concern; [`App`] wires them to the backend's state.

mod cancel;
mod header;
mod notices;
mod signals;
mod status_bar;
mod tasks_table;

use leptos::prelude::*;
use leptos::task::spawn_local;
use taskdeck_ipc::{
    commands, events, ActiveTasksSnapshot, ConnectionStatus, LinkStatus, SignalsNow,
};

use crate::bridge;
use crate::tasks::supersedes;

/// The whole window.
#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(None::<ConnectionStatus>);
    let selected = RwSignal::new(std::collections::BTreeSet::<site_api::TaskId>::new());
    let snapshot = RwSignal::new(None::<ActiveTasksSnapshot>);
    let bridge_error = RwSignal::new(None::<String>);
    let signals = RwSignal::new(None::<SignalsNow>);
    let link = RwSignal::new(None::<LinkStatus>);

    let accept_snapshot = move |incoming: ActiveTasksSnapshot| {
        snapshot.update(|current| {
            if supersedes(current.as_ref(), &incoming) {
                *current = Some(incoming);
            }
        });
    };

    spawn_local(async move {
        // Listen first, then read: nothing sent in between is lost.
        let listening = async {
            bridge::listen(events::CONNECTION, move |s: ConnectionStatus| {
                status.set(Some(s))
            })
            .await?;
            bridge::listen(events::ACTIVE_TASKS, accept_snapshot).await?;
            bridge::listen(events::SIGNALS, move |s: SignalsNow| signals.set(Some(s))).await?;
            bridge::listen(events::LINK, move |l: LinkStatus| link.set(Some(l))).await?;
            let now: ConnectionStatus = bridge::invoke(commands::CONNECTION_STATUS).await?;
            status.set(Some(now));
            let latest: Option<ActiveTasksSnapshot> =
                bridge::invoke(commands::ACTIVE_TASKS).await?;
            if let Some(latest) = latest {
                accept_snapshot(latest);
            }
            let now: Option<SignalsNow> = bridge::invoke(commands::SIGNALS).await?;
            if now.is_some() {
                signals.set(now);
            }
            let now: Option<LinkStatus> = bridge::invoke(commands::LINK_STATUS).await?;
            if now.is_some() {
                link.set(now);
            }
            Ok::<(), bridge::BridgeError>(())
        };
        if let Err(error) = listening.await {
            bridge_error.set(Some(error.to_string()));
        }
    });

    view! {
        <div class="app">
            <header::Header status=status />
            <notices::Notices status=status bridge_error=bridge_error />
            <signals::Signals signals=signals />
            <main class="content">
                <div class="toolbar" role="toolbar" aria-label="Active tasks">
                    <cancel::CancelAction status=status selected=selected />
                </div>
                <tasks_table::TasksTable status=status snapshot=snapshot selected=selected />
            </main>
            <status_bar::StatusBar status=status snapshot=snapshot link=link />
        </div>
    }
}

/// The viewer's UTC offset, from the WebView.
pub fn local_offset() -> chrono::FixedOffset {
    // getTimezoneOffset is UTC minus local, in minutes.
    let minutes = js_sys::Date::new_0().get_timezone_offset() as i32;
    chrono::FixedOffset::west_opt(minutes * 60).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
}
