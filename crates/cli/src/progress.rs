//! What a solve is doing, on stderr while it runs: a spinner with the phase, HiGHS'
//! iterations and objective and the elapsed time (indicatif, which draws only when stderr is
//! a terminal, so pipes and logs stay clean). `--quiet` silences it.

use gridtrade_engine::solver::{Control, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The spinner of one command; clones share it.
#[derive(Clone)]
pub struct Spinner {
    bar: ProgressBar,
    /// The phase HiGHS' counters belong to (`solving`, `diagnosing`), with the PTDF form's
    /// lazy round when there is one.
    phase: Arc<Mutex<String>>,
}

impl Spinner {
    /// A spinner on stderr (hidden when `quiet` or when stderr is not a terminal).
    pub fn new(quiet: bool) -> Spinner {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        let style = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner {
            bar,
            phase: Arc::new(Mutex::new("starting".to_string())),
        }
    }

    /// Say what is happening outside a solve (reading a network, writing results).
    pub fn say(&self, what: impl Into<String>) {
        self.bar.set_message(what.into());
    }

    /// Show one progress event of a solve.
    pub fn show(&self, p: &Progress) {
        match p {
            Progress::Phase(ph) => {
                *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = ph.as_str().to_string();
                self.bar.set_message(ph.as_str());
            }
            Progress::LazyRound {
                round,
                violated,
                limit_rows,
            } => {
                let text = format!(
                    "solving, lazy round {}: {limit_rows} line limits in, {violated} more violated",
                    round + 1
                );
                self.bar.set_message(text.clone());
                *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = text;
            }
            Progress::Iteration {
                simplex,
                ipm,
                objective,
                seconds,
            } => {
                let phase = self.phase.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let (count, kind) = if *ipm > 0 {
                    (ipm, "IPM")
                } else {
                    (simplex, "simplex")
                };
                // Before its first iterate HiGHS reports no objective (-inf) and no time.
                self.bar.set_message(if objective.is_finite() && *seconds >= 0.0 {
                    format!(
                        "{phase}: {count} {kind} iterations, objective {objective:.6e}, HiGHS {seconds:.1} s"
                    )
                } else {
                    format!("{phase}: {count} {kind} iterations")
                });
            }
            Progress::Log(_) => {}
        }
    }

    /// Print `line` above the spinner.
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// A control whose progress this spinner shows.
    pub fn control(&self) -> Control {
        let me = self.clone();
        Control::default().with_listener(move |p| me.show(&p))
    }

    /// Remove the spinner (before the answer is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
