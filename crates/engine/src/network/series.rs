//! Values that may be constant or vary per snapshot.

use serde::Serialize;
use std::sync::Arc;

/// An attribute that is either the same in every snapshot or given per snapshot.
///
/// PyPSA stores the static value in `<component>.csv` and the time-varying one in
/// `<component>-<attr>.csv`; a time-varying value replaces the static one.
///
/// The values of a time series are shared: cloning a network (a new version made by an edit,
/// a scenario) copies a pointer, and only a series that is changed is copied
/// ([`Series::scale`], [`Series::restrict`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Series {
    /// The same value in every snapshot.
    Static(f64),
    /// One value per snapshot of the network, in snapshot order (shared; see above).
    Hourly(Arc<Vec<f64>>),
}

impl Series {
    /// A time series of one value per snapshot.
    pub fn hourly(values: Vec<f64>) -> Series {
        Series::Hourly(Arc::new(values))
    }

    /// The value at snapshot position `t`.
    #[inline]
    pub fn at(&self, t: usize) -> f64 {
        match self {
            Series::Static(v) => *v,
            Series::Hourly(v) => v[t],
        }
    }

    /// Whether the value changes with the snapshot (a time series was given).
    pub fn is_hourly(&self) -> bool {
        matches!(self, Series::Hourly(_))
    }

    /// The largest value over the horizon (the static value for a static series).
    pub fn max(&self) -> f64 {
        match self {
            Series::Static(v) => *v,
            Series::Hourly(v) => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// The smallest value over the horizon.
    pub fn min(&self) -> f64 {
        match self {
            Series::Static(v) => *v,
            Series::Hourly(v) => v.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }

    /// Every value with its snapshot position (one entry for a static series, at position 0).
    pub fn values(&self) -> &[f64] {
        match self {
            Series::Static(v) => std::slice::from_ref(v),
            Series::Hourly(v) => v,
        }
    }

    /// Keep only the snapshots in `range` (a static series is unchanged).
    pub fn restrict(&mut self, range: std::ops::Range<usize>) {
        if let Series::Hourly(v) = self {
            *v = Arc::new(v[range].to_vec());
        }
    }

    /// Replace each run of `hours` snapshots (the last run may be shorter) by its mean (a
    /// static series is unchanged).
    pub fn aggregate(&mut self, hours: usize) {
        if let Series::Hourly(v) = self {
            let means = v
                .chunks(hours.max(1))
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect();
            *v = Arc::new(means);
        }
    }

    /// Multiply every value by `factor`.
    pub fn scale(&mut self, factor: f64) {
        match self {
            Series::Static(v) => *v *= factor,
            Series::Hourly(v) => Arc::make_mut(v).iter_mut().for_each(|x| *x *= factor),
        }
    }
}

impl Default for Series {
    fn default() -> Self {
        Series::Static(0.0)
    }
}

impl From<f64> for Series {
    fn from(v: f64) -> Self {
        Series::Static(v)
    }
}
