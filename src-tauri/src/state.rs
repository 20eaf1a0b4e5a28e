//! The backend's state, managed by Tauri: what the UI can ask for at any time.

use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use crate::live::failures::NotifySettings;
use crate::settings::{Settings, SettingsStore};
use crate::site_client::SiteClient;

use taskdeck_ipc::{
    events, ActiveTasksSnapshot, ConnectionPhase, ConnectionStatus, KeyringState, LinkStatus,
    SignalsNow,
};
use taskdeck_site::demo::Demo;
use tauri::{AppHandle, Emitter, Manager};

/// Everything the commands read; written by the connection and live tasks.
pub struct DesktopState {
    status: RwLock<ConnectionStatus>,
    /// The embedded Demo Site, stopped when the app exits.
    pub demo: tokio::sync::Mutex<Option<Demo>>,
    /// Which failures raise a notification.
    pub notify_settings: Arc<RwLock<NotifySettings>>,
    /// Cancelled when the app exits: followers stop.
    pub stop: CancellationToken,
    /// Set from the tray: failures are not shown while true.
    pub notifications_paused: std::sync::atomic::AtomicBool,
    /// Whether the tray icon exists (then closing the window hides it).
    pub tray_installed: std::sync::atomic::AtomicBool,
    /// Set by Quit: the window really closes.
    pub quitting: std::sync::atomic::AtomicBool,
    /// Woken when a new signal arrives: the signals are read again.
    pub signals_changed: tokio::sync::Notify,
    /// The followed Sites, and the one the window shows.
    pub sites: crate::sites::Sites,
    /// The followers of saved connections, by connection id.
    pub watchers: std::sync::Mutex<std::collections::HashMap<String, CancellationToken>>,
    /// Whether the window is in front: the polling fallback's pace.
    pub attention: Arc<crate::live::follow::Attention>,
    /// The settings store, once loaded at start.
    pub settings: std::sync::Mutex<Option<SettingsStore<tauri::Wry>>>,
}

impl Default for DesktopState {
    fn default() -> DesktopState {
        DesktopState {
            status: RwLock::new(ConnectionStatus {
                connection_id: crate::demo_site::DEMO_CONNECTION_ID.to_owned(),
                connection_name: "Demo Site".to_owned(),
                server_url: None,
                phase: ConnectionPhase::Connecting,
                identity: None,
                site: None,
                keyring: KeyringState::Unknown,
                error: None,
                settings_notice: None,
            }),
            demo: tokio::sync::Mutex::new(None),
            notify_settings: Arc::new(RwLock::new(NotifySettings::default())),
            stop: CancellationToken::new(),
            settings: std::sync::Mutex::new(None),
            attention: Default::default(),
            watchers: Default::default(),
            sites: Default::default(),
            signals_changed: tokio::sync::Notify::new(),
            notifications_paused: Default::default(),
            tray_installed: Default::default(),
            quitting: Default::default(),
        }
    }
}

impl DesktopState {
    /// The connection status now.
    pub fn status(&self) -> ConnectionStatus {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the settings and saves them durably (a no-op before they
    /// were loaded).
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> crate::Result<()> {
        let loaded = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let Some(store) = loaded.as_ref() else {
            return Ok(());
        };
        store
            .update(change)
            .map_err(|e| crate::Error::Settings(e.to_string()))
    }

    /// The client and id of the Site the window shows.
    pub fn shown_site(&self) -> crate::Result<(Arc<SiteClient>, String)> {
        self.sites
            .shown()
            .map(|shown| (shown.client, shown.site_id))
            .ok_or_else(|| crate::Error::InvalidInput("No Site is shown yet.".to_owned()))
    }

    /// The saved settings now (defaults before they were loaded).
    pub fn settings_now(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(SettingsStore::get)
            .unwrap_or_default()
    }

    /// The shown Site's latest Active tasks list, if one was read.
    pub fn snapshot(&self) -> Option<ActiveTasksSnapshot> {
        self.sites.shown_live().snapshot
    }

    /// The shown Site's live link.
    pub fn link(&self) -> Option<LinkStatus> {
        self.sites.shown_live().link
    }

    /// The shown Site's signals, as last read.
    pub fn signals(&self) -> Option<SignalsNow> {
        self.sites.shown_live().signals
    }
}

/// Changes the connection status and tells the UI.
pub fn update_status(app: &AppHandle, change: impl FnOnce(&mut ConnectionStatus)) {
    let state = app.state::<DesktopState>();
    let status = {
        let mut status = state.status.write().unwrap_or_else(|e| e.into_inner());
        let before = status.clone();
        change(&mut status);
        if *status == before {
            return;
        }
        status.clone()
    };
    if let Err(error) = app.emit(events::CONNECTION, status) {
        tracing::warn!(%error, "cannot send the connection status to the UI");
    }
}

/// Tells the UI of the shown Site's new Active tasks list (kept in
/// [`Sites`](crate::sites::Sites)).
pub fn publish_snapshot(app: &AppHandle, snapshot: ActiveTasksSnapshot) {
    crate::startup::milestone(&crate::startup::FIRST_LIST);
    if let Err(error) = app.emit(events::ACTIVE_TASKS, snapshot) {
        tracing::warn!(%error, "cannot send the Active tasks list to the UI");
    }
}
