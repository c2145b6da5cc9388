//! The load and fault test, short (CI): 16 clients for 20 s against a real `gridtrade serve`
//! process with `--data-dir` — solves, streams, trades, uploads, edits, pages, cancelled
//! solves and dropped connections — with `kill -9` of the server at 10 s and a restart on
//! the same data. No call may fail with a status other than the documented
//! RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED while the server is up, no health check may fail,
//! and every upload and edit the server accepted must be there after the restart, with the
//! value it set. The five-minute run whose figures are in README.md is
//! `gridtrade loadtest --seconds 300` (benches/README.md).

use gridtrade_bench::load::{run, LoadConfig};
use std::path::Path;
use std::time::Duration;

#[test]
fn sixteen_clients_and_a_kill_9_lose_nothing_and_get_only_documented_errors() {
    let config = LoadConfig {
        server_bin: env!("CARGO_BIN_EXE_gridtrade").into(),
        networks: Path::new(env!("CARGO_MANIFEST_DIR")).join("networks"),
        data_dir: None,
        clients: 16,
        duration: Duration::from_secs(20),
        kill_at: Some(Duration::from_secs(10)),
        server_args: Vec::new(),
    };
    let r = run(&config).expect("the server starts");
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert!(
        r.undocumented.is_empty(),
        "{} undocumented: {:#?}",
        r.undocumented_count,
        r.undocumented
    );
    assert_eq!(
        r.health_failures, 0,
        "health checks failed while the server was up"
    );
    assert!(r.lost.is_empty(), "accepted and lost: {:#?}", r.lost);
    assert!(r.restart_s.is_some(), "the server was killed and restarted");
    assert!(
        r.accepted_uploads > 10 && r.accepted_edits > 10,
        "{} uploads, {} edits",
        r.accepted_uploads,
        r.accepted_edits
    );
    for action in [
        "solve", "stream", "trade", "upload", "edit", "get", "drop", "list",
    ] {
        let ok = r
            .by_status
            .get(&format!("{action} OK"))
            .copied()
            .unwrap_or(0);
        assert!(ok > 0, "no {action} succeeded: {:?}", r.by_status);
    }
    assert!(r.health_checks >= 40, "{} health checks", r.health_checks);
}
