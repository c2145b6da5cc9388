//! `gridtrade call --server URL <networks|get|solve|trade|update|upload|delete>`: the
//! command-line client of a gridtrade server.

use super::parse_range;
use clap::{Args, Subcommand};
use gridtrade_client::{upload_chunks, Client, Code, Status};
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{DcConvention, NetworkModel};
use gridtrade_service::proto;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct CallArgs {
    /// Server address: http://HOST:PORT, or https://HOST:PORT for a server with TLS.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Bearer token for a server started with --auth-tokens (or set GRIDTRADE_TOKEN).
    #[arg(long, env = "GRIDTRADE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// PEM certificate of the authority that signed the server's certificate (https only;
    /// default: the system's roots are not used, so give this for a private CA).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
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
    Get(GetCall),
    /// Solve a network on the server, with a progress bar (SolveStream).
    Solve(SolveCall),
    /// The trade report of a network on the server (as `gridtrade trade`).
    Trade(TradeCall),
    /// The capacity-expansion plan of a network on the server (as `gridtrade plan`).
    Plan(PlanCall),
    /// Make a new version of a network with edits.
    Update(UpdateCall),
    /// Upload a PyPSA CSV folder or a MATPOWER .m file under a name (streamed in chunks).
    Upload { name: String, path: PathBuf },
    /// Delete a network and all its versions.
    Delete { name: String },
    /// Submit a study (a scenario batch) to run in the background, follow it with a
    /// progress bar, then print its table (CSV).
    Study(super::call_study::StudyCall),
    /// A submitted study's table (CSV), or one case's full report.
    StudyResults(super::call_study::ResultsCall),
    /// The server's studies (long-running operations).
    Operations,
    /// Get, wait on, cancel or delete one study's operation.
    Operation {
        #[command(subcommand)]
        action: super::call_study::OperationAction,
    },
}

#[derive(Args)]
struct GetCall {
    name: String,
    /// 0 = the newest version.
    #[arg(long, default_value_t = 0)]
    version: u64,
}

#[derive(Args)]
struct SolveCall {
    name: String,
    #[arg(long, default_value_t = 0)]
    version: u64,
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    snapshots: Option<Range<usize>>,
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Dc)]
    model: NetworkModel,
    #[command(flatten)]
    common: super::SolveCommon,
    #[command(flatten)]
    security: super::SecurityArgs,
    /// Include the time series in the response.
    #[arg(long)]
    series: bool,
    /// Give up (and stop the solve) after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Print HiGHS' log lines to stderr as they arrive.
    #[arg(long)]
    log: bool,
}

#[derive(Args)]
struct TradeCall {
    name: String,
    #[arg(long, default_value_t = 0)]
    version: u64,
    #[command(flatten)]
    scope: super::trade::TradeScope,
    /// Give up (and stop the study) after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

#[derive(Args)]
struct PlanCall {
    name: String,
    #[arg(long, default_value_t = 0)]
    version: u64,
    /// Apply this scenario file (TOML; `build`, `exclude`, `co2_cap`), sent as text.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    snapshots: Option<Range<usize>>,
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Dc)]
    model: NetworkModel,
    #[command(flatten)]
    common: super::SolveCommon,
    /// Also re-solve the plan once per candidate built, with it fixed out.
    #[arg(long)]
    leave_one_out: bool,
    /// Give up (and stop the plan) after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

#[derive(Args)]
struct UpdateCall {
    name: String,
    #[arg(long, default_value_t = 0)]
    base_version: u64,
    /// Switch an element (or an interconnector's links) in service.
    #[arg(long, value_name = "ELEMENT")]
    switch_on: Vec<String>,
    /// Switch an element out of service.
    #[arg(long, value_name = "ELEMENT")]
    switch_off: Vec<String>,
    /// Set an attribute: ELEMENT:ATTRIBUTE=VALUE (e.g. "UZ_SOUTH solar:p_nom=5000").
    #[arg(long, value_name = "ELEMENT:ATTRIBUTE=VALUE")]
    set: Vec<String>,
}

fn model_of(m: NetworkModel) -> i32 {
    (match m {
        NetworkModel::Dc => proto::NetworkModel::Dc,
        NetworkModel::Transport => proto::NetworkModel::Transport,
        NetworkModel::Copperplate => proto::NetworkModel::Copperplate,
    }) as i32
}

