//! The trade map: zones on the countries' outlines, coloured by price, with the net flow of
//! each border as an arrow (AC lines solid, links dashed) coloured by how often it was at
//! its limit, labels placed so that none overlaps another label or a zone, and a legend.
//!
//! Outlines: Natural Earth Admin 0 at 1:110m, public domain
//! (`crates/studies/data/basemap/README.md`), compiled in. Projection: equirectangular,
//! longitude scaled by the cosine of the middle latitude.

use super::svg::esc;
use super::TradeReport;
use gridtrade_engine::network::Network;
use std::fmt::Write as _;

const BASEMAP: &str = include_str!("../../data/basemap/carec_countries.geojson");

const W: f64 = 1300.0;
/// The box the map is fitted into (left, top, right, bottom); the legend is right of it.
const MAP: (f64, f64, f64, f64) = (15.0, 85.0, 1035.0, 885.0);

/// Sequential colours of the price classes, cheap to dear (ColorBrewer RdYlGn, reversed).
const PRICE_COLOURS: [&str; 6] = [
    "#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027",
];

/// ISO 3166 alpha-2 (the networks' country codes) to the basemap's alpha-3.
const ISO3: [(&str, &str); 22] = [
    ("AF", "AFG"),
    ("AM", "ARM"),
    ("AZ", "AZE"),
    ("CN", "CHN"),
    ("GE", "GEO"),
    ("IN", "IND"),
    ("IR", "IRN"),
    ("KG", "KGZ"),
    ("KZ", "KAZ"),
    ("MN", "MNG"),
    ("PK", "PAK"),
    ("RU", "RUS"),
    ("TJ", "TJK"),
    ("TM", "TKM"),
    ("TR", "TUR"),
    ("UZ", "UZB"),
    ("AE", "ARE"),
    ("IQ", "IRQ"),
    ("SA", "SAU"),
    ("SY", "SYR"),
    ("UA", "UKR"),
    ("NP", "NPL"),
];

/// An axis-aligned box on the page: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect(pub f64, pub f64, pub f64, pub f64);

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.0 < o.2 && o.0 < self.2 && self.1 < o.3 && o.1 < self.3
    }

    fn inside(&self, o: &Rect) -> bool {
        self.0 >= o.0 && self.2 <= o.2 && self.1 >= o.1 && self.3 <= o.3
    }

    /// Whether the box comes within `r` of the point (a circle).
    fn touches_circle(&self, (x, y, r): (f64, f64, f64)) -> bool {
        let dx = (self.0 - x).max(0.0).max(x - self.2);
        let dy = (self.1 - y).max(0.0).max(y - self.3);
        dx * dx + dy * dy < r * r
    }
}

/// Width and height of a text of `chars` characters at `size` px (DejaVu Sans: ~0.62 em per
/// character on average).
fn text_box(chars: usize, size: f64) -> (f64, f64) {
    (0.62 * size * chars as f64 + 4.0, size + 4.0)
}

/// Where a box of `size` starts along one axis, relative to its anchor, so that its edge
/// nearest the circle sits at the anchor: for direction component `d` > 0 the box starts
/// there, < 0 it ends there, 0 it is centred.
fn edge_offset(d: f64, size: f64) -> f64 {
    if d > 0.1 {
        0.0
    } else if d < -0.1 {
        -size
    } else {
        -size / 2.0
    }
}

/// Place a label of size `(w, h)` next to the circle `(x, y, r)`: the first of eight
/// positions around it, at growing distances, whose box is inside `bounds` and overlaps no
/// placed box and no circle. The box and whether it is away from its circle (draw a
/// leader line); `None` when no position is free.
pub fn place_label(
    (x, y, r): (f64, f64, f64),
    (w, h): (f64, f64),
    placed: &[Rect],
    circles: &[(f64, f64, f64)],
    bounds: &Rect,
) -> Option<(Rect, bool)> {
    const DIRECTIONS: [(f64, f64); 8] = [
        (1.0, 0.0),
        (-1.0, 0.0),
        (0.0, -1.0),
        (0.0, 1.0),
        (0.7, -0.7),
        (-0.7, -0.7),
        (0.7, 0.7),
        (-0.7, 0.7),
    ];
    for (step, gap) in [3.0, 14.0, 28.0, 44.0, 62.0].into_iter().enumerate() {
        for (dx, dy) in DIRECTIONS {
            let (cx, cy) = (x + dx * (r + gap), y + dy * (r + gap));
            // The box's nearest edge sits at the anchor point.
            let left = cx + edge_offset(dx, w);
            let top = cy + edge_offset(dy, h);
            let b = Rect(left, top, left + w, top + h);
            if b.inside(bounds)
                && !placed.iter().any(|p| p.overlaps(&b))
                && !circles
                    .iter()
                    .any(|&c| b.touches_circle((c.0, c.1, c.2 + 1.0)))
            {
                return Some((b, step > 0));
            }
        }
    }
    None
}

