//! Hostile requests for every RPC and every field: empty, huge, unicode and path-like
//! names; versions and snapshot indices at 0 and the integer maxima; NaN, ±inf, negative,
//! huge and subnormal numbers; unknown enum values; malformed page tokens, TOML and uploads.
//! Each gets an answer with a documented status (INVALID_ARGUMENT, NOT_FOUND,
//! FAILED_PRECONDITION, ALREADY_EXISTS, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED) or a success
//! without a non-finite number, never INTERNAL or UNKNOWN, and the server keeps answering.

mod common;
#[path = "common/server.rs"]
mod server;

use gridtrade_service::proto::grid_trade_service_client::GridTradeServiceClient;
use gridtrade_service::proto::{self, edit::Edit as E, Edit, SolveRequest, TradeRequest};
use server::{client, example_files, start};
use tonic::transport::Channel;
use tonic::Code;

const NAMES: &[&str] = &[
    "",
    " ",
    "example ",
    "../../etc/passwd",
    "/etc/passwd",
    "a\0b",
    "line\nbreak",
    "Алматы",
    "⚡",
    "%s%n%x",
    "\u{202e}evil",
];

const DOUBLES: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1.0,
    1e308,
    -1e308,
    -0.0,
    4.9e-324,
    1e13,
];

const INTS: &[u64] = &[0, 1, 2, u32::MAX as u64, u64::MAX - 1, u64::MAX];

const ENUMS: &[i32] = &[-1, 4, 99, i32::MAX, i32::MIN];

/// What the requests got back.
#[derive(Default)]
struct Tally {
    calls: usize,
    by_code: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
}

impl Tally {
    /// Record an answer: a documented status, or a success whose `Debug` form (strings
    /// cleared by the caller) shows no NaN or infinity.
    fn record<T: std::fmt::Debug>(&mut self, label: &str, r: Result<T, tonic::Status>) {
        self.calls += 1;
        match r {
            Ok(v) => {
                *self.by_code.entry("OK".into()).or_default() += 1;
                let text = format!("{v:?}");
                if let Some(bad) = non_finite(&text) {
                    self.failures.push(format!("{label}: {bad} in the answer"));
                }
            }
            Err(s) => {
                *self.by_code.entry(format!("{:?}", s.code())).or_default() += 1;
                let documented = matches!(
                    s.code(),
                    Code::InvalidArgument
                        | Code::NotFound
                        | Code::FailedPrecondition
                        | Code::AlreadyExists
                        | Code::ResourceExhausted
                        | Code::DeadlineExceeded
                        | Code::OutOfRange
                );
                if !documented || s.message().is_empty() {
                    self.failures
                        .push(format!("{label}: {:?} {:?}", s.code(), s.message()));
                }
            }
        }
    }
}

/// A NaN or infinity in a value's `Debug` form (numbers print as `NaN`, `inf`, `-inf`).
fn non_finite(debug: &str) -> Option<&'static str> {
    for (token, name) in [("NaN", "NaN"), ("inf", "an infinity")] {
        for (i, _) in debug.match_indices(token) {
            let before = debug[..i].trim_end_matches('-');
            let after = &debug[i + token.len()..];
            let number_like = (before.ends_with(": ")
                || before.ends_with('[')
                || before.ends_with(", ")
                || before.ends_with('('))
                && (after.starts_with(',')
                    || after.starts_with(']')
                    || after.starts_with(' ')
                    || after.starts_with(')')
                    || after.is_empty());
            if number_like {
                return Some(name);
            }
        }
    }
    None
}

/// A solve response without its text (which is free prose) for the finiteness check.
fn solve_numbers(mut r: proto::SolveResponse) -> proto::SolveResponse {
    r.report_text.clear();
    r
}

fn trade_numbers(mut r: proto::TradeResponse) -> proto::TradeResponse {
    r.report_json.clear();
    r
}

