//! Connections: add, edit and remove Site servers with their app
//! registrations. The backend tests each (a token and `/me`) before saving;
//! the secret goes to the OS keyring and never comes back to the window.

use leptos::prelude::*;
use taskdeck_ipc::{commands, ConnectionView};

use crate::bridge;
use taskdeck_ipc::request;

/// How long the notice of a saved connection stays.
const SAVED_NOTICE_FOR: std::time::Duration = std::time::Duration::from_secs(12);

/// The "Add connection" button and its dialog.
#[component]
pub fn AddConnection() -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button class="button" data-testid="connection-add" on:click=move |_| open.set(true)>
            "Add connection"
        </button>
        <ConnectionDialog open=open editing=None on_saved=Callback::new(|_| ()) />
    }
}

/// The dialog that tests and saves a new connection, or changes `editing`.
#[component]
fn ConnectionDialog(
    open: RwSignal<bool>,
    editing: Option<ConnectionView>,
    on_saved: Callback<ConnectionView>,
) -> impl IntoView {
    let is_edit = editing.is_some();
    let editing_id = StoredValue::new(editing.as_ref().map(|c| c.id.clone()));
    let has_ca = editing.as_ref().is_some_and(|c| c.has_extra_ca);
    let start = editing.clone();
    let name = RwSignal::new(start.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let url = RwSignal::new(
        start
            .as_ref()
            .map(|c| c.server_url.clone())
            .unwrap_or_default(),
    );
    let client_id = RwSignal::new(
        start
            .as_ref()
            .map(|c| c.client_id.clone())
            .unwrap_or_default(),
    );
    let secret = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let remove_ca = RwSignal::new(false);
    // Tests and saves a draft: as a change of `editing`, or as a new connection.
    let saving = Action::new_local(|(id, draft): &(Option<String>, request::ConnectionDraft)| {
        let (id, draft) = (id.clone(), draft.clone());
        async move {
            let result = match id {
                Some(id) => bridge::request(&request::UpdateConnection { id, draft }).await,
                None => bridge::request(&request::AddConnection { draft }).await,
            };
            result.map_err(|e| e.to_string())
        }
    });
    let working = saving.pending();
    let outcome = RwSignal::new(None::<Result<ConnectionView, String>>);
    // A fresh start each time the dialog opens.
    Effect::new(move |_| {
        if open.get() {
            outcome.set(None);
            secret.set(String::new());
        }
    });
    let save = move |_| {
        outcome.set(None);
        let pem = ca.get_untracked();
        let extra_ca_pem = if remove_ca.get_untracked() {
            Some(String::new())
        } else if pem.trim().is_empty() {
            // Editing: keep the saved CA; adding: none.
            None
        } else {
            Some(pem)
        };
        let draft = request::ConnectionDraft {
            name: name.get_untracked(),
            server_url: url.get_untracked(),
            client_id: client_id.get_untracked(),
            client_secret: secret.get_untracked(),
            extra_ca_pem,
        };
        saving.dispatch((editing_id.get_value(), draft));
    };
    // Its answer: on success the dialog closes and the notice below says
    // so, then goes; a failure stays in the dialog.
    Effect::new(move |_| {
        let Some(result) = saving.value().get() else {
            return;
        };
        let saved = result.is_ok();
        if let Ok(saved) = &result {
            // The secret is in the keyring now; forget it here.
            secret.set(String::new());
            on_saved.run(saved.clone());
        }
        outcome.set(Some(result));
        if saved {
            open.set(false);
            let shown = outcome.get_untracked();
            set_timeout(
                move || {
                    if outcome.get_untracked() == shown {
                        outcome.set(None);
                    }
                },
                SAVED_NOTICE_FOR,
            );
        }
    });
    let field = move |label: &'static str,
                      testid: &'static str,
                      value: RwSignal<String>,
                      kind: &'static str,
                      placeholder: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type=kind
                    data-testid=testid
                    placeholder=placeholder
                    prop:value=value
                    on:input=move |event| value.set(event_target_value(&event))
                    autocomplete="off"
                />
            </label>
        }
    };
    let secret_hint = if is_edit {
        "unchanged if left blank"
    } else {
        ""
    };
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="connection-title">
                    <h2 id="connection-title">{if is_edit { "Edit the connection" } else { "Connect to a Site" }}</h2>
                    {field("Name", "connection-name", name, "text", "optional: the Site's name")}
                    {field("Server URL", "connection-url", url, "url", "https://site.example:8443")}
                    {field("Client id", "connection-client-id", client_id, "text", "")}
                    {field("Client secret", "connection-client-secret", secret, "password", secret_hint)}
                    <label class="field">
                        <span>{if has_ca { "Extra CA certificate (PEM; blank keeps the saved one)" } else { "Extra CA certificate (PEM, optional)" }}</span>
                        <textarea
                            data-testid="connection-ca"
                            rows="3"
                            prop:value=ca
                            on:input=move |event| ca.set(event_target_value(&event))
                        ></textarea>
                    </label>
                    {has_ca.then(|| view! {
                        <label class="filter-option">
                            <input type="checkbox" data-testid="connection-remove-ca"
                                prop:checked=remove_ca
                                on:change=move |_| remove_ca.update(|r| *r = !*r) />
                            "Stop trusting the extra CA certificate"
                        </label>
                    })}
                    {move || match outcome.get() {
                        Some(Err(message)) => Some(view! {
                            <p class="notice notice-error" data-testid="connection-error-message" role="alert">{message}</p>
                        }),
                        _ => None,
                    }}
                    <div class="dialog-buttons">
                        <button class="button" data-testid="connection-close" on:click=move |_| open.set(false)>"Close"</button>
                        <button class="button button-primary" data-testid="connection-save" on:click=save disabled=working>
                            {move || if working.get() { "Testing…" } else { "Test and save" }}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
        // Saved: the dialog is gone and the window shows the Site; this
        // says what happened, over the list, until dismissed (or a while).
        {move || match (open.get(), outcome.get()) {
            (false, Some(Ok(saved))) => Some(view! {
                <div class="toast notice notice-ok" data-testid="connection-result" role="status">
                    <span>{format!("Saved \u{201c}{}\u{201d}: connected to {} as its app registration {}. Taskdeck shows its Site now and watches its Sites for failed tasks.", saved.name, saved.server_url, saved.client_id)}</span>
                    <button class="button" data-testid="connection-result-dismiss" aria-label="Dismiss" on:click=move |_| outcome.set(None)>"\u{d7}"</button>
                </div>
            }),
            _ => None,
        }}
    }
}