/// A closed ring of (longitude, latitude) points, degrees.
type Ring = Vec<(f64, f64)>;

/// Country outlines as rings, with their ISO alpha-3 code.
fn outlines() -> Vec<(String, Vec<Ring>)> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(BASEMAP) else {
        return Vec::new();
    };
    let ring = |r: &serde_json::Value| -> Ring {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect()
    };
    let mut out = Vec::new();
    for f in doc["features"].as_array().into_iter().flatten() {
        let iso = f["properties"]["iso_a3"].as_str().unwrap_or("").to_string();
        let g = &f["geometry"];
        let polygons: Vec<&serde_json::Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"].as_array().into_iter().flatten().collect(),
            _ => Vec::new(),
        };
        let rings = polygons
            .into_iter()
            .flat_map(|p| p.as_array().into_iter().flatten().map(ring))
            .collect();
        out.push((iso, rings));
    }
    out
}

/// Price class boundaries: the zones' prices cut at their quantiles, so that one zone with
/// a few hours at the value of lost load does not wash every other zone into one colour.
/// Ascending upper bounds, one per class (the last is the highest price).
fn price_classes(prices: &[f64]) -> Vec<f64> {
    let mut p: Vec<f64> = prices.iter().copied().filter(|v| v.is_finite()).collect();
    p.sort_by(f64::total_cmp);
    p.dedup_by(|a, b| (*a - *b).abs() < 0.005);
    let k = PRICE_COLOURS.len().min(p.len());
    (1..=k).map(|i| p[(i * p.len()).div_ceil(k) - 1]).collect()
}

fn class_of(bounds: &[f64], price: f64) -> usize {
    bounds
        .iter()
        .position(|&b| price <= b + 1e-9)
        .unwrap_or(bounds.len().saturating_sub(1))
}

/// Colour of a border by the share of hours it was at its limit.
fn congestion_colour(share: f64) -> &'static str {
    match share {
        s if s <= 0.0 => "#7b8794",
        s if s < 0.1 => "#e3a008",
        s if s < 0.5 => "#d9480f",
        _ => "#9b1c1c",
    }
}

/// Margin drawn around the zones' extent on a geographic map, degrees of longitude and
/// latitude.
const MARGIN_LON: f64 = 3.0;
const MARGIN_LAT: f64 = 2.5;

/// The projection of the zones' region onto the map box.
struct Projection {
    lon0: f64,
    lat1: f64,
    scale: f64,
    coslat: f64,
    x0: f64,
    y0: f64,
    /// The region drawn, on the page: within [`MAP`], the zones' extent with a margin
    /// (clamped to the basemap's 35–125°E, 20–60°N).
    frame: Rect,
    /// The zones lie within the basemap (their x, y are longitude and latitude there): the
    /// outlines are drawn. Otherwise (a synthetic network's plane coordinates) they are not.
    geographic: bool,
}