async fn solve_variants(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    let base = || SolveRequest {
        network: "example".into(),
        snapshot_end: 6,
        ..Default::default()
    };
    let mut variants: Vec<(String, SolveRequest)> = Vec::new();
    for name in NAMES {
        variants.push((
            format!("network {name:?}"),
            SolveRequest {
                network: (*name).into(),
                ..base()
            },
        ));
    }
    variants.push((
        "network of 1 MB".into(),
        SolveRequest {
            network: "n".repeat(1 << 20),
            ..base()
        },
    ));
    for &v in INTS {
        variants.push((
            format!("version {v}"),
            SolveRequest {
                version: v,
                ..base()
            },
        ));
        let v32 = v.min(u32::MAX as u64) as u32;
        variants.push((
            format!("snapshot_start {v32}"),
            SolveRequest {
                snapshot_start: v32,
                ..base()
            },
        ));
        variants.push((
            format!("snapshot_end {v32}"),
            SolveRequest {
                snapshot_end: v32,
                ..base()
            },
        ));
        variants.push((
            format!("pwl_segments {v32}"),
            SolveRequest {
                pwl_segments: v32,
                ..base()
            },
        ));
    }
    for &e in ENUMS {
        variants.push((format!("model {e}"), SolveRequest { model: e, ..base() }));
        variants.push((
            format!("dc_convention {e}"),
            SolveRequest {
                dc_convention: e,
                ..base()
            },
        ));
        variants.push((format!("kvl {e}"), SolveRequest { kvl: e, ..base() }));
    }
    for &d in DOUBLES {
        variants.push((
            format!("voll {d}"),
            SolveRequest {
                voll: Some(d),
                ..base()
            },
        ));
        variants.push((
            format!("co2_price {d}"),
            SolveRequest {
                co2_price: d,
                ..base()
            },
        ));
    }
    variants.push((
        "angle limits, transport".into(),
        SolveRequest {
            angle_limits: true,
            model: 2,
            ..base()
        },
    ));
    variants.push((
        "series of a month of CAREC".into(),
        SolveRequest {
            network: "carec".into(),
            snapshot_end: 744,
            model: 2,
            include_series: true,
            ..base()
        },
    ));
    for (label, req) in variants {
        let r = c
            .solve(req.clone())
            .await
            .map(|r| solve_numbers(r.into_inner()));
        t.record(&format!("Solve {label}"), r);
        if label.starts_with("voll") || label.starts_with("network \"\"") {
            let r = stream_result(c, req).await;
            t.record(&format!("SolveStream {label}"), r);
        }
    }
}

/// The events of a SolveStream call, gathered (the result's text cleared).
async fn stream_result(
    c: &mut GridTradeServiceClient<Channel>,
    req: SolveRequest,
) -> Result<Vec<proto::SolveStreamResponse>, tonic::Status> {
    let mut stream = c.solve_stream(req).await?.into_inner();
    let mut events = Vec::new();
    while let Some(mut e) = stream.message().await? {
        match &mut e.event {
            Some(proto::solve_stream_response::Event::Result(r)) => r.report_text.clear(),
            Some(proto::solve_stream_response::Event::Log(l)) => l.clear(),
            _ => {}
        }
        events.push(e);
    }
    Ok(events)
}

async fn trade_variants(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    let base = || TradeRequest {
        network: "example".into(),
        snapshot_end: 6,
        ..Default::default()
    };
    let mut variants: Vec<(String, TradeRequest)> = Vec::new();
    for name in NAMES.iter().take(4) {
        variants.push((
            format!("network {name:?}"),
            TradeRequest {
                network: (*name).into(),
                ..base()
            },
        ));
    }
    for &v in INTS {
        let v32 = v.min(u32::MAX as u64) as u32;
        variants.push((
            format!("version {v}"),
            TradeRequest {
                version: v,
                ..base()
            },
        ));
        variants.push((
            format!("period_start {v32}"),
            TradeRequest {
                period_start: v32,
                ..base()
            },
        ));
        variants.push((
            format!("period_end {v32}"),
            TradeRequest {
                period_end: v32,
                ..base()
            },
        ));
        variants.push((
            format!("snapshot_end {v32}"),
            TradeRequest {
                snapshot_end: v32,
                ..base()
            },
        ));
    }
    for &e in ENUMS.iter().take(3) {
        variants.push((format!("model {e}"), TradeRequest { model: e, ..base() }));
        variants.push((
            format!("dc_convention {e}"),
            TradeRequest {
                dc_convention: e,
                ..base()
            },
        ));
        variants.push((format!("kvl {e}"), TradeRequest { kvl: e, ..base() }));
    }
    for &d in DOUBLES {
        variants.push((
            format!("voll {d}"),
            TradeRequest {
                voll: Some(d),
                ..base()
            },
        ));
        variants.push((
            format!("co2_price {d}"),
            TradeRequest {
                co2_price: d,
                ..base()
            },
        ));
    }
    let tomls = [
        "co2_price = nan",
        "co2_price = inf",
        "co2_price = 1e308",
        "[demand_scale]\nall = 1e308",
        "[capacity]\nnope = 1",
        "switch_off = [\"\u{0}\"]",
        "===",
        "[[x]]",
        "name = \"Алматы ⚡\"",
    ];
    for toml in tomls {
        variants.push((
            format!("scenario_toml {toml:?}"),
            TradeRequest {
                scenario_toml: toml.into(),
                ..base()
            },
        ));
        variants.push((
            format!("compare_toml {toml:?}"),
            TradeRequest {
                compare_toml: toml.into(),
                ..base()
            },
        ));
    }
    variants.push((
        "scenario_toml of 2 MB".into(),
        TradeRequest {
            scenario_toml: "# x\n".repeat(500_000),
            ..base()
        },
    ));
    variants.push((
        "compare_base with no_autarky".into(),
        TradeRequest {
            compare_base: true,
            no_autarky: true,
            ..base()
        },
    ));
    for (label, req) in variants {
        let r = c.trade(req).await.map(|r| trade_numbers(r.into_inner()));
        t.record(&format!("Trade {label}"), r);
    }
}

