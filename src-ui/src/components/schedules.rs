//! The Schedules page: every schedule of the Site (read by all); Site
//! Administrators create, enable/disable and delete them.

use leptos::prelude::*;
use site_api::{Schedule, ScheduleCreate, SchedulesResponse, Target, TargetType, TaskKind};
use taskdeck_ipc::{commands, request};

use super::session::{read_on, request_action};
use crate::bridge;

/// The page. `site_id` re-reads when another Site is shown.
#[component]
pub fn SchedulesPage(site_id: Signal<Option<String>>, is_admin: Signal<bool>) -> impl IntoView {
    let enable = request_action::<request::SetScheduleEnabled>();
    let delete = request_action::<request::DeleteSchedule>();
    let create = request_action::<request::CreateSchedule>();
    // Read again when another Site is shown and after each change.
    let read = read_on(
        move || {
            (
                site_id.get(),
                enable.version().get(),
                delete.version().get(),
                create.version().get(),
            )
        },
        |_| bridge::invoke::<SchedulesResponse>(commands::SCHEDULES),
    );
    let schedules = move || {
        read.get()
            .and_then(Result::ok)
            .map(|read| read.schedules)
            .unwrap_or_default()
    };
    // The last failure, of a change or of the reading.
    let error = move || {
        let failed = |value: Option<Result<(), String>>| value.and_then(Result::err);
        failed(enable.value().get().map(|r| r.map(drop)))
            .or_else(|| failed(delete.value().get()))
            .or_else(|| failed(create.value().get().map(|r| r.map(drop))))
            .or_else(|| read.get().and_then(Result::err))
    };
    let row = move |schedule: Schedule| {
        let confirm = RwSignal::new(false);
        let id = StoredValue::new(schedule.id.clone());
        let enabled = schedule.enabled;
        let toggle = move |_| {
            let args = request::SetScheduleEnabled {
                id: id.get_value(),
                enabled: !enabled,
            };
            enable.dispatch(args);
        };
        let delete = move |_| {
            if !confirm.get_untracked() {
                confirm.set(true);
                return;
            }
            let args = request::DeleteSchedule { id: id.get_value() };
            delete.dispatch(args);
        };
        view! {
            <tr data-testid="schedule-row" data-schedule-id=schedule.id.clone()>
                <td>{schedule.name.clone()}</td>
                <td>{schedule.kind.title()}</td>
                <td class="mono">{schedule.cron.clone()}</td>
                <td>{format!("{} ({})", schedule.target.name, schedule.target.target_type.title())}</td>
                <td>{schedule.scope.clone()}</td>
                <td>{schedule.next_run.map(super::dom::local_time).unwrap_or_else(|| "—".to_owned())}</td>
                <td>
                    <label class="filter-option">
                        <input type="checkbox" data-testid="schedule-enabled" prop:checked=enabled
                            disabled=move || !is_admin.get() on:change=toggle />
                        {if enabled { "Enabled" } else { "Disabled" }}
                    </label>
                </td>
                <td>
                    <Show when=move || is_admin.get()>
                        <button class="button button-danger" data-testid="schedule-delete" on:click=delete>
                            {move || if confirm.get() { "Delete? Click again" } else { "Delete" }}
                        </button>
                    </Show>
                </td>
            </tr>
        }
    };
    view! {
        <section class="page" data-testid="schedules-page">
            <Show when=move || error().is_some()>
                <div class="notice notice-error" role="alert">{error}</div>
            </Show>
            <Show when=move || is_admin.get()>
                <NewSchedule create=create />
            </Show>
            <table class="tasks" aria-label="Schedules">
                <thead>
                    <tr><th>"Name"</th><th>"Task"</th><th>"Cron"</th><th>"Target"</th><th>"Scope"</th><th>"Next run"</th><th>"State"</th><th></th></tr>
                </thead>
                <tbody>
                    <For each=schedules key=|s: &Schedule| format!("{s:?}") children=row />
                </tbody>
            </table>
        </section>
    }
}

/// The form that creates a schedule with `create`; its name is cleared once
/// created.
#[component]
fn NewSchedule(create: Action<request::CreateSchedule, Result<Schedule, String>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(TaskKind::Scan);
    let cron = RwSignal::new("0 * * * *".to_owned());
    let target_type = RwSignal::new(TargetType::Segment);
    let target = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let draft = ScheduleCreate {
            name: name.get_untracked(),
            kind: kind.get_untracked(),
            cron: cron.get_untracked(),
            target: Target {
                target_type: target_type.get_untracked(),
                name: target.get_untracked(),
            },
            scope: scope.get_untracked(),
            enabled: true,
        };
        create.dispatch(request::CreateSchedule { draft });
    };
    let text = move |label: &'static str, testid: &'static str, value: RwSignal<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" data-testid=testid prop:value=value
                    on:input=move |event| value.set(event_target_value(&event)) />
            </label>
        }
    };
    view! {
        <form class="schedule-form" data-testid="schedule-form" on:submit=submit>
            {text("Name", "schedule-name", name)}
            <label class="field">
                <span>"Task"</span>
                <select data-testid="schedule-kind" on:change=move |event| {
                    kind.set(if event_target_value(&event) == "audit" { TaskKind::Audit } else { TaskKind::Scan })
                }>
                    <option value="scan" selected=move || kind.get() == TaskKind::Scan>"Scan"</option>
                    <option value="audit" selected=move || kind.get() == TaskKind::Audit>"Audit"</option>
                </select>
            </label>
            {text("Cron (minute hour day month weekday)", "schedule-cron", cron)}
            <label class="field">
                <span>"Target type"</span>
                <select data-testid="schedule-target-type" on:change=move |event| {
                    target_type.set(match event_target_value(&event).as_str() {
                        "device" => TargetType::Device,
                        "cloud_resource" => TargetType::CloudResource,
                        _ => TargetType::Segment,
                    })
                }>
                    {[TargetType::Segment, TargetType::Device, TargetType::CloudResource].into_iter().map(|t| view! {
                        <option value=t.as_str() selected=move || target_type.get() == t>{t.title()}</option>
                    }).collect_view()}
                </select>
            </label>
            {text("Target", "schedule-target", target)}
            {text("Scope", "schedule-scope", scope)}
            <button type="submit" class="button button-primary" data-testid="schedule-create">"Create schedule"</button>
        </form>
    }
}