impl Projection {
    fn around(points: &[(f64, f64)]) -> Projection {
        let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (180.0f64, -180.0f64, 90.0f64, -90.0f64);
        for &(x, y) in points {
            (lo_x, hi_x, lo_y, hi_y) = (lo_x.min(x), hi_x.max(x), lo_y.min(y), hi_y.max(y));
        }
        let geographic = lo_x >= 35.0 && hi_x <= 125.0 && lo_y >= 20.0 && hi_y <= 60.0;
        let (lo_x, hi_x, lo_y, hi_y, coslat) = if geographic {
            let (lo_x, hi_x) = (
                (lo_x - MARGIN_LON).max(35.0),
                (hi_x + MARGIN_LON).min(125.0),
            );
            let (lo_y, hi_y) = ((lo_y - MARGIN_LAT).max(20.0), (hi_y + MARGIN_LAT).min(60.0));
            let coslat = (0.5 * (lo_y + hi_y)).to_radians().cos().max(0.2);
            (lo_x, hi_x, lo_y, hi_y, coslat)
        } else {
            // Plane coordinates: the zones' extent with a 5 % margin, x and y alike.
            let (mx, my) = (0.05 * (hi_x - lo_x).max(1.0), 0.05 * (hi_y - lo_y).max(1.0));
            (lo_x - mx, hi_x + mx, lo_y - my, hi_y + my, 1.0)
        };
        let (mw, mh) = (MAP.2 - MAP.0, MAP.3 - MAP.1);
        let scale = (mw / ((hi_x - lo_x) * coslat)).min(mh / (hi_y - lo_y));
        // Centred across, at the top of the box.
        let x0 = MAP.0 + 0.5 * (mw - (hi_x - lo_x) * coslat * scale);
        let y0 = MAP.1;
        let frame = Rect(
            x0,
            y0,
            x0 + (hi_x - lo_x) * coslat * scale,
            y0 + (hi_y - lo_y) * scale,
        );
        Projection {
            lon0: lo_x,
            lat1: hi_y,
            scale,
            coslat,
            x0,
            y0,
            frame,
            geographic,
        }
    }

    fn px(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            self.x0 + (lon - self.lon0) * self.coslat * self.scale,
            self.y0 + (self.lat1 - lat) * self.scale,
        )
    }
}

/// The map of a trade report.
pub fn map(n: &Network, r: &TradeReport, title: &str) -> String {
    map_with_loops(n, r, title, &[])
}

/// A border's unscheduled (loop) flow for the map: zones a and b, the net unscheduled flow
/// a → b over the horizon (Σ physical − scheduled, MWh) and its magnitude summed over hours
/// (Σ |physical − scheduled|, MWh).
pub struct LoopArrow {
    pub zone_a: String,
    pub zone_b: String,
    pub net_mwh: f64,
    pub abs_mwh: f64,
}

/// [`map`] with each AC border's unscheduled flow drawn beside it (dotted purple arrows,
/// in the direction of its net over the horizon).
pub fn map_with_loops(n: &Network, r: &TradeReport, title: &str, loops: &[LoopArrow]) -> String {
    let coords: Vec<(f64, f64)> = r.zones.iter().map(|z| zone_point(n, &z.zone)).collect();
    let proj = Projection::around(&coords);
    let mut out = String::new();
    // The page ends below the map or the legend, whichever is lower.
    header(&mut out, r, title, proj.frame.3.max(560.0) + 15.0);
    countries(&mut out, n, &proj);
    let max_load = r.zones.iter().map(|z| z.load_mwh).fold(1.0, f64::max);
    let circles: Vec<(f64, f64, f64)> = r
        .zones
        .iter()
        .zip(&coords)
        .map(|(z, &c)| {
            let (x, y) = proj.px(c);
            (x, y, 5.0 + 12.0 * (z.load_mwh / max_load).sqrt())
        })
        .collect();
    let max_flow = borders(&mut out, n, r, &circles);
    loop_arrows(&mut out, r, &circles, loops, max_flow);
    let prices: Vec<f64> = r
        .zones
        .iter()
        .filter_map(|z| z.prices.load_weighted_price)
        .collect();
    let classes = price_classes(&prices);
    zones(&mut out, r, &circles, &classes);
    labels(&mut out, r, &circles, &proj.frame);
    legend(
        &mut out,
        &classes,
        max_flow,
        proj.geographic,
        !loops.is_empty(),
    );
    out.push_str("</svg>\n");
    out
}