fn convention_of(c: DcConvention) -> i32 {
    (match c {
        DcConvention::Matpower => proto::DcConvention::Matpower,
        DcConvention::Powermodels => proto::DcConvention::Powermodels,
    }) as i32
}

fn kvl_of(k: gridtrade_engine::formulation::Kvl) -> i32 {
    (match k {
        gridtrade_engine::formulation::Kvl::Cycles => proto::Kvl::Cycles,
        gridtrade_engine::formulation::Kvl::Angles => proto::Kvl::Angles,
        gridtrade_engine::formulation::Kvl::Ptdf => proto::Kvl::Ptdf,
        gridtrade_engine::formulation::Kvl::Auto => proto::Kvl::Auto,
    }) as i32
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A solve or study that ended without a result: exit 2 with the server's reason when it is
/// infeasible, out of time or cancelled (as the local commands do), else an error.
fn not_solved(e: Status) -> Result<ExitCode, Error> {
    match e.code() {
        Code::FailedPrecondition | Code::DeadlineExceeded | Code::Cancelled => {
            eprintln!("{}", e.message());
            Ok(ExitCode::from(2))
        }
        _ => Err(rpc_error(e)),
    }
}

pub(crate) fn rpc_error(e: Status) -> Error {
    Error::Format(format!("server: {:?}: {}", e.code(), e.message()))
}

pub fn run(a: CallArgs) -> Result<ExitCode, Error> {
    let mut c = Client::connect(&a.server, a.token.as_deref(), a.ca_cert.as_deref())?;
    match a.action {
        Action::Networks => list(&mut c, a.json),
        Action::Get(g) => {
            let r = c.get_network(&g.name, g.version).map_err(rpc_error)?;
            println!("{}", json(&r));
            Ok(ExitCode::SUCCESS)
        }
        Action::Solve(s) => solve(&mut c, s, a.json),
        Action::Trade(t) => trade(&mut c, t, a.json),
        Action::Plan(p) => plan(&mut c, p, a.json),
        Action::Update(u) => update(&mut c, u),
        Action::Upload { name, path } => {
            let r = c.upload(upload_chunks(&name, &path)?).map_err(rpc_error)?;
            println!("{}", json(&r));
            Ok(ExitCode::SUCCESS)
        }
        Action::Study(s) => super::call_study::study(&mut c, s, a.json),
        Action::StudyResults(r) => super::call_study::results(&mut c, r),
        Action::Operations => super::call_study::operations(&mut c, a.json),
        Action::Operation { action } => super::call_study::operation(&mut c, action, a.json),
        Action::Delete { name } => {
            c.delete_network(&name).map_err(rpc_error)?;
            if !a.json {
                println!("deleted {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `call networks`: a table of the server's networks (or JSON).
fn list(c: &mut Client, as_json: bool) -> Result<ExitCode, Error> {
    let r = c.list_networks().map_err(rpc_error)?;
    if as_json {
        println!("{}", json(&r));
        return Ok(ExitCode::SUCCESS);
    }
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
    Ok(ExitCode::SUCCESS)
}

/// Positions `A..B` as the proto's `(start, end)`; `(0, 0)` for all.
fn span(r: Option<Range<usize>>) -> (u32, u32) {
    r.map(|r| (r.start as u32, r.end as u32)).unwrap_or((0, 0))
}

/// The N-1 fields of a request (the contingency file is read here and its names sent), on
/// an otherwise default SolveRequest.
fn security_of(a: &super::SecurityArgs) -> Result<proto::SolveRequest, Error> {
    use gridtrade_engine::formulation::Outages;
    let Some(c) = a.contingencies()? else {
        return Ok(proto::SolveRequest::default());
    };
    let (all, names) = match c.outages {
        Outages::All => (true, Vec::new()),
        Outages::Branches(names) => (false, names),
    };
    Ok(proto::SolveRequest {
        all_contingencies: all,
        contingencies: names,
        contingency_rating: Some(c.rating),
        ..Default::default()
    })
}

/// Seconds as a deadline.
fn deadline(seconds: Option<f64>) -> Option<Duration> {
    seconds.map(Duration::from_secs_f64)
}

/// `call solve`: through SolveStream with a progress bar; the solve table (or JSON).
fn solve(c: &mut Client, s: SolveCall, as_json: bool) -> Result<ExitCode, Error> {
    let (start, end) = span(s.snapshots);
    let req = proto::SolveRequest {
        network: s.name,
        version: s.version,
        snapshot_start: start,
        snapshot_end: end,
        model: model_of(s.model),
        dc_convention: convention_of(s.common.dc_convention),
        kvl: kvl_of(s.common.kvl),
        voll: s.common.voll,
        co2_price: s.common.co2_price,
        include_series: s.series,
        ..security_of(&s.security)?
    };
    let r = match solve_with_progress(c, req, deadline(s.timeout), s.log) {
        Ok(r) => r,
        Err(e) => return not_solved(e),
    };
    if as_json {
        println!("{}", json(&r));
    } else {
        print!("{}", r.report_text);
    }
    Ok(ExitCode::SUCCESS)
}

/// `call trade`: the trade report (scenario files are sent as text).
fn trade(c: &mut Client, t: TradeCall, as_json: bool) -> Result<ExitCode, Error> {
    let text = |p: &std::path::Path| -> Result<String, Error> {
        String::from_utf8(read_file(p)?)
            .map_err(|_| Error::option("--scenario", format!("{}: not UTF-8", p.display())))
    };
    let (start, end) = span(t.scope.snapshots);
    let (pstart, pend) = span(t.scope.period);
    let security = security_of(&t.scope.security)?;
    let req = proto::TradeRequest {
        network: t.name,
        version: t.version,
        snapshot_start: start,
        snapshot_end: end,
        period_start: pstart,
        period_end: pend,
        model: model_of(t.scope.model),
        dc_convention: convention_of(t.scope.common.dc_convention),
        kvl: kvl_of(t.scope.common.kvl),
        voll: t.scope.common.voll,
        co2_price: t.scope.common.co2_price,
        scenario_toml: t
            .scope
            .scenario
            .as_deref()
            .map(text)
            .transpose()?
            .unwrap_or_default(),
        compare_base: t.scope.compare.as_deref() == Some("base"),
        compare_toml: match t.scope.compare.as_deref() {
            None | Some("base") => String::new(),
            Some(f) => text(std::path::Path::new(f))?,
        },
        no_autarky: t.scope.no_autarky,
        contingencies: security.contingencies,
        all_contingencies: security.all_contingencies,
        contingency_rating: security.contingency_rating,
        coupling: t
            .scope
            .coupling
            .map_or(String::new(), |c| c.name().to_string()),
        frm: Some(t.scope.frm),
    };
    let r = match c.trade(req, deadline(t.timeout)) {
        Ok(r) => r,
        Err(e) => return not_solved(e),
    };
    if as_json {
        println!("{}", r.report_json);
    } else {
        let out: gridtrade_studies::study::TradeOutput = serde_json::from_str(&r.report_json)
            .map_err(|e| Error::Format(format!("server sent an unreadable report: {e}")))?;
        print!("{}", super::trade::text(&out.study, out.compare.as_ref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `call plan`: the expansion plan (the scenario file is sent as text).
fn plan(c: &mut Client, p: PlanCall, as_json: bool) -> Result<ExitCode, Error> {
    let (start, end) = span(p.snapshots);
    let scenario_toml = match &p.scenario {
        Some(file) => String::from_utf8(read_file(file)?)
            .map_err(|_| Error::option("--scenario", format!("{}: not UTF-8", file.display())))?,
        None => String::new(),
    };
    let req = proto::PlanRequest {
        network: p.name,
        version: p.version,
        snapshot_start: start,
        snapshot_end: end,
        model: model_of(p.model),
        dc_convention: convention_of(p.common.dc_convention),
        kvl: kvl_of(p.common.kvl),
        voll: p.common.voll,
        co2_price: p.common.co2_price,
        scenario_toml,
        leave_one_out: p.leave_one_out,
    };
    let r = match c.plan(req, deadline(p.timeout)) {
        Ok(r) => r,
        Err(e) => return not_solved(e),
    };
    if as_json {
        println!("{}", json(&r));
    } else {
        print!("{}", super::plan::text(&plan_report(&r)));
    }
    Ok(ExitCode::SUCCESS)
}

/// The Plan RPC's response as the library's report (for the same tables as `plan`).
fn plan_report(r: &proto::PlanResponse) -> gridtrade_studies::plan::PlanReport {
    use gridtrade_studies::plan::{CandidateReport, CountryPlanGain, PlanReport};
    PlanReport {
        snapshots: r.snapshots as usize,
        system_cost_without: r.system_cost_without,
        system_cost_plan: r.system_cost_plan,
        saving: r.saving,
        co2_without_t: r.co2_without_t,
        co2_plan_t: r.co2_plan_t,
        shed_without_mwh: r.shed_without_mwh,
        shed_plan_mwh: r.shed_plan_mwh,
        co2_limit: r
            .co2_limit
            .as_ref()
            .map(|c| gridtrade_engine::report::Co2LimitSummary {
                name: c.name.clone(),
                sense: c.sense.clone(),
                limit_t: c.limit_t,
                mu: c.mu,
                co2_price: c.co2_price,
            }),
        candidates: r
            .candidates
            .iter()
            .map(|c| CandidateReport {
                component: c.component.clone(),
                name: c.name.clone(),
                zone0: c.zone0.clone(),
                zone1: c.zone1.clone(),
                nom: c.nom,
                nom_max: c.nom_max,
                built: c.built,
                cost: c.cost,
                cost_per_mw: c.cost_per_mw,
                congestion_rent: c.congestion_rent,
                energy_mwh: c.energy_mwh,
                pays: c.pays,
                saving: c.saving,
            })
            .collect(),
        countries: r
            .countries
            .iter()
            .map(|c| CountryPlanGain {
                country: c.country.clone(),
                net_cost_without: c.net_cost_without,
                net_cost_plan: c.net_cost_plan,
                candidate_cost_share: c.candidate_cost_share,
                gain: c.gain,
                co2_without_t: c.co2_without_t,
                co2_plan_t: c.co2_plan_t,
            })
            .collect(),
    }
}

/// `call update`: the edits of the command line as one UpdateNetwork call.
fn update(c: &mut Client, u: UpdateCall) -> Result<ExitCode, Error> {
    use proto::edit::Edit as E;
    let mut edits = Vec::new();
    for (list, on) in [(u.switch_on, true), (u.switch_off, false)] {
        for element in list {
            edits.push(proto::Edit {
                edit: Some(E::SetInService(proto::SetInService {
                    element,
                    in_service: on,
                })),
            });
        }
    }
    for s in u.set {
        edits.push(set_attribute(&s)?);
    }
    let r = c
        .update_network(proto::UpdateNetworkRequest {
            name: u.name,
            base_version: u.base_version,
            edits,
        })
        .map_err(rpc_error)?;
    println!("{}", json(&r));
    Ok(ExitCode::SUCCESS)
}

/// `ELEMENT:ATTRIBUTE=VALUE` (`--set`) as an edit.
fn set_attribute(s: &str) -> Result<proto::Edit, Error> {
    let expected = || Error::option("--set", format!("`{s}`: expected ELEMENT:ATTRIBUTE=VALUE"));
    let (lhs, value) = s.rsplit_once('=').ok_or_else(expected)?;
    let (element, attribute) = lhs.rsplit_once(':').ok_or_else(expected)?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| Error::option("--set", format!("`{value}` is not a number")))?;
    Ok(proto::Edit {
        edit: Some(proto::edit::Edit::SetAttribute(proto::SetAttribute {
            element: element.into(),
            attribute: attribute.into(),
            value,
        })),
    })
}

/// A response as JSON.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("response serialises")
}

/// Solve through `SolveStream`: a spinner on stderr shows the phase and HiGHS' progress
/// (only on a terminal), `log` prints HiGHS' log lines; returns the reassembled result.
fn solve_with_progress(
    c: &mut Client,
    req: proto::SolveRequest,
    timeout: Option<Duration>,
    log: bool,
) -> Result<proto::SolveResponse, Status> {
    use gridtrade_engine::solver::Progress;
    let spinner = super::progress::Spinner::new(false);
    spinner.say("queued");
    let result = c.solve_stream(req, timeout, &mut |p| match p {
        Progress::Log(line) if log => spinner.println(&line),
        p => spinner.show(&p),
    });
    spinner.finish();
    result
}
