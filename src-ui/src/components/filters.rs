//! Search and Filter: one box over target, task, scope and initiator
//! (debounced), and a panel of filters (status, kind, target type,
//! initiator, scope, start date, Audit Service), each value with its count
//! of matching tasks, shown as removable chips while in force.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use site_api::{TargetType, TaskKind, TaskStatus};
use taskdeck_ipc::{InitiatorFilter, StartedFilter};

use site_api::FacetField;

use crate::facets::{self, FacetCounts, MenuOption, MENU_VALUES};
use crate::format::{self, STARTED_PRESETS};

/// How long typing must pause before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// A text field for `target`: what is typed, and the input handler that
/// writes it to `target` once typing pauses. A value set elsewhere (a view
/// applied) comes into the field.
fn debounced(target: RwSignal<String>) -> (RwSignal<String>, impl Fn(leptos::ev::Event) + Copy) {
    let typed = RwSignal::new(target.get_untracked());
    Effect::new(move |_| {
        let wanted = target.get();
        if typed.get_untracked().trim() != wanted.trim() {
            typed.set(wanted);
        }
    });
    let on_input = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        typed.set(text.clone());
        set_timeout(
            move || {
                if typed.get_untracked() == text {
                    target.set(text);
                }
            },
            DEBOUNCE,
        );
    };
    (typed, on_input)
}

/// The search box: writes `search` once typing pauses.
#[component]
pub fn SearchBox(
    search: RwSignal<String>,
    /// Its test hook.
    #[prop(default = "search-input")]
    testid: &'static str,
    /// What it searches, for the placeholder and screen readers.
    #[prop(default = "the Active tasks")]
    over: &'static str,
) -> impl IntoView {
    let (typed, on_input) = debounced(search);
    view! {
        <input
            type="search"
            class="search"
            data-testid=testid
            placeholder="Search target, task, scope, initiator"
            aria-label=format!("Search {over}")
            prop:value=typed
            on:input=on_input
        />
    }
}

/// A removable chip for a filter in force.
fn chip(label: String, remove: impl Fn() + 'static) -> impl IntoView {
    view! {
        <button class="chip-filter" data-testid="filter-chip" title="Remove this filter" on:click=move |_| remove()>
            {format!("{label} ✕")}
        </button>
    }
}

/// The name of the Audit Service `id` among `services` (its id if unknown).
fn service_name(services: &[site_api::AuditService], id: &str) -> String {
    services
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| id.to_owned(), |s| s.name.clone())
}

/// A count beside a menu's value (nothing while not counted); values no
/// matching task has are dimmed.
fn count_badge(
    count: impl Fn() -> Option<u64> + Send + Sync + Copy + 'static,
    testid: String,
) -> impl IntoView {
    view! {
        <span
            class="facet-count"
            class:facet-none=move || count() == Some(0)
            data-testid=testid
        >
            {move || facets::count_text(count())}
        </span>
    }
}

/// A radio for one value of a filter menu (`option`), shown as `label`
/// with its count: checked while `is_chosen(value)`, and `choose(value)`
/// when picked. Its count's hook is `{testid}-count`.
fn value_radio(
    group: &'static str,
    testid: String,
    option: MenuOption,
    label: String,
    is_chosen: impl Fn(&str) -> bool + Send + Sync + 'static,
    choose: impl Fn(String) + 'static,
) -> impl IntoView {
    let count = option.count;
    let count_testid = format!("{testid}-count");
    let value = option.value;
    let checked = {
        let value = value.clone();
        move || is_chosen(&value)
    };
    let pick = {
        let value = value.clone();
        move |_| choose(value.clone())
    };
    view! {
        <label class="filter-option">
            <input type="radio" name=group data-testid=testid data-value=value
                prop:checked=checked on:change=pick />
            {label}
            {count_badge(move || count, count_testid)}
        </label>
    }
}

/// A checkbox that adds or removes `value` from `set`, with the count of
/// matching tasks that have it.
fn set_box<T: Ord + Copy + Send + Sync + 'static>(
    set: RwSignal<BTreeSet<T>>,
    value: T,
    testid: String,
    label: &'static str,
    count: impl Fn() -> Option<u64> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let count_testid = format!("{testid}-count");
    view! {
        <label class="filter-option">
            <input
                type="checkbox"
                data-testid=testid
                prop:checked=move || set.with(|set| set.contains(&value))
                on:change=move |_| set.update(|set| {
                    if !set.remove(&value) {
                        set.insert(value);
                    }
                })
            />
            {label}
            {count_badge(count, count_testid)}
        </label>
    }
}

