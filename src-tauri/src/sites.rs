//! The Sites the app follows, and which one the window shows.
//!
//! Every connection (the Demo Site and each saved one) is followed on all
//! its Sites; what each follower last reported (list, link, error) is kept
//! here per Site, so the window can switch to any of them at once. Only the
//! shown Site's reports reach the window as they happen; failures of every
//! Site become notifications.

use std::collections::HashMap;
use std::sync::Arc;

use site_api::Me;
use taskdeck_ipc::{
    events, ActiveTasksSnapshot, ConnectionPhase, Identity, LinkStatus, SiteChoice, SiteSummary,
    UiError,
};
use tauri::{AppHandle, Emitter, Manager};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::live;
use crate::site_client::SiteClient;
use crate::state::{publish_snapshot, update_status, DesktopState};

/// A connection whose `/me` was read: its client, its name, who it acts as.
#[derive(Clone)]
pub struct Connected {
    /// The connection's client (token cache, lanes).
    pub client: Arc<SiteClient>,
    /// What the user calls the connection.
    pub name: String,
    /// Who the registration acts as, and its Sites and roles.
    pub me: Me,
}

/// What a Site's follower last reported.
#[derive(Debug, Clone, Default)]
pub struct SiteLive {
    /// The latest list.
    pub snapshot: Option<ActiveTasksSnapshot>,
    /// The live link.
    pub link: Option<LinkStatus>,
    /// The last error, if things do not work now.
    pub error: Option<UiError>,
}

/// The Site the window shows.
#[derive(Clone)]
pub struct ShownSite {
    /// Its connection's id.
    pub connection_id: String,
    /// The Site's id.
    pub site_id: String,
    /// Its connection's client.
    pub client: Arc<SiteClient>,
}

/// A (connection id, Site id) pair.
pub type SiteKey = (String, String);

/// The followed Sites.
#[derive(Default)]
pub struct Sites {
    /// Failures announced, by server URL, Site and task: two connections to
    /// one Site announce each failure once.
    announced: std::sync::Mutex<std::collections::HashSet<(String, String, site_api::TaskId)>>,
    connected: std::sync::Mutex<HashMap<String, Connected>>,
    live: std::sync::Mutex<HashMap<SiteKey, SiteLive>>,
    shown: std::sync::Mutex<Option<ShownSite>>,
}

impl Sites {
    /// The Site the window shows, if one is.
    pub fn shown(&self) -> Option<ShownSite> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Is this the Site the window shows?
    pub fn is_shown(&self, connection_id: &str, site_id: &str) -> bool {
        self.shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|shown| shown.connection_id == connection_id && shown.site_id == site_id)
    }

    /// Records a follower's report about a Site.
    pub fn record(&self, connection_id: &str, site_id: &str, change: impl FnOnce(&mut SiteLive)) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        change(
            live.entry((connection_id.to_owned(), site_id.to_owned()))
                .or_default(),
        );
    }

    /// Every Site the window can show, the Demo Site's first.
    pub fn choices(&self) -> Vec<SiteChoice> {
        let connected = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        let mut choices: Vec<SiteChoice> = connected
            .iter()
            .flat_map(|(id, connection)| {
                connection.me.sites.iter().map(move |site| SiteChoice {
                    connection_id: id.clone(),
                    connection_name: connection.name.clone(),
                    site: SiteSummary::from(site.clone()),
                })
            })
            .collect();
        choices.sort_by(|a, b| {
            let demo = |c: &SiteChoice| c.connection_id != crate::demo_site::DEMO_CONNECTION_ID;
            (demo(a), &a.connection_name, &a.site.name).cmp(&(
                demo(b),
                &b.connection_name,
                &b.site.name,
            ))
        });
        choices
    }

    /// True the first time a failure of `task` on this connection's server
    /// and Site is announced, whichever connection reaches it.
    pub fn first_notice(&self, connection_id: &str, site_id: &str, task: site_api::TaskId) -> bool {
        let server = self
            .connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(connection_id)
            .map(|connected| connected.client.base().to_string())
            .unwrap_or_else(|| connection_id.to_owned());
        self.announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((server, site_id.to_owned(), task))
    }

    /// The client of a connected connection.
    pub fn client(&self, connection_id: &str) -> Option<Arc<SiteClient>> {
        self.connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(connection_id)
            .map(|connected| connected.client.clone())
    }

    /// Forgets a connection (removed): its Sites and what they reported.
    pub fn forget(&self, connection_id: &str) {
        self.connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(connection_id);
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(connection, _), _| connection != connection_id);
    }
}

/// Follows every Site of a connection whose `/me` was read, until `stop`;
/// the window can show them from now on.
pub fn follow(app: &AppHandle, connection_id: &str, connected: Connected, stop: CancellationToken) {
    let state = app.state::<DesktopState>();
    for site in &connected.me.sites {
        let follower = live::follow::Follower {
            client: connected.client.clone(),
            site_id: site.id.clone(),
            me: connected.me.email.clone(),
            settings: state.notify_settings.clone(),
            attention: state.attention.clone(),
            sink: crate::sink::TauriSink {
                app: app.clone(),
                connection_id: connection_id.to_owned(),
            },
        };
        tauri::async_runtime::spawn(follower.run(stop.clone()));
    }
    state
        .sites
        .connected
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(connection_id.to_owned(), connected);
    if let Err(error) = app.emit(events::SITES, ()) {
        tracing::warn!(%error, "cannot tell the window of new Sites");
    }
}

/// Shows a Site in the window: its status, list, link and signals at once
/// from what its follower last reported; its views are the connection's.
pub fn show(app: &AppHandle, connection_id: &str, site_id: &str) -> Result<()> {
    let state = app.state::<DesktopState>();
    let connected = state
        .sites
        .connected
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(connection_id)
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "the connection {connection_id} is not connected yet"
            ))
        })?;
    let membership = connected
        .me
        .sites
        .iter()
        .find(|site| site.id == site_id)
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "the Site {site_id} is not one of this connection's"
            ))
        })?;
    *state.sites.shown.lock().unwrap_or_else(|e| e.into_inner()) = Some(ShownSite {
        connection_id: connection_id.to_owned(),
        site_id: site_id.to_owned(),
        client: connected.client.clone(),
    });
    let live = state
        .sites
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(connection_id.to_owned(), site_id.to_owned()))
        .cloned()
        .unwrap_or_default();
    update_status(app, |status| {
        status.connection_id = connection_id.to_owned();
        status.connection_name = connected.name.clone();
        status.server_url = Some(connected.client.base().to_string());
        status.identity = Some(Identity {
            email: connected.me.email.clone(),
            display_name: connected.me.display_name.clone(),
        });
        status.site = Some(SiteSummary::from(membership));
        status.phase = ConnectionPhase::Connected;
        status.error = live.error.clone();
    });
    match live.snapshot {
        Some(snapshot) => publish_snapshot(app, snapshot),
        None => state.clear_snapshot(),
    }
    *state.link.write().unwrap_or_else(|e| e.into_inner()) = live.link.clone();
    if let Some(link) = live.link {
        if let Err(error) = app.emit(events::LINK, link) {
            tracing::warn!(%error, "cannot send the link to the window");
        }
    }
    *state.signals.write().unwrap_or_else(|e| e.into_inner()) = None;
    state.signals_changed.notify_one();
    tracing::info!(connection = connection_id, site = site_id, "showing a Site");
    Ok(())
}
