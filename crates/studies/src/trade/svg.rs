//! Charts of a trade report as standalone SVG files: the map ([`super::map`]), a
//! price-duration chart and a monthly net-position chart.

use super::TradeReport;
use std::fmt::Write as _;

const FONT: &str = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A palette for lines of several series.
fn palette(i: usize) -> &'static str {
    const C: [&str; 16] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#393b79", "#637939", "#e7ba52", "#843c39", "#5254a3", "#000000",
    ];
    C[i % C.len()]
}

pub use super::map::map;

/// Frame of a chart: axes, title and y ticks; returns the plotting box.
fn frame(
    out: &mut String,
    w: f64,
    h: f64,
    title: &str,
    ylabel: &str,
    ymin: f64,
    ymax: f64,
) -> (f64, f64, f64, f64) {
    let (l, r, t, b) = (80.0, w - 200.0, 50.0, h - 50.0);
    let _ = writeln!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" {FONT}>");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        out,
        "<text x=\"{l}\" y=\"30\" font-size=\"18\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    for i in 0..=5 {
        let v = ymin + (ymax - ymin) * i as f64 / 5.0;
        let y = b - (b - t) * i as f64 / 5.0;
        let _ = writeln!(out, "<line x1=\"{l}\" x2=\"{r}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{v:.0}</text>", l - 6.0, y + 4.0);
    }
    let _ = writeln!(out, "<line x1=\"{l}\" x2=\"{l}\" y1=\"{t}\" y2=\"{b}\" stroke=\"#333\"/><line x1=\"{l}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#333\"/>");
    let _ = writeln!(out, "<text transform=\"translate(20,{:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">{}</text>", 0.5 * (t + b), esc(ylabel));
    (l, r, t, b)
}

/// Price-duration curves: each zone's hourly prices sorted from highest to lowest.
pub fn price_duration(r: &TradeReport, title: &str) -> String {
    let (w, h) = (1000.0, 560.0);
    let zones: Vec<usize> = (0..r.zones.len())
        .filter(|&z| r.zones[z].load_mwh > 0.0)
        .collect();
    let ymax = zones
        .iter()
        .flat_map(|&z| r.zone_prices[z].iter())
        .copied()
        .filter(|p| p.is_finite())
        .fold(1.0, f64::max);
    let ymin = zones
        .iter()
        .flat_map(|&z| r.zone_prices[z].iter())
        .copied()
        .filter(|p| p.is_finite())
        .fold(0.0, f64::min);
    let mut out = String::new();
    let (l, rr, t, b) = frame(&mut out, w, h, title, "price per MWh", ymin, ymax);
    let n = r.snapshots.max(1);
    for (i, &z) in zones.iter().enumerate() {
        let mut p: Vec<f64> = r.zone_prices[z]
            .iter()
            .copied()
            .filter(|p| p.is_finite())
            .collect();
        p.sort_by(|a, b| b.total_cmp(a));
        // At most ~800 points per curve.
        let step = (p.len() / 800).max(1);
        let pts: Vec<String> = p
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(k, v)| {
                format!(
                    "{:.1},{:.1}",
                    l + (rr - l) * k as f64 / n as f64,
                    b - (b - t) * (v - ymin) / (ymax - ymin).max(1e-9)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" points=\"{}\"/>",
            palette(i),
            pts.join(" ")
        );
        let _ = writeln!(out, "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"4\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>", rr + 15.0, t + 16.0 * i as f64, palette(i), rr + 34.0, t + 16.0 * i as f64 + 5.0, esc(&r.zones[z].zone));
    }
    let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">hours of the horizon, sorted by price ({} in all)</text>", 0.5 * (l + rr), b + 34.0, n);
    out.push_str("</svg>\n");
    out
}

/// Monthly net position by country: a heat map (exports blue, imports red), TWh in each cell.
pub fn monthly_net_position(r: &TradeReport, title: &str) -> String {
    let mut countries: Vec<String> = Vec::new();
    for z in &r.zones {
        if !countries.contains(&z.country) {
            countries.push(z.country.clone());
        }
    }
    let months = &r.monthly_net_position;
    let values: Vec<Vec<f64>> = countries
        .iter()
        .map(|c| {
            months
                .iter()
                .map(|(_, v)| {
                    r.zones
                        .iter()
                        .zip(v)
                        .filter(|(z, _)| &z.country == c)
                        .map(|(_, x)| x)
                        .sum::<f64>()
                })
                .collect()
        })
        .collect();
    let vmax = values.iter().flatten().map(|v| v.abs()).fold(1.0, f64::max);
    let (cw, ch, left, top) = (62.0, 24.0, 70.0, 70.0);
    let w = left + cw * months.len() as f64 + 40.0;
    let h = top + ch * countries.len() as f64 + 60.0;
    let mut out = String::new();
    let _ = writeln!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" {FONT}>");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        out,
        "<text x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    let _ = writeln!(out, "<text x=\"20\" y=\"50\" font-size=\"12\" fill=\"#444\">net position (exports - imports), TWh; blue exports, red imports</text>");
    for (j, (m, _)) in months.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            left + cw * (j as f64 + 0.5),
            top - 6.0,
            esc(m)
        );
    }
    for (i, c) in countries.iter().enumerate() {
        let y = top + ch * i as f64;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 16.0,
            esc(c)
        );
        for (j, v) in values[i].iter().enumerate() {
            let a = (v.abs() / vmax).sqrt();
            let fill = if *v >= 0.0 {
                format!("rgba(31,119,180,{a:.2})")
            } else {
                format!("rgba(214,39,40,{a:.2})")
            };
            let x = left + cw * j as f64;
            let _ = writeln!(out, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cw}\" height=\"{ch}\" fill=\"{fill}\" stroke=\"white\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{:.2}</text>", x + 0.5 * cw, y + 16.0, v / 1e6);
        }
    }
    out.push_str("</svg>\n");
    out
}