/// The filters of the Active tasks list, one signal each.
#[derive(Clone, Copy)]
pub struct FilterSignals {
    /// Only these statuses.
    pub statuses: RwSignal<BTreeSet<TaskStatus>>,
    /// Only these kinds.
    pub kinds: RwSignal<BTreeSet<TaskKind>>,
    /// Only these target types.
    pub target_types: RwSignal<BTreeSet<TargetType>>,
    /// Only this initiator.
    pub initiator: RwSignal<Option<InitiatorFilter>>,
    /// Only this whole scope.
    pub scope: RwSignal<String>,
    /// Only tasks started in this range.
    pub started: RwSignal<Option<StartedFilter>>,
    /// Only the tasks this Audit Service (its id) runs.
    pub audit_service: RwSignal<Option<String>>,
}

/// What the filter menu knows of the shown Site beyond the filters: the
/// counts of each value, its Audit Services (for their names), and
/// whether it speaks Site API 1.0.
#[derive(Clone, Copy)]
pub struct FilterContext {
    /// The counts of the values, as last read.
    pub counts: RwSignal<FacetCounts>,
    /// The Site's Audit Services.
    pub services: RwSignal<Vec<site_api::AuditService>>,
    /// The Site refused a 1.1 filter: scope, start date and Audit Service are off.
    pub older_site: Signal<bool>,
    /// The connection's user (for "Me").
    pub me: Signal<Option<String>>,
    /// How many active tasks match the filters and search in force (the
    /// Site's count); `None` for the whole queue.
    pub matching: Signal<Option<u64>>,
}

/// The sentence the menu shows for a Site that speaks Site API 1.0.
pub const OLDER_SITE_NOTE: &str = "This Site's server speaks Site API 1.0: it cannot filter by \
     scope, start date or Audit Service, nor count the values below, so those filters are off \
     for it. They come back once its server runs Site API 1.1.";

