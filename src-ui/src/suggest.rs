//! Suggestions for the New scan / New audit dialog: targets and scopes the
//! Site has seen lately (its queue, its logs) and the scopes its facets
//! count, the best first. Plain functions, tested without a window.

use std::collections::HashSet;

use site_api::{FacetsResponse, TargetType, Task};

/// How many suggestions a field offers.
pub const SUGGESTIONS: usize = 12;

/// Whether `candidate` goes with what was typed: any part of it, in any case.
fn matches(candidate: &str, typed: &str) -> bool {
    let typed = typed.trim().to_lowercase();
    typed.is_empty() || candidate.to_lowercase().contains(&typed)
}

/// Keeps the first of each value (in any case), at most [`SUGGESTIONS`].
fn distinct<'a>(values: impl Iterator<Item = &'a str>, typed: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .filter(|value| !value.trim().is_empty() && matches(value, typed))
        .filter(|value| seen.insert(value.to_lowercase()))
        .take(SUGGESTIONS)
        .map(str::to_owned)
        .collect()
}

/// The targets of type `target_type` among `recent` (newest first) that go
/// with `typed`.
pub fn targets(recent: &[Task], target_type: TargetType, typed: &str) -> Vec<String> {
    distinct(
        recent
            .iter()
            .filter(|task| task.target.target_type == target_type)
            .map(|task| task.target.name.as_str()),
        typed,
    )
}

/// The scopes that go with `typed`: first those `recent` tasks of
/// `target` ran in (newest first), then the Site's most common (its scope
/// facet), then other recent ones.
pub fn scopes(
    recent: &[Task],
    facet: Option<&FacetsResponse>,
    target: &str,
    typed: &str,
) -> Vec<String> {
    let target = target.trim().to_lowercase();
    let of_target = recent
        .iter()
        .filter(|task| !target.is_empty() && task.target.name.to_lowercase() == target)
        .map(|task| task.scope.as_str());
    let common = facet
        .into_iter()
        .flat_map(|facet| facet.values.iter().map(|value| value.value.as_str()));
    let others = recent.iter().map(|task| task.scope.as_str());
    distinct(of_target.chain(common).chain(others), typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use site_api::{FacetField, FacetValue};

    fn task(id: &str, target_type: TargetType, target: &str, scope: &str) -> Task {
        let id: site_api::TaskId = id.parse().expect("an id");
        Task {
            id,
            kind: id.kind,
            number: id.number,
            label: id.label(),
            target: site_api::Target {
                target_type,
                name: target.to_owned(),
            },
            start_date: "2026-12-03T09:14:03Z".parse().expect("a time"),
            scope: scope.to_owned(),
            initiator: site_api::Initiator::Schedule,
            schedule: None,
            status: site_api::TaskStatus::Queued,
            audit_service: None,
            running_since: None,
            progress: None,
            end_date: None,
            errors: 0,
        }
    }

    fn recent() -> Vec<Task> {
        vec![
            task("scan-9", TargetType::Device, "WS-0042", "Segment HQ-LAN"),
            task("scan-8", TargetType::Segment, "HQ-LAN", "Segment HQ-LAN"),
            task("scan-7", TargetType::Device, "ws-0042", "Segment Lab"),
            task("scan-6", TargetType::Device, "PRN-7", "Segment Print"),
        ]
    }

    #[test]
    fn targets_are_the_recent_ones_of_the_type_once_each() {
        assert_eq!(
            targets(&recent(), TargetType::Device, ""),
            vec!["WS-0042", "PRN-7"]
        );
        assert_eq!(targets(&recent(), TargetType::Device, "prn"), vec!["PRN-7"]);
        assert_eq!(targets(&recent(), TargetType::Segment, ""), vec!["HQ-LAN"]);
        assert!(targets(&recent(), TargetType::CloudResource, "").is_empty());
    }

    #[test]
    fn scopes_put_the_targets_own_first_then_the_sites_most_common() {
        let facet = FacetsResponse {
            field: FacetField::Scope,
            values: vec![
                FacetValue {
                    value: "Segment DMZ".to_owned(),
                    count: 90,
                },
                FacetValue {
                    value: "Segment HQ-LAN".to_owned(),
                    count: 40,
                },
            ],
            total: 130,
        };
        assert_eq!(
            scopes(&recent(), Some(&facet), "ws-0042", ""),
            vec![
                "Segment HQ-LAN",
                "Segment Lab",
                "Segment DMZ",
                "Segment Print"
            ]
        );
        assert_eq!(
            scopes(&recent(), Some(&facet), "", "dm"),
            vec!["Segment DMZ"]
        );
        assert_eq!(
            scopes(&recent(), None, "", ""),
            vec!["Segment HQ-LAN", "Segment Lab", "Segment Print"]
        );
    }
}
