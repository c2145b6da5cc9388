//! Studies at scale, with real components: `gridtrade serve` processes on 127.0.0.1 sharing a
//! throwaway PostgreSQL cluster (Debian's `postgresql` package, started and stopped here),
//! and the same suite on SQLite with one process. A 24-case study of a CAREC month is
//! submitted to one replica and polled through another; a worker is killed with SIGKILL in
//! the middle of a case; every case completes once, each equal to the same case solved
//! alone; a replica killed and restarted answers GetOperation with the same state. A
//! cancelled study stops its running case (HiGHS interrupted) and starts no other, and
//! workers solve networks uploaded to or edited on another replica — each on both databases.
//! Bad study requests are refused with a status that says why; `call study` prints what
//! `study` prints.

mod common;

use common::{gridtrade, start_serve};
use gridtrade_client::{study_progress, Client, Code};
use gridtrade_service::proto::{self, longrunning::operation::Result as OpResult};
use gridtrade_service::studies::case_row;
use gridtrade_studies::batch::{self, Batch, CaseRow};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The shipped January study: 3 hydrology × 2 demand × 2 carbon prices × 2 interconnector
/// sets (every case solves: with 5 % more demand Afghanistan West cannot be served in
/// autarky).
fn month_study() -> String {
    std::fs::read_to_string(root().join("networks/carec-month-study.toml")).unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A networks folder holding only the CAREC network (linked, not copied).
fn networks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("networks/carec"), dir.path().join("carec")).unwrap();
    dir
}

/// Each case of the month study solved alone, in this process (computed once).
fn solved_alone() -> &'static Vec<CaseRow> {
    static ROWS: OnceLock<Vec<CaseRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let batch = Batch::parse(&month_study(), "test", &|_| unreachable!()).unwrap();
        let n = common::read(&root().join("networks/carec"));
        let base = batch.base_network(&n).unwrap();
        let control = Default::default();
        batch::run_local(&base, &batch, 1, &control, &|_| {})
            .into_iter()
            .map(|(row, _)| row)
            .collect()
    })
}

/// Two rows are the same case's result: every figure equal (to 1e-9 relative: the server
/// is another binary, so the compiler may order a float sum differently), the time aside.
fn assert_same(served: &CaseRow, alone: &CaseRow) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (a, b) => a == b,
    };
    let case = format!("case {} ({})", alone.case, alone.label);
    assert_eq!(
        (&served.label, &served.status),
        (&alone.label, &alone.status),
        "{case}"
    );
    assert_eq!(alone.status, "optimal", "{case}: {}", alone.message);
    for (what, a, b) in [
        ("system cost", served.system_cost, alone.system_cost),
        ("CO2", served.co2_t, alone.co2_t),
        ("shed", served.shed_mwh, alone.shed_mwh),
        ("trade saving", served.trade_saving, alone.trade_saving),
    ] {
        assert!(opt(a, b), "{case}: {what} {a:?} served, {b:?} alone");
    }
    let pairs = |v: &[(String, f64)], w: &[(String, f64)]| {
        v.len() == w.len() && v.iter().zip(w).all(|(x, y)| x.0 == y.0 && close(x.1, y.1))
    };
    assert!(
        pairs(&served.zone_prices, &alone.zone_prices),
        "{case}: prices"
    );
    assert!(pairs(&served.gains, &alone.gains), "{case}: gains");
    assert_eq!(served.borders.len(), alone.borders.len(), "{case}");
    for (x, y) in served.borders.iter().zip(&alone.borders) {
        assert!(
            x.border == y.border
                && close(x.flow_ab_mwh, y.flow_ab_mwh)
                && close(x.flow_ba_mwh, y.flow_ba_mwh)
                && close(x.rent, y.rent),
            "{case}: border {x:?} served, {y:?} alone"
        );
    }
}

type Server = common::ServeProcess;

/// Kill a server with SIGKILL (no shutdown of any kind).
fn kill_9(s: &mut Server) {
    s.child.kill().unwrap();
    s.child.wait().unwrap();
}

