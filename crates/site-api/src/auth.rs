//! Tokens, the caller's identity and the Sites they have a role on.

use serde::{Deserialize, Serialize};

/// `POST /api/oauth/token` success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// A user's role on one Site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SiteRole {
    /// May cancel tasks and edit schedules.
    SiteAdministrator,
    /// Sees the queue read-only (and may trigger tasks).
    SiteUser,
}

impl SiteRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::SiteAdministrator => "site_administrator",
            SiteRole::SiteUser => "site_user",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<SiteRole> {
        [SiteRole::SiteAdministrator, SiteRole::SiteUser]
            .into_iter()
            .find(|role| role.as_str() == text)
    }

    /// True if and only if the role may cancel tasks and edit schedules.
    pub fn is_admin(self) -> bool {
        self == SiteRole::SiteAdministrator
    }
}

/// A Site the caller has a role on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteMembership {
    /// The Site id, `[a-z0-9-]{1,64}`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The caller's role there.
    pub role: SiteRole,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The registration owner's email.
    pub email: String,
    /// The owner's display name.
    pub display_name: String,
    /// The app registration the token was issued to.
    pub client_id: String,
    /// The Sites the owner has a role on.
    pub sites: Vec<SiteMembership>,
}

/// `GET /api/v1/sites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SitesResponse {
    /// Only Sites where the caller has a role.
    pub sites: Vec<SiteMembership>,
}

impl std::str::FromStr for SiteRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SiteRole::parse(s).ok_or_else(|| format!("unknown role {s:?}"))
    }
}

/// `POST /api/oauth/token`, form-encoded (RFC 6749 section 4.4). The client id
/// and secret may come in HTTP Basic auth instead of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// Always `client_credentials`.
    pub grant_type: String,
    /// The app registration's client id (unless sent in HTTP Basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The app registration's client secret (unless sent in HTTP Basic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl TokenRequest {
    /// The grant type of the client credentials flow.
    pub const CLIENT_CREDENTIALS: &'static str = "client_credentials";

    /// A request carrying the id and secret in the form.
    pub fn client_credentials(client_id: &str, client_secret: &str) -> TokenRequest {
        TokenRequest {
            grant_type: TokenRequest::CLIENT_CREDENTIALS.to_owned(),
            client_id: Some(client_id.to_owned()),
            client_secret: Some(client_secret.to_owned()),
        }
    }
}

/// `POST /api/oauth/revoke`, form-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeRequest {
    /// The access token to revoke.
    pub token: String,
}
