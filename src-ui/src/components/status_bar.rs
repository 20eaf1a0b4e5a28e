//! The status bar: queue counts, slots busy, and the state of the live link.

use leptos::prelude::*;
use taskdeck_ipc::{ActiveTasksSnapshot, ConnectionPhase, ConnectionStatus, LinkStatus};

use crate::format::link_text;

/// Queued and running counts of the whole Site, and whether the list is live.
#[component]
pub fn StatusBar(
    status: RwSignal<Option<ConnectionStatus>>,
    snapshot: RwSignal<Option<ActiveTasksSnapshot>>,
    link: RwSignal<Option<LinkStatus>>,
    /// Busy and total slots of the Site's Audit Services.
    slots: Signal<Option<(u32, u32)>>,
) -> impl IntoView {
    let slots_text = move || {
        slots
            .get()
            .map(|(busy, total)| format!("slots {busy} / {total} busy"))
    };
    let counts = move || {
        snapshot.with(|s| {
            s.as_ref().map(|s| {
                format!(
                    "{} queued · {} running",
                    s.page.counts.queued, s.page.counts.running
                )
            })
        })
    };
    let link = move || {
        if let Some(state) = link.with(|l| l.as_ref().map(|l| l.state)) {
            return link_text(state, super::dom::local_offset());
        }
        status.with(|s| match s.as_ref() {
            None => ("offline", "Starting…".to_owned()),
            Some(s) => match (s.phase, &s.error) {
                (ConnectionPhase::Connecting, _) => ("connecting", "Connecting…".to_owned()),
                (ConnectionPhase::Failed, _) => ("offline", "Offline".to_owned()),
                (ConnectionPhase::Connected, Some(_)) => {
                    ("reconnecting", "Reconnecting…".to_owned())
                }
                (ConnectionPhase::Connected, None) => ("live", "Live".to_owned()),
            },
        })
    };
    view! {
        <footer class="statusbar">
            <span data-testid="queue-counts">{counts}</span>
            <span class="slots" data-testid="slots-busy">{slots_text}</span>
            <span class="spacer"></span>
            <span class=move || format!("link link-{}", link().0) data-testid="link-state">
                <span class="dot"></span>
                {move || link().1}
            </span>
        </footer>
    }
}