/// The Filter button, its panel, and the chips of the filters in force:
/// status, kind, target type, initiator (me, Schedule, or an email), scope,
/// start date and Audit Service, each value with the count of matching
/// tasks that have it (the Site's facets, counted without the field's own
/// filter). `open` is whether the panel shows.
#[component]
pub fn FilterMenu(
    filters: FilterSignals,
    site: FilterContext,
    open: RwSignal<bool>,
) -> impl IntoView {
    let FilterSignals {
        statuses,
        kinds,
        target_types,
        initiator,
        scope,
        started,
        audit_service,
    } = filters;
    let FilterContext {
        counts,
        services,
        older_site,
        me,
        matching,
    } = site;
    let email = RwSignal::new(String::new());
    let active = move || {
        statuses.with(BTreeSet::len)
            + kinds.with(BTreeSet::len)
            + target_types.with(BTreeSet::len)
            + initiator.with(|i| usize::from(i.is_some()))
            + scope.with(|s| usize::from(!s.trim().is_empty()))
            + started.with(|s| usize::from(s.is_some()))
            + audit_service.with(|s| usize::from(s.is_some()))
    };
    let service_name = move |id: &str| services.with(|list| service_name(list, id));
    // A filter of 1.1 on a 1.0 Site is kept (the view keeps it) but not applied.
    let unapplied = move |label: String| {
        if older_site.get() {
            format!("{label} (not applied)")
        } else {
            label
        }
    };
    let chips = move || {
        let mut chips = Vec::new();
        for status in statuses.get() {
            chips.push(
                chip(format!("Status: {}", status.label()), move || {
                    statuses.update(|set| {
                        set.remove(&status);
                    })
                })
                .into_any(),
            );
        }
        for kind in kinds.get() {
            chips.push(
                chip(format!("Task: {}", kind.title()), move || {
                    kinds.update(|set| {
                        set.remove(&kind);
                    })
                })
                .into_any(),
            );
        }
        for target_type in target_types.get() {
            chips.push(
                chip(format!("Target: {}", target_type.title()), move || {
                    target_types.update(|set| {
                        set.remove(&target_type);
                    })
                })
                .into_any(),
            );
        }
        if let Some(who) = initiator.get() {
            let label = match who {
                InitiatorFilter::Me => "Initiator: me".to_owned(),
                InitiatorFilter::Schedule => "Initiator: Schedule".to_owned(),
                InitiatorFilter::Email(email) => format!("Initiator: {email}"),
            };
            chips.push(chip(label, move || initiator.set(None)).into_any());
        }
        let typed_scope = scope.get();
        if !typed_scope.trim().is_empty() {
            let label = unapplied(format!("Scope: {}", typed_scope.trim()));
            chips.push(chip(label, move || scope.set(String::new())).into_any());
        }
        if let Some(range) = started.get() {
            let label = unapplied(format!(
                "Started {}",
                format::started_text(range, super::dom::local_offset())
            ));
            chips.push(chip(label, move || started.set(None)).into_any());
        }
        if let Some(id) = audit_service.get() {
            let label = unapplied(format!("Audit Service: {}", service_name(&id)));
            chips.push(chip(label, move || audit_service.set(None)).into_any());
        }
        chips
    };
    let initiator_choice = move |value: &'static str| {
        initiator.with(|i| {
            matches!(
                (i, value),
                (None, "anyone")
                    | (Some(InitiatorFilter::Me), "me")
                    | (Some(InitiatorFilter::Schedule), "schedule")
                    | (Some(InitiatorFilter::Email(_)), "email")
            )
        })
    };
    let set_initiator = move |value: &'static str| {
        initiator.set(match value {
            "me" => Some(InitiatorFilter::Me),
            "schedule" => Some(InitiatorFilter::Schedule),
            "email" => {
                let typed = email.get_untracked();
                (!typed.trim().is_empty()).then(|| InitiatorFilter::Email(typed.trim().to_owned()))
            }
            _ => None,
        })
    };
    let initiator_count = move |value: &'static str| {
        move || match value {
            "me" => me
                .get()
                .and_then(|me| counts.with(|c| c.count(FacetField::Initiator, &me))),
            "schedule" => counts.with(|c| c.count(FacetField::Initiator, "Schedule")),
            "anyone" => counts.with(|c| c.total(FacetField::Initiator)),
            _ => None,
        }
    };
    let initiator_radio = move |value: &'static str, label: &'static str| {
        view! {
            <label class="filter-option">
                <input
                    type="radio"
                    name="initiator"
                    data-testid=format!("filter-initiator-{value}")
                    prop:checked=move || initiator_choice(value)
                    on:change=move |_| set_initiator(value)
                />
                {label}
                {count_badge(initiator_count(value), format!("filter-initiator-{value}-count"))}
            </label>
        }
    };
    // The emails that started most of the matching tasks, one click each.
    let initiator_emails = move || {
        let chosen = initiator.with(|i| match i {
            Some(InitiatorFilter::Email(email)) => vec![email.clone()],
            _ => Vec::new(),
        });
        let chosen: Vec<&str> = chosen.iter().map(String::as_str).collect();
        counts
            .with(|c| c.options(FacetField::Initiator, &chosen, MENU_VALUES))
            .into_iter()
            .filter(|option| option.value != "Schedule")
            .map(|option| {
                let label = option.value.clone();
                value_radio(
                    "initiator",
                    "filter-initiator-value".to_owned(),
                    option,
                    label,
                    move |value| initiator.with(|i| matches!(i, Some(InitiatorFilter::Email(e)) if e.eq_ignore_ascii_case(value))),
                    move |value| {
                        email.set(value.clone());
                        initiator.set(Some(InitiatorFilter::Email(value)));
                    },
                )
            })
            .collect_view()
    };
    let status_count = move |status: TaskStatus| {
        move || counts.with(|c| c.count(FacetField::Status, status.as_str()))
    };
    let kind_count =
        move |kind: TaskKind| move || counts.with(|c| c.count(FacetField::Kind, kind.as_str()));
    let target_count =
        move |t: TargetType| move || counts.with(|c| c.count(FacetField::TargetType, t.as_str()));
    view! {
        <div class="filter">
            <button
                class="button"
                data-testid="filter-button"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if active() > 0 { format!("Filter ({})", active()) } else { "Filter".to_owned() }}
            </button>
            <Show when=move || open.get()>
                <div class="filter-panel" data-testid="filter-panel" role="group" aria-label="Filters">
                    <Show when=move || older_site.get()>
                        <p class="filter-note" data-testid="filter-older-site" role="note">{OLDER_SITE_NOTE}</p>
                    </Show>
                    <fieldset>
                        <legend>"Status"</legend>
                        {set_box(statuses, TaskStatus::Queued, "filter-status-queued".to_owned(), TaskStatus::Queued.label(), status_count(TaskStatus::Queued))}
                        {set_box(statuses, TaskStatus::Running, "filter-status-running".to_owned(), TaskStatus::Running.label(), status_count(TaskStatus::Running))}
                    </fieldset>
                    <fieldset>
                        <legend>"Task"</legend>
                        {set_box(kinds, TaskKind::Scan, "filter-kind-scan".to_owned(), TaskKind::Scan.title(), kind_count(TaskKind::Scan))}
                        {set_box(kinds, TaskKind::Audit, "filter-kind-audit".to_owned(), TaskKind::Audit.title(), kind_count(TaskKind::Audit))}
                    </fieldset>
                    <fieldset>
                        <legend>"Target"</legend>
                        {TargetType::ALL
                            .into_iter()
                            .map(|t| set_box(target_types, t, format!("filter-target-{}", t.as_str()), t.title(), target_count(t)))
                            .collect_view()}
                    </fieldset>
                    <fieldset>
                        <legend>"Initiator"</legend>
                        {initiator_radio("anyone", "Anyone")}
                        {initiator_radio("me", "Me")}
                        {initiator_radio("schedule", "Schedule")}
                        {initiator_emails}
                        <label class="filter-option">
                            <input
                                type="radio"
                                name="initiator"
                                data-testid="filter-initiator-email"
                                aria-label="Started by this email"
                                prop:checked=move || initiator_choice("email")
                                on:change=move |_| set_initiator("email")
                            />
                            <input
                                type="email"
                                class="filter-email"
                                data-testid="filter-initiator-email-input"
                                placeholder="user@example.com"
                                aria-label="Initiator email"
                                prop:value=email
                                on:input=move |event| email.set(event_target_value(&event))
                                on:change=move |_| set_initiator("email")
                            />
                        </label>
                    </fieldset>
                    <ScopeField scope=scope counts=counts disabled=older_site />
                    <StartedField started=started disabled=older_site />
                    <AuditServiceField audit_service=audit_service counts=counts services=services disabled=older_site />
                </div>
            </Show>
        </div>
        <div class="chips">
            {chips}
            {move || matching.get().map(|n| view! {
                <span class="matching-count" data-testid="matching-count" role="status">
                    {format!("{} matching", crate::views::grouped(n))}
                </span>
            })}
        </div>
    }
}

