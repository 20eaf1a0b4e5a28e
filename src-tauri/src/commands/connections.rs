//! Commands on connections: the saved Sites, testing and saving one, which
//! Site is shown, and the role the app acts with.

use taskdeck_ipc::request::{self, Request};
use taskdeck_ipc::{ConnectionCheck, ConnectionStatus, ConnectionView, Identity, SiteSummary};
use tauri::{AppHandle, Manager, State};

use crate::connections;
use crate::error::Error;
use crate::settings::ConnectionSettings;
use crate::site_client::SiteClient;
use crate::state::DesktopState;

/// Where the app stands with its Site.
#[tauri::command]
pub(crate) fn connection_status(state: State<'_, DesktopState>) -> ConnectionStatus {
    crate::startup::milestone(&crate::startup::WINDOW_ASKED);
    state.status()
}

/// The saved Site connections (the Demo Site is always there besides them).
#[tauri::command]
pub(crate) fn connections(state: State<'_, DesktopState>) -> Vec<ConnectionView> {
    state.settings_now().connections.iter().map(view).collect()
}

/// Fetches a token and `/me` with a draft's credentials; saves nothing.
#[tauri::command]
pub(crate) async fn test_connection(
    request: request::TestConnection,
) -> Result<<request::TestConnection as Request>::Answer, Error> {
    let request::TestConnection { draft } = request;
    let me = connections::test(&draft).await?;
    Ok(ConnectionCheck {
        identity: Identity {
            email: me.email,
            display_name: me.display_name,
        },
        sites: me.sites.into_iter().map(SiteSummary::from).collect(),
    })
}

/// Tests a draft, saves it (the secret to the OS keyring, the rest to the
/// settings, durably) and starts watching its Sites.
#[tauri::command]
pub(crate) async fn add_connection(
    app: AppHandle,
    request: request::AddConnection,
) -> Result<<request::AddConnection as Request>::Answer, Error> {
    let request::AddConnection { draft } = request;
    let id = connections::new_connection_id();
    let (saved, me) = connections::save(&draft, &id).await?;
    let state = app.state::<DesktopState>();
    state.update_settings(|settings| settings.connections.push(saved.clone()))?;
    follow_and_show(&app, &saved, me)?;
    Ok(view(&saved))
}

/// Follows a connection just tested and shows its first Site: adding or
/// editing a connection means wanting to see it.
fn follow_and_show(
    app: &AppHandle,
    saved: &ConnectionSettings,
    me: site_api::Me,
) -> Result<(), Error> {
    let first = me.sites.first().map(|site| site.id.clone());
    crate::watch_connection(app, saved.clone(), Some(me));
    match first {
        Some(site) => show(app, &saved.id, &site),
        None => Ok(()),
    }
}

/// Tests a changed connection and saves it; a blank secret keeps the saved
/// one (for the same client id). Its Sites are followed afresh.
#[tauri::command]
pub(crate) async fn update_connection(
    app: AppHandle,
    request: request::UpdateConnection,
) -> Result<<request::UpdateConnection as Request>::Answer, Error> {
    let request::UpdateConnection { id, mut draft } = request;
    let state = app.state::<DesktopState>();
    let existing = state
        .settings_now()
        .connections
        .into_iter()
        .find(|connection| connection.id == id)
        .ok_or_else(|| Error::NotFound(format!("there is no connection {id}")))?;
    // No CA given: keep the saved one; a blank one: remove it.
    draft.extra_ca_pem = match draft.extra_ca_pem.take() {
        None => existing.extra_ca_pem.clone(),
        Some(pem) if pem.trim().is_empty() => None,
        Some(pem) => Some(pem),
    };
    if draft.client_secret.is_empty() {
        if draft.client_id.trim() != existing.client_id {
            return Err(Error::InvalidInput(
                "A new client id needs its client secret.".to_owned(),
            ));
        }
        let kept = existing.clone();
        draft.client_secret =
            tokio::task::spawn_blocking(move || connections::saved_secret(&kept)).await??;
    }
    let (saved, me) = connections::save(&draft, &id).await?;
    state.update_settings(|settings| {
        for connection in &mut settings.connections {
            if connection.id == id {
                *connection = saved.clone();
            }
        }
    })?;
    if existing.client_id != saved.client_id {
        // The old registration's secret is no longer needed.
        let old = existing.clone();
        let forgotten = tokio::task::spawn_blocking(move || connections::forget_secret(&old)).await;
        if !matches!(forgotten, Ok(Ok(()))) {
            tracing::warn!(connection = %id, "the old client secret could not be removed from the keyring");
        }
    }
    state.sites.forget(&id);
    follow_and_show(&app, &saved, me)?;
    Ok(view(&saved))
}

