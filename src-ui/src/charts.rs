//! The Dashboard's charts: minute buckets gathered into hours (plain
//! data), drawn as SVG by plotters with axes, their values and the times
//! in the viewer's time zone; which hour is under the pointer, and what
//! the read-out says of it.

use chrono::{DateTime, DurationRound, FixedOffset, TimeDelta, Utc};
use plotters::prelude::*;
use site_api::StatsBucket;

/// One hour of the Site's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hour {
    /// The hour's start.
    pub at: DateTime<Utc>,
    /// The longest the queue was at a minute's end.
    pub queued: u64,
    /// The most tasks running at a minute's end.
    pub running: u64,
    /// Tasks that finished.
    pub finished: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Tasks cancelled.
    pub cancelled: u64,
}

/// Minute buckets (oldest first) gathered into hours, oldest first.
pub fn hourly(history: &[StatsBucket]) -> Vec<Hour> {
    let mut hours: Vec<Hour> = Vec::new();
    for bucket in history {
        let at = bucket
            .at
            .duration_trunc(TimeDelta::hours(1))
            .unwrap_or(bucket.at);
        match hours.last_mut() {
            Some(hour) if hour.at == at => {
                hour.queued = hour.queued.max(bucket.queued);
                hour.running = hour.running.max(bucket.running);
                hour.finished += bucket.finished;
                hour.failed += bucket.failed;
                hour.cancelled += bucket.cancelled;
            }
            _ => hours.push(Hour {
                at,
                queued: bucket.queued,
                running: bucket.running,
                finished: bucket.finished,
                failed: bucket.failed,
                cancelled: bucket.cancelled,
            }),
        }
    }
    hours
}

/// A chart's size, in SVG units (it scales to the page's width).
pub const WIDTH: u32 = 720;
/// A chart's height.
pub const HEIGHT: u32 = 210;
/// Around the chart.
const MARGIN: u32 = 12;
/// The width of the values on the vertical axis.
const Y_LABELS: u32 = 44;
/// The height of the times on the horizontal axis.
const X_LABELS: u32 = 30;
/// The axes' and labels' colour: mid grey reads on light and dark.
const INK: RGBColor = RGBColor(0x80, 0x86, 0x90);
const QUEUED: RGBColor = RGBColor(0x2f, 0x6f, 0xde);
const RUNNING: RGBColor = RGBColor(0x16, 0xa3, 0x4a);
const FINISHED: RGBColor = RGBColor(0x16, 0xa3, 0x4a);
const FAILED: RGBColor = RGBColor(0xdc, 0x26, 0x26);
const CANCELLED: RGBColor = RGBColor(0x9c, 0xa3, 0xaf);
const THRESHOLD: RGBColor = RGBColor(0xf5, 0x9e, 0x0b);

/// What a chart shows, hour by hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// The longest queue and the most running in each hour, with the
    /// Site's long-queue threshold when known.
    Queue {
        /// `queue_long`'s threshold.
        threshold: Option<u64>,
    },
    /// Finished, failed and cancelled tasks, stacked.
    Outcomes,
    /// The most slots busy in each hour, as a share of `slots`.
    Utilisation {
        /// The Site's slots.
        slots: u64,
    },
}

/// `chart` of `hours` as an SVG document drawn by plotters: axes with
/// their values, times in the viewer's time zone (`offset`).
pub fn chart_svg(hours: &[Hour], chart: Chart, offset: FixedOffset) -> Result<String, String> {
    let mut svg = String::new();
    draw(&mut svg, hours, chart, offset)
        .map_err(|e| format!("the chart could not be drawn: {e}"))?;
    Ok(svg)
}