/// The AC grid up close: [`map_with_loops`] framed on the meshed part of the AC grid — the
/// zones that lines in service join to at least two other zones (a ring, or a corridor
/// through a zone) — with the other zones that fall inside that frame. A map of the whole
/// region packs these too close to read once a zone is split into subzones. Zones outside
/// the frame, and their borders, are not drawn (the whole map has them). None when fewer
/// than three zones make the frame, or when it holds every zone.
pub fn ac_grid_map(
    n: &Network,
    r: &TradeReport,
    title: &str,
    loops: &[LoopArrow],
) -> Option<String> {
    let mut neighbours: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for b in (0..n.branches.len())
        .filter(|&l| n.branch_live(l))
        .map(|l| &n.branches[l])
    {
        let (za, zb) = (n.buses[b.bus0].zone.as_str(), n.buses[b.bus1].zone.as_str());
        if za != zb {
            neighbours.entry(za).or_default().insert(zb);
            neighbours.entry(zb).or_default().insert(za);
        }
    }
    let core: Vec<(f64, f64)> = r
        .zones
        .iter()
        .filter(|z| {
            neighbours
                .get(z.zone.as_str())
                .is_some_and(|s| s.len() >= 2)
        })
        .map(|z| zone_point(n, &z.zone))
        .collect();
    if core.len() < 3 {
        return None;
    }
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &core {
        (lo_x, hi_x, lo_y, hi_y) = (lo_x.min(x), hi_x.max(x), lo_y.min(y), hi_y.max(y));
    }
    let inside = |(x, y): (f64, f64)| {
        (lo_x - MARGIN_LON..=hi_x + MARGIN_LON).contains(&x)
            && (lo_y - MARGIN_LAT..=hi_y + MARGIN_LAT).contains(&y)
    };
    let mut close = r.clone();
    close.zones.retain(|z| inside(zone_point(n, &z.zone)));
    if close.zones.len() == r.zones.len() {
        return None;
    }
    let kept: std::collections::BTreeSet<String> =
        close.zones.iter().map(|z| z.zone.clone()).collect();
    close
        .borders
        .retain(|b| kept.contains(&b.zone_a) && kept.contains(&b.zone_b));
    Some(map_with_loops(n, &close, title, loops))
}

/// A zone's point on the map: the mean of its buses' coordinates.
fn zone_point(n: &Network, zone: &str) -> (f64, f64) {
    let buses: Vec<_> = n.buses.iter().filter(|b| b.zone == zone).collect();
    let k = buses.len().max(1) as f64;
    (
        buses.iter().map(|b| b.x).sum::<f64>() / k,
        buses.iter().map(|b| b.y).sum::<f64>() / k,
    )
}

/// Colour of the unscheduled-flow arrows.
const LOOP_COLOUR: &str = "#7b2cbf";

/// Each border's unscheduled flow as a dotted arrow beside its flow arrow (offset 7 px to
/// the arrow's left), as thick as a flow arrow of the same energy.
fn loop_arrows(
    out: &mut String,
    r: &TradeReport,
    circles: &[(f64, f64, f64)],
    loops: &[LoopArrow],
    max_flow: f64,
) {
    let zone = |name: &str| r.zones.iter().position(|z| z.zone == name);
    for l in loops.iter().filter(|l| l.abs_mwh > 1e-6 * max_flow) {
        let (Some(ia), Some(ib)) = (zone(&l.zone_a), zone(&l.zone_b)) else {
            continue;
        };
        let (from, to) = if l.net_mwh >= 0.0 { (ia, ib) } else { (ib, ia) };
        let ((x0, y0, r0), (x1, y1, r1)) = (circles[from], circles[to]);
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let (ox, oy) = (7.0 * uy, -7.0 * ux);
        let width = 0.8 + 4.0 * (l.abs_mwh / max_flow).min(1.0).sqrt();
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{LOOP_COLOUR}\" stroke-width=\"{width:.1}\" stroke-dasharray=\"2,3\" marker-end=\"url(#loop-arrow)\"><title>{} - {}: unscheduled (loop) flow {:.3} TWh net, {:.3} TWh summed over hours</title></line>",
            x0 + (r0 + 2.0) * ux + ox, y0 + (r0 + 2.0) * uy + oy, x1 - (r1 + 7.0) * ux + ox,
            y1 - (r1 + 7.0) * uy + oy, esc(&l.zone_a), esc(&l.zone_b), l.net_mwh.abs() / 1e6,
            l.abs_mwh / 1e6
        );
    }
}