/// Every Site the window can show: the Demo Site's, then each connected
/// saved connection's.
#[tauri::command]
pub(crate) fn sites(state: State<'_, DesktopState>) -> Vec<taskdeck_ipc::SiteChoice> {
    state.sites.choices()
}

/// Shows a Site in the window (and reopens it at the next start).
#[tauri::command]
pub(crate) fn show_site(
    app: AppHandle,
    request: request::ShowSite,
) -> Result<<request::ShowSite as Request>::Answer, Error> {
    let request::ShowSite { connection, site } = request;
    show(&app, &connection, &site)
}

fn show(app: &AppHandle, connection: &str, site: &str) -> Result<(), Error> {
    crate::sites::show(app, connection, site)?;
    let shown = crate::settings::ShownSetting {
        connection_id: connection.to_owned(),
        site_id: site.to_owned(),
    };
    app.state::<DesktopState>()
        .update_settings(|settings| settings.shown = Some(shown))
}

/// Stops watching a connection and removes it and its secret.
#[tauri::command]
pub(crate) async fn remove_connection(
    app: AppHandle,
    request: request::RemoveConnection,
) -> Result<<request::RemoveConnection as Request>::Answer, Error> {
    let request::RemoveConnection { id } = request;
    let state = app.state::<DesktopState>();
    if let Some(stop) = state
        .watchers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id)
    {
        stop.cancel();
    }
    let removed = state
        .settings_now()
        .connections
        .into_iter()
        .find(|connection| connection.id == id);
    let Some(removed) = removed else {
        return Err(Error::NotFound(format!("there is no connection {id}")));
    };
    state.update_settings(|settings| {
        settings.connections.retain(|c| c.id != id);
        settings.views.remove(&id);
        if settings
            .shown
            .as_ref()
            .is_some_and(|s| s.connection_id == id)
        {
            settings.shown = None;
        }
    })?;
    state.sites.forget(&id);
    let was_shown = state
        .sites
        .shown()
        .is_some_and(|shown| shown.connection_id == id);
    if was_shown {
        // Back to the Demo Site.
        let demo = state
            .sites
            .choices()
            .into_iter()
            .find(|choice| choice.connection_id == crate::demo_site::DEMO_CONNECTION_ID);
        if let Some(demo) = demo {
            crate::sites::show(&app, &demo.connection_id, &demo.site.id)?;
        }
    }
    if let Err(error) = tauri::Emitter::emit(&app, taskdeck_ipc::events::SITES, ()) {
        tracing::warn!(%error, "cannot tell the window of the removed Sites");
    }
    tokio::task::spawn_blocking(move || connections::forget_secret(&removed)).await?
}

fn view(connection: &ConnectionSettings) -> ConnectionView {
    ConnectionView {
        id: connection.id.clone(),
        name: connection.name.clone(),
        server_url: connection.server_url.clone(),
        client_id: connection.client_id.clone(),
        has_extra_ca: connection.extra_ca_pem.is_some(),
    }
}

/// Reads the user's role on `site_id` again and tells the window.
pub(crate) async fn refresh_role(app: &AppHandle, client: &SiteClient, site_id: &str) {
    let Ok(me) = client.me().await else {
        return;
    };
    let role = me
        .sites
        .iter()
        .find(|site| site.id == site_id)
        .map(|site| site.role);
    crate::state::update_status(app, |status| {
        if let (Some(site), Some(role)) = (status.site.as_mut(), role) {
            site.role = role;
        }
    });
}
