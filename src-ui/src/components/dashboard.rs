//! The Dashboard: the queue and the slots now, and the last 24 hours by
//! hour (queue depth and running as lines, outcomes as bars), from the
//! Site's `/stats`. Read when shown and again as tasks end.

use leptos::prelude::*;
use site_api::Stats;
use taskdeck_ipc::commands;

use crate::bridge;
use crate::charts::{hourly, polyline, utilisation};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 160.0;

/// The page.
#[component]
pub fn DashboardPage(site_id: Signal<Option<String>>, changes: RwSignal<u64>) -> impl IntoView {
    let read = super::session::read_on(
        move || (site_id.get(), changes.get()),
        |_| bridge::invoke::<Stats>(commands::STATS),
    );
    let stats = Signal::derive(move || read.get().and_then(Result::ok));
    let error = Signal::derive(move || read.get().and_then(Result::err));
    let hours = Memo::new(move |_| {
        stats.with(|s| s.as_ref().map(|s| hourly(&s.history)).unwrap_or_default())
    });
    let tile = |label: &'static str, testid: &'static str, value: Signal<String>| {
        view! {
            <div class="tile" data-testid=testid>
                <div class="tile-value">{move || value.get()}</div>
                <div class="tile-label">{label}</div>
            </div>
        }
    };
    let now = move || stats.with(|s| s.as_ref().map(|s| s.now));
    let queued = Signal::derive(move || now().map(|n| n.queued.to_string()).unwrap_or_default());
    let running = Signal::derive(move || now().map(|n| n.running.to_string()).unwrap_or_default());
    let slots = Signal::derive(move || {
        now()
            .map(|n| format!("{} / {}", n.slots_busy, n.slots_total))
            .unwrap_or_default()
    });
    let busy = Signal::derive(move || {
        now()
            .map(|n| format!("{}%", utilisation(n.slots_busy, n.slots_total)))
            .unwrap_or_default()
    });
    let line = move |pick: fn(&crate::charts::Hour) -> u64| {
        hours.with(|hours| {
            let values: Vec<u64> = hours.iter().map(pick).collect();
            let floor = hours
                .iter()
                .map(|h| h.queued.max(h.running))
                .max()
                .unwrap_or(0);
            polyline(&values, WIDTH, HEIGHT, floor)
        })
    };
    let bars = move || {
        hours.with(|hours| {
            let top = hours.iter().map(|h| h.finished + h.failed + h.cancelled).max().unwrap_or(0).max(1) as f64;
            let width = WIDTH / hours.len().max(1) as f64;
            hours
                .iter()
                .enumerate()
                .flat_map(|(i, h)| {
                    let x = i as f64 * width + 1.0;
                    let mut y = HEIGHT;
                    [(h.finished, "bar-finished"), (h.failed, "bar-failed"), (h.cancelled, "bar-cancelled")]
                        .into_iter()
                        .map(move |(value, class)| {
                            let height = value as f64 / top * HEIGHT;
                            y -= height;
                            view! { <rect class=class x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{:.1}", (width - 2.0).max(1.0)) height=format!("{height:.1}")></rect> }
                        })
                        .collect::<Vec<_>>()
                })
                .collect_view()
        })
    };
    view! {
        <section class="page dashboard" data-testid="dashboard-page">
            <Show when=move || error.with(Option::is_some)>
                <div class="notice notice-error" role="alert">{move || error.get()}</div>
            </Show>
            <div class="tiles">
                {tile("Queued", "dash-queued", queued)}
                {tile("Running", "dash-running", running)}
                {tile("Slots busy", "dash-slots", slots)}
                {tile("Slot utilisation", "dash-utilisation", busy)}
            </div>
            <h2>"Queue depth, last 24 hours"</h2>
            <svg class="chart" data-testid="dash-queue-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Queued and running tasks by hour">
                <polyline class="line-queued" points=move || line(|h| h.queued) fill="none"></polyline>
                <polyline class="line-running" points=move || line(|h| h.running) fill="none"></polyline>
            </svg>
            <p class="legend"><span class="key key-queued"></span>"Queued (most in the hour)"<span class="key key-running"></span>"Running"</p>
            <h2>"Outcomes, last 24 hours"</h2>
            <svg class="chart" data-testid="dash-outcome-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="Finished, failed and cancelled tasks by hour">
                {bars}
            </svg>
            <p class="legend"><span class="key bar-finished"></span>"Finished"<span class="key bar-failed"></span>"Failed"<span class="key bar-cancelled"></span>"Cancelled"</p>
        </section>
    }
}