fn serve(networks: &Path, database: &str, workers: usize) -> Server {
    serve_with(networks, database, workers, &[])
}

fn serve_with(networks: &Path, database: &str, workers: usize, extra: &[&str]) -> Server {
    let workers = workers.to_string();
    let mut args = vec![std::ffi::OsStr::new("--networks"), networks.as_os_str()];
    for a in [
        "--database",
        database,
        "--lease",
        "3",
        "--poll",
        "0.2",
        "--workers",
        &workers,
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        args.push(std::ffi::OsStr::new(a));
    }
    start_serve(&args, Some("info"))
}

fn client(s: &Server) -> Client {
    Client::connect(&s.url, None, None).unwrap()
}

fn submit(c: &mut Client, toml: &str) -> String {
    let op = c
        .submit_study(proto::SubmitStudyRequest {
            study_toml: toml.to_string(),
            files: Vec::new(),
        })
        .unwrap();
    assert!(!op.done);
    let p = study_progress(&op).unwrap();
    assert_eq!((p.network.as_str(), p.version), ("carec", 1));
    op.name
}

/// Poll `name` until `until` holds of its progress (at most `limit`).
fn poll_until(
    c: &mut Client,
    name: &str,
    limit: Duration,
    until: impl Fn(&proto::StudyProgress) -> bool,
) -> proto::StudyProgress {
    let start = Instant::now();
    loop {
        let op = c.get_operation(name).unwrap();
        let p = study_progress(&op).unwrap();
        if until(&p) {
            return p;
        }
        assert!(
            start.elapsed() < limit,
            "{name} did not get there in {limit:?}: {p:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every row of a study through GetStudyResults, `page` at a time.
fn all_rows(c: &mut Client, study: &str, page: u32) -> Vec<proto::StudyCase> {
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let r = c
            .get_study_results(proto::GetStudyResultsRequest {
                study: study.to_string(),
                page_size: page,
                page_token: token,
            })
            .unwrap();
        assert!(r.cases.len() <= page as usize);
        rows.extend(r.cases);
        if r.next_page_token.is_empty() {
            return rows;
        }
        token = r.next_page_token;
    }
}

/// The finished study: every case once, optimal, equal to the case solved alone; at least
/// one case (the killed worker's) solved on a second lease.
fn check_finished(c: &mut Client, name: &str) {
    let p = study_progress(&c.get_operation(name).unwrap()).unwrap();
    assert_eq!(
        (
            p.cases,
            p.optimal,
            p.queued,
            p.running,
            p.failed,
            p.not_solved
        ),
        (24, 24, 0, 0, 0, 0),
        "{p:?}"
    );
    assert!(p.retried >= 1, "the killed worker's case ran again: {p:?}");
    let study = name.trim_start_matches("studies/");
    let rows = all_rows(c, study, 10);
    let cases: Vec<u32> = rows.iter().map(|r| r.case).collect();
    assert_eq!(
        cases,
        (0..24).collect::<Vec<u32>>(),
        "each case recorded once"
    );
    assert!(
        rows.iter().any(|r| r.attempts == 2),
        "a case took a second lease"
    );
    let alone = solved_alone();
    for r in &rows {
        assert_same(&case_row(r), &alone[r.case as usize]);
    }
    // One case's full report is the trade report of that case.
    let full = c.get_case_result(study, 5).unwrap();
    let report: serde_json::Value = serde_json::from_str(&full.report_json).unwrap();
    let cost = report["study"]["report"]["welfare"]["system_cost"]
        .as_f64()
        .unwrap();
    assert_eq!(Some(cost), full.row.unwrap().system_cost);
}

/// Wait until both workers are in the middle of a case (and some cases are done), then
/// kill `victim` with SIGKILL.
fn kill_a_worker_mid_case(c: &mut Client, name: &str, victim: &mut Server) {
    poll_until(c, name, Duration::from_secs(300), |p| {
        p.optimal >= 2 && p.running == 2
    });
    kill_9(victim);
}

/// The operation as it stands, through a replica killed with SIGKILL and started again.
fn operation_survives_restart(
    name: &str,
    before: &proto::longrunning::Operation,
    restart: impl FnOnce() -> Server,
) {
    let again = restart();
    let after = client(&again).get_operation(name).unwrap();
    assert_eq!(&after, before, "{}", again.log.lock().unwrap());
}

#[test]
fn a_study_on_sqlite_survives_kill_9_of_its_one_process() {
    let nets = networks();
    let data = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", data.path().join("studies.sqlite").display());
    let mut server = serve(nets.path(), &db, 2);
    let mut c = client(&server);
    let name = submit(&mut c, &month_study());
    kill_a_worker_mid_case(&mut c, &name, &mut server);
    let server = serve(nets.path(), &db, 2);
    let mut c = client(&server);
    poll_until(&mut c, &name, Duration::from_secs(600), |p| {
        p.queued + p.running == 0
    });
    check_finished(&mut c, &name);
    let before = c.get_operation(&name).unwrap();
    assert!(before.done);
    assert!(matches!(before.result, Some(OpResult::Response(_))));
    drop(server);
    operation_survives_restart(&name, &before, || serve(nets.path(), &db, 0));
}

/// A throwaway PostgreSQL cluster on 127.0.0.1, in a temp dir; stopped when dropped.
struct Postgres {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The PostgreSQL server's programs: `$GRIDTRADE_PG_BIN`, else the newest
/// /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package).
fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("GRIDTRADE_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).expect(
        "PostgreSQL's server programs are not installed: install Debian's `postgresql` \
         package (scripts/install-build-deps does) or set GRIDTRADE_PG_BIN",
    )
}

/// A PostgreSQL program, run as the `postgres` user when we are root (it refuses root),
/// from `/` (that user may not enter the checkout's directory).
fn pg_command(program: &str) -> Command {
    let path = pg_bin().join(program);
    let mut c = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    };
    c.current_dir("/");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let st = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success(), "chown of the cluster's directory");
        }
        let data = dir.path().join("data");
        let out = pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "gridtrade", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let child = pg_command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
            .args(["-c", "fsync=off", "-c", "max_connections=50"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pg = Postgres {
            child,
            url: format!("postgres://gridtrade@127.0.0.1:{port}/postgres"),
            _dir: dir,
        };
        let start = Instant::now();
        loop {
            let ready = pg_command("pg_isready")
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status()
                .unwrap();
            if ready.success() {
                return pg;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "PostgreSQL did not start"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn a_study_on_postgres_runs_across_replicas_and_survives_a_killed_worker_and_replica() {
    let pg = Postgres::start();
    let nets = networks();
    // A takes the study and runs no worker; B and C each run one.
    let a = serve(nets.path(), &pg.url, 0);
    let b = serve(nets.path(), &pg.url, 1);
    let mut c_replica = serve(nets.path(), &pg.url, 1);
    let name = submit(&mut client(&a), &month_study());
    let mut through_b = client(&b);
    kill_a_worker_mid_case(&mut through_b, &name, &mut c_replica);
    poll_until(&mut through_b, &name, Duration::from_secs(600), |p| {
        p.queued + p.running == 0
    });
    check_finished(&mut through_b, &name);
    let before = through_b.get_operation(&name).unwrap();
    let mut a = a;
    kill_9(&mut a);
    operation_survives_restart(&name, &before, || serve(nets.path(), &pg.url, 0));
    // The cases were solved by both workers, none by the API replica.
    let rows = all_rows(&mut through_b, name.trim_start_matches("studies/"), 100);
    let workers: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.worker.as_str()).collect();
    assert_eq!(workers.len(), 2, "{workers:?}");
    // Listed by every replica.
    let listed = through_b.list_operations(10, "").unwrap();
    assert!(listed.operations.iter().any(|o| o.name == name));
}

/// The CAREC year, three cases: each takes far longer than the test waits.
const YEAR_STUDY: &str = r#"
name = "CAREC year, to cancel"
network = "carec"
model = "dc"
[grid]
inflow_scale = [0.8, 1.0, 1.2]
"#;

#[test]
fn cancelling_a_study_on_sqlite_interrupts_its_running_case_and_starts_no_other() {
    let data = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", data.path().join("studies.sqlite").display());
    cancel_suite(&db);
}

#[test]
fn cancelling_a_study_on_postgres_interrupts_its_running_case_and_starts_no_other() {
    let pg = Postgres::start();
    cancel_suite(&pg.url);
}

/// Cancel a study of three year-long cases while its one worker solves the first.
fn cancel_suite(db: &str) {
    let nets = networks();
    let db = db.to_string();
    let server = serve(nets.path(), &db, 1);
    let mut c = client(&server);
    let name = submit(&mut c, YEAR_STUDY);
    poll_until(&mut c, &name, Duration::from_secs(120), |p| p.running == 1);
    // Let HiGHS get going on the year's LP.
    std::thread::sleep(Duration::from_secs(3));
    c.cancel_operation(&name).unwrap();
    let op = c.wait_operation(&name, Duration::from_secs(60)).unwrap();
    assert!(
        op.done,
        "the running case was not interrupted: {:?}",
        study_progress(&op)
    );
    match &op.result {
        Some(OpResult::Error(e)) => assert_eq!(e.code, Code::Cancelled as i32, "{e:?}"),
        other => panic!("a cancelled study ends with CANCELLED, not {other:?}"),
    }
    let p = study_progress(&op).unwrap();
    assert_eq!(
        (p.cancelled, p.optimal, p.running, p.queued),
        (3, 0, 0, 0),
        "{p:?}"
    );
    let study = name.trim_start_matches("studies/");
    // The running case ended as cancelled; the others were never started.
    let rows = all_rows(&mut c, study, 10);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].case, rows[0].status.as_str()), (0, "cancelled"));
    for case in [1, 2] {
        let e = c.get_case_result(study, case).unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "case {case} never started");
    }
    // Deleted, it is gone.
    c.delete_operation(&name).unwrap();
    assert_eq!(c.get_operation(&name).unwrap_err().code(), Code::NotFound);
    assert!(server.log.lock().unwrap().contains("case finished"));
}

