//! Connections: add a Site server with its app registration. The backend
//! tests it (a token and `/me`) before saving; the secret goes to the OS
//! keyring and never comes back to the window.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use taskdeck_ipc::{commands, ConnectionView};

use crate::bridge;

#[derive(Serialize)]
struct Draft {
    name: String,
    server_url: String,
    client_id: String,
    client_secret: String,
    extra_ca_pem: Option<String>,
}

#[derive(Serialize)]
struct AddArgs {
    draft: Draft,
}

/// The "Add connection" button and its dialog.
#[component]
pub fn AddConnection() -> impl IntoView {
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let client_id = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<ConnectionView, String>>);
    let save = move |_| {
        working.set(true);
        outcome.set(None);
        let draft = Draft {
            name: name.get_untracked(),
            server_url: url.get_untracked(),
            client_id: client_id.get_untracked(),
            client_secret: secret.get_untracked(),
            extra_ca_pem: Some(ca.get_untracked()).filter(|pem| !pem.trim().is_empty()),
        };
        spawn_local(async move {
            let result: Result<ConnectionView, _> =
                bridge::invoke_with(commands::ADD_CONNECTION, &AddArgs { draft }).await;
            if result.is_ok() {
                // The secret is in the keyring now; forget it here.
                secret.set(String::new());
            }
            outcome.set(Some(result.map_err(|e| e.to_string())));
            working.set(false);
        });
    };
    let field = move |label: &'static str,
                      testid: &'static str,
                      value: RwSignal<String>,
                      kind: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type=kind
                    data-testid=testid
                    prop:value=value
                    on:input=move |event| value.set(event_target_value(&event))
                    autocomplete="off"
                />
            </label>
        }
    };
    view! {
        <button class="button" data-testid="connection-add" on:click=move |_| {
            outcome.set(None);
            open.set(true);
        }>"Add connection"</button>
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="connection-title">
                    <h2 id="connection-title">"Connect to a Site"</h2>
                    {field("Name", "connection-name", name, "text")}
                    {field("Server URL", "connection-url", url, "url")}
                    {field("Client id", "connection-client-id", client_id, "text")}
                    {field("Client secret", "connection-client-secret", secret, "password")}
                    <label class="field">
                        <span>"Extra CA certificate (PEM, optional)"</span>
                        <textarea
                            data-testid="connection-ca"
                            rows="3"
                            prop:value=ca
                            on:input=move |event| ca.set(event_target_value(&event))
                        ></textarea>
                    </label>
                    {move || outcome.get().map(|result| match result {
                        Ok(saved) => view! {
                            <p class="notice notice-ok" data-testid="connection-result" role="status">
                                {format!("Connected to {} as its app registration {}. Taskdeck now watches its Sites for failed tasks.", saved.server_url, saved.client_id)}
                            </p>
                        }.into_any(),
                        Err(message) => view! {
                            <p class="notice notice-error" data-testid="connection-error-message" role="alert">{message}</p>
                        }.into_any(),
                    })}
                    <div class="dialog-buttons">
                        <button class="button" on:click=move |_| open.set(false)>"Close"</button>
                        <button class="button button-primary" data-testid="connection-save" on:click=save disabled=working>
                            {move || if working.get() { "Testing…" } else { "Test and save" }}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