fn header(out: &mut String, r: &TradeReport, title: &str, height: f64) {
    let _ = writeln!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height:.0}\" viewBox=\"0 0 {W} {height:.0}\" font-family=\"DejaVu Sans, Arial, sans-serif\">");
    let _ = writeln!(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"6\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"14\" markerHeight=\"14\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker>");
    let _ = writeln!(out, "<marker id=\"loop-arrow\" viewBox=\"0 0 10 10\" refX=\"6\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{LOOP_COLOUR}\"/></marker>");
    out.push_str("</defs>\n");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        out,
        "<text x=\"15\" y=\"32\" font-size=\"20\" font-weight=\"bold\">{}</text>",
        esc(title)
    );
    let _ = writeln!(out, "<text x=\"15\" y=\"56\" font-size=\"13\" fill=\"#444\">{} snapshots, {} .. {}. Zone colour: load-weighted price; size: demand. Arrows: net flow over the horizon.</text>", r.snapshots, esc(&r.first_snapshot), esc(&r.last_snapshot));
}

/// The countries' outlines, those of the network's countries shaded.
fn countries(out: &mut String, n: &Network, proj: &Projection) {
    let ours: Vec<&str> = ISO3
        .iter()
        .filter(|(a2, _)| n.buses.iter().any(|b| b.country == *a2))
        .map(|&(_, a3)| a3)
        .collect();
    let f = proj.frame;
    let rect = format!(
        "x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"",
        f.0,
        f.1,
        f.2 - f.0,
        f.3 - f.1
    );
    let _ = writeln!(out, "<clipPath id=\"mapbox\"><rect {rect}/></clipPath>");
    if !proj.geographic {
        let _ = writeln!(out, "<rect {rect} fill=\"#f3f0e4\" stroke=\"#777\"/>");
        return;
    }
    let _ = writeln!(out, "<rect {rect} fill=\"#dbe7f0\"/>");
    let _ = writeln!(out, "<g clip-path=\"url(#mapbox)\" stroke=\"#9aa5ae\" stroke-width=\"0.7\" stroke-linejoin=\"round\">");
    for (iso, rings) in outlines() {
        let fill = if ours.contains(&iso.as_str()) {
            "#f3f0e4"
        } else {
            "#e6e8e3"
        };
        let mut d = String::new();
        for ring in &rings {
            for (i, &p) in ring.iter().enumerate() {
                let (x, y) = proj.px(p);
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        let _ = writeln!(
            out,
            "<path d=\"{d}\" fill=\"{fill}\"><title>{iso}</title></path>"
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(out, "<rect {rect} fill=\"none\" stroke=\"#777\"/>");
}

/// The borders' net flows as arrows; returns the largest net flow, MWh.
fn borders(out: &mut String, n: &Network, r: &TradeReport, circles: &[(f64, f64, f64)]) -> f64 {
    let max_flow = r
        .borders
        .iter()
        .map(|b| (b.flow_ab_mwh - b.flow_ba_mwh).abs())
        .fold(1.0, f64::max);
    let hours = r.snapshots.max(1) as f64;
    let zone = |name: &str| r.zones.iter().position(|z| z.zone == name);
    for b in &r.borders {
        let (Some(ia), Some(ib)) = (zone(&b.zone_a), zone(&b.zone_b)) else {
            continue;
        };
        let net = b.flow_ab_mwh - b.flow_ba_mwh;
        if b.flow_ab_mwh + b.flow_ba_mwh == 0.0 {
            continue;
        }
        let (from, to, congested) = if net >= 0.0 {
            (ia, ib, b.hours_congested_ab)
        } else {
            (ib, ia, b.hours_congested_ba)
        };
        let ((x0, y0, r0), (x1, y1, r1)) = (circles[from], circles[to]);
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let share = congested as f64 / hours;
        let ac = b
            .elements
            .iter()
            .any(|e| n.branches.iter().any(|br| &br.name == e));
        let dash = if ac { "" } else { " stroke-dasharray=\"7,4\"" };
        let width = 1.2 + 8.0 * (net.abs() / max_flow).sqrt();
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width:.1}\" stroke-opacity=\"0.9\"{dash} marker-end=\"url(#arrow)\"><title>{} - {} ({}): net {:.3} TWh, at the limit {:.0} % of hours, rent {:.2} M</title></line>",
            x0 + (r0 + 2.0) * ux, y0 + (r0 + 2.0) * uy, x1 - (r1 + 7.0) * ux, y1 - (r1 + 7.0) * uy,
            congestion_colour(share), esc(&b.zone_a), esc(&b.zone_b),
            if ac { "AC" } else { "link" }, net / 1e6, 100.0 * share, b.congestion_rent / 1e6
        );
    }
    max_flow
}

fn zones(out: &mut String, r: &TradeReport, circles: &[(f64, f64, f64)], classes: &[f64]) {
    for (z, &(x, y, radius)) in r.zones.iter().zip(circles) {
        let price = z.prices.load_weighted_price;
        let (fill, dash) = match price {
            Some(p) => (PRICE_COLOURS[class_of(classes, p)], ""),
            None => ("white", " stroke-dasharray=\"3,2\""),
        };
        let what = price.map_or_else(|| "no load".to_string(), |p| format!("{p:.2}/MWh"));
        let _ = writeln!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"{fill}\" stroke=\"#222\" stroke-width=\"1\"{dash}><title>{}: {what}, load {:.3} TWh, net position {:.3} TWh</title></circle>", esc(&z.zone), z.load_mwh / 1e6, z.net_position_mwh / 1e6);
    }
}

/// Zone labels (name and price), largest zones first, none over another label or a zone.
fn labels(out: &mut String, r: &TradeReport, circles: &[(f64, f64, f64)], frame: &Rect) {
    let bounds = Rect(frame.0 + 2.0, frame.1 + 2.0, frame.2 - 2.0, frame.3 - 2.0);
    let mut order: Vec<usize> = (0..r.zones.len()).collect();
    order.sort_by(|&a, &b| circles[b].2.total_cmp(&circles[a].2));
    let mut placed: Vec<Rect> = Vec::new();
    for i in order {
        let z = &r.zones[i];
        let price = z
            .prices
            .load_weighted_price
            .map_or_else(|| "–".to_string(), |p| format!("{p:.0}"));
        let (w1, _) = text_box(z.zone.chars().count(), 12.0);
        let (w2, _) = text_box(price.chars().count(), 11.0);
        let size = (w1.max(w2), 30.0);
        let Some((b, away)) = place_label(circles[i], size, &placed, circles, &bounds) else {
            continue; // no free place: the zone keeps its tooltip
        };
        placed.push(b);
        let (x, y, _) = circles[i];
        if away {
            let (cx, cy) = (b.0.max(x.min(b.2)), b.1.max(y.min(b.3)));
            let _ = writeln!(out, "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{cx:.1}\" y2=\"{cy:.1}\" stroke=\"#555\" stroke-width=\"0.8\"/>");
        }
        let _ = writeln!(out, "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"white\" fill-opacity=\"0.8\"/>", b.0, b.1, b.2 - b.0, b.3 - b.1);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"bold\">{}</text>",
            b.0 + 2.0,
            b.1 + 13.0,
            esc(&z.zone)
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{price}</text>",
            b.0 + 2.0,
            b.1 + 26.0
        );
    }
}

