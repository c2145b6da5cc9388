//! Charts of a trade report as standalone SVG files: a map (zones at their coordinates
//! coloured by price, borders as arrows sized by net flow and coloured by congestion), a
//! price-duration chart and a monthly net-position chart.

use super::TradeReport;
use gridtrade_engine::network::Network;
use std::fmt::Write as _;

const FONT: &str = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Green (cheap) to yellow to red (dear), for `x` in [0, 1].
fn ramp(x: f64) -> String {
    let x = x.clamp(0.0, 1.0);
    let (r, g) = if x < 0.5 {
        (510.0 * x, 200.0)
    } else {
        (255.0, 200.0 * (2.0 - 2.0 * x))
    };
    format!("rgb({},{},60)", r as u8, g as u8)
}

/// A palette for lines of several series.
fn palette(i: usize) -> &'static str {
    const C: [&str; 16] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#393b79", "#637939", "#e7ba52", "#843c39", "#5254a3", "#000000",
    ];
    C[i % C.len()]
}

/// The map: zones at their bus coordinates (x = longitude, y = latitude).
pub fn map(n: &Network, r: &TradeReport, title: &str) -> String {
    let (w, h, pad) = (1300.0, 880.0, 70.0);
    let coords: Vec<(f64, f64)> = r
        .zones
        .iter()
        .map(|z| {
            let buses: Vec<_> = n.buses.iter().filter(|b| b.zone == z.zone).collect();
            let k = buses.len().max(1) as f64;
            (
                buses.iter().map(|b| b.x).sum::<f64>() / k,
                buses.iter().map(|b| b.y).sum::<f64>() / k,
            )
        })
        .collect();
    let (minx, maxx) = coords
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, c| {
            (a.0.min(c.0), a.1.max(c.0))
        });
    let (miny, maxy) = coords
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, c| {
            (a.0.min(c.1), a.1.max(c.1))
        });
    let midlat = (0.5 * (miny + maxy)).to_radians().cos().max(0.2);
    let sx = (w - 2.0 * pad) / ((maxx - minx) * midlat).max(1e-9);
    let sy = (h - 2.0 * pad - 60.0) / (maxy - miny).max(1e-9);
    let s = sx.min(sy);
    let px = |c: (f64, f64)| (pad + (c.0 - minx) * midlat * s, h - pad - (c.1 - miny) * s);
    let prices: Vec<f64> = r
        .zones
        .iter()
        .filter_map(|z| z.prices.load_weighted_price)
        .collect();
    let pmin = prices.iter().copied().fold(f64::INFINITY, f64::min);
    let pmax = prices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let max_flow = r
        .borders
        .iter()
        .map(|b| (b.flow_ab_mwh - b.flow_ba_mwh).abs())
        .fold(1.0, f64::max);
    let max_load = r.zones.iter().map(|z| z.load_mwh).fold(1.0, f64::max);

    let mut out = String::new();
    let _ = writeln!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" {FONT}>");
    let _ = writeln!(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"16\" markerHeight=\"16\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>");
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#f7f9fb\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"20\" y=\"32\" font-size=\"20\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    let _ = writeln!(out, "<text x=\"20\" y=\"54\" font-size=\"13\" fill=\"#444\">{} snapshots, {} .. {}. Zones: load-weighted price (colour, value inside), demand (size).</text>", r.snapshots, esc(&r.first_snapshot), esc(&r.last_snapshot));
    let _ = writeln!(out, "<text x=\"20\" y=\"72\" font-size=\"13\" fill=\"#444\">Arrows: net flow over the horizon (width, TWh), share of hours at the capacity limit (grey: never, red: always).</text>");
    let hours = r.snapshots.max(1) as f64;
    for b in &r.borders {
        let (Some(ia), Some(ib)) = (
            r.zones.iter().position(|z| z.zone == b.zone_a),
            r.zones.iter().position(|z| z.zone == b.zone_b),
        ) else {
            continue;
        };
        let net = b.flow_ab_mwh - b.flow_ba_mwh;
        if b.flow_ab_mwh + b.flow_ba_mwh == 0.0 {
            continue; // switched off or unused
        }
        let (from, to, congested) = if net >= 0.0 {
            (ia, ib, b.hours_congested_ab)
        } else {
            (ib, ia, b.hours_congested_ba)
        };
        let (x0, y0) = px(coords[from]);
        let (x1, y1) = px(coords[to]);
        // Stop short of the circles.
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let share = congested as f64 / hours;
        let colour = if share > 0.0 {
            format!(
                "rgb({},{},{})",
                120 + (135.0 * share) as u8,
                (120.0 * (1.0 - share)) as u8,
                (120.0 * (1.0 - share)) as u8
            )
        } else {
            "#8a99a8".into()
        };
        let width = 1.5 + 9.0 * (net.abs() / max_flow).sqrt();
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"{width:.1}\" stroke-opacity=\"0.85\" marker-end=\"url(#arrow)\"><title>{} - {}: net {:.2} TWh, congested {:.0} % of hours, rent {:.1} M</title></line>",
            x0 + 18.0 * ux, y0 + 18.0 * uy, x1 - 22.0 * ux, y1 - 22.0 * uy,
            esc(&b.zone_a), esc(&b.zone_b), net / 1e6, 100.0 * share, b.congestion_rent / 1e6
        );
        if net.abs() > 0.02 * max_flow {
            let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#333\" text-anchor=\"middle\">{:.1} TWh</text>", 0.5 * (x0 + x1), 0.5 * (y0 + y1) - 4.0, net.abs() / 1e6);
        }
    }
    for (i, z) in r.zones.iter().enumerate() {
        let (x, y) = px(coords[i]);
        let radius = 6.0 + 16.0 * (z.load_mwh / max_load).sqrt();
        let price = z.prices.load_weighted_price;
        let fill = match price {
            Some(p) if pmax > pmin => ramp((p - pmin) / (pmax - pmin)),
            _ => "#cccccc".into(),
        };
        // A zone without load has no load-weighted price: "-" on the map.
        let label = price.map_or_else(|| "-".to_string(), |p| format!("{p:.0}"));
        let title_price = price.map_or_else(|| "no load".to_string(), |p| format!("{p:.2}/MWh"));
        let dash = if z.load_mwh == 0.0 {
            " stroke-dasharray=\"3,2\""
        } else {
            ""
        };
        let _ = writeln!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"1\"{dash}><title>{}: {title_price}, load {:.2} TWh, net position {:.2} TWh</title></circle>", esc(&z.zone), z.load_mwh / 1e6, z.net_position_mwh / 1e6);
        let _ = writeln!(out, "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"bold\" text-anchor=\"middle\">{}</text>", y - radius - 4.0, esc(&z.zone));
        let _ = writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{label}</text>",
            y + 4.0
        );
    }
    // Legend.
    let (lx, ly) = (20.0, h - 40.0);
    for i in 0..=10 {
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{ly}\" width=\"20\" height=\"12\" fill=\"{}\"/>",
            lx + 20.0 * i as f64,
            ramp(i as f64 / 10.0)
        );
    }
    let _ = writeln!(out, "<text x=\"{lx}\" y=\"{:.1}\" font-size=\"11\">{:.1}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.1} per MWh (load-weighted price)</text>", ly + 26.0, pmin, lx + 220.0 + 180.0, ly + 26.0, pmax);
    out.push_str("</svg>\n");
    out
}

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
