//! `gridtrade call --server URL <networks|get|solve|update|upload|delete>`: the command-line
//! client of a gridtrade server.

use super::parse_range;
use crate::error::Error;
use crate::formulation::{DcConvention, NetworkModel};
use crate::service::proto::{self, grid_trade_service_client::GridTradeServiceClient};
use clap::{Args, Subcommand};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CallArgs {
    /// Server address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Print the response as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// List the server's networks.
    Networks,
    /// Show one network and its elements.
    Get {
        name: String,
        /// 0 = the newest version.
        #[arg(long, default_value_t = 0)]
        version: u64,
    },
    /// Solve a network on the server.
    Solve {
        name: String,
        #[arg(long, default_value_t = 0)]
        version: u64,
        #[arg(long, value_name = "A..B", value_parser = parse_range)]
        snapshots: Option<Range<usize>>,
        #[arg(long, value_enum, default_value_t = NetworkModel::Dc)]
        model: NetworkModel,
        #[command(flatten)]
        common: super::SolveCommon,
        /// Include the time series in the response.
        #[arg(long)]
        series: bool,
        /// Give up (and stop the solve) after this many seconds.
        #[arg(long)]
        timeout: Option<f64>,
    },
    /// Make a new version of a network with edits.
    Update {
        name: String,
        #[arg(long, default_value_t = 0)]
        base_version: u64,
        /// Switch an element (or an interconnector's links) in service.
        #[arg(long, value_name = "ELEMENT")]
        switch_on: Vec<String>,
        /// Switch an element out of service.
        #[arg(long, value_name = "ELEMENT")]
        switch_off: Vec<String>,
        /// Set an attribute: ELEMENT:ATTRIBUTE=VALUE (e.g. "UZ solar:p_nom=5000").
        #[arg(long, value_name = "ELEMENT:ATTRIBUTE=VALUE")]
        set: Vec<String>,
    },
    /// Upload a PyPSA CSV folder or a MATPOWER .m file under a name.
    Upload { name: String, path: PathBuf },
    /// Delete a network and all its versions.
    Delete { name: String },
}

fn rpc_error(e: tonic::Status) -> Error {
    Error::Format(format!("server: {:?}: {}", e.code(), e.message()))
}

pub fn run(a: CallArgs) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new().map_err(|source| Error::Io {
        path: PathBuf::from("tokio runtime"),
        source,
    })?;
    runtime.block_on(call(a))
}