fn legend(out: &mut String, classes: &[f64], max_flow: f64, outlines: bool, loops: bool) {
    let (x, mut y) = (MAP.2 + 20.0, MAP.1 + 10.0);
    let _ = writeln!(out, "<text x=\"{x}\" y=\"{y}\" font-size=\"13\" font-weight=\"bold\">Load-weighted price, /MWh</text>");
    y += 8.0;
    // Enough decimals that neighbouring class bounds read differently.
    let gap = classes
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let digits = if gap >= 5.0 {
        0
    } else if gap >= 0.5 {
        1
    } else {
        2
    };
    let mut low = f64::NEG_INFINITY;
    for (i, &high) in classes.iter().enumerate() {
        let range = if low.is_finite() {
            format!("{low:.digits$} – {high:.digits$}")
        } else {
            format!("≤ {high:.digits$}")
        };
        let _ = writeln!(out, "<rect x=\"{x}\" y=\"{y:.1}\" width=\"18\" height=\"14\" fill=\"{}\" stroke=\"#222\" stroke-width=\"0.5\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{range}</text>", PRICE_COLOURS[i], x + 26.0, y + 12.0);
        low = high;
        y += 20.0;
    }
    let _ = writeln!(out, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"white\" stroke=\"#222\" stroke-dasharray=\"3,2\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">no load</text>", x + 9.0, y + 7.0, x + 26.0, y + 12.0);
    y += 34.0;
    let _ = writeln!(out, "<text x=\"{x}\" y=\"{y:.1}\" font-size=\"11\" fill=\"#555\">classes: the zones' prices in equal</text><text x=\"{x}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">counts, so a few scarcity hours</text><text x=\"{x}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">do not hide the other zones</text>", y + 14.0, y + 28.0);
    y += 58.0;
    let _ = writeln!(
        out,
        "<text x=\"{x}\" y=\"{y:.1}\" font-size=\"13\" font-weight=\"bold\">Net flow, TWh</text>"
    );
    y += 14.0;
    let digits = if max_flow >= 1e5 { 2 } else { 4 };
    for f in [0.1, 0.4, 1.0] {
        let mwh = f * max_flow;
        let width = 1.2 + 8.0 * f.sqrt();
        let _ = writeln!(out, "<line x1=\"{x}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#7b8794\" stroke-width=\"{width:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{:.digits$}</text>", x + 50.0, x + 60.0, y + 4.0, mwh / 1e6);
        y += 20.0;
    }
    y += 12.0;
    let _ = writeln!(out, "<text x=\"{x}\" y=\"{y:.1}\" font-size=\"13\" font-weight=\"bold\">Hours at the limit</text>");
    y += 8.0;
    for (share, what) in [
        (0.0, "never"),
        (0.05, "under 10 %"),
        (0.3, "10–50 %"),
        (0.8, "half or more"),
    ] {
        let _ = writeln!(out, "<line x1=\"{x}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{what}</text>", y + 7.0, x + 50.0, y + 7.0, congestion_colour(share), x + 60.0, y + 11.0);
        y += 18.0;
    }
    y += 8.0;
    let _ = writeln!(out, "<line x1=\"{x}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#444\" stroke-width=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">AC line(s)</text>", x + 50.0, x + 60.0, y + 4.0);
    y += 18.0;
    let _ = writeln!(out, "<line x1=\"{x}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#444\" stroke-width=\"3\" stroke-dasharray=\"7,4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">link (HVDC, NTC)</text>", x + 50.0, x + 60.0, y + 4.0);
    if loops {
        y += 18.0;
        let _ = writeln!(out, "<line x1=\"{x}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{LOOP_COLOUR}\" stroke-width=\"3\" stroke-dasharray=\"2,3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">unscheduled (loop) flow</text>", x + 50.0, x + 60.0, y + 4.0);
    }
    if outlines {
        let _ = writeln!(out, "<text x=\"{x}\" y=\"{:.1}\" font-size=\"10\" fill=\"#666\">Outlines: Natural Earth (public domain)</text>", y + 40.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Tashkent–Khujand–Osh cluster of the CAREC map, at map scale: every label finds a
    /// place, and no label overlaps another or a zone.
    #[test]
    fn labels_of_a_tight_cluster_do_not_overlap() {
        let circles = [
            (520.0, 455.0, 20.0),
            (531.0, 478.0, 10.0),
            (516.0, 515.0, 12.0),
            (586.0, 463.0, 12.0),
            (612.0, 423.0, 11.0),
            (650.0, 414.0, 16.0),
        ];
        let bounds = Rect(0.0, 0.0, 1000.0, 800.0);
        let mut placed = Vec::new();
        for &c in &circles {
            let (b, _) = place_label(c, (50.0, 30.0), &placed, &circles, &bounds).unwrap();
            placed.push(b);
        }
        for (i, a) in placed.iter().enumerate() {
            for b in &placed[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} {b:?}");
            }
            assert!(!circles.iter().any(|&c| a.touches_circle(c)), "{a:?}");
        }
    }

    #[test]
    fn price_classes_keep_a_scarcity_zone_from_washing_out_the_rest() {
        let prices = [
            19.0, 20.0, 21.0, 25.0, 29.0, 51.0, 58.0, 62.0, 296.0, 666.0, 844.0,
        ];
        let c = price_classes(&prices);
        assert_eq!(c.len(), 6);
        assert_eq!(*c.last().unwrap(), 844.0);
        // The cheap zones fall in different classes.
        assert_ne!(class_of(&c, 19.0), class_of(&c, 29.0));
        assert_ne!(class_of(&c, 29.0), class_of(&c, 62.0));
    }

    #[test]
    fn the_basemap_has_the_carec_countries() {
        let isos: Vec<String> = outlines().into_iter().map(|(iso, _)| iso).collect();
        for c in [
            "KAZ", "UZB", "KGZ", "TJK", "TKM", "AFG", "PAK", "MNG", "CHN",
        ] {
            assert!(isos.iter().any(|i| i == c), "{c}");
        }
    }
}
