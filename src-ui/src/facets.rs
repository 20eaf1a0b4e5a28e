//! The filter menus' counts (Site API 1.1 facets), as plain data: which
//! values a menu offers and with what count. A value in force stays in its
//! menu even when no task has it now, a value that no task has is not
//! offered (except the closed sets of kinds, statuses and target types,
//! whose every value stays, counted 0), and the order is the Site's: by
//! count, most first.

use std::collections::HashMap;

use site_api::{FacetField, FacetsResponse};

/// The fields whose counts the filter menus show, in the order they are read.
pub const MENU_FIELDS: [FacetField; 6] = [
    FacetField::Status,
    FacetField::Kind,
    FacetField::TargetType,
    FacetField::Initiator,
    FacetField::Scope,
    FacetField::AuditService,
];

/// The most values a menu lists of an open-ended field (scopes,
/// initiators); the search box reaches the others.
pub const MENU_VALUES: usize = 12;

/// The facets of the list as last read, by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    by_field: HashMap<FacetField, FacetsResponse>,
}

impl FacetCounts {
    /// The counts of the answers `facets`.
    pub fn new(facets: Vec<FacetsResponse>) -> FacetCounts {
        FacetCounts {
            by_field: facets.into_iter().map(|f| (f.field, f)).collect(),
        }
    }

    /// True until a reading brought counts.
    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty()
    }

    /// How many tasks have `value` of `field`: `None` while not counted.
    pub fn count(&self, field: FacetField, value: &str) -> Option<u64> {
        self.by_field.get(&field).map(|facet| {
            facet
                .values
                .iter()
                .find(|v| v.value.eq_ignore_ascii_case(value))
                .map_or(0, |v| v.count)
        })
    }

    /// How many matching tasks `field`'s counts cover (its own filter
    /// left out): `None` while not counted.
    pub fn total(&self, field: FacetField) -> Option<u64> {
        self.by_field.get(&field).map(|facet| facet.total)
    }

    /// The options of an open-ended field's menu (scope, initiator, Audit
    /// Service): the values that exist, most tasks first, at most `limit`,
    /// and then each value of `in_force` the Site did not list (count 0:
    /// a filter in force never vanishes from its menu).
    pub fn options(&self, field: FacetField, in_force: &[&str], limit: usize) -> Vec<MenuOption> {
        let mut options: Vec<MenuOption> = self
            .by_field
            .get(&field)
            .map(|facet| {
                facet
                    .values
                    .iter()
                    .take(limit)
                    .map(|v| MenuOption {
                        value: v.value.clone(),
                        count: Some(v.count),
                    })
                    .collect()
            })
            .unwrap_or_default();
        for value in in_force {
            if !options.iter().any(|o| o.value.eq_ignore_ascii_case(value)) {
                // As the Site stores it, when it counted it.
                let stored = self.by_field.get(&field).and_then(|facet| {
                    facet
                        .values
                        .iter()
                        .find(|v| v.value.eq_ignore_ascii_case(value))
                });
                options.push(MenuOption {
                    value: stored.map_or_else(|| (*value).to_owned(), |v| v.value.clone()),
                    count: self.count(field, value),
                });
            }
        }
        options
    }
}

/// One value a filter menu offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuOption {
    /// The value as the Site stores it.
    pub value: String,
    /// How many matching tasks have it; `None` while not counted.
    pub count: Option<u64>,
}

/// A count as a menu shows it beside a value: `"1,204"`, nothing while
/// not counted.
pub fn count_text(count: Option<u64>) -> String {
    count.map(crate::views::grouped).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facet(field: FacetField, values: &[(&str, u64)]) -> FacetsResponse {
        FacetsResponse {
            field,
            values: values
                .iter()
                .map(|(value, count)| site_api::FacetValue {
                    value: (*value).to_owned(),
                    count: *count,
                })
                .collect(),
            total: values.iter().map(|(_, c)| c).sum(),
        }
    }

    #[test]
    fn a_menu_offers_the_values_that_exist_most_first_and_keeps_the_one_in_force() {
        let counts = FacetCounts::new(vec![facet(
            FacetField::Scope,
            &[
                ("Segment HQ-LAN", 4000),
                ("Segment Branch", 12),
                ("Cloud", 1),
            ],
        )]);
        let options = counts.options(FacetField::Scope, &[], 2);
        assert_eq!(
            options,
            [
                MenuOption {
                    value: "Segment HQ-LAN".to_owned(),
                    count: Some(4000)
                },
                MenuOption {
                    value: "Segment Branch".to_owned(),
                    count: Some(12)
                },
            ]
        );
        // A scope in force that no task has now stays, counted 0; one the
        // Site listed (in another case) is not listed twice; one beyond the
        // menu's first values comes as the Site stores it, with its count.
        let options = counts.options(
            FacetField::Scope,
            &["Segment Old", "segment hq-lan", "CLOUD"],
            2,
        );
        assert_eq!(options.len(), 4);
        assert_eq!(options[2].value, "Segment Old");
        assert_eq!(options[2].count, Some(0));
        assert_eq!(options[3].value, "Cloud");
        assert_eq!(options[3].count, Some(1));
        // A field not read yet: only what is in force, uncounted.
        let options = counts.options(FacetField::Initiator, &["Schedule"], 5);
        assert_eq!(
            options,
            [MenuOption {
                value: "Schedule".to_owned(),
                count: None
            }]
        );
    }

    #[test]
    fn a_value_no_task_has_counts_zero_once_its_field_is_read() {
        let counts = FacetCounts::new(vec![facet(FacetField::Status, &[("queued", 7)])]);
        assert_eq!(counts.count(FacetField::Status, "queued"), Some(7));
        assert_eq!(counts.count(FacetField::Status, "running"), Some(0));
        assert_eq!(counts.count(FacetField::Kind, "scan"), None);
        assert!(!counts.is_empty());
        assert_eq!(counts.total(FacetField::Status), Some(7));
        assert_eq!(counts.total(FacetField::Kind), None);
        assert!(FacetCounts::default().is_empty());
        assert_eq!(count_text(Some(12_345)), "12,345");
        assert_eq!(count_text(None), "");
    }
}