fn draw(
    svg: &mut String,
    hours: &[Hour],
    chart: Chart,
    offset: FixedOffset,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    let n = hours.len().max(1) as f64;
    let top = match chart {
        Chart::Queue { threshold } => hours
            .iter()
            .map(|h| h.queued.max(h.running))
            .chain(threshold)
            .max()
            .unwrap_or(0),
        Chart::Outcomes => hours
            .iter()
            .map(|h| h.finished + h.failed + h.cancelled)
            .max()
            .unwrap_or(0),
        Chart::Utilisation { .. } => 100,
    };
    // Headroom above the peak, and whole numbers on the axis.
    let top = (top as f64 * 1.1).ceil().max(4.0);
    let label = |x: &f64| -> String {
        let i = x.floor() as usize;
        hours
            .get(i)
            .map(|h| h.at.with_timezone(&offset).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let text = ("sans-serif", 12).into_font().color(&INK);
    let mut plot = ChartBuilder::on(&root)
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(0.0..n, 0.0..top)?;
    let mut mesh = plot.configure_mesh();
    mesh.x_labels(hours.len().clamp(1, 8))
        .y_labels(5)
        .x_label_formatter(&label)
        .label_style(text.clone())
        .axis_style(INK)
        .light_line_style(INK.mix(0.15))
        .bold_line_style(INK.mix(0.25));
    let percent = |y: &f64| format!("{y:.0}%");
    let whole = |y: &f64| format!("{y:.0}");
    match chart {
        Chart::Utilisation { .. } => mesh.y_label_formatter(&percent).draw()?,
        _ => mesh.y_label_formatter(&whole).draw()?,
    }
    let mid = |i: usize| i as f64 + 0.5;
    match chart {
        Chart::Queue { threshold } => {
            if let Some(threshold) = threshold {
                plot.draw_series(DashedLineSeries::new(
                    [(0.0, threshold as f64), (n, threshold as f64)],
                    6,
                    4,
                    THRESHOLD.stroke_width(2),
                ))?;
            }
            plot.draw_series(LineSeries::new(
                hours
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (mid(i), h.running as f64)),
                RUNNING.stroke_width(2),
            ))?;
            plot.draw_series(LineSeries::new(
                hours
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (mid(i), h.queued as f64)),
                QUEUED.stroke_width(2),
            ))?;
        }
        Chart::Outcomes => {
            plot.draw_series(hours.iter().enumerate().flat_map(|(i, h)| {
                let (left, right) = (i as f64 + 0.12, i as f64 + 0.88);
                let mut base = 0.0;
                [
                    (h.finished, FINISHED),
                    (h.failed, FAILED),
                    (h.cancelled, CANCELLED),
                ]
                .into_iter()
                .filter(|(value, _)| *value > 0)
                .map(move |(value, colour)| {
                    let bar = Rectangle::new(
                        [(left, base), (right, base + value as f64)],
                        colour.filled(),
                    );
                    base += value as f64;
                    bar
                })
                .collect::<Vec<_>>()
            }))?;
        }
        Chart::Utilisation { slots } => {
            plot.draw_series(
                AreaSeries::new(
                    hours
                        .iter()
                        .enumerate()
                        .map(|(i, h)| (mid(i), utilisation(h.running, slots) as f64)),
                    0.0,
                    RUNNING.mix(0.25),
                )
                .border_style(RUNNING.stroke_width(2)),
            )?;
        }
    }
    root.present()?;
    Ok(())
}

/// The hour under `x` (in chart units, 0 to [`WIDTH`]) of a chart of `n`
/// hours; none outside the plot.
pub fn hour_at(x: f64, n: usize) -> Option<usize> {
    let left = f64::from(MARGIN + Y_LABELS);
    let right = f64::from(WIDTH - MARGIN);
    if n == 0 || x < left || x >= right {
        return None;
    }
    Some((((x - left) / (right - left)) * n as f64) as usize).filter(|i| *i < n)
}

/// What the read-out says of `hour`, its times in the viewer's time zone.
pub fn readout(hour: &Hour, offset: FixedOffset) -> String {
    let from = hour.at.with_timezone(&offset);
    let until = from + TimeDelta::hours(1);
    format!(
        "{}–{} · queued up to {} · running up to {} · {} finished · {} failed · {} cancelled",
        from.format("%H:%M"),
        until.format("%H:%M"),
        hour.queued,
        hour.running,
        hour.finished,
        hour.failed,
        hour.cancelled
    )
}