/// A CSV table without its `seconds` column (wall time differs run to run).
fn without_seconds(csv: &str) -> Vec<Vec<String>> {
    let mut r = ::csv::Reader::from_reader(csv.as_bytes());
    let header = r.headers().unwrap().clone();
    let skip = header.iter().position(|h| h == "seconds").unwrap();
    let keep = |rec: &::csv::StringRecord| {
        rec.iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, v)| v.to_string())
            .collect::<Vec<_>>()
    };
    std::iter::once(keep(&header))
        .chain(r.records().map(|rec| keep(&rec.unwrap())))
        .collect()
}

#[test]
fn call_study_on_a_server_prints_the_table_study_prints_here() {
    let study = root().join("networks/carec-interconnectors-study.toml");
    let local = gridtrade()
        .args(["study", "--jobs", "2", "--quiet"])
        .arg(&study)
        .output()
        .unwrap();
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let nets = networks();
    let server = serve(nets.path(), "sqlite::memory:", 2);
    // The scenario files the study names are read beside it and sent with it.
    let served = gridtrade()
        .args(["call", "--server", &server.url, "study", "--quiet"])
        .arg(&study)
        .output()
        .unwrap();
    assert!(
        served.status.success(),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
    let (local, served) = (
        String::from_utf8(local.stdout).unwrap(),
        String::from_utf8(served.stdout).unwrap(),
    );
    let table = without_seconds(&served);
    assert_eq!(table.len(), 7, "a header and 6 cases:\n{served}");
    assert_eq!(table[3][1], "CASA-1000 co2=0");
    // Cell by cell: text equal, numbers to 1e-9 relative (the trade accounts sum in an order
    // that can differ from process to process in the last bit).
    let local = without_seconds(&local);
    assert_eq!(
        (table.len(), table[0].clone()),
        (local.len(), local[0].clone())
    );
    for (r, (a, b)) in table.iter().zip(&local).enumerate() {
        for (col, (x, y)) in a.iter().zip(b).enumerate() {
            let same = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                _ => x == y,
            };
            assert!(
                same,
                "line {r}, column {}: {x} served, {y} here",
                local[0][col]
            );
        }
    }
    // `call operations` lists it, done.
    let listed = gridtrade()
        .args(["call", "--server", &server.url, "operations"])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("carec v1") && l.ends_with("done")),
        "{listed}"
    );
}

