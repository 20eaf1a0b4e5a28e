//! Banners: settings set aside, no keyring, a failed connection, a broken
//! link to the backend.

use leptos::prelude::*;
use taskdeck_ipc::{ConnectionPhase, ConnectionStatus, KeyringState};

/// Every notice that applies now.
#[component]
pub fn Notices(
    status: RwSignal<Option<ConnectionStatus>>,
    bridge_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let keyring = move || {
        status.with(|s| match s.as_ref().map(|s| &s.keyring) {
            Some(KeyringState::Unavailable { reason }) => Some(format!(
                "No usable OS keyring ({reason}). The Demo Site runs with a throw-away \
                 credential kept in memory; connecting to a real Site needs a keyring."
            )),
            _ => None,
        })
    };
    let error = move || {
        status.with(|s| {
            let s = s.as_ref()?;
            let error = s.error.as_ref()?;
            Some((s.phase == ConnectionPhase::Failed, error.message.clone()))
        })
    };
    let settings_notice = move || status.with(|s| s.as_ref()?.settings_notice.clone());
    view! {
        <Show when=move || settings_notice().is_some()>
            <div class="notice notice-warning" role="status" data-testid="settings-notice">
                {settings_notice}
            </div>
        </Show>
        <Show when=move || keyring().is_some()>
            <div class="notice notice-warning" role="status" data-testid="keyring-notice">
                {keyring}
            </div>
        </Show>
        <Show when=move || error().is_some()>
            <div
                class=move || if error().is_some_and(|(fatal, _)| fatal) { "notice notice-error" } else { "notice notice-warning" }
                role="alert"
                data-testid="connection-error"
            >
                {move || error().map(|(_, message)| message)}
            </div>
        </Show>
        <Show when=move || bridge_error.with(Option::is_some)>
            <div class="notice notice-error" role="alert">
                {move || bridge_error.get()}
            </div>
        </Show>
    }
}