/// The scope filter: the scopes of the matching tasks, most tasks first,
/// each a click away, and a field for any scope (the whole of it, in any
/// case), applied once typing pauses.
#[component]
fn ScopeField(
    scope: RwSignal<String>,
    counts: RwSignal<FacetCounts>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let (typed, on_input) = debounced(scope);
    let options = move || {
        let chosen = scope.get();
        let chosen = chosen.trim();
        let in_force: Vec<&str> = Some(chosen).filter(|c| !c.is_empty()).into_iter().collect();
        counts.with(|c| c.options(FacetField::Scope, &in_force, MENU_VALUES))
    };
    view! {
        <fieldset disabled=disabled>
            <legend>"Scope"</legend>
            <input
                type="text"
                class="filter-text"
                data-testid="filter-scope"
                list="filter-scopes"
                placeholder="Segment HQ-LAN"
                aria-label="Scope"
                prop:value=typed
                on:input=on_input
            />
            <datalist id="filter-scopes">
                {move || options().into_iter().map(|o| view! { <option value=o.value></option> }).collect_view()}
            </datalist>
            {move || options()
                .into_iter()
                .map(|option| {
                    let label = option.value.clone();
                    value_radio(
                        "scope",
                        "filter-scope-option".to_owned(),
                        option,
                        label,
                        move |value| scope.with(|s| s.trim().eq_ignore_ascii_case(value)),
                        move |value| scope.set(value),
                    )
                })
                .collect_view()}
        </fieldset>
    }
}