async fn call(a: CallArgs) -> Result<ExitCode, Error> {
    let mut c = GridTradeServiceClient::connect(a.server.clone())
        .await
        .map_err(|e| Error::Format(format!("cannot reach {}: {e}", a.server)))?
        .max_decoding_message_size(crate::service::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::service::MAX_MESSAGE_BYTES);
    match a.action {
        Action::Networks => {
            let r = c
                .list_networks(proto::ListNetworksRequest {})
                .await
                .map_err(rpc_error)?
                .into_inner();
            if a.json {
                println!("{}", json(&r));
            } else {
                println!(
                    "{:<24} {:>7} {:>9} {:>6} {:>6} {:>10}",
                    "network", "version", "snapshots", "buses", "links", "generators"
                );
                for n in &r.networks {
                    println!(
                        "{:<24} {:>7} {:>9} {:>6} {:>6} {:>10}",
                        n.name, n.version, n.snapshots, n.buses, n.links, n.generators
                    );
                }
            }
        }
        Action::Get { name, version } => {
            let r = c
                .get_network(proto::GetNetworkRequest { name, version })
                .await
                .map_err(rpc_error)?
                .into_inner();
            println!("{}", json(&r));
        }
        Action::Solve {
            name,
            version,
            snapshots,
            model,
            common,
            series,
            timeout,
        } => {
            let (start, end) = snapshots
                .map(|r| (r.start as u32, r.end as u32))
                .unwrap_or((0, 0));
            let mut req = tonic::Request::new(proto::SolveRequest {
                network: name,
                version,
                snapshot_start: start,
                snapshot_end: end,
                model: match model {
                    NetworkModel::Dc => proto::NetworkModel::Dc,
                    NetworkModel::Transport => proto::NetworkModel::Transport,
                    NetworkModel::Copperplate => proto::NetworkModel::Copperplate,
                } as i32,
                dc_convention: match common.dc_convention {
                    DcConvention::Matpower => proto::DcConvention::Matpower,
                    DcConvention::Powermodels => proto::DcConvention::Powermodels,
                } as i32,
                voll: common.voll,
                co2_price: common.co2_price,
                include_series: series,
                ..Default::default()
            });
            if let Some(t) = timeout {
                req.set_timeout(std::time::Duration::from_secs_f64(t));
            }
            let r = match c.solve(req).await {
                Ok(r) => r.into_inner(),
                Err(e)
                    if e.code() == tonic::Code::FailedPrecondition
                        || e.code() == tonic::Code::DeadlineExceeded =>
                {
                    eprintln!("{}", e.message());
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(rpc_error(e)),
            };
            if a.json {
                println!("{}", json(&r));
            } else {
                println!("network    {} (version {})", r.network, r.version);
                println!("objective  {:.6}", r.objective);
                println!("snapshots  {}", r.snapshots);
                println!("CO2        {:.1} t", r.co2_t);
                println!("load shed  {:.3} MWh", r.load_shed_mwh);
                println!(
                    "\n{:<16} {:>12} {:>10} {:>10}",
                    "zone", "avg price", "min", "max"
                );
                for z in &r.zones {
                    println!(
                        "{:<16} {:>12.2} {:>10.2} {:>10.2}",
                        z.zone, z.average_price, z.min_price, z.max_price
                    );
                }
            }
        }
        Action::Update {
            name,
            base_version,
            switch_on,
            switch_off,
            set,
        } => {
            use proto::edit::Edit as E;
            let mut edits = Vec::new();
            for (list, on) in [(switch_on, true), (switch_off, false)] {
                for element in list {
                    edits.push(proto::Edit {
                        edit: Some(E::SetInService(proto::SetInService {
                            element,
                            in_service: on,
                        })),
                    });
                }
            }
            for s in set {
                let (lhs, value) = s.rsplit_once('=').ok_or_else(|| {
                    Error::option("--set", format!("`{s}`: expected ELEMENT:ATTRIBUTE=VALUE"))
                })?;
                let (element, attribute) = lhs.rsplit_once(':').ok_or_else(|| {
                    Error::option("--set", format!("`{s}`: expected ELEMENT:ATTRIBUTE=VALUE"))
                })?;
                let value: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| Error::option("--set", format!("`{value}` is not a number")))?;
                edits.push(proto::Edit {
                    edit: Some(E::SetAttribute(proto::SetAttribute {
                        element: element.into(),
                        attribute: attribute.into(),
                        value,
                    })),
                });
            }
            let r = c
                .update_network(proto::UpdateNetworkRequest {
                    name,
                    base_version,
                    edits,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            println!("{}", json(&r));
        }
        Action::Upload { name, path } => {
            let files = if path.is_dir() {
                let mut files = Vec::new();
                for e in std::fs::read_dir(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })? {
                    let p = e
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?
                        .path();
                    if p.extension().is_some_and(|x| x == "csv") {
                        let content = std::fs::read(&p).map_err(|source| Error::Io {
                            path: p.clone(),
                            source,
                        })?;
                        files.push(proto::File {
                            name: p.file_name().unwrap().to_string_lossy().into_owned(),
                            content,
                        });
                    }
                }
                files
            } else {
                let content = std::fs::read(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                vec![proto::File {
                    name: path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    content,
                }]
            };
            let r = c
                .upload_network(proto::UploadNetworkRequest { name, files })
                .await
                .map_err(rpc_error)?
                .into_inner();
            println!("{}", json(&r));
        }
        Action::Delete { name } => {
            c.delete_network(proto::DeleteNetworkRequest { name: name.clone() })
                .await
                .map_err(rpc_error)?;
            if !a.json {
                println!("deleted {name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A response as JSON.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("response serialises")
}
