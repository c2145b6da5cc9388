//! `gridtrade serve` as a process: persistence across `kill -9`, bearer-token roles, TLS,
//! and per-call logs that never show a token. Each test starts the real binary on
//! 127.0.0.1 (port 0) and talks to it over gRPC.

mod common;
#[path = "common/server.rs"]
mod server;

use common::*;
use gridtrade_service::proto::grid_trade_service_client::GridTradeServiceClient;
use gridtrade_service::proto::{self, SolveRequest};
use server::example_files;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::Code;

const VIEWER: &str = "viewer-token-0123456789";
const PLANNER: &str = "planner-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";

type Server = ServeProcess;

/// A networks folder with the example network only (quick to load).
fn networks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = dir.path().join("example");
    std::fs::create_dir(&example).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example");
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&p, example.join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn start(networks: &Path, extra: &[&str]) -> Server {
    let mut args = vec![std::ffi::OsStr::new("--networks"), networks.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    start_serve(&args, None)
}

async fn connect(url: &str, tls: Option<&[u8]>) -> Channel {
    let mut e = Endpoint::from_shared(url.to_string()).unwrap();
    if let Some(ca) = tls {
        e = e
            .tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(ca))
                    .domain_name("localhost"),
            )
            .unwrap();
    }
    e.connect().await.unwrap()
}

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

