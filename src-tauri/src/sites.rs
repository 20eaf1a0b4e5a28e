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
    events, ActiveTasksSnapshot, ConnectionPhase, Identity, LinkStatus, SignalsNow, SiteChoice,
    SiteSummary, UiError,
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

/// What a Site's follower last reported, and its signals as last read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteLive {
    /// The latest list.
    pub snapshot: Option<ActiveTasksSnapshot>,
    /// The live link.
    pub link: Option<LinkStatus>,
    /// The last error, if things do not work now.
    pub error: Option<UiError>,
    /// The signals in force, as last read (only the shown Site's are read).
    pub signals: Option<SignalsNow>,
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

/// The followed Sites: the one owner of what each reported and of which
/// one the window shows; what the window reads (the shown Site's list,
/// link and signals) is derived from them ([`Sites::shown_live`]).
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

    /// Shows `site` from now on (`None`: none).
    pub fn set_shown(&self, site: Option<ShownSite>) {
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = site;
    }

    /// What the shown Site last reported (nothing while none is shown).
    pub fn shown_live(&self) -> SiteLive {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let Some(shown) = shown.as_ref() else {
            return SiteLive::default();
        };
        self.live(&shown.connection_id, &shown.site_id)
    }

    /// What a Site last reported.
    pub fn live(&self, connection_id: &str, site_id: &str) -> SiteLive {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(connection_id.to_owned(), site_id.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Records a report about the shown Site, if it is still `site_id` (of
    /// the shown connection); true if it was recorded and changed anything.
    pub fn record_if_shown(&self, site_id: &str, change: impl FnOnce(&mut SiteLive)) -> bool {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let Some(shown) = shown.as_ref().filter(|shown| shown.site_id == site_id) else {
            return false;
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let entry = live
            .entry((shown.connection_id.clone(), shown.site_id.clone()))
            .or_default();
        let before = entry.clone();
        change(entry);
        *entry != before
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
    state.sites.set_shown(Some(ShownSite {
        connection_id: connection_id.to_owned(),
        site_id: site_id.to_owned(),
        client: connected.client.clone(),
    }));
    let live = state.sites.shown_live();
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
    if let Some(snapshot) = live.snapshot {
        publish_snapshot(app, snapshot);
    }
    if let Some(link) = live.link {
        if let Err(error) = app.emit(events::LINK, link) {
            tracing::warn!(%error, "cannot send the link to the window");
        }
    }
    if let Some(signals) = live.signals {
        if let Err(error) = app.emit(events::SIGNALS, signals) {
            tracing::warn!(%error, "cannot send the signals to the window");
        }
    }
    // Read afresh for the Site now shown.
    state.signals_changed.notify_one();
    tracing::info!(connection = connection_id, site = site_id, "showing a Site");
    Ok(())
}

#[cfg(test)]
mod tests {
    use taskdeck_ipc::LinkState;

    use super::*;
    use crate::site_client::SecretSource;

    fn shown(connection_id: &str, site_id: &str) -> ShownSite {
        let client = SiteClient::new(
            "https://site.example".parse().unwrap(),
            "client".to_owned(),
            SecretSource::Memory("secret".to_owned()),
            None,
        )
        .unwrap();
        ShownSite {
            connection_id: connection_id.to_owned(),
            site_id: site_id.to_owned(),
            client: Arc::new(client),
        }
    }

    fn link(site_id: &str, state: LinkState) -> LinkStatus {
        LinkStatus {
            site_id: site_id.to_owned(),
            state,
        }
    }

    #[test]
    fn what_the_window_reads_is_the_shown_sites_own_report() {
        let sites = Sites::default();
        // Reports of two Sites of two connections, before any is shown.
        sites.record("hq-conn", "hq", |live| {
            live.link = Some(link("hq", LinkState::Live))
        });
        sites.record("branch-conn", "branch", |live| {
            live.link = Some(link("branch", LinkState::Polling))
        });
        assert_eq!(sites.shown_live(), SiteLive::default(), "none shown yet");
        assert!(!sites.is_shown("hq-conn", "hq"));

        sites.set_shown(Some(shown("hq-conn", "hq")));
        assert!(sites.is_shown("hq-conn", "hq"));
        assert!(
            !sites.is_shown("branch-conn", "hq"),
            "another connection's hq"
        );
        assert_eq!(sites.shown_live().link, Some(link("hq", LinkState::Live)));

        // Switching shows the other Site's report at once; hq's is kept.
        sites.set_shown(Some(shown("branch-conn", "branch")));
        assert_eq!(
            sites.shown_live().link,
            Some(link("branch", LinkState::Polling))
        );
        assert_eq!(
            sites.live("hq-conn", "hq").link,
            Some(link("hq", LinkState::Live))
        );
    }

    #[test]
    fn signals_read_for_a_site_no_longer_shown_are_dropped() {
        let sites = Sites::default();
        let now = |site_id: &str| SignalsNow {
            site_id: site_id.to_owned(),
            signals: Vec::new(),
        };
        assert!(!sites.record_if_shown("hq", |live| live.signals = Some(now("hq"))));
        sites.set_shown(Some(shown("conn", "hq")));
        assert!(sites.record_if_shown("hq", |live| live.signals = Some(now("hq"))));
        assert!(
            !sites.record_if_shown("hq", |live| live.signals = Some(now("hq"))),
            "the same signals again change nothing"
        );
        assert_eq!(sites.shown_live().signals, Some(now("hq")));
        // Read for hq, answered after branch was shown: not recorded.
        sites.set_shown(Some(shown("conn", "branch")));
        assert!(!sites.record_if_shown("hq", |live| live.signals = None));
        assert_eq!(sites.live("conn", "hq").signals, Some(now("hq")));
        assert_eq!(sites.shown_live().signals, None);
        // A removed connection's reports go with it.
        sites.forget("conn");
        assert_eq!(sites.live("conn", "hq"), SiteLive::default());
    }
}