async fn get_variants(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    let base = || proto::GetNetworkRequest {
        name: "example".into(),
        ..Default::default()
    };
    let mut variants: Vec<(String, proto::GetNetworkRequest)> = Vec::new();
    for name in NAMES {
        variants.push((
            format!("name {name:?}"),
            proto::GetNetworkRequest {
                name: (*name).into(),
                ..base()
            },
        ));
    }
    for &v in INTS {
        let v32 = v.min(u32::MAX as u64) as u32;
        variants.push((
            format!("version {v}"),
            proto::GetNetworkRequest {
                version: v,
                ..base()
            },
        ));
        variants.push((
            format!("page_size {v32}"),
            proto::GetNetworkRequest {
                page_size: v32,
                ..base()
            },
        ));
    }
    for token in [
        "x",
        "1:18446744073709551615",
        "18446744073709551615:1",
        "-1:0",
        ":",
        "1:2:3",
        "99999999999999999999999",
        "1:",
        "\u{0}",
        "0:0",
    ] {
        for size in [1, 1000] {
            variants.push((
                format!("page_token {token:?} size {size}"),
                proto::GetNetworkRequest {
                    page_token: token.into(),
                    page_size: size,
                    ..base()
                },
            ));
        }
    }
    for (label, req) in variants {
        let r = c.get_network(req).await.map(|r| r.into_inner());
        t.record(&format!("GetNetwork {label}"), r);
    }
}

async fn upload_variants(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    let files = example_files();
    let upload = |name: &str, files: Vec<proto::File>| proto::UploadNetworkRequest {
        name: name.into(),
        files,
    };
    let mut variants: Vec<(String, proto::UploadNetworkRequest)> = Vec::new();
    for name in NAMES {
        variants.push((format!("name {name:?}"), upload(name, files.clone())));
    }
    variants.push(("no files".into(), upload("u1", Vec::new())));
    let file = |name: &str, content: &[u8]| proto::File {
        name: name.into(),
        content: content.to_vec(),
    };
    for bad in [
        "../buses.csv",
        "/tmp/buses.csv",
        "sub/buses.csv",
        "",
        ".",
        "..",
        "buses.csv\0",
        "x.exe",
        "case.m/",
    ] {
        let mut fs = files.clone();
        fs.push(file(bad, b"name\n"));
        variants.push((format!("file name {bad:?}"), upload("u2", fs)));
    }
    let mut twice = files.clone();
    twice.push(files[0].clone());
    variants.push(("a file twice".into(), upload("u3", twice)));
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    for (what, content) in [
        ("binary", binary.as_slice()),
        ("empty", b"".as_slice()),
        ("header only", b"name,bus,p_nom\n".as_slice()),
    ] {
        let mut fs = files.clone();
        fs.iter_mut()
            .find(|f| f.name == "generators.csv")
            .unwrap()
            .content = content.to_vec();
        variants.push((format!("generators.csv {what}"), upload("u4", fs)));
    }
    variants.push((
        "a MATPOWER case with a folder's files".into(),
        upload(
            "u5",
            vec![file("case.m", b"function mpc = x\nmpc.baseMVA = nan;\n")],
        ),
    ));
    variants.push((
        "2000 files".into(),
        upload(
            "u6",
            (0..2000)
                .map(|i| file(&format!("f{i}.csv"), b"a\n"))
                .collect(),
        ),
    ));
    variants.push(("an existing name".into(), upload("example", files.clone())));
    for (label, req) in variants {
        let r = c.upload_network(req).await.map(|r| r.into_inner());
        t.record(&format!("UploadNetwork {label}"), r);
    }
    // The stream: a name that changes mid-way, chunks of no file, and a file name to escape.
    let chunk = |name: &str, file_name: &str, data: &[u8]| proto::UploadNetworkStreamRequest {
        name: name.into(),
        file_name: file_name.into(),
        data: data.to_vec(),
    };
    let streams: Vec<(&str, Vec<proto::UploadNetworkStreamRequest>)> = vec![
        ("no chunks", Vec::new()),
        (
            "changing name",
            vec![
                chunk("s1", "buses.csv", b"name\nA\n"),
                chunk("s2", "loads.csv", b"name,bus\n"),
            ],
        ),
        ("no file name", vec![chunk("s3", "", b"name\nA\n")]),
        (
            "escaping file name",
            vec![chunk("s4", "../../x.csv", b"name\nA\n")],
        ),
        ("empty name", vec![chunk("", "buses.csv", b"name\nA\n")]),
        ("NUL in data", vec![chunk("s5", "buses.csv", b"name\n\0\n")]),
    ];
    for (label, chunks) in streams {
        let r = c
            .upload_network_stream(tokio_stream::iter(chunks))
            .await
            .map(|r| r.into_inner());
        t.record(&format!("UploadNetworkStream {label}"), r);
    }
}

