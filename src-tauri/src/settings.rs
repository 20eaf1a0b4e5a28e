//! The app's non-secret settings, their store and their file.
//!
//! In memory the settings live in a tauri-plugin-store [`Store`] (one key per
//! field of [`Settings`]); on disk in `settings.json`, which this module reads
//! and writes itself around the plugin, because the plugin's own save is a
//! plain file write:
//!
//! Saving is durable: the new content goes to a temporary file in the same
//! folder, is flushed to disk (`fsync`), then renamed over the old file and
//! the folder flushed too, so a crash or power cut leaves either the old or
//! the new settings, never an empty or half-written file (the failure of a
//! plain write, tauri-apps/plugins-workspace#3085).
//!
//! Loading never loses the user's data silently: a file that cannot be read
//! as settings is kept aside as `settings.json.corrupt-<time>`, the app
//! starts from defaults, and [`Loaded::recovered`] says so once.
//!
//! **Invariant:** no secret is a field here. Client secrets live in the OS
//! keyring, access tokens in memory.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use taskdeck_ipc::SiteViews;
use tauri::Runtime;
use tauri_plugin_store::{Store, StoreBuilder};

use crate::live::failures::NotifySettings;

/// The schema version this build writes.
pub const SETTINGS_VERSION: u32 = 1;

/// One saved Site connection, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSettings {
    /// A stable id (also the keyring account's prefix).
    pub id: String,
    /// What the user calls it.
    pub name: String,
    /// The Site server's URL.
    pub server_url: String,
    /// The app registration's client id (not secret).
    pub client_id: String,
    /// An extra CA certificate (PEM) to trust for this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ca_pem: Option<String>,
}

/// Everything the app keeps between runs, except secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The schema version the file was written with.
    pub version: u32,
    /// Which failures raise a notification.
    pub notifications: NotifySettings,
    /// Saved Site connections (the Demo Site is not one: it is always there).
    pub connections: Vec<ConnectionSettings>,
    /// Personal views of the Active tasks list, by connection id (`demo`
    /// for the Demo Site).
    pub views: BTreeMap<String, SiteViews>,
    /// The window's colours.
    #[serde(skip_serializing_if = "is_system")]
    pub theme: taskdeck_ipc::Theme,
    /// The Site the window showed last, reopened at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<ShownSetting>,
}

fn is_system(theme: &taskdeck_ipc::Theme) -> bool {
    *theme == taskdeck_ipc::Theme::System
}

/// A Site the window showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownSetting {
    /// The connection's id.
    pub connection_id: String,
    /// The Site's id.
    pub site_id: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            version: SETTINGS_VERSION,
            notifications: NotifySettings::default(),
            connections: Vec::new(),
            views: BTreeMap::new(),
            theme: taskdeck_ipc::Theme::System,
            shown: None,
        }
    }
}

impl Settings {
    /// The settings as the store's entries: one per field.
    fn to_entries(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(entries)) => entries,
            _ => unreachable!("Settings is a struct of serialisable fields"),
        }
    }

    /// The settings from the store's entries (missing fields: defaults).
    fn from_entries(
        entries: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) -> Result<Settings, serde_json::Error> {
        serde_json::from_value(serde_json::Value::Object(entries.into_iter().collect()))
    }
}

/// A settings file that was set aside because it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the unreadable file now is.
    pub kept_at: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

impl Recovered {
    /// The one sentence the user is told.
    pub fn message(&self) -> String {
        format!(
            "Your settings could not be read ({}), so Taskdeck started with default settings. The unreadable file was kept at {}.",
            self.reason,
            self.kept_at.display()
        )
    }
}

/// What loading found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The settings to use.
    pub settings: Settings,
    /// Set when the file was unreadable and was set aside.
    pub recovered: Option<Recovered>,
}

/// The settings file at a path.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

/// Why settings could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("cannot save the settings to {path}: {source}")]
pub struct SaveError {
    path: PathBuf,
    source: std::io::Error,
}

impl SettingsFile {
    /// The file `settings.json` in `folder`.
    pub fn in_folder(folder: &Path) -> SettingsFile {
        SettingsFile {
            path: folder.join("settings.json"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the settings: defaults when there is no file; defaults and a
    /// [`Recovered`] when the file is unreadable (it is set aside first).
    pub fn load(&self) -> Loaded {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    settings: Settings::default(),
                    recovered: None,
                };
            }
            Err(error) => return self.set_aside(error.to_string()),
        };
        match serde_json::from_slice::<Settings>(&bytes) {
            Ok(settings) if settings.version <= SETTINGS_VERSION => Loaded {
                settings,
                recovered: None,
            },
            Ok(settings) => self.set_aside(format!(
                "it was written by a newer Taskdeck (settings version {})",
                settings.version
            )),
            Err(error) if bytes.iter().all(u8::is_ascii_whitespace) => {
                self.set_aside(format!("the file is empty ({error})"))
            }
            Err(error) => self.set_aside(format!("it is not valid settings JSON: {error}")),
        }
    }

    fn set_aside(&self, reason: String) -> Loaded {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept_at = self
            .path
            .with_file_name(format!("settings.json.corrupt-{stamp}"));
        let kept_at = match std::fs::rename(&self.path, &kept_at) {
            Ok(()) => kept_at,
            // Could not move it: leave it in place, it is overwritten at the
            // next save; say where it is.
            Err(_) => self.path.clone(),
        };
        tracing::warn!(%reason, kept_at = %kept_at.display(), "settings were unreadable");
        Loaded {
            settings: Settings::default(),
            recovered: Some(Recovered { kept_at, reason }),
        }
    }