#[test]
fn bad_study_requests_are_refused_with_a_status_that_says_why() {
    let nets = networks();
    let server = serve(nets.path(), "sqlite::memory:", 0);
    let mut c = client(&server);
    let submit = |c: &mut Client, toml: &str, files: Vec<proto::File>| {
        c.submit_study(proto::SubmitStudyRequest {
            study_toml: toml.to_string(),
            files,
        })
        .unwrap_err()
    };
    let big: Vec<String> = (0..200).map(|i| format!("{}.0", i)).collect();
    let big = big.join(", ");
    for (toml, code, says) in [
        ("network = 3", Code::InvalidArgument, "study_toml:1"),
        ("network = \"carec\"\ncolour = 1", Code::InvalidArgument, "colour"),
        ("network = \"nope\"", Code::NotFound, "nope"),
        ("network = \"carec\"\nsnapshots = \"9..2\"", Code::InvalidArgument, "snapshots"),
        ("network = \"carec\"\nsnapshots = \"0..99999\"", Code::InvalidArgument, "99999"),
        ("network = \"carec\"\nmodel = \"ac\"", Code::InvalidArgument, "model"),
        ("network = \"carec\"\ntime_limit = -1", Code::InvalidArgument, "time_limit"),
        ("network = \"carec\"\n[grid]\ninflow_scale = [nan]", Code::InvalidArgument, "inflow_scale"),
        ("network = \"carec\"\n[grid]\nco2_price = [-5.0]", Code::InvalidArgument, "co2_price"),
        (
            &format!("network = \"carec\"\n[grid]\ninflow_scale = [{big}]\ndemand_scale = [{big}]"),
            Code::InvalidArgument,
            "10000 cases",
        ),
        ("network = \"carec\"\n[[case]]\nfile = \"x.toml\"", Code::InvalidArgument, "x.toml"),
        (
            "network = \"carec\"\n[[case]]\nscenario = { switch_off = [\"NO-SUCH-LINK\"] }",
            Code::InvalidArgument,
            "NO-SUCH-LINK",
        ),
        (
            "network = \"carec\"\n[[case]]\nlabel = \"wet\"\nscenario = { inflow_scale = { all = 1.2 } }\n[grid]\ninflow_scale = [1.0]",
            Code::InvalidArgument,
            "inflow_scale.all",
        ),
    ] {
        let e = submit(&mut c, toml, Vec::new());
        assert_eq!(e.code(), code, "{toml}: {e:?}");
        assert!(e.message().contains(says), "{toml}: {}", e.message());
    }
    // A scenario file that is sent but bad names itself and its line.
    let e = submit(
        &mut c,
        "network = \"carec\"\n[[case]]\nfile = \"bad.toml\"",
        vec![proto::File {
            name: "bad.toml".into(),
            content: b"name = \"x\"\ndemand_scale = 3".to_vec(),
        }],
    );
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("bad.toml line 2"), "{}", e.message());
    let e = submit(
        &mut c,
        "network = \"carec\"\n[[case]]\nfile = \"latin1.toml\"",
        vec![proto::File {
            name: "latin1.toml".into(),
            content: b"name = \"caf\xe9\"".to_vec(),
        }],
    );
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("latin1.toml"), "{}", e.message());
    // Operations that do not exist, or are not named as ours are.
    for name in [
        "",
        "studies/",
        "studies/zz",
        "operations/1",
        "studies/0123456789abcdef",
    ] {
        let e = c.get_operation(name).unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{name}: {e:?}");
        assert_eq!(c.cancel_operation(name).unwrap_err().code(), Code::NotFound);
        assert_eq!(c.delete_operation(name).unwrap_err().code(), Code::NotFound);
    }
    let e = c
        .get_study_results(proto::GetStudyResultsRequest {
            study: "0123456789abcdef".into(),
            page_size: 10,
            page_token: "x".into(),
        })
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    // Nothing was queued.
    assert!(c.list_operations(10, "").unwrap().operations.is_empty());
}