async fn update_variants(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    // A copy to edit and delete, so the other calls keep their network.
    let copy = proto::UploadNetworkRequest {
        name: "victim".into(),
        files: example_files(),
    };
    t.record(
        "UploadNetwork a copy",
        c.upload_network(copy).await.map(|r| r.into_inner()),
    );
    let update = |base_version: u64, edits: Vec<Edit>| proto::UpdateNetworkRequest {
        name: "victim".into(),
        base_version,
        edits,
    };
    let set = |element: &str, attribute: &str, value: f64| Edit {
        edit: Some(E::SetAttribute(proto::SetAttribute {
            element: element.into(),
            attribute: attribute.into(),
            value,
        })),
    };
    let mut variants: Vec<(String, proto::UpdateNetworkRequest)> = Vec::new();
    for &v in INTS {
        variants.push((
            format!("base_version {v}"),
            update(v, vec![set("KZ_S-UZ_T", "s_nom", 100.0)]),
        ));
    }
    variants.push(("no edits".into(), update(0, Vec::new())));
    variants.push(("an empty edit".into(), update(0, vec![Edit { edit: None }])));
    for attribute in [
        "s_nom",
        "p_nom",
        "marginal_cost",
        "efficiency",
        "x",
        "p_set",
        "nope",
        "",
        "v_nom",
    ] {
        for &d in DOUBLES {
            for element in ["KZ_S-UZ_T", "nowhere", ""] {
                variants.push((
                    format!("{element:?} {attribute:?} = {d}"),
                    update(0, vec![set(element, attribute, d)]),
                ));
            }
        }
    }
    for name in NAMES.iter().take(6) {
        variants.push((
            format!("switch {name:?}"),
            update(
                0,
                vec![Edit {
                    edit: Some(E::SetInService(proto::SetInService {
                        element: (*name).into(),
                        in_service: false,
                    })),
                }],
            ),
        ));
    }
    for &d in DOUBLES {
        let link = |p_nom: f64, p_min_pu: f64, efficiency: f64, bus1: &str| Edit {
            edit: Some(E::AddLink(proto::AddLink {
                name: "new".into(),
                bus0: "KZ_S".into(),
                bus1: bus1.into(),
                p_nom,
                p_min_pu,
                efficiency,
            })),
        };
        variants.push((
            format!("AddLink p_nom {d}"),
            update(0, vec![link(d, 0.0, 1.0, "UZ_S")]),
        ));
        variants.push((
            format!("AddLink p_min_pu {d}"),
            update(0, vec![link(100.0, d, 1.0, "UZ_S")]),
        ));
        variants.push((
            format!("AddLink efficiency {d}"),
            update(0, vec![link(100.0, 0.0, d, "UZ_S")]),
        ));
    }
    variants.push((
        "AddLink to itself".into(),
        update(
            0,
            vec![Edit {
                edit: Some(E::AddLink(proto::AddLink {
                    name: "self".into(),
                    bus0: "KZ_S".into(),
                    bus1: "KZ_S".into(),
                    p_nom: 1.0,
                    p_min_pu: 0.0,
                    efficiency: 1.0,
                })),
            }],
        ),
    ));
    for (label, req) in variants {
        let r = c.update_network(req).await.map(|r| r.into_inner());
        t.record(&format!("UpdateNetwork {label}"), r);
    }
    for name in NAMES {
        let r = c
            .delete_network(proto::DeleteNetworkRequest {
                name: (*name).into(),
            })
            .await
            .map(|r| r.into_inner());
        t.record(&format!("DeleteNetwork {name:?}"), r);
    }
    let r = c
        .delete_network(proto::DeleteNetworkRequest {
            name: "victim".into(),
        })
        .await
        .map(|r| r.into_inner());
    t.record("DeleteNetwork the copy", r);
}

