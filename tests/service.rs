//! The gRPC service, over real gRPC on 127.0.0.1 (port 0): networks, solves, status codes,
//! limits, deadlines, health and reflection.

mod common;
#[path = "common/server.rs"]
mod server;

use common::*;
use gridtrade_service::proto::grid_trade_service_client::GridTradeServiceClient;
use gridtrade_service::proto::{self, SolveRequest};
use gridtrade_service::Limits;
use server::{client, files_of, start, start_with};
use std::path::Path;
use std::time::Duration;
use tonic::transport::Channel;
use tonic::Code;

/// Start a server holding the example network, the CAREC network and three MATPOWER cases;
/// returns its address and a handle that stops it when dropped.
fn solve_request(network: &str) -> SolveRequest {
    SolveRequest {
        network: network.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_gets_and_solves_networks_with_the_reference_answers() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let list = c
        .list_networks(proto::ListNetworksRequest {})
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = list.networks.iter().map(|n| n.name.as_str()).collect();
    assert!(
        names.contains(&"carec") && names.contains(&"case5"),
        "{names:?}"
    );
    let carec = list.networks.iter().find(|n| n.name == "carec").unwrap();
    assert_eq!(
        (carec.version, carec.snapshots, carec.buses, carec.links),
        (1, 8760, 28, 66)
    );

    let net = c
        .get_network(proto::GetNetworkRequest {
            name: "example".into(),
            version: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(net.buses.len(), 4);
    let link = net.branches.iter().find(|b| b.name == "KG-KZ_S").unwrap();
    assert_eq!(link.kind, proto::BranchKind::Link as i32);
    assert_eq!(link.capacity_mw, 500.0);

    // PGLib case5: objective 17479.8969 and the LMPs of tests/data/REFERENCES.md.
    let mut req = solve_request("case5");
    req.include_series = true;
    let r = c.solve(req).await.unwrap().into_inner();
    assert_eq!(r.status, proto::SolveStatus::Optimal as i32);
    assert_rel(r.objective, 17479.8969, 1e-6);
    for (s, want) in r
        .bus_prices
        .iter()
        .zip([16.9774, 26.3845, 30.0, 39.9427, 10.0])
    {
        assert_abs(s.values[0], want, 1e-4);
    }
    assert_eq!(r.generator_output.len(), 5);
    // Kirchhoff's law through angles: the same optimum and prices.
    let mut req = solve_request("case5");
    req.include_series = true;
    req.kvl = proto::Kvl::Angles as i32;
    let angles = c.solve(req).await.unwrap().into_inner();
    assert_rel(angles.objective, 17479.8969, 1e-6);
    for (a, b) in angles.bus_prices.iter().zip(&r.bus_prices) {
        assert_abs(a.values[0], b.values[0], 1e-6);
    }

    // The example network over gRPC gives what the library gives.
    let local = gridtrade_engine::solve::solve(
        &read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example")),
        &Default::default(),
    )
    .unwrap()
    .results
    .unwrap();
    let mut req = solve_request("example");
    req.snapshot_start = 0;
    req.snapshot_end = 24;
    let r = c.solve(req).await.unwrap().into_inner();
    assert_rel(r.objective, local.objective, 1e-9);
    assert_eq!(r.snapshots, 24);
    assert!(r.bus_prices.is_empty(), "series only on request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_right_status_and_a_message_naming_the_problem() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let err = c.solve(solve_request("nowhere")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("nowhere"));
    let err = c
        .get_network(proto::GetNetworkRequest {
            name: "case5".into(),
            version: 7,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains("versions 1..=1"),
        "{}",
        err.message()
    );

    let mut req = solve_request("example");
    req.snapshot_start = 10;
    req.snapshot_end = 99;
    let err = c.solve(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("--snapshots") || err.message().contains("24 snapshots"),
        "{}",
        err.message()
    );

    let mut req = solve_request("example");
    req.model = 42;
    let err = c.solve(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("model"));
    let mut req = solve_request("example");
    req.kvl = 9;
    let err = c.solve(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("kvl: unknown value 9"),
        "{}",
        err.message()
    );

    // Quadratic costs without a piecewise-linear approximation: the element and field.
    let err = c.solve(solve_request("case9q")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("generator 'gen1'")
            && err.message().contains("marginal_cost_quadratic"),
        "{}",
        err.message()
    );
    let mut req = solve_request("case9q");
    req.pwl_segments = 100;
    assert!(c.solve(req).await.is_ok());

    // Infeasible: FAILED_PRECONDITION with the diagnosis.
    let mut req = solve_request("sad");
    req.angle_limits = true;
    let err = c.solve(req).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("load must be shed"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_becomes_the_time_limit_and_the_queue_is_bounded() {
    // One solve at a time and no queue: a second concurrent solve is refused.
    let (addr, _stop) = start(1, 0).await;
    let mut c = client(&addr).await;
    let mut january = solve_request("carec");
    january.snapshot_end = 744;
    let mut first = c.clone();
    let long = tokio::spawn(async move { first.solve(january).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = c.solve(solve_request("case5")).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(long.await.unwrap().is_ok());

    // A year of CAREC cannot be solved in half a second: the deadline stops it.
    let mut year = tonic::Request::new(solve_request("carec"));
    year.set_timeout(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let err = c.solve(year).await.unwrap_err();
    // tonic reports a client-side timeout as CANCELLED ("Timeout expired"); the server maps
    // the deadline to HiGHS' time limit and answers DEADLINE_EXCEEDED if it gets there first.
    assert!(
        matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    // The server stays usable: its solve slot is freed once HiGHS stops at the time limit.
    let mut ok = None;
    for _ in 0..100 {
        match c.solve(solve_request("case5")).await {
            Ok(r) => {
                ok = Some(r.into_inner());
                break;
            }
            Err(e) if e.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_rel(ok.expect("slot freed").objective, 17479.8969, 1e-6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_are_served() {
    let (addr, _stop) = start(1, 1).await;
    client(&addr).await;
    let channel = Channel::from_shared(addr.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "gridtrade.v1.GridTradeService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let mut reflection = ServerReflectionClient::new(channel);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("{resp:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"gridtrade.v1.GridTradeService".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_edit_version_and_delete() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example");
    let up = c
        .upload_network(proto::UploadNetworkRequest {
            name: "mine".into(),
            files: files_of(&example),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.summary.as_ref().unwrap().version, 1);
    let v1 = c
        .solve(solve_request("mine"))
        .await
        .unwrap()
        .into_inner()
        .objective;

    // Switch the link out: a new version, a dearer dispatch; version 1 is unchanged.
    use proto::edit::Edit as E;
    let edit = |e: E| proto::Edit { edit: Some(e) };
    let upd = c
        .update_network(proto::UpdateNetworkRequest {
            name: "mine".into(),
            base_version: 0,
            edits: vec![edit(E::SetInService(proto::SetInService {
                element: "KG-KZ_S".into(),
                in_service: false,
            }))],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(upd.summary.unwrap().version, 2);
    let v2 = c
        .solve(solve_request("mine"))
        .await
        .unwrap()
        .into_inner()
        .objective;
    assert!(v2 > v1);
    let mut again = solve_request("mine");
    again.version = 1;
    assert_eq!(c.solve(again).await.unwrap().into_inner().objective, v1);

    // A new link and a bigger one make version 3; a bad edit makes nothing.
    let upd = c
        .update_network(proto::UpdateNetworkRequest {
            name: "mine".into(),
            base_version: 1,
            edits: vec![
                edit(E::AddLink(proto::AddLink {
                    name: "UZ_S-KZ_S".into(),
                    bus0: "UZ_S".into(),
                    bus1: "KZ_S".into(),
                    p_nom: 300.0,
                    p_min_pu: -1.0,
                    efficiency: 0.0,
                })),
                edit(E::SetAttribute(proto::SetAttribute {
                    element: "KG-KZ_S".into(),
                    attribute: "p_nom".into(),
                    value: 900.0,
                })),
            ],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(upd.summary.as_ref().unwrap().version, 3);
    assert_eq!(upd.summary.unwrap().links, 2);
    assert!(
        c.solve(solve_request("mine"))
            .await
            .unwrap()
            .into_inner()
            .objective
            <= v1
    );
    let err = c
        .update_network(proto::UpdateNetworkRequest {
            name: "mine".into(),
            base_version: 0,
            edits: vec![edit(E::SetAttribute(proto::SetAttribute {
                element: "Toktogul".into(),
                attribute: "p_nom".into(),
                value: -5.0,
            }))],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("storage unit 'Toktogul'") && err.message().contains("p_nom"),
        "{}",
        err.message()
    );
    let list = c
        .list_networks(proto::ListNetworksRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.networks
            .iter()
            .find(|n| n.name == "mine")
            .unwrap()
            .version,
        3
    );

    c.delete_network(proto::DeleteNetworkRequest {
        name: "mine".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.solve(solve_request("mine")).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        c.delete_network(proto::DeleteNetworkRequest {
            name: "mine".into()
        })
        .await
        .unwrap_err()
        .code(),
        Code::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_the_file_and_field() {
    let (addr, _stop) = start(1, 1).await;
    let mut c = client(&addr).await;
    let file = |name: &str, text: &str| proto::File {
        name: name.into(),
        content: text.as_bytes().to_vec(),
    };
    let err = c
        .upload_network(proto::UploadNetworkRequest {
            name: "x".into(),
            files: vec![file("../buses.csv", "name\nA\n")],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("../buses.csv"));
    let err = c
        .upload_network(proto::UploadNetworkRequest {
            name: "bad name!".into(),
            files: vec![file("buses.csv", "name\nA\n")],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = c
        .upload_network(proto::UploadNetworkRequest {
            name: "x".into(),
            files: vec![
                file("buses.csv", "name\nA\n"),
                file("generators.csv", "name,bus,p_nom\ng,Q,10\n"),
            ],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("generators.csv line 2")
            && err.message().contains("unknown bus `Q`"),
        "{}",
        err.message()
    );
    // A MATPOWER case uploads as one file.
    let m = std::fs::read_to_string(case("pglib_opf_case5_pjm.m")).unwrap();
    let up = c
        .upload_network(proto::UploadNetworkRequest {
            name: "pjm".into(),
            files: vec![file("case5.m", &m)],
        })
        .await
        .unwrap();
    assert_eq!(up.into_inner().summary.unwrap().buses, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_command_talks_to_the_server() {
    let (addr, _stop) = start(2, 4).await;
    client(&addr).await;
    let run = move |args: Vec<String>| {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            gridtrade()
                .arg("call")
                .arg("--server")
                .arg(&addr)
                .args(args)
                .output()
                .unwrap()
        })
    };
    let out = run(vec!["networks".into()]).await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("case5"));
    let out = run(vec!["solve".into(), "case5".into(), "--json".into()])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["objective"].as_f64().unwrap() - 17479.8969).abs() < 1e-3);
    let out = run(vec![
        "update".into(),
        "case5".into(),
        "--switch-off".into(),
        "branch6".into(),
    ])
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(vec![
        "solve".into(),
        "sad".into(),
        "--snapshots".into(),
        "0..1".into(),
    ])
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = run(vec!["solve".into(), "nowhere".into()]).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NotFound"));

    // `call solve` prints the table `gridtrade solve` prints (but the timing line).
    let remote = run(vec!["solve".into(), "example".into()]).await.unwrap();
    let local = gridtrade()
        .args([
            "solve",
            concat!(env!("CARGO_MANIFEST_DIR"), "/networks/example"),
        ])
        .output()
        .unwrap();
    let lines = |o: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with("time "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(lines(&remote), lines(&local));
    assert!(lines(&local).iter().any(|l| l.starts_with("zone")));

    // `call trade --json` prints what `gridtrade trade --json` prints.
    let remote = run(vec![
        "trade".into(),
        "carec".into(),
        "--snapshots".into(),
        "0..48".into(),
        "--json".into(),
    ])
    .await
    .unwrap();
    let local = gridtrade()
        .args([
            "trade",
            concat!(env!("CARGO_MANIFEST_DIR"), "/networks/carec"),
            "--snapshots",
            "0..48",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(remote.stdout, local.stdout);
}

/// Every event of a `SolveStream` call.
async fn stream_events(
    c: &mut GridTradeServiceClient<Channel>,
    req: SolveRequest,
) -> Result<Vec<proto::SolveStreamResponse>, tonic::Status> {
    let mut s = c.solve_stream(req).await?.into_inner();
    let mut out = Vec::new();
    while let Some(e) = s.message().await? {
        out.push(e);
    }
    Ok(out)
}

fn carec_month() -> SolveRequest {
    SolveRequest {
        network: "carec".into(),
        snapshot_start: 0,
        snapshot_end: 744,
        model: proto::NetworkModel::Transport as i32,
        include_series: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solve_stream_reports_progress_then_the_same_result_as_solve_in_chunks() {
    use proto::solve_stream_response::Event;
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let events = stream_events(&mut c, carec_month()).await.unwrap();
    let phases: Vec<i32> = events
        .iter()
        .filter_map(|e| match e.event {
            Some(Event::Phase(p)) => Some(p),
            _ => None,
        })
        .collect();
    use proto::SolvePhase as P;
    assert_eq!(
        phases,
        [
            P::Queued,
            P::Validating,
            P::Building,
            P::Solving,
            P::Extracting
        ]
        .map(|p| p as i32)
    );
    let logs: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Log(l)) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    assert!(logs.iter().any(|l| l.contains("Model status")), "{logs:?}");
    assert!(events
        .iter()
        .any(|e| matches!(e.event, Some(Event::Iteration(_)))));
    // The result comes after all progress, then its series in several chunks, none larger
    // than about 1 MiB.
    let first_result = events
        .iter()
        .position(|e| matches!(e.event, Some(Event::Result(_))))
        .unwrap();
    let chunks: Vec<&proto::SeriesChunk> = events[first_result + 1..]
        .iter()
        .map(|e| match &e.event {
            Some(Event::Series(c)) => c,
            other => panic!("after the result only series chunks come, not {other:?}"),
        })
        .collect();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    for ch in &chunks {
        let bytes: usize = ch.series.iter().map(|s| s.values.len() * 8).sum();
        assert!(bytes <= (1 << 20) + 744 * 8, "{bytes} bytes in one chunk");
    }

    let mut assembler = gridtrade_client::StreamAssembler::default();
    for e in events {
        assembler.push(e);
    }
    let streamed = assembler.finish().unwrap();
    let unary = c.solve(carec_month()).await.unwrap().into_inner();
    assert_eq!(streamed.objective, unary.objective);
    assert_eq!(streamed.bus_prices, unary.bus_prices);
    assert_eq!(streamed.branch_flows, unary.branch_flows);
    assert_eq!(streamed.branch_shadow_prices, unary.branch_shadow_prices);
    assert_eq!(streamed.generator_output, unary.generator_output);
    assert_eq!(streamed.bus_prices.len(), 28);
    assert_eq!(streamed.generator_output.len(), 130);

    // Errors end the stream with the same status as Solve.
    let err = stream_events(&mut c, solve_request("example-missing"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = stream_events(
        &mut c,
        SolveRequest {
            network: "sad".into(),
            angle_limits: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    assert!(
        err.message().contains("load must be shed"),
        "{}",
        err.message()
    );
}

/// The whole CAREC year: HiGHS needs about two minutes for it on this machine.
fn carec_year() -> SolveRequest {
    SolveRequest {
        network: "carec".into(),
        model: proto::NetworkModel::Transport as i32,
        ..Default::default()
    }
}

/// With one solver slot, a small solve behind a cancelled long one finishes long before the
/// long one could have (about two minutes): the cancellation reached HiGHS and freed the
/// slot. HiGHS' presolve (about 10 s of the year) does not look for interrupts; the
/// simplex does at every iteration.
async fn slot_is_free_soon(c: &mut GridTradeServiceClient<Channel>) {
    let small = tokio::time::timeout(Duration::from_secs(40), c.solve(solve_request("case5")))
        .await
        .expect("the slot was freed: the cancelled solve stopped")
        .unwrap()
        .into_inner();
    assert_rel(small.objective, 17479.8969, 1e-6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_its_solve() {
    use proto::solve_stream_response::Event;
    let (addr, _stop) = start(1, 4).await;
    let mut c = client(&addr).await;

    // SolveStream: drop the stream once HiGHS is solving.
    let mut s = c.solve_stream(carec_year()).await.unwrap().into_inner();
    while let Some(e) = s.message().await.unwrap() {
        if e.event == Some(Event::Phase(proto::SolvePhase::Solving as i32)) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(s);
    slot_is_free_soon(&mut c).await;

    // Solve: abandon the call (the task holding it is aborted) two seconds in.
    let mut c2 = c.clone();
    let call = tokio::spawn(async move { c2.solve(carec_year()).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    call.abort();
    slot_is_free_soon(&mut c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_returns_the_report_of_gridtrade_trade_with_gains_and_comparison() {
    use gridtrade_studies::study;
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let casa = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/scenarios/casa1000.toml"),
    )
    .unwrap();
    let req = proto::TradeRequest {
        network: "carec".into(),
        snapshot_start: 0,
        snapshot_end: 168,
        scenario_toml: casa.clone(),
        compare_base: true,
        ..Default::default()
    };
    let r = c.trade(req).await.unwrap().into_inner();

    // The same study run locally gives the same JSON, to the byte.
    let mut base = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    gridtrade_engine::solve::select_snapshots(&mut base, 0..168).unwrap();
    let scenario = gridtrade_studies::scenario::Scenario::parse(&casa, "scenario_toml").unwrap();
    let local = study::run(
        &base,
        &study::TradeRequest {
            scenario: Some(study::Labelled {
                label: scenario.label("scenario"),
                scenario,
                origin: "scenario_toml".into(),
            }),
            compare: Some(study::Compare::Base),
            autarky: true,
            period: None,
            options: gridtrade_engine::formulation::FormulationOptions {
                model: gridtrade_engine::formulation::NetworkModel::Transport,
                ..Default::default()
            },
            time_limit: None,
            ..Default::default()
        },
        &Default::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(r.report_json, serde_json::to_string(&local).unwrap());

    let s = r.study.unwrap();
    let cmp = r.compare.unwrap();
    assert_eq!(cmp.label, "base");
    assert_eq!(s.system_cost, local.study.report.welfare.system_cost);
    // CASA-1000 lowers the cost of the week; trade beats autarky, and the country gains add
    // up to the regional saving.
    assert!(s.system_cost < cmp.system_cost);
    let saving = s.gains_saving.unwrap();
    assert!(saving > 0.0);
    let sum: f64 = s.country_gains.iter().map(|g| g.gain).sum();
    assert_rel(sum, saving, 1e-6);
    assert_eq!(s.zones.len(), local.study.report.zones.len());

    // A bad scenario names the field and the line.
    let err = c
        .trade(proto::TradeRequest {
            network: "carec".into(),
            scenario_toml: "name = \"x\"\nswitch_of = [\"a\"]\n".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("scenario_toml") && err.message().contains("line 2"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_stream_takes_a_network_in_small_chunks() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example");
    let mut chunks = Vec::new();
    for f in files_of(&dir) {
        for piece in f.content.chunks(700) {
            chunks.push(proto::UploadNetworkStreamRequest {
                name: if chunks.is_empty() {
                    "streamed".into()
                } else {
                    String::new()
                },
                file_name: f.name.clone(),
                data: piece.to_vec(),
            });
        }
    }
    assert!(chunks.len() > 10);
    let r = c
        .upload_network_stream(tokio_stream::iter(chunks.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.summary.unwrap().buses, 4);
    let a = c
        .solve(solve_request("streamed"))
        .await
        .unwrap()
        .into_inner();
    let b = c
        .solve(solve_request("example"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.objective, b.objective);

    // The first chunk must name the network; a file's chunks must be contiguous.
    let mut unnamed = chunks.clone();
    unnamed[0].name.clear();
    let err = c
        .upload_network_stream(tokio_stream::iter(unnamed))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("first chunk"), "{}", err.message());
    let mut shuffled = chunks.clone();
    let mut again = chunks[0].clone();
    again.name.clear();
    shuffled.push(again);
    let err = c
        .upload_network_stream(tokio_stream::iter(shuffled))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("must follow each other"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_network_pages_through_large_networks() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let whole = c
        .get_network(proto::GetNetworkRequest {
            name: "carec".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(whole.next_page_token.is_empty());
    let count = |r: &proto::GetNetworkResponse| {
        r.buses.len() + r.branches.len() + r.generators.len() + r.storage_units.len()
    };
    assert_eq!(count(&whole), 28 + 24 + 66 + 130 + 11);
    // Pages of 50 elements: 259 elements make 6 pages that put together give the whole.
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .get_network(proto::GetNetworkRequest {
                name: "carec".into(),
                page_size: 50,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        token = page.next_page_token.clone();
        pages.push(page);
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages.len(), 6);
    assert!(pages[..5].iter().all(|p| count(p) == 50));
    let mut joined = pages[0].clone();
    for p in &pages[1..] {
        joined.buses.extend(p.buses.clone());
        joined.branches.extend(p.branches.clone());
        joined.generators.extend(p.generators.clone());
        joined.storage_units.extend(p.storage_units.clone());
    }
    joined.next_page_token.clear();
    assert_eq!(joined, whole);
    // A token that is not ours, or for another version, is INVALID_ARGUMENT.
    let err = c
        .get_network(proto::GetNetworkRequest {
            name: "carec".into(),
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = c
        .get_network(proto::GetNetworkRequest {
            name: "carec".into(),
            version: 2,
            page_token: "1:50".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("version 1"), "{}", err.message());
    // An offset at the end of usize with a page of 1 (offset + size used to overflow and
    // panic), or past the last element, is INVALID_ARGUMENT too; the server goes on.
    for token in ["1:18446744073709551615", "1:260"] {
        let err = c
            .get_network(proto::GetNetworkRequest {
                name: "carec".into(),
                page_size: 1,
                page_token: token.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{token}");
        assert!(
            err.message().contains("past the network's 259 elements"),
            "{}",
            err.message()
        );
    }
    // The last element alone is the last page.
    let last = c
        .get_network(proto::GetNetworkRequest {
            name: "carec".into(),
            page_size: 1,
            page_token: "1:258".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(count(&last), 1);
    assert!(last.next_page_token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_solves_queue_and_each_gets_its_own_answer() {
    let (addr, _stop) = start(2, 8).await;
    let c = client(&addr).await;
    // Eight solves at once on two slots: each returns what it returns alone.
    let requests: Vec<SolveRequest> = ["case5", "example", "case5", "example"]
        .iter()
        .chain(["case5", "example", "case5", "example"].iter())
        .enumerate()
        .map(|(i, n)| SolveRequest {
            network: n.to_string(),
            // Half of them with a CO2 price, which changes the example's cost.
            co2_price: if (i / 2) % 2 == 0 { 0.0 } else { 30.0 },
            ..Default::default()
        })
        .collect();
    let mut alone = Vec::new();
    for r in &requests {
        alone.push(
            c.clone()
                .solve(r.clone())
                .await
                .unwrap()
                .into_inner()
                .objective,
        );
    }
    let calls: Vec<_> = requests
        .iter()
        .cloned()
        .map(|r| {
            let mut c = c.clone();
            tokio::spawn(async move { c.solve(r).await })
        })
        .collect();
    for (call, expected) in calls.into_iter().zip(alone) {
        let got = call.await.unwrap().unwrap().into_inner().objective;
        assert_eq!(got, expected);
    }
}

/// An LP beyond the server's column limit is refused before it is built
/// (RESOURCE_EXHAUSTED, saying what to do), one within it solves; a call without a deadline
/// gets the server's default as HiGHS' time limit, a longer deadline is cut to the maximum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refuse_an_lp_too_large_and_bound_the_time_of_a_call() {
    // The CAREC network: 130 generators, 24 lines, 66 links, 28 buses, 11 storage units, so
    // at most 130·2 + 24 + 66 + 28·3 + 11·4 = 478 columns per snapshot: 20 snapshots fit in
    // 10,000, 21 do not.
    let limits = Limits {
        max_lp_columns: 10_000,
        default_deadline: Duration::from_secs(7),
        max_deadline: Duration::from_secs(9),
        ..Limits::default()
    };
    let (addr, _stop) = start_with(2, 4, limits).await;
    let mut c = client(&addr).await;
    let request = |end: u32| SolveRequest {
        snapshot_start: 0,
        snapshot_end: end,
        model: proto::NetworkModel::Transport as i32,
        ..solve_request("carec")
    };
    let err = c.solve(request(21)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(
        err.message().contains("10038 columns") && err.message().contains("fewer snapshots"),
        "{}",
        err.message()
    );
    let err = c.solve(solve_request("carec")).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "the whole year");
    let ok = c.solve(request(20)).await.unwrap().into_inner();
    assert!(ok.objective > 0.0);
    // The time limit HiGHS was given is in the request's options echoed back.
    let mut long = tonic::Request::new(request(20));
    long.set_timeout(Duration::from_secs(3600));
    let r = c.solve(long).await.unwrap().into_inner();
    assert_eq!(
        r.time_limit_s, 9.0,
        "a deadline beyond the maximum is cut to it"
    );
    assert_eq!(ok.time_limit_s, 7.0, "no deadline: the server's default");
}

/// N-1 over gRPC: the PyPSA SCLOPF reference network uploaded and solved with every branch
/// as a contingency gives PyPSA's objective, the binding post-contingency limits and the
/// islanding outage by name; an unknown outage is INVALID_ARGUMENT naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_security_over_grpc() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_sclopf");
    c.upload_network(proto::UploadNetworkRequest {
        name: "sclopf".into(),
        files: files_of(&dir.join("network")),
    })
    .await
    .unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut req = solve_request("sclopf");
    req.all_contingencies = true;
    let r = c.solve(req.clone()).await.unwrap().into_inner();
    assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
    assert_eq!(r.formulation, "ptdf");
    assert!(r.limit_rows > 0 && r.rounds >= 2);
    assert_eq!(r.islanding_outages, vec!["E-G".to_string()]);
    assert!(!r.contingency_limits.is_empty());
    assert!(r
        .contingency_limits
        .iter()
        .all(|l| l.snapshots_binding > 0 && l.mean_shadow_price > 0.0));
    req.all_contingencies = false;
    req.contingencies = vec!["A-B".into(), "nowhere".into()];
    let err = c.solve(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("'nowhere'"), "{}", err.message());
    // The same in a trade study (one zone here: the N-1 section and the system cost).
    let mut trade = proto::TradeRequest {
        network: "sclopf".into(),
        model: proto::NetworkModel::Dc as i32,
        all_contingencies: true,
        ..Default::default()
    };
    let t = c.trade(trade.clone()).await.unwrap().into_inner();
    let study = t.study.unwrap();
    assert_rel(
        study.system_cost,
        expected["objective"].as_f64().unwrap(),
        1e-6,
    );
    assert_eq!(study.islanding_outages, vec!["E-G".to_string()]);
    let limits = |l: &[proto::ContingencyLimit]| -> Vec<(String, String, u32)> {
        l.iter()
            .map(|x| (x.outage.clone(), x.monitored.clone(), x.snapshots_binding))
            .collect()
    };
    assert_eq!(
        limits(&study.contingency_limits),
        limits(&r.contingency_limits)
    );
    // N-1 needs Kirchhoff's laws: the trade default (transport) is refused by name.
    trade.model = proto::NetworkModel::Unspecified as i32;
    let err = c.trade(trade).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("dc model"), "{}", err.message());
}

/// Market coupling over gRPC: `common::triangle` (worked by hand in `tests/coupling.rs`)
/// cleared flow-based and NTC through the Trade RPC, with the domain returned as data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupling_over_grpc_returns_the_flow_based_domain() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = triangle();
    c.upload_network(proto::UploadNetworkRequest {
        name: "triangle".into(),
        files: files_of(dir.path()),
    })
    .await
    .unwrap();
    let request = |coupling: &str, frm: Option<f64>| proto::TradeRequest {
        network: "triangle".into(),
        no_autarky: true,
        coupling: coupling.into(),
        frm,
        ..Default::default()
    };
    let fb = c
        .trade(request("flow-based", Some(0.0)))
        .await
        .unwrap()
        .into_inner();
    let study = fb.study.unwrap();
    assert_rel(study.system_cost, 10_500.0, 1e-9);
    let cs = study.coupling.unwrap();
    assert_eq!(cs.coupling, "flow-based");
    assert_eq!(cs.cnecs.len(), 1);
    assert_eq!(cs.cnecs[0].name, "AC");
    assert_rel(cs.cnecs[0].congestion_rent, 13_500.0, 1e-9);
    let d = cs.domain.unwrap();
    assert_eq!(d.zones, ["A", "B", "C"]);
    assert_eq!(d.elements.len(), 3);
    let ac = d.elements.iter().find(|e| e.monitored == "AC").unwrap();
    assert_eq!((ac.ram_forward.len(), ac.ram_backward.len()), (1, 1));
    assert_rel(ac.ram_forward[0], 300.0, 1e-9);
    assert_abs(ac.zptdf[0] - ac.zptdf[2], 2.0 / 3.0, 1e-12);
    // NTC: the market at 10 everywhere, and the redispatch the grid needs.
    let ntc = c.trade(request("ntc", None)).await.unwrap().into_inner();
    let cs = ntc.study.unwrap().coupling.unwrap();
    assert_rel(cs.redispatch_cost, 4500.0, 1e-6);
    assert_rel(cs.redispatch_volume_mwh, 300.0, 1e-6);
    assert_eq!(cs.hours_overloaded, 1);
    assert_rel(cs.total_cost, 10_500.0, 1e-6);
    assert!(cs.domain.is_none());
    // A coupling not known is refused by name.
    let err = c.trade(request("zonal", None)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("coupling"), "{}", err.message());
}

/// A CO2 limit over gRPC: PyPSA's CO2 reference network uploaded and solved gives its
/// limit's shadow price (−72.04 /t, `tests/data/pypsa_co2_cap/expected.json`) and the CO2
/// price it implies; the Trade RPC with a scenario's `co2_cap` reports the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn co2_limit_and_its_price_over_grpc() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_co2_cap");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mu = expected["co2_mu"].as_f64().unwrap();
    c.upload_network(proto::UploadNetworkRequest {
        name: "co2".into(),
        files: files_of(&dir.join("network")),
    })
    .await
    .unwrap();
    let r = c.solve(solve_request("co2")).await.unwrap().into_inner();
    assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
    let limit = r.co2_limit.unwrap();
    assert_eq!(
        (limit.name.as_str(), limit.sense.as_str()),
        ("CO2Limit", "<=")
    );
    assert_abs(limit.mu, mu, 1e-6);
    assert_abs(limit.co2_price, -mu, 1e-6);
    let t = c
        .trade(proto::TradeRequest {
            network: "co2".into(),
            no_autarky: true,
            scenario_toml: "co2_cap = 3500".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let limit = t.study.unwrap().co2_limit.unwrap();
    assert_eq!(limit.name, "co2_cap");
    assert_abs(limit.co2_price, -mu, 1e-6);
}

/// Capacity expansion over gRPC: PyPSA's expansion reference network uploaded and solved
/// gives PyPSA's objective and each extendable element's chosen capacity
/// (`tests/data/pypsa_expansion/expected.json`); a trade study of it is refused by name
/// (the Plan RPC studies expansion).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_expansion_over_grpc() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_expansion");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    c.upload_network(proto::UploadNetworkRequest {
        name: "expansion".into(),
        files: files_of(&dir.join("network")),
    })
    .await
    .unwrap();
    let r = c
        .solve(solve_request("expansion"))
        .await
        .unwrap()
        .into_inner();
    let want = expected["objective_as_pypsa_reports"].as_f64().unwrap();
    assert_rel(r.objective, want, 1e-6);
    assert_eq!(r.expansion.len(), 6);
    let component = |c: &str| match c {
        "generator" => "generators",
        "line" => "lines",
        "transformer" => "transformers",
        "link" => "links",
        _ => "storage_units",
    };
    for x in &r.expansion {
        let nom_opt = expected["nom_opt"][component(&x.component)][&x.name].as_f64();
        assert_abs(x.nom_opt, nom_opt.unwrap(), 1e-6);
        assert_rel(x.investment, x.cost_per_mw * (x.nom_opt - x.nom), 1e-12);
    }
    let solar = r
        .expansion
        .iter()
        .find(|x| x.name == "South LV solar")
        .unwrap();
    assert_eq!(solar.nom_max, None); // unlimited
    let err = c
        .trade(proto::TradeRequest {
            network: "expansion".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("is extendable"), "{}", err.message());
}

/// The Plan RPC on the CAREC plan network's first week: the same report as the library's
/// (`gridtrade plan`), candidates and countries named, leave-one-out savings given; a bad
/// scenario is INVALID_ARGUMENT naming its field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_over_grpc_gives_the_library_report() {
    let (addr, _stop) = start(2, 4).await;
    let mut c = client(&addr).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec-plan");
    c.upload_network(proto::UploadNetworkRequest {
        name: "carec-plan".into(),
        files: files_of(&dir),
    })
    .await
    .unwrap();
    let request = |scenario: &str| proto::PlanRequest {
        network: "carec-plan".into(),
        snapshot_end: 168,
        scenario_toml: scenario.into(),
        leave_one_out: true,
        ..Default::default()
    };
    let r = c.plan(request("")).await.unwrap().into_inner();
    let mut n = read(&dir);
    gridtrade_engine::solve::select_snapshots(&mut n, 0..168).unwrap();
    let req = gridtrade_studies::plan::PlanRequest {
        leave_one_out: true,
        ..Default::default()
    };
    let control = gridtrade_engine::solver::Control::default();
    let want = gridtrade_studies::plan::run(&n, &req, &control)
        .unwrap()
        .unwrap();
    assert_eq!(r.snapshots, 168);
    assert_rel(r.system_cost_plan, want.system_cost_plan, 1e-9);
    assert_rel(r.saving, want.saving, 1e-9);
    assert_eq!(r.candidates.len(), want.candidates.len());
    for (got, want) in r.candidates.iter().zip(&want.candidates) {
        assert_eq!((&got.name, got.pays), (&want.name, want.pays));
        assert_abs(got.built, want.built, 1e-6);
        assert_eq!(got.saving.is_some(), want.saving.is_some());
    }
    assert_eq!(r.countries.len(), want.countries.len());
    let err = c.plan(request("build = [\"NOPE\"]")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("NOPE"), "{}", err.message());
}
