//! The embedded Demo Site: started in-process on a free loopback port on
//! first launch, its admin credentials kept in the OS keyring like any other.

use std::path::PathBuf;

use site_api::SiteRole;
use taskdeck_ipc::KeyringState;
use taskdeck_site::demo::{self, DemoOptions};
use url::Url;

use crate::credentials::SecretRef;
use crate::error::{Error, Result};
use crate::site_client::{SecretSource, SiteClient};

/// The connection id of the Demo Site.
pub const DEMO_CONNECTION_ID: &str = "demo";

/// A started Demo Site and a client acting as its Site Administrator.
pub struct DemoConnection {
    /// The running server.
    pub demo: demo::Demo,
    /// A client of it.
    pub client: SiteClient,
    /// Whether the secret went to the keyring.
    pub keyring: KeyringState,
}

/// Set to `HOST:PORT` to have the Demo Site listen there instead of on a
/// free loopback port (to reach it with other tools, and in tests).
pub const LISTEN_VARIABLE: &str = "TASKDECK_DEMO_LISTEN";

/// The file in the Demo Site's folder naming the client id whose secret
/// the keyring holds (not secret): the next launch removes that entry, so
/// the keyring holds one demo secret, not one per launch.
const FILED_CLIENT_ID: &str = "keyring-client-id";

/// Starts the Demo Site with its data in `data_dir` and files its admin
/// secret in the keyring, in place of the last launch's. Without a usable
/// keyring the demo still runs, its throw-away secret kept in memory, and
/// `keyring` says why.
pub async fn start(data_dir: PathBuf) -> Result<DemoConnection> {
    let filed = data_dir.join(FILED_CLIENT_ID);
    let mut options = DemoOptions {
        data_dir: Some(data_dir),
        ..DemoOptions::default()
    };
    if let Ok(listen) = std::env::var(LISTEN_VARIABLE) {
        options.listen = listen.parse().map_err(|e| {
            Error::Demo(format!(
                "{LISTEN_VARIABLE}={listen:?} is not HOST:PORT: {e}"
            ))
        })?;
    }
    let admin = options
        .registration(SiteRole::SiteAdministrator)
        .cloned()
        .ok_or_else(|| Error::Demo("the demo has no administrator".to_owned()))?;
    let secret = demo_secret(admin.client_id.clone());
    // The secret is filed while the Site starts: neither waits for the other.
    let filing = {
        let secret = secret.clone();
        let value = admin.client_secret.clone();
        tokio::task::spawn_blocking(move || file_secret(&secret, &value, &filed))
    };
    let (demo, stored) = tokio::join!(demo::start(options), filing);
    let demo = demo.map_err(|e| Error::Demo(e.to_string()))?;
    let stored = stored.map_err(Error::from).and_then(|result| result);
    let (keyring, source) = match stored {
        Ok(()) => (KeyringState::Available, SecretSource::Keyring(secret)),
        Err(error) => {
            tracing::warn!(%error, "no usable OS keyring; the demo secret stays in memory");
            (
                KeyringState::Unavailable {
                    reason: error.to_string(),
                },
                SecretSource::Memory(admin.client_secret.clone()),
            )
        }
    };
    let base = Url::parse(&demo.server.url()).map_err(|e| Error::Demo(e.to_string()))?;
    let client = SiteClient::new(base, admin.client_id, source, None)?;
    Ok(DemoConnection {
        demo,
        client,
        keyring,
    })
}

/// Files `value` as `secret` (checked by reading it back) and removes the
/// secret the last launch filed, whose client id `filed` names. Blocking.
fn file_secret(secret: &SecretRef, value: &str, filed: &std::path::Path) -> Result<()> {
    let last = std::fs::read_to_string(filed)
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty() && *id != secret.client_id);
    if let Some(client_id) = last {
        if let Err(error) = demo_secret(client_id).delete() {
            tracing::warn!(%error, "the last launch's demo secret stays in the keyring");
        }
    }
    crate::connections::store_and_check(secret, value)?;
    // The Site may be creating its folder at this very moment.
    let written = filed
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(filed, &secret.client_id));
    if let Err(error) = written {
        tracing::warn!(%error, "the next launch cannot remove this demo secret");
    }
    Ok(())
}

/// The keyring entry of the Demo Site's secret for `client_id`.
fn demo_secret(client_id: String) -> SecretRef {
    SecretRef {
        connection_id: DEMO_CONNECTION_ID.to_owned(),
        client_id,
    }
}