    /// Saves durably: temporary file, fsync, rename, fsync of the folder.
    pub fn save(&self, settings: &Settings) -> Result<(), SaveError> {
        let bytes = serde_json::to_vec_pretty(settings).map_err(|e| SaveError {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        durable_write(&self.path, &bytes).map_err(|source| SaveError {
            path: self.path.clone(),
            source,
        })
    }
}

/// The settings in a tauri-plugin-store [`Store`], saved durably to their
/// [`SettingsFile`].
///
/// The store is built over the file only after [`SettingsFile::load`] checked
/// it (an unreadable file is set aside first, so the plugin never loads it
/// silently as empty), and is then closed as a plugin resource: the plugin's
/// save at exit, a plain write, never touches the file. Every change goes
/// through [`SettingsStore::update`], which writes the store and then the
/// file, durably, before it returns.
pub struct SettingsStore<R: Runtime> {
    file: SettingsFile,
    store: Arc<Store<R>>,
}

impl<R: Runtime> SettingsStore<R> {
    /// Opens the store over `file`, holding `loaded` (what [`SettingsFile::load`]
    /// read: the file's settings, or defaults after setting it aside).
    pub fn open(
        app: &impl tauri::Manager<R>,
        file: SettingsFile,
        loaded: &Settings,
    ) -> Result<SettingsStore<R>, tauri_plugin_store::Error> {
        let store = StoreBuilder::new(app, file.path())
            .disable_auto_save()
            .build()?;
        // What the plugin read equals what we checked; set it anyway so the
        // store holds exactly the typed settings (defaults filled in).
        store.clear();
        for (key, value) in loaded.to_entries() {
            store.set(key, value);
        }
        store.close_resource();
        Ok(SettingsStore { file, store })
    }

    /// The settings now.
    pub fn get(&self) -> Settings {
        Settings::from_entries(self.store.entries()).unwrap_or_else(|error| {
            // Only this module writes the store, always from a `Settings`.
            tracing::error!(%error, "the settings store holds no settings");
            Settings::default()
        })
    }

    /// Changes the settings: in the store, then in the file (durably).
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<(), SaveError> {
        let mut settings = self.get();
        change(&mut settings);
        self.file.save(&settings)?;
        for (key, value) in settings.to_entries() {
            self.store.set(key, value);
        }
        Ok(())
    }
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves either
/// the old or the new content.
pub fn durable_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    std::fs::create_dir_all(folder)?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable once the folder is flushed.
    #[cfg(unix)]
    std::fs::File::open(folder)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Settings {
        Settings {
            notifications: NotifySettings {
                only_mine: true,
                ..NotifySettings::default()
            },
            connections: vec![ConnectionSettings {
                id: "c1".to_owned(),
                name: "HQ".to_owned(),
                server_url: "https://site.example:8443".to_owned(),
                client_id: "abcdefghijklmnopqrst".to_owned(),
                extra_ca_pem: None,
            }],
            views: [(
                "demo".to_owned(),
                SiteViews {
                    views: Vec::new(),
                    default_view: None,
                },
            )]
            .into(),
            ..Settings::default()
        }
    }

    #[test]
    fn settings_round_trip_and_a_missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_folder(&dir.path().join("config"));
        assert_eq!(file.load().settings, Settings::default());
        file.save(&saved()).unwrap();
        assert_eq!(
            file.load(),
            Loaded {
                settings: saved(),
                recovered: None
            }
        );
        // Nothing else is left in the folder (no stray temporary file).
        let names: Vec<String> = std::fs::read_dir(dir.path().join("config"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["settings.json"]);
    }

    #[test]
    fn corrupt_empty_and_future_files_are_kept_aside_and_defaults_used() {
        for (content, reason) in [
            (
                &b"{\"version\": 1, \"connections\": [tru"[..],
                "not valid settings JSON",
            ),
            (&b""[..], "empty"),
            (&b"{\"version\": 99}"[..], "newer Taskdeck"),
            (&b"\xff\xfe garbage"[..], "not valid settings JSON"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let file = SettingsFile::in_folder(dir.path());
            std::fs::write(file.path(), content).unwrap();
            let loaded = file.load();
            assert_eq!(loaded.settings, Settings::default());
            let recovered = loaded.recovered.expect("told once");
            assert!(recovered.reason.contains(reason), "{}", recovered.reason);
            assert_eq!(
                std::fs::read(&recovered.kept_at).unwrap(),
                content,
                "kept aside intact"
            );
            assert!(recovered.message().contains("default settings"));
            // The next start is clean: no file, no notice.
            assert_eq!(file.load().recovered, None);
            file.save(&saved()).unwrap();
            assert_eq!(file.load().settings, saved());
        }
    }

    #[test]
    fn an_interrupted_save_leaves_the_old_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_folder(dir.path());
        file.save(&saved()).unwrap();
        // A save that died before its rename leaves a temporary file beside
        // the settings; the settings themselves are untouched.
        std::fs::write(dir.path().join(".tmpXYZ"), b"{\"version\": 1, \"conn").unwrap();
        assert_eq!(file.load().settings, saved());
        assert_eq!(file.load().recovered, None);
    }

    #[test]
    fn settings_are_the_store_entries_one_per_field() {
        let entries = saved().to_entries();
        let keys: Vec<&str> = entries.keys().map(String::as_str).collect();
        assert_eq!(keys, ["version", "notifications", "connections", "views"]);
        assert_eq!(Settings::from_entries(entries).unwrap(), saved());
        // A store missing a field (an older file) reads it as the default.
        let mut older = saved().to_entries();
        older.remove("views");
        assert!(Settings::from_entries(older).unwrap().views.is_empty());
    }

    #[test]
    fn no_secret_is_ever_a_setting() {
        let text = serde_json::to_string(&saved()).unwrap().to_lowercase();
        for word in ["secret", "token", "password"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
}
