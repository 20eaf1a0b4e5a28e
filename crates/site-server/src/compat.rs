//! Serving an older revision of the Site API: a test-mode server started
//! with `api_revision = "1.0"` answers as a 1.0 server does, so clients
//! (the desktop) are tested against a Site that does not know 1.1 — its
//! list parameters are a 400, its new routes a 404.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;

use crate::error::AppError;

/// The revision of the contract a server answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ApiRevision {
    /// 1.0: no scope, date or Audit Service filter, no facets, no batch.
    #[serde(rename = "1.0")]
    V1_0,
    /// 1.1, the current one.
    #[default]
    #[serde(rename = "1.1")]
    V1_1,
}

/// The list parameters revision 1.1 added.
const LIST_PARAMETERS_1_1: [&str; 4] = ["scope", "since", "until", "audit_service"];

/// `router` answering as a server of `revision`.
pub fn serve_revision(router: Router, revision: ApiRevision) -> Router {
    match revision {
        ApiRevision::V1_1 => router,
        ApiRevision::V1_0 => router.layer(middleware::from_fn(as_revision_1_0)),
    }
}

async fn as_revision_1_0(request: Request, next: Next) -> Response {
    match refused_by_1_0(request.uri().path(), request.uri().query()) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

/// What a 1.0 server answers to a request for `path?query` that only 1.1
/// serves; `None` for what 1.0 serves too.
fn refused_by_1_0(path: &str, query: Option<&str>) -> Option<AppError> {
    if path.ends_with("/active-tasks/facets") || path.ends_with("/tasks/batch") {
        return Some(AppError::NotFound(
            "there is nothing at this path".to_owned(),
        ));
    }
    if !path.ends_with("/active-tasks") {
        return None;
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    pairs
        .into_iter()
        .find(|(name, _)| LIST_PARAMETERS_1_1.contains(&name.as_str()))
        .map(|(name, _)| AppError::InvalidRequest(format!("unknown query parameter {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1_0_server_refuses_what_1_1_added_and_serves_the_rest() {
        let list = "/api/v1/sites/hq/active-tasks";
        assert!(refused_by_1_0(list, None).is_none());
        assert!(refused_by_1_0(list, Some("status=queued&q=scope")).is_none());
        for query in [
            "scope=Segment%20A",
            "since=2026-01-01T00:00:00Z",
            "until=x",
            "audit_service=as-1",
        ] {
            let refused = refused_by_1_0(list, Some(query)).expect(query);
            assert!(matches!(refused, AppError::InvalidRequest(_)), "{query}");
        }
        for path in [
            "/api/v1/sites/hq/active-tasks/facets",
            "/api/v1/sites/hq/tasks/batch",
        ] {
            assert!(matches!(
                refused_by_1_0(path, None),
                Some(AppError::NotFound(_))
            ));
        }
        assert!(refused_by_1_0("/api/v1/sites/hq/scan-log", Some("scope=x")).is_none());
    }
}
