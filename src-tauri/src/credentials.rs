//! Client secrets in the OS keyring (Secret Service, Keychain, Credential
//! Manager) and nowhere else: never in a file, a log or the WebView.

use crate::error::{Error, Result};

/// The keyring service name our entries are filed under.
pub const KEYRING_SERVICE: &str = "dev.taskdeck.console";

/// One connection's client secret in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The connection it belongs to.
    pub connection_id: String,
    /// The registration's client id.
    pub client_id: String,
}

impl SecretRef {
    /// The keyring account name: `<connection id>/<client id>`.
    pub fn account(&self) -> String {
        format!("{}/{}", self.connection_id, self.client_id)
    }

    fn entry(&self) -> Result<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, &self.account()).map_err(keyring_error)
    }

    /// Stores `secret`, replacing any earlier one. Blocking: call it off the
    /// async workers.
    pub fn store(&self, secret: &str) -> Result<()> {
        self.entry()?.set_password(secret).map_err(keyring_error)
    }

    /// Removes the secret; an entry already gone is fine. Blocking.
    pub fn delete(&self) -> Result<()> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(keyring_error(error)),
        }
    }

    /// Reads the secret back. Blocking.
    pub fn load(&self) -> Result<String> {
        self.entry()?.get_password().map_err(keyring_error)
    }
}

fn keyring_error(error: keyring::Error) -> Error {
    Error::Keyring(error.to_string())
}
