//! The Dashboard: the queue and the slots now, and the last 24 hours by
//! hour — queue depth and running (with the long-queue threshold), the
//! outcomes stacked, slot utilisation — from the Site's `/stats`, drawn by
//! plotters with axes in the viewer's time zone and a read-out of the hour
//! under the pointer. Read when shown and again as tasks end.

use leptos::prelude::*;
use site_api::Stats;
use taskdeck_ipc::commands;

use crate::bridge;
use crate::charts::{self, hourly, utilisation, Chart, Hour};

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
    let session = super::session::Session::get();
    // The long-queue threshold, once the Site has reported a long queue
    // (the stats do not carry it).
    let threshold = RwSignal::new(None::<u64>);
    Effect::new(move |_| {
        let now = session.signals.with(|s| {
            s.as_ref().and_then(|s| {
                s.signals.iter().find_map(|signal| match signal {
                    site_api::Signal::QueueLong { threshold, .. } => Some(*threshold),
                    _ => None,
                })
            })
        });
        if now.is_some() {
            threshold.set(now);
        }
    });
    let slots_total = Memo::new(move |_| now().map(|n| n.slots_total).unwrap_or(0));
    let offset = super::dom::local_offset();
    let empty = move || stats.with(Option::is_some) && hours.with(|h| charts::is_empty(h));
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
            <Show when=empty>
                <p class="placeholder" data-testid="dash-empty">
                    "Nothing has run on this Site in the last 24 hours. The charts fill hour by hour as tasks queue, run and end; the queue is sampled every minute."
                </p>
            </Show>
            <HourChart
                title="Queue depth, last 24 hours"
                testid="dash-queue-chart"
                hours=hours
                chart=Signal::derive(move || Chart::Queue { threshold: threshold.get() })
                offset=offset
                legend=move || view! {
                    <span class="key key-queued"></span>"Queued (longest in the hour)"
                    <span class="key key-running"></span>"Running (most)"
                    {move || match threshold.get() {
                        Some(t) => view! { <span class="key key-threshold"></span>{format!("Long-queue threshold ({t})")} }.into_any(),
                        None => view! { <span class="muted">"The long-queue threshold shows once the Site reports a long queue."</span> }.into_any(),
                    }}
                }
            />
            <HourChart
                title="Outcomes, last 24 hours"
                testid="dash-outcome-chart"
                hours=hours
                chart=Signal::derive(|| Chart::Outcomes)
                offset=offset
                legend=|| view! {
                    <span class="key bar-finished"></span>"Finished"
                    <span class="key bar-failed"></span>"Failed"
                    <span class="key bar-cancelled"></span>"Cancelled"
                }
            />
            <HourChart
                title="Slot utilisation, last 24 hours"
                testid="dash-utilisation-chart"
                hours=hours
                chart=Signal::derive(move || Chart::Utilisation { slots: slots_total.get() })
                offset=offset
                legend=move || view! {
                    <span class="key key-running"></span>
                    {move || format!("Most slots busy in the hour, of {}", slots_total.get())}
                }
            />
        </section>
    }
}

/// One chart of the last 24 hours, with a read-out of the hour under the
/// pointer.
#[component]
fn HourChart<L, V>(
    title: &'static str,
    testid: &'static str,
    hours: Memo<Vec<Hour>>,
    chart: Signal<Chart>,
    offset: chrono::FixedOffset,
    legend: L,
) -> impl IntoView
where
    L: Fn() -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let svg = Memo::new(move |_| {
        hours.with(|hours| charts::chart_svg(hours, chart.get(), offset).unwrap_or_else(|e| e))
    });
    let under = RwSignal::new(None::<usize>);
    let on_move = move |event: leptos::ev::MouseEvent| {
        let Some(target) = event
            .current_target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        else {
            return;
        };
        let rect = target.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let x =
            (f64::from(event.client_x()) - rect.left()) * f64::from(charts::WIDTH) / rect.width();
        under.set(charts::hour_at(x, hours.with(Vec::len)));
    };
    let readout = move || {
        under
            .get()
            .and_then(|i| hours.with(|hours| hours.get(i).map(|h| charts::readout(h, offset))))
    };
    view! {
        <h2>{title}</h2>
        <div class="chart-box" data-testid=testid role="img" aria-label=title
            on:mousemove=on_move on:mouseleave=move |_| under.set(None)
            inner_html=move || svg.get()>
        </div>
        <p class="chart-readout" data-testid=format!("{testid}-readout") aria-live="polite">
            {move || readout().unwrap_or_else(|| "Point at an hour to read it.".to_owned())}
        </p>
        <p class="legend">{legend}</p>
    }
}
