//! An in-process gRPC server over the shipped networks and reference cases, for the
//! service tests (`#[path = "common/server.rs"] mod server;`).
#![allow(dead_code)]

use crate::common::{case, read};
use gridtrade_service::proto;
use gridtrade_service::proto::grid_trade_service_client::GridTradeServiceClient;
use gridtrade_service::{serve, GridTrade, Limits, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;

/// A server on 127.0.0.1 (any port) running `concurrency` solves at once with `queue`
/// waiting, holding `example`, `carec`, `case5`, `case9q` (quadratic costs) and `sad`
/// (infeasible with angle limits). Its address, and the sender that stops it.
pub async fn start(concurrency: usize, queue: usize) -> (String, tokio::sync::oneshot::Sender<()>) {
    start_with(concurrency, queue, Limits::default()).await
}

pub async fn start_with(
    concurrency: usize,
    queue: usize,
    limits: Limits,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let store = Store::default();
    for (name, path) in [
        ("example", root.join("networks/example")),
        ("carec", root.join("networks/carec")),
        ("case5", case("pglib_opf_case5_pjm.m")),
        ("case9q", case("matpower_case9.m")),
        ("sad", case("pglib_opf_case14_ieee__sad.m")),
    ] {
        store.insert(name, read(&path));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let service = GridTrade::new(Arc::new(store), concurrency, queue).with_limits(limits);
    tokio::spawn(serve(listener, service, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

pub async fn client(addr: &str) -> GridTradeServiceClient<Channel> {
    for _ in 0..50 {
        if let Ok(c) = GridTradeServiceClient::connect(addr.to_string()).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {addr} did not come up");
}

/// The `.csv` files of the PyPSA folder `dir`, by name, as an upload sends them.
pub fn files_of(dir: &Path) -> Vec<proto::File> {
    let mut files: Vec<proto::File> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| proto::File {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            content: std::fs::read(&p).unwrap(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// The files of `networks/example`.
pub fn example_files() -> Vec<proto::File> {
    files_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example"))
}