/// The Audit Service filter: the services running matching tasks, with
/// how many each runs, and every other service of the Site.
#[component]
fn AuditServiceField(
    audit_service: RwSignal<Option<String>>,
    counts: RwSignal<FacetCounts>,
    services: RwSignal<Vec<site_api::AuditService>>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let options = move || {
        let chosen = audit_service.get();
        let mut in_force: Vec<String> =
            services.with(|list| list.iter().map(|s| s.id.clone()).collect());
        in_force.extend(chosen.filter(|id| !in_force.contains(id)));
        let in_force: Vec<&str> = in_force.iter().map(String::as_str).collect();
        counts.with(|c| c.options(FacetField::AuditService, &in_force, usize::MAX))
    };
    let name = move |id: &str| services.with(|list| service_name(list, id));
    view! {
        <fieldset disabled=disabled>
            <legend>"Audit Service"</legend>
            <label class="filter-option">
                <input type="radio" name="audit-service" data-testid="filter-audit-service-any"
                    prop:checked=move || audit_service.with(Option::is_none)
                    on:change=move |_| audit_service.set(None) />
                "Any"
            </label>
            {move || options()
                .into_iter()
                .map(|option| {
                    let label = name(&option.value);
                    value_radio(
                        "audit-service",
                        format!("filter-audit-service-{}", option.value),
                        option,
                        label,
                        move |id| audit_service.with(|s| s.as_deref() == Some(id)),
                        move |id| audit_service.set(Some(id)),
                    )
                })
                .collect_view()}
        </fieldset>
    }
}

/// The start-date filter: ranges relative to now (which move with the
/// clock) or between two local times.
#[component]
fn StartedField(started: RwSignal<Option<StartedFilter>>, disabled: Signal<bool>) -> impl IntoView {
    let offset = super::dom::local_offset();
    let choice = move || match started.get() {
        None => "any".to_owned(),
        Some(StartedFilter::Between { .. }) => "between".to_owned(),
        Some(range) => STARTED_PRESETS
            .iter()
            .find(|(_, preset)| *preset == range)
            .map(|(choice, _)| (*choice).to_owned())
            .unwrap_or_else(|| "other".to_owned()),
    };
    let choose = move |event| {
        let value = event_target_value(&event);
        started.set(match value.as_str() {
            "any" => None,
            "between" => Some(StartedFilter::Between {
                from: None,
                to: None,
            }),
            "other" => started.get_untracked(),
            chosen => STARTED_PRESETS
                .iter()
                .find(|(choice, _)| *choice == chosen)
                .map(|(_, preset)| *preset),
        })
    };
    // A range from elsewhere (an imported view) that is no preset.
    let other = move || {
        (choice() == "other").then(|| {
            let text = started
                .get()
                .map(|range| format::started_text(range, offset))
                .unwrap_or_default();
            view! { <option value="other">{text}</option> }
        })
    };
    let end = move |from_end: bool| {
        let value = move || match started.get() {
            Some(StartedFilter::Between { from, to }) => (if from_end { from } else { to })
                .map(|at| format::datetime_local_value(at, offset))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let set = move |event| {
            let at = format::parse_datetime_local(&event_target_value(&event), offset);
            started.update(|range| {
                if let Some(StartedFilter::Between { from, to }) = range {
                    *(if from_end { from } else { to }) = at;
                }
            });
        };
        let (testid, label) = if from_end {
            ("filter-started-from", "Started from")
        } else {
            ("filter-started-to", "Started before")
        };
        view! {
            <label class="filter-option">
                {label}
                <input type="datetime-local" data-testid=testid aria-label=label prop:value=value on:change=set />
            </label>
        }
    };
    view! {
        <fieldset disabled=disabled>
            <legend>"Start date"</legend>
            <select data-testid="filter-started" aria-label="Started" prop:value=choice on:change=choose>
                <option value="any">"At any time"</option>
                {STARTED_PRESETS
                    .iter()
                    .map(|(value, preset)| view! { <option value=*value>{format::started_text(*preset, offset)}</option> })
                    .collect_view()}
                {other}
                <option value="between">"Between…"</option>
            </select>
            <Show when=move || choice() == "between">
                {end(true)}
                {end(false)}
            </Show>
        </fieldset>
    }
}