/// A network with a bus out of service (no price there) solved with its series: the
/// answer leaves that bus's prices out instead of sending NaN.
async fn dark_bus(c: &mut GridTradeServiceClient<Channel>, t: &mut Tally) {
    let mut files = example_files();
    let buses = files.iter_mut().find(|f| f.name == "buses.csv").unwrap();
    let text = String::from_utf8(buses.content.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[0].push_str(",active");
    for (i, l) in lines.iter_mut().enumerate().skip(1) {
        l.push_str(if i == 1 { ",False" } else { ",True" });
    }
    buses.content = (lines.join("\n") + "\n").into_bytes();
    let up = c
        .upload_network(proto::UploadNetworkRequest {
            name: "dark".into(),
            files,
        })
        .await;
    t.record(
        "UploadNetwork with a bus out of service",
        up.map(|r| r.into_inner()),
    );
    let req = SolveRequest {
        network: "dark".into(),
        snapshot_end: 6,
        voll: Some(3000.0),
        include_series: true,
        ..Default::default()
    };
    let r = c.solve(req).await.map(|r| solve_numbers(r.into_inner()));
    if let Ok(r) = &r {
        let priced = r.bus_prices.len();
        t.failures.extend(
            (priced != 3).then(|| format!("{priced} bus price series, 3 buses in service")),
        );
    }
    t.record("Solve with a bus out of service, series", r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_and_field_answers_hostile_values_with_a_documented_status() {
    let (addr, _stop) = start(2, 8).await;
    let mut c = client(&addr).await;
    let mut t = Tally::default();
    solve_variants(&mut c, &mut t).await;
    trade_variants(&mut c, &mut t).await;
    get_variants(&mut c, &mut t).await;
    upload_variants(&mut c, &mut t).await;
    update_variants(&mut c, &mut t).await;
    t.record(
        "ListNetworks",
        c.list_networks(proto::ListNetworksRequest {})
            .await
            .map(|r| r.into_inner()),
    );
    dark_bus(&mut c, &mut t).await;
    // Still serving, and still right: the example's first six hours solve as before.
    let again = c
        .solve(SolveRequest {
            network: "example".into(),
            snapshot_end: 6,
            ..Default::default()
        })
        .await
        .expect("the server still solves");
    assert!(again.into_inner().objective > 0.0);
    println!("{} hostile calls: {:?}", t.calls, t.by_code);
    assert!(
        t.failures.is_empty(),
        "{} of {} calls:\n{}",
        t.failures.len(),
        t.calls,
        t.failures.join("\n")
    );
    assert!(t.calls >= 300, "{} calls", t.calls);
}

/// The finiteness check sees what it must (so a NaN in an answer fails the test above).
#[test]
fn non_finite_numbers_are_seen_in_debug_output() {
    let r = proto::SolveResponse {
        objective: f64::NAN,
        ..Default::default()
    };
    assert_eq!(non_finite(&format!("{r:?}")), Some("NaN"));
    let s = proto::Series {
        name: "b".into(),
        values: vec![1.0, f64::NEG_INFINITY],
    };
    assert_eq!(non_finite(&format!("{s:?}")), Some("an infinity"));
    let z = proto::ZonePrice {
        mean_price: Some(f64::INFINITY),
        ..Default::default()
    };
    assert_eq!(non_finite(&format!("{z:?}")), Some("an infinity"));
    let fine = proto::SolveResponse {
        objective: 1.5,
        network: "infinite NaN".into(),
        ..Default::default()
    };
    assert_eq!(non_finite(&format!("{fine:?}")), None);
}