/// Each case of `study` solved here on `network`.
fn solved_here(study: &str, network: &gridtrade_engine::Network) -> Vec<CaseRow> {
    let batch = Batch::parse(study, "test", &|_| unreachable!()).unwrap();
    let base = batch.base_network(network).unwrap();
    batch::run_local(&base, &batch, 1, &Default::default(), &|_| {})
        .into_iter()
        .map(|(row, _)| row)
        .collect()
}

/// Submit `study` through `api`, wait for it through `via`, compare every case with `alone`.
fn run_and_compare(api: &mut Client, via: &mut Client, study: &str, alone: &[CaseRow]) {
    let op = api
        .submit_study(proto::SubmitStudyRequest {
            study_toml: study.to_string(),
            files: Vec::new(),
        })
        .unwrap();
    let p = poll_until(via, &op.name, Duration::from_secs(300), |p| {
        p.queued + p.running == 0
    });
    assert_eq!(
        (p.optimal, p.cases),
        (alone.len() as u32, alone.len() as u32),
        "{p:?}"
    );
    let rows = all_rows(via, op.name.trim_start_matches("studies/"), 100);
    assert_eq!(rows.len(), alone.len());
    for r in &rows {
        assert_same(&case_row(r), &alone[r.case as usize]);
    }
}

