//! The Site switcher: every Site the window can show (the Demo Site's and
//! each saved connection's), the shown one selected.

use leptos::prelude::*;
use leptos::task::spawn_local;
use taskdeck_ipc::{commands, events, ConnectionStatus, SiteChoice};

use crate::bridge;
use taskdeck_ipc::request;

/// The value of a choice in the `<select>`.
fn choice_value(connection_id: &str, site_id: &str) -> String {
    format!("{connection_id}\u{1f}{site_id}")
}

/// A `<select>` of the Sites, shown once there is more than one.
#[component]
pub fn SiteSwitcher(status: RwSignal<Option<ConnectionStatus>>) -> impl IntoView {
    let choices = RwSignal::new(Vec::<SiteChoice>::new());
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match bridge::invoke::<Vec<SiteChoice>>(commands::SITES).await {
                Ok(read) => choices.set(read),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    spawn_local(async move {
        if let Err(e) = bridge::listen(events::SITES, move |_: ()| reload()).await {
            error.set(Some(e.to_string()));
        }
    });
    // A connection coming up may also show itself.
    Effect::new(move |_| {
        status.track();
        reload();
    });
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
        let args = request::ShowSite {
            connection: connection.to_owned(),
            site: site.to_owned(),
        };
        spawn_local(async move {
            match bridge::request(&args).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Show when=move || choices.with(|c| c.len() > 1)>
            <select
                class="site-switcher"
                data-testid="site-switcher"
                aria-label="Site shown"
                prop:value=current
                on:change=on_change
            >
                {move || choices
                    .get()
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
        <Show when=move || error.with(Option::is_some)>
            <span class="switch-error" role="alert">{move || error.get()}</span>
        </Show>
    }
}