async fn names(c: &mut GridTradeServiceClient<Channel>) -> Vec<(String, u64)> {
    c.list_networks(proto::ListNetworksRequest {})
        .await
        .unwrap()
        .into_inner()
        .networks
        .into_iter()
        .map(|n| (n.name, n.version))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_edits_and_deletes_survive_kill_9() {
    let nets = networks();
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap().to_string();
    let server = start(nets.path(), &["--data-dir", &data_arg]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    c.upload_network(proto::UploadNetworkRequest {
        name: "mine".into(),
        files: example_files(),
    })
    .await
    .unwrap();
    // Two versions of `mine`: the upload, then the link switched off.
    let edit = proto::UpdateNetworkRequest {
        name: "mine".into(),
        base_version: 1,
        edits: vec![proto::Edit {
            edit: Some(proto::edit::Edit::SetAttribute(proto::SetAttribute {
                element: "KG-KZ_S".into(),
                attribute: "p_nom".into(),
                value: 200.0,
            })),
        }],
    };
    let v2 = c.update_network(edit.clone()).await;
    let v2 = match v2 {
        Ok(r) => r.into_inner().summary.unwrap().version,
        Err(e) => panic!("{}", e.message()),
    };
    assert_eq!(v2, 2);
    // An edit of a network loaded from networks/, and a deletion, are kept too.
    let mut edit_example = edit.clone();
    edit_example.name = "example".into();
    edit_example.base_version = 0;
    c.update_network(edit_example).await.unwrap();
    c.upload_network(proto::UploadNetworkRequest {
        name: "gone".into(),
        files: example_files(),
    })
    .await
    .unwrap();
    c.delete_network(proto::DeleteNetworkRequest {
        name: "gone".into(),
    })
    .await
    .unwrap();
    let before = names(&mut c).await;
    let solve = |v: u64| SolveRequest {
        network: "mine".into(),
        version: v,
        ..Default::default()
    };
    let obj1 = c.solve(solve(1)).await.unwrap().into_inner().objective;
    let obj2 = c.solve(solve(2)).await.unwrap().into_inner().objective;
    assert!(obj2 > obj1, "a smaller link costs more: {obj2} vs {obj1}");
    drop(c);

    // kill -9, and start again on the same data dir.
    drop(server);
    let server = start(nets.path(), &["--data-dir", &data_arg]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    let after = names(&mut c).await;
    assert_eq!(after, before);
    assert_eq!(after, [("example".to_string(), 2), ("mine".to_string(), 2)]);
    assert_eq!(
        c.solve(solve(1)).await.unwrap().into_inner().objective,
        obj1
    );
    assert_eq!(
        c.solve(solve(2)).await.unwrap().into_inner().objective,
        obj2
    );
    assert!(!server.log.lock().unwrap().contains("not restored"));

    // Without --data-dir nothing is kept.
    drop(server);
    let server = start(nets.path(), &[]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    assert_eq!(names(&mut c).await, [("example".to_string(), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_who_may_read_change_and_delete_and_tokens_never_reach_the_log() {
    let nets = networks();
    let tokens = nets.path().join("tokens.txt");
    std::fs::write(
        &tokens,
        format!(
            "# role token name\nviewer {VIEWER} ana\nplanner {PLANNER} bo\nadmin {ADMIN} root\n"
        ),
    )
    .unwrap();
    let server = start(nets.path(), &["--auth-tokens", tokens.to_str().unwrap()]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    let upload = || proto::UploadNetworkRequest {
        name: "up".into(),
        files: example_files(),
    };
    let delete = || proto::DeleteNetworkRequest { name: "up".into() };

    // No token, or an unknown one: UNAUTHENTICATED, for reads too.
    let e = c
        .list_networks(proto::ListNetworksRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = c
        .list_networks(with_token(
            proto::ListNetworksRequest {},
            "not-a-known-token-at-all",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    // A viewer reads and solves, but may not upload.
    c.list_networks(with_token(proto::ListNetworksRequest {}, VIEWER))
        .await
        .unwrap();
    let solved = c
        .solve(with_token(
            SolveRequest {
                network: "example".into(),
                ..Default::default()
            },
            VIEWER,
        ))
        .await
        .unwrap();
    assert!(solved.metadata().get("x-request-id").is_some());
    let e = c
        .upload_network(with_token(upload(), VIEWER))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("viewer") && e.message().contains("planner"));
    // A planner uploads but may not delete; an admin deletes.
    c.upload_network(with_token(upload(), PLANNER))
        .await
        .unwrap();
    let e = c
        .delete_network(with_token(delete(), PLANNER))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    c.delete_network(with_token(delete(), ADMIN)).await.unwrap();
    // Health stays open for load balancers.
    let mut h =
        tonic_health::pb::health_client::HealthClient::new(connect(&server.url, None).await);
    h.check(tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    })
    .await
    .unwrap();

    // One log line per call with its id, method, network, caller and status; no token.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log.lock().unwrap().clone();
    for token in [VIEWER, PLANNER, ADMIN, "not-a-known-token-at-all"] {
        assert!(!log.contains(token), "a token reached the log:\n{log}");
    }
    let solve_line = log
        .lines()
        .find(|l| l.contains("method=\"Solve\""))
        .unwrap_or_else(|| panic!("no Solve line in\n{log}"));
    for field in [
        "request_id=gt-",
        "network=example",
        "caller=ana",
        "duration_ms=",
        "status=\"OK\"",
    ] {
        assert!(
            solve_line.contains(field),
            "{field} missing in {solve_line}"
        );
    }
    assert!(log.lines().any(|l| l.contains("method=\"DeleteNetwork\"")
        && l.contains("caller=bo")
        && l.contains("PermissionDenied")));

    // A bad tokens file stops the server at start, naming the line.
    std::fs::write(&tokens, format!("viewer {VIEWER}\nboss {ADMIN}\n")).unwrap();
    let out = gridtrade()
        .args(["serve", "--addr", "127.0.0.1:0", "--auth-tokens"])
        .arg(&tokens)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("`boss`"), "{err}");
    assert!(!err.contains(ADMIN), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_the_api_to_clients_that_trust_the_certificate() {
    let nets = networks();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.signing_key.serialize_pem();
    let cert_file: PathBuf = nets.path().join("server.pem");
    let key_file: PathBuf = nets.path().join("server.key");
    std::fs::write(&cert_file, &cert_pem).unwrap();
    std::fs::write(&key_file, &key_pem).unwrap();
    let server = start(
        nets.path(),
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let url = server.url.replace("127.0.0.1", "localhost");
    let mut c = GridTradeServiceClient::new(connect(&url, Some(cert_pem.as_bytes())).await);
    let r = c
        .solve(SolveRequest {
            network: "example".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.objective > 0.0);
    // Plain text to a TLS port fails.
    let plain = Endpoint::from_shared(server.url.replace("https://", "http://"))
        .unwrap()
        .connect()
        .await;
    if let Ok(ch) = plain {
        let mut c = GridTradeServiceClient::new(ch);
        assert!(c
            .list_networks(proto::ListNetworksRequest {})
            .await
            .is_err());
    }
    // The CLI client speaks TLS with --ca-cert.
    let out = gridtrade()
        .args(["call", "--server", &url, "--ca-cert"])
        .arg(&cert_file)
        .args(["solve", "example"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("objective"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_running_solves_the_grace_period_then_cancels_them() {
    use proto::solve_stream_response::Event;
    let networks = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks");
    let mut server = start(&networks, &["--shutdown-grace", "1"]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    // A quarter of the CAREC year: about 30 s of HiGHS.
    let mut s = c
        .solve_stream(SolveRequest {
            network: "carec".into(),
            snapshot_start: 0,
            snapshot_end: 2190,
            model: proto::NetworkModel::Transport as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    loop {
        let e = s.message().await.unwrap().unwrap();
        if e.event == Some(Event::Phase(proto::SolvePhase::Solving as i32)) {
            break;
        }
    }
    let clock = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The solve gets its second, then is cancelled; the stream ends with CANCELLED.
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(20), s.message()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => panic!("the stream ended without a status"),
            Ok(Err(status)) => break status,
            Err(_) => panic!("the solve was not cancelled after the grace period"),
        }
    };
    assert_eq!(end.code(), Code::Cancelled, "{}", end.message());
    assert!(clock.elapsed() >= Duration::from_millis(900));
    // And the server exits cleanly.
    let mut exit = None;
    for _ in 0..100 {
        if let Some(code) = server.child.try_wait().unwrap() {
            exit = Some(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = exit.expect("the server exited after its solves were cancelled");
    assert!(exit.success(), "{exit:?}");
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("shutting down"), "{log}");
}

/// A stored version the server cannot read (here edits garbled on disk) does not stop it
/// from starting: it serves every version it can make and lists the others in ListNetworks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_stored_version_is_listed_not_a_reason_not_to_start() {
    let nets = networks();
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap().to_string();
    let server = start(nets.path(), &["--data-dir", &data_arg]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    let upload = proto::UploadNetworkRequest {
        name: "mine".into(),
        files: example_files(),
    };
    c.upload_network(upload).await.unwrap();
    for capacity in [300.0, 200.0] {
        let edit = proto::UpdateNetworkRequest {
            name: "mine".into(),
            base_version: 0,
            edits: vec![proto::Edit {
                edit: Some(proto::edit::Edit::SetAttribute(proto::SetAttribute {
                    element: "KG-KZ_S".into(),
                    attribute: "p_nom".into(),
                    value: capacity,
                })),
            }],
        };
        c.update_network(edit).await.unwrap();
    }
    drop(c);
    drop(server);
    let db = rusqlite::Connection::open(data.path().join("gridtrade.sqlite")).unwrap();
    db.execute(
        "UPDATE versions SET edits = '{garbled' WHERE network = 'mine' AND version = 2",
        [],
    )
    .unwrap();
    drop(db);
    let server = start(nets.path(), &["--data-dir", &data_arg]);
    let mut c = GridTradeServiceClient::new(connect(&server.url, None).await);
    let list = c
        .list_networks(proto::ListNetworksRequest {})
        .await
        .unwrap()
        .into_inner();
    let mine: Vec<u64> = list
        .networks
        .iter()
        .filter(|n| n.name == "mine")
        .map(|n| n.version)
        .collect();
    assert_eq!(
        mine,
        [1],
        "the upload is served, the edits after the garbled one are not"
    );
    // Version 2 cannot be read; version 3, an edit of it, cannot be made.
    let listed: Vec<(&str, u64)> = list
        .unrestored
        .iter()
        .map(|u| (u.network.as_str(), u.version))
        .collect();
    assert_eq!(listed, [("mine", 2), ("mine", 3)], "{:?}", list.unrestored);
    assert!(
        list.unrestored[0].reason.contains("cannot be read"),
        "{}",
        list.unrestored[0].reason
    );
    assert!(
        list.unrestored[1].reason.contains("base version 2"),
        "{}",
        list.unrestored[1].reason
    );
    assert!(server.log.lock().unwrap().contains("not restored"));
}

/// `gridtrade call plan` against a server holding `networks/` (so `carec-plan`): the plan's
/// tables, every candidate named, the same system cost as `gridtrade plan` locally.
#[test]
fn call_plan_prints_the_plan_of_a_served_network() {
    let networks = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks");
    let server = start(&networks, &[]);
    let out = gridtrade()
        .args([
            "call",
            "--server",
            &server.url,
            "--json",
            "plan",
            "carec-plan",
        ])
        .args(["--snapshots", "0..24"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = json_of(
        gridtrade()
            .args(["plan", "--snapshots", "0..24", "--json"])
            .arg(networks.join("carec-plan")),
    );
    let cost = |v: &serde_json::Value| v["system_cost_plan"].as_f64().unwrap();
    assert_rel(cost(&served), cost(&local), 1e-9);
    let out = gridtrade()
        .args(["call", "--server", &server.url, "plan", "carec-plan"])
        .args(["--snapshots", "0..24"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CASA-HVDC") && text.contains("country"),
        "{text}"
    );
}