/// The Connections page: the Demo Site and every saved connection, each
/// with Edit and Remove.
#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let session = super::session::Session::get();
    let remove = super::session::request_action::<request::RemoveConnection>();
    // Edits are counted too: a saved edit reads the list again.
    let edited = RwSignal::new(0u32);
    // Read again when the Sites change, and after each removal or edit.
    let read = super::session::read_on(
        move || {
            (
                session.sites_changed.get(),
                remove.version().get(),
                edited.get(),
            )
        },
        |_| bridge::invoke::<Vec<ConnectionView>>(commands::CONNECTIONS),
    );
    let saved = move || read.get().and_then(Result::ok).unwrap_or_default();
    let error = move || {
        remove
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| read.get().and_then(Result::err))
    };
    let row = move |connection: ConnectionView| {
        let edit_open = RwSignal::new(false);
        let confirm = RwSignal::new(false);
        let id = connection.id.clone();
        let remove = move |_| {
            if !confirm.get_untracked() {
                confirm.set(true);
                return;
            }
            remove.dispatch(request::RemoveConnection { id: id.clone() });
        };
        let name = connection.name.clone();
        view! {
            <tr data-testid="connection-row" data-connection-id=connection.id.clone()>
                <td>{connection.name.clone()}</td>
                <td class="mono">{connection.server_url.clone()}</td>
                <td class="mono">{connection.client_id.clone()}</td>
                <td>{if connection.has_extra_ca { "own CA + OS store" } else { "OS store" }}</td>
                <td class="row-actions">
                    <button class="button" data-testid="connection-edit" on:click=move |_| edit_open.set(true)>"Edit…"</button>
                    <button class="button button-danger" data-testid="connection-remove" on:click=remove>
                        {move || if confirm.get() { format!("Remove “{name}”? Click again") } else { "Remove".to_owned() }}
                    </button>
                    <ConnectionDialog open=edit_open editing=Some(connection.clone()) on_saved=Callback::new(move |_| edited.update(|n| *n += 1)) />
                </td>
            </tr>
        }
    };
    view! {
        <section class="connections-page" data-testid="connections-page">
            <p class="hint">
                "The Demo Site runs inside Taskdeck and is always there. Each saved connection is a Site server and an app registration; its secret stays in the OS keyring. Taskdeck watches every Site of every connection for failed tasks."
            </p>
            <Show when=move || error().is_some()>
                <div class="notice notice-error" role="alert">{error}</div>
            </Show>
            <table class="tasks connections">
                <thead>
                    <tr><th>"Name"</th><th>"Server"</th><th>"Client id"</th><th>"Trust"</th><th></th></tr>
                </thead>
                <tbody>
                    <tr data-testid="connection-row" data-connection-id="demo">
                        <td>"Demo Site"</td>
                        <td class="mono">"embedded"</td>
                        <td class="mono">"—"</td>
                        <td>"loopback"</td>
                        <td></td>
                    </tr>
                    <For each=saved key=|c: &ConnectionView| (c.id.clone(), c.name.clone(), c.server_url.clone(), c.client_id.clone(), c.has_extra_ca) children=row />
                </tbody>
            </table>
        </section>
    }
}
