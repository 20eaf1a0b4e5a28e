//! The Site switcher: every Site the window can show (the Demo Site's and
//! each saved connection's), the shown one selected.

use leptos::prelude::*;
use taskdeck_ipc::{commands, request, ConnectionStatus, SiteChoice};

use super::session::{read_on, request_action};
use crate::bridge;

/// The value of a choice in the `<select>`.
fn choice_value(connection_id: &str, site_id: &str) -> String {
    format!("{connection_id}\u{1f}{site_id}")
}

/// A `<select>` of the Sites, shown once there is more than one.
#[component]
pub fn SiteSwitcher(status: RwSignal<Option<ConnectionStatus>>) -> impl IntoView {
    let session = super::session::Session::get();
    // Read again whenever the Sites change or a connection comes up.
    let read = read_on(
        move || session.sites_changed.get(),
        |_| bridge::invoke::<Vec<SiteChoice>>(commands::SITES),
    );
    let choices = move || read.get().and_then(Result::ok).unwrap_or_default();
    let show = request_action::<request::ShowSite>();
    let error = move || {
        show.value()
            .get()
            .and_then(Result::err)
            .or_else(|| read.get().and_then(Result::err))
    };
    let current = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| {
                    s.site
                        .as_ref()
                        .map(|site| choice_value(&s.connection_id, &site.id))
                })
                .unwrap_or_default()
        })
    };
    let on_change = move |event| {
        let value = event_target_value(&event);
        let Some((connection, site)) = value.split_once('\u{1f}') else {
            return;
        };
        show.dispatch(request::ShowSite {
            connection: connection.to_owned(),
            site: site.to_owned(),
        });
    };
    view! {
        <Show when=move || { choices().len() > 1 }>
            <select
                class="site-switcher"
                data-testid="site-switcher"
                aria-label="Site shown"
                prop:value=current
                on:change=on_change
            >
                {move || choices()
                    .into_iter()
                    .map(|choice| {
                        let value = choice_value(&choice.connection_id, &choice.site.id);
                        let label = format!("{} — {}", choice.connection_name, choice.site.name);
                        view! {
                            <option value=value.clone() selected=move || current() == value>{label}</option>
                        }
                    })
                    .collect_view()}
            </select>
        </Show>
        <Show when=move || error().is_some()>
            <span class="switch-error" role="alert">{error}</span>
        </Show>
    }
}
