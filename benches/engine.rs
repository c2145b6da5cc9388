//! Criterion benchmarks of the engine's phases on the shipped cases: reading, building the
//! LP and passing it to HiGHS (`build`), and the whole solve (build + HiGHS + extraction).
//!
//!     cargo bench --bench engine
//!
//! The `synth` group reads and builds seeded synthetic networks of growing size (buses ×
//! hours), to show how our own phases grow; the end-to-end figures, HiGHS included, come
//! from `gridtrade bench` (see benches/README.md).

use criterion::{criterion_group, criterion_main, Criterion};
use gridtrade_engine::formulation::{self, DcConvention, FormulationOptions};
use gridtrade_engine::solve::{self, SolveOptions};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

const CASES: &[&str] = &[
    "tests/data/cases/pglib_opf_case118_ieee.m",
    "tests/data/cases/pglib_opf_case1354_pegase.m",
    "tests/data/cases/pglib_opf_case2869_pegase.m",
    "networks/example",
];

fn name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap().trim_end_matches(".m")
}

fn bench_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read");
    for rel in CASES {
        let p = path(rel);
        g.bench_function(name(rel), |b| {
            b.iter(|| black_box(gridtrade_engine::io::read(&p).unwrap()))
        });
    }
    g.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    let opts = FormulationOptions {
        dc_convention: DcConvention::Matpower,
        ..Default::default()
    };
    for rel in CASES {
        let (n, _) = gridtrade_engine::io::read(&path(rel)).unwrap();
        g.bench_function(name(rel), |b| {
            b.iter(|| {
                black_box(
                    formulation::build(&n, &opts)
                        .unwrap()
                        .lp
                        .into_highs()
                        .unwrap(),
                )
            })
        });
    }
    g.finish();
}

fn bench_solve(c: &mut Criterion) {
    let mut g = c.benchmark_group("solve");
    g.sample_size(10);
    let opts = SolveOptions::default();
    for rel in CASES {
        let (n, _) = gridtrade_engine::io::read(&path(rel)).unwrap();
        g.bench_function(name(rel), |b| {
            b.iter(|| black_box(solve::solve(&n, &opts).unwrap().status))
        });
    }
    g.finish();
}

/// A month (January, 744 h) of the CAREC regional network: 163k columns, 26k rows.
fn bench_carec_month(c: &mut Criterion) {
    let mut g = c.benchmark_group("carec");
    g.sample_size(10);
    let (mut n, _) = gridtrade_engine::io::read(&path("networks/carec")).unwrap();
    solve::select_snapshots(&mut n, 0..744).unwrap();
    let opts = SolveOptions::default();
    g.bench_function("build_january", |b| {
        b.iter(|| {
            black_box(
                formulation::build(&n, &opts.formulation)
                    .unwrap()
                    .lp
                    .into_highs()
                    .unwrap(),
            )
        })
    });
    g.bench_function("solve_january", |b| {
        b.iter(|| black_box(solve::solve(&n, &opts).unwrap().status))
    });
    g.finish();
}

/// Reading and building synthetic networks from 50 to 2000 buses and 24 to 8760 hours.
fn bench_synth(c: &mut Criterion) {
    use criterion::BenchmarkId;
    let dir = path("target/bench-networks");
    let mut g = c.benchmark_group("synth");
    g.sample_size(10);
    for (buses, hours) in [(50, 168), (200, 168), (1000, 168), (2000, 24), (20, 8760)] {
        let spec = gridtrade_bench::synth::Spec::new(buses, hours);
        let p = dir.join(spec.name());
        if !p.join("snapshots.csv").exists() {
            gridtrade_bench::synth::write(&spec, &p).unwrap();
        }
        let id = format!("{buses}b_{hours}h");
        g.bench_with_input(BenchmarkId::new("read", &id), &p, |b, p| {
            b.iter(|| black_box(gridtrade_engine::io::read(p).unwrap()))
        });
        let (n, _) = gridtrade_engine::io::read(&p).unwrap();
        let opts = FormulationOptions::default();
        g.bench_with_input(BenchmarkId::new("build", &id), &n, |b, n| {
            b.iter(|| {
                black_box(
                    formulation::build(n, &opts)
                        .unwrap()
                        .lp
                        .into_highs()
                        .unwrap(),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_read,
    bench_build,
    bench_solve,
    bench_carec_month,
    bench_synth
);
criterion_main!(benches);