#[test]
fn workers_on_postgres_solve_uploaded_and_edited_networks_they_never_held() {
    let pg = Postgres::start();
    let nets = networks();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    // A takes uploads and edits (kept under --data-dir) and runs no worker; B's worker has
    // only the shipped CAREC network.
    let a = serve_with(nets.path(), &pg.url, 0, &["--data-dir", &data_dir]);
    let b = serve(nets.path(), &pg.url, 1);
    uploads_suite(&a, &b);
    shared_networks_suite(&a, &b, nets.path(), &pg.url);
}

#[test]
fn workers_on_sqlite_solve_uploaded_and_edited_networks() {
    let nets = networks();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let a = serve_with(
        nets.path(),
        "sqlite::memory:",
        1,
        &["--data-dir", &data_dir],
    );
    uploads_suite(&a, &a);
    // An upload to a server without --data-dir (nor PostgreSQL) keeps no files: no worker
    // could make it.
    let c = serve(nets.path(), "sqlite::memory:", 0);
    let mut plain = client(&c);
    let example = root().join("networks/example");
    plain
        .upload(gridtrade_client::upload_chunks("kept-nowhere", &example).unwrap())
        .unwrap();
    let e = plain
        .submit_study(proto::SubmitStudyRequest {
            study_toml: "network = \"kept-nowhere\"".into(),
            files: Vec::new(),
        })
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(e.message().contains("--data-dir"), "{}", e.message());
}

