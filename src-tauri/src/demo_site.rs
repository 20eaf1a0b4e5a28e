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

/// Starts the Demo Site with its data in `data_dir` and files its admin
/// secret in the keyring. Without a usable keyring the demo still runs, its
/// throw-away secret kept in memory, and `keyring` says why.
pub async fn start(data_dir: PathBuf) -> Result<DemoConnection> {
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
    let demo = demo::start(options)
        .await
        .map_err(|e| Error::Demo(e.to_string()))?;
    let admin = demo.registration(SiteRole::SiteAdministrator).clone();
    let secret = SecretRef {
        connection_id: DEMO_CONNECTION_ID.to_owned(),
        client_id: admin.client_id.clone(),
    };
    let stored = {
        let secret = secret.clone();
        let value = admin.client_secret.clone();
        tokio::task::spawn_blocking(move || crate::connections::store_and_check(&secret, &value))
            .await
            .map_err(Error::from)
            .and_then(|result| result)
    };
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