/// Whether `hours` hold nothing to draw yet.
pub fn is_empty(hours: &[Hour]) -> bool {
    hours
        .iter()
        .all(|h| h.queued + h.running + h.finished + h.failed + h.cancelled == 0)
}

/// Busy slots as a whole percentage of all slots.
pub fn utilisation(busy: u64, total: u64) -> u64 {
    (busy * 100).checked_div(total).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(at: &str, queued: u64, finished: u64, failed: u64) -> StatsBucket {
        StatsBucket {
            at: at.parse().unwrap(),
            queued,
            running: 1,
            finished,
            failed,
            cancelled: 0,
        }
    }

    #[test]
    fn minutes_gather_into_hours() {
        let hours = hourly(&[
            bucket("2026-11-28T09:58:00Z", 4, 1, 0),
            bucket("2026-11-28T09:59:00Z", 9, 2, 1),
            bucket("2026-11-28T10:00:00Z", 3, 5, 0),
        ]);
        assert_eq!(hours.len(), 2);
        assert_eq!(
            (hours[0].queued, hours[0].finished, hours[0].failed),
            (9, 3, 1)
        );
        assert_eq!(hours[1].at.to_rfc3339(), "2026-11-28T10:00:00+00:00");
        assert!(hourly(&[]).is_empty());
    }

    fn hours() -> Vec<Hour> {
        hourly(&[
            bucket("2026-11-28T09:58:00Z", 4, 1, 0),
            bucket("2026-11-28T10:59:00Z", 30, 2, 1),
            bucket("2026-11-28T11:00:00Z", 3, 5, 0),
        ])
    }

    #[test]
    fn charts_have_axes_with_values_and_local_times() {
        let paris = FixedOffset::east_opt(3_600).unwrap();
        let svg = chart_svg(
            &hours(),
            Chart::Queue {
                threshold: Some(25),
            },
            paris,
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        // 09:00 UTC is 10:00 in Paris.
        let labels: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|text| text.split_once('>'))
            .filter_map(|(_, rest)| rest.split_once("</text>"))
            .map(|(label, _)| label.trim())
            .collect();
        assert!(labels.contains(&"10:00"), "{labels:?}");
        assert!(labels.contains(&"0"), "values on the axis: {labels:?}");
        assert!(
            labels
                .iter()
                .any(|l| l.parse::<u64>().is_ok_and(|v| v >= 20)),
            "{labels:?}"
        );
        let bars = chart_svg(&hours(), Chart::Outcomes, paris).unwrap();
        assert!(bars.contains("<rect"), "{bars}");
        let busy = chart_svg(&hours(), Chart::Utilisation { slots: 6 }, paris).unwrap();
        assert!(busy.contains("%"), "{busy}");
    }

    #[test]
    fn the_pointer_reads_the_hour_under_it() {
        let plot_left = f64::from(MARGIN + Y_LABELS);
        let plot_right = f64::from(WIDTH - MARGIN);
        assert_eq!(hour_at(plot_left - 1.0, 24), None);
        assert_eq!(hour_at(plot_left, 24), Some(0));
        assert_eq!(hour_at(plot_right - 0.5, 24), Some(23));
        assert_eq!(hour_at(plot_right, 24), None);
        assert_eq!(hour_at(400.0, 0), None);
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            readout(&hours()[1], utc),
            "10:00–11:00 · queued up to 30 · running up to 1 · 2 finished · 1 failed · 0 cancelled"
        );
        assert!(!is_empty(&hours()));
        assert!(is_empty(&[]));
    }

    #[test]
    fn utilisation_is_a_whole_percentage() {
        assert_eq!(utilisation(3, 6), 50);
        assert_eq!(utilisation(0, 0), 0);
    }
}
