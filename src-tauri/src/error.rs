//! The desktop backend's errors, each with a sentence a person understands.
//!
//! They cross the IPC boundary as [`taskdeck_ipc::UiError`]: a kind the UI
//! can act on and the sentence, never a secret or a raw debug dump.

use taskdeck_ipc::{ErrorKind, UiError};

/// What can go wrong in the backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Site server did not answer (refused, timed out, DNS).
    #[error("The Site server at {url} cannot be reached: {detail}")]
    Unreachable {
        /// The server.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The TLS handshake or certificate check failed.
    #[error("The Site server's TLS certificate was not accepted: {0}")]
    Tls(String),
    /// The client id or secret was refused, or the registration expired.
    #[error("The Site refused the app registration's credentials: {0}")]
    CredentialsRejected(String),
    /// The app registration expired: its owner must create a new one.
    #[error("The app registration has expired; ask its owner for a new one: {0}")]
    RegistrationExpired(String),
    /// No such Site, task or schedule for this user.
    #[error("Not found on the Site: {0}")]
    NotFound(String),
    /// The role does not allow the call.
    #[error("Your role on this Site does not allow that: {0}")]
    Forbidden(String),
    /// 429 from the server.
    #[error("The Site is rate limiting this app; retrying in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next try.
        retry_after_secs: u64,
    },
    /// 5xx from the server.
    #[error("The Site server failed ({status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's sentence.
        message: String,
    },
    /// The Site answers revision 1.0 of the API: it refused a filter or
    /// the facets that 1.1 added.
    #[error("This Site's server speaks Site API 1.0: it cannot filter by scope, start date or Audit Service, nor count the values of a filter ({0})")]
    OlderSite(String),
    /// An answer the contract does not allow.
    #[error("The Site server sent an unexpected answer: {0}")]
    UnexpectedResponse(String),
    /// The OS keyring failed.
    #[error("The OS keyring cannot be used: {0}")]
    Keyring(String),
    /// What the user typed cannot be used.
    #[error("{0}")]
    InvalidInput(String),
    /// The settings file could not be written.
    #[error("Your settings could not be saved: {0}")]
    Settings(String),
    /// The embedded Demo Site could not start.
    #[error("The Demo Site could not start: {0}")]
    Demo(String),
    /// The desktop could not open a link.
    #[error("The link could not be opened: {0}")]
    Desktop(String),
    /// A file could not be read or written.
    #[error("A file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    /// Work the app ran in the background stopped before it answered.
    #[error("The app stopped a piece of its work before it finished: {0}")]
    Interrupted(#[from] tokio::task::JoinError),
}

impl Error {
    /// The kind the UI distinguishes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::Tls(_) => ErrorKind::Tls,
            Error::CredentialsRejected(_) => ErrorKind::CredentialsRejected,
            Error::RegistrationExpired(_) => ErrorKind::RegistrationExpired,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Server { .. } => ErrorKind::Server,
            Error::OlderSite(_) => ErrorKind::OlderSite,
            Error::UnexpectedResponse(_) => ErrorKind::UnexpectedResponse,
            Error::Keyring(_) => ErrorKind::Keyring,
            Error::Demo(_) => ErrorKind::Demo,
            Error::Settings(_) => ErrorKind::Settings,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Desktop(_) => ErrorKind::Desktop,
            Error::Io(_) => ErrorKind::Io,
            Error::Interrupted(_) => ErrorKind::Interrupted,
        }
    }

    /// The error as the UI shows it.
    pub fn to_ui(&self) -> UiError {
        UiError {
            kind: self.kind(),
            message: self.to_string(),
        }
    }
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.to_ui().serialize(serializer)
    }
}

/// The backend's result type.
pub type Result<T> = std::result::Result<T, Error>;