/// Upload a network (`uploaded`) and edit the shipped one (`carec` version 2) through `a`,
/// study both, follow them through `b`.
fn uploads_suite(a: &Server, b: &Server) {
    let (mut api, mut via) = (client(a), client(b));
    let example = root().join("networks/example");
    api.upload(gridtrade_client::upload_chunks("uploaded", &example).unwrap())
        .unwrap();
    let edited = api
        .update_network(proto::UpdateNetworkRequest {
            name: "carec".into(),
            base_version: 1,
            edits: vec![proto::Edit {
                edit: Some(proto::edit::Edit::SetInService(proto::SetInService {
                    element: "KZN-RUSIB".into(),
                    in_service: false,
                })),
            }],
        })
        .unwrap();
    assert_eq!(edited.summary.unwrap().version, 2);

    // An upload: B makes it from the files stored with the study.
    let study = "network = \"uploaded\"\nautarky = false\n[grid]\nco2_price = [0.0, 30.0]\n";
    let alone = solved_here(study, &common::read(&example));
    run_and_compare(&mut api, &mut via, study, &alone);

    // An edit of the shipped network: B applies the edit to its own copy.
    let study = "network = \"carec\"\nversion = 2\nsnapshots = \"0..168\"\n[grid]\nco2_price = [0.0, 30.0]\n";
    let mut carec = common::read(&root().join("networks/carec"));
    carec
        .apply(&[gridtrade_engine::network::Edit::SetInService {
            element: "KZN-RUSIB".into(),
            in_service: false,
        }])
        .unwrap();
    let alone = solved_here(study, &carec);
    let base = solved_here(
        &study.replace("version = 2\n", "version = 1\n"),
        &common::read(&root().join("networks/carec")),
    );
    assert_ne!(
        alone[0].system_cost, base[0].system_cost,
        "the edit changes the dispatch"
    );
    run_and_compare(&mut api, &mut via, study, &alone);
}

/// After [`uploads_suite`] through `a`: what one replica was given is what every replica
/// serves at its next call — listed, solved, edited at the same time through both (each
/// version numbered once), deleted through `b` and gone from `a` and from a replica started
/// later.
fn shared_networks_suite(a: &Server, b: &Server, nets: &Path, db: &str) {
    let (mut api, mut via) = (client(a), client(b));
    let listed = |c: &mut Client| -> Vec<(String, u64)> {
        let r = c.list_networks().unwrap();
        r.networks
            .iter()
            .map(|s| (s.name.clone(), s.version))
            .collect()
    };
    assert_eq!(
        listed(&mut via),
        [("carec".to_string(), 2), ("uploaded".to_string(), 1)]
    );
    let solve = |c: &mut Client, network: &str, version: u64| {
        let req = proto::SolveRequest {
            network: network.into(),
            version,
            ..Default::default()
        };
        c.solve_stream(req, None, &mut |_| {})
    };
    let (on_a, on_b) = (
        solve(&mut api, "uploaded", 0).unwrap(),
        solve(&mut via, "uploaded", 0).unwrap(),
    );
    assert_eq!((on_b.version, on_b.objective), (1, on_a.objective));
    assert!(on_a.objective > 0.0, "{on_a:?}");

    // Five edits through each replica at once: versions 3..=12 of carec, each once.
    let urls = [a.url.clone(), b.url.clone()];
    let editors = urls.map(|url| {
        std::thread::spawn(move || {
            let mut c = Client::connect(&url, None, None).unwrap();
            (0..5)
                .map(|k| {
                    let edit = proto::edit::Edit::SetInService(proto::SetInService {
                        element: "KZN-RUSIB".into(),
                        in_service: k % 2 == 1,
                    });
                    let req = proto::UpdateNetworkRequest {
                        name: "carec".into(),
                        base_version: 1,
                        edits: vec![proto::Edit { edit: Some(edit) }],
                    };
                    c.update_network(req).unwrap().summary.unwrap().version
                })
                .collect::<Vec<u64>>()
        })
    });
    let mut versions: Vec<u64> = editors
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    versions.sort();
    assert_eq!(versions, (3..=12).collect::<Vec<u64>>());
    assert_eq!(listed(&mut api), listed(&mut via));
    assert_eq!(listed(&mut api)[0], ("carec".to_string(), 12));

    // Deleted through b: a no longer has it, nor does a replica started later.
    via.delete_network("uploaded").unwrap();
    let e = solve(&mut api, "uploaded", 0).unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let c = serve(nets, db, 0);
    assert_eq!(listed(&mut client(&c)), [("carec".to_string(), 12)]);
}
