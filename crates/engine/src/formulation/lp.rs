//! The LP being built: columns and rows with explicit indices, handed to HiGHS in one call.
//!
//! The formulation mints columns ([`Lp::col`], each a [`Col`] that carries its position)
//! and writes each row as [`Terms`], a list of `(column, coefficient)` pairs over those
//! columns. A row is stored at once as flat arrays (column indices and coefficients), so the
//! LP in memory is about 12 bytes per nonzero; at the end the matrix is transposed to HiGHS'
//! column-wise form and passed with one `Highs_passLp`. Results are read back by index:
//! column `i` and row `r` are HiGHS' column `i` and row `r`.
//!
//! (Until issue 12 the rows were good_lp `Expression`s, whose variables keep their index
//! private: it was read back by hashing. good_lp's own HiGHS backend adds rows one by one to
//! a row-wise problem that is then transposed and copied: on the CAREC year that took 2.3 s
//! and held three copies of the matrix at once, ~250 MB above the LP's size. With both of
//! its roles gone, the engine keeps its columns its own end to end.)

use crate::error::Error;

/// A column of the LP: its position in HiGHS' column order (below 2^32, checked when it is
/// minted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Col {
    pub index: usize,
}

impl From<&Col> for Col {
    fn from(c: &Col) -> Col {
        *c
    }
}

/// A linear expression `sum_k a_k x_{c_k} + constant` over the LP's columns. A column may
/// appear more than once; its coefficients add up when the row is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    entries: Vec<(Col, f64)>,
    constant: f64,
}

impl Terms {
    /// An empty expression with room for `n` terms.
    pub fn with_capacity(n: usize) -> Self {
        Terms {
            entries: Vec::with_capacity(n),
            constant: 0.0,
        }
    }

    /// Add `a * x_c`.
    pub fn add_mul(&mut self, a: f64, c: impl Into<Col>) {
        self.entries.push((c.into(), a));
    }

    /// Add the constant `k` (moved to the right-hand side when the row is stored).
    /// Whether the expression has no column term.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn add_constant(&mut self, k: f64) {
        self.constant += k;
    }

    /// Add `a` times every term of `other` (and of its constant).
    pub fn add_scaled(&mut self, a: f64, other: &Terms) {
        self.entries
            .extend(other.entries.iter().map(|&(c, v)| (c, a * v)));
        self.constant += a * other.constant;
    }

    /// The value of the expression at the column values `x`.
    pub fn value(&self, x: &[f64]) -> f64 {
        self.entries
            .iter()
            .map(|&(c, a)| a * x[c.index])
            .sum::<f64>()
            + self.constant
    }
}

/// A row's entries in column order, repeated columns summed and zeros dropped; `None` when
/// a term names a column at or beyond `columns` (or beyond 32-bit indices).
fn normalized(e: Vec<(Col, f64)>, columns: usize) -> Option<Vec<(u32, f64)>> {
    let mut entries: Vec<(u32, f64)> = Vec::with_capacity(e.len());
    let mut sound = true;
    for (c, a) in e {
        match u32::try_from(c.index) {
            Ok(i) if c.index < columns => entries.push((i, a)),
            _ => sound = false,
        }
    }
    entries.sort_by_key(|&(c, _)| c);
    entries.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
    entries.retain(|&(_, a)| a != 0.0);
    sound.then_some(entries)
}

/// Rows to add to an LP that HiGHS already holds and has solved (lazy constraints), over
/// its `columns` columns, row-wise as `Highs_addRows` takes them.
#[derive(Debug, Default)]
pub struct NewRows {
    columns: usize,
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) start: Vec<highs_sys::HighsInt>,
    pub(crate) index: Vec<highs_sys::HighsInt>,
    pub(crate) value: Vec<f64>,
    /// A term named a column the LP does not have: refused when added.
    pub(crate) unsound: bool,
}

impl NewRows {
    /// No rows yet, over an LP of `columns` columns.
    pub fn new(columns: usize) -> NewRows {
        NewRows {
            columns,
            ..Default::default()
        }
    }

    /// Add the row `lo <= e <= hi` (a constant inside `e` moves to both bounds); returns its
    /// position among the new rows.
    pub fn push(&mut self, e: Terms, lo: f64, hi: f64) -> usize {
        let k = e.constant;
        match normalized(e.entries, self.columns) {
            Some(entries) => {
                self.start.push(self.index.len() as highs_sys::HighsInt);
                self.index
                    .extend(entries.iter().map(|&(c, _)| c as highs_sys::HighsInt));
                self.value.extend(entries.iter().map(|&(_, a)| a));
                self.lower.push(lo - k);
                self.upper.push(hi - k);
            }
            None => self.unsound = true,
        }
        self.lower.len() - 1
    }

    pub fn len(&self) -> usize {
        self.lower.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// Nonzeros of the new rows.
    pub fn num_nonzeros(&self) -> usize {
        self.value.len()
    }
}

/// The LP: columns with bounds and objective coefficients, rows with bounds, and the
/// matrix row by row.
pub struct Lp {
    /// Column `i`: `lower[i] <= x_i <= upper[i]`, objective coefficient `cost[i]`.
    lower: Vec<f64>,
    upper: Vec<f64>,
    cost: Vec<f64>,
    /// Constant part of the objective (not passed to HiGHS; added back to its value).
    pub constant: f64,
    /// Row `r`: `row_lower[r] <= sum_k value[k] x_{col[k]} <= row_upper[r]` over
    /// `k in row_start[r]..row_start[r + 1]`.
    row_lower: Vec<f64>,
    row_upper: Vec<f64>,
    row_start: Vec<usize>,
    col: Vec<u32>,
    value: Vec<f64>,
    /// Set when a column does not fit HiGHS' 32-bit index or a row names a column this LP
    /// has not minted: the LP is then refused when it is handed to HiGHS ([`Lp::pass_to`])
    /// instead of being passed wrong.
    unsound: bool,
}

/// Bounds and objective coefficients of an LP: what a [`Change`] changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficients {
    pub col_lower: Vec<f64>,
    pub col_upper: Vec<f64>,
    pub cost: Vec<f64>,
    pub row_lower: Vec<f64>,
    pub row_upper: Vec<f64>,
}

/// A change to a solved LP before it is solved again, by position: new column bounds,
/// objective coefficients and row bounds (infinite for none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// `(column, lower, upper)`.
    pub col_bounds: Vec<(usize, f64, f64)>,
    /// `(column, objective coefficient)`.
    pub costs: Vec<(usize, f64)>,
    /// `(row, lower, upper)`.
    pub row_bounds: Vec<(usize, f64, f64)>,
}

impl Coefficients {
    /// The change that turns `self` into `to` (an LP of the same size): every entry that
    /// differs.
    pub fn change_to(&self, to: &Coefficients) -> Change {
        let differ = |a: f64, b: f64| a.to_bits() != b.to_bits();
        let mut c = Change::default();
        for j in 0..self.cost.len() {
            if differ(self.col_lower[j], to.col_lower[j])
                || differ(self.col_upper[j], to.col_upper[j])
            {
                c.col_bounds.push((j, to.col_lower[j], to.col_upper[j]));
            }
            if differ(self.cost[j], to.cost[j]) {
                c.costs.push((j, to.cost[j]));
            }
        }
        for r in 0..self.row_lower.len() {
            if differ(self.row_lower[r], to.row_lower[r])
                || differ(self.row_upper[r], to.row_upper[r])
            {
                c.row_bounds.push((r, to.row_lower[r], to.row_upper[r]));
            }
        }
        c
    }

    /// Make `change` to these coefficients (as HiGHS makes it to its LP).
    pub fn apply(&mut self, change: &Change) {
        for &(j, lo, hi) in &change.col_bounds {
            (self.col_lower[j], self.col_upper[j]) = (lo, hi);
        }
        for &(j, cost) in &change.costs {
            self.cost[j] = cost;
        }
        for &(r, lo, hi) in &change.row_bounds {
            (self.row_lower[r], self.row_upper[r]) = (lo, hi);
        }
    }
}

impl Default for Lp {
    fn default() -> Self {
        Lp {
            lower: Vec::new(),
            upper: Vec::new(),
            cost: Vec::new(),
            constant: 0.0,
            row_lower: Vec::new(),
            row_upper: Vec::new(),
            row_start: vec![0],
            col: Vec::new(),
            value: Vec::new(),
            unsound: false,
        }
    }
}

impl Lp {
    /// Add a column `lo <= x <= hi` with objective coefficient `cost`.
    pub fn col(&mut self, lo: f64, hi: f64, cost: f64) -> Col {
        let index = self.lower.len();
        self.unsound |= u32::try_from(index).is_err();
        self.lower.push(lo);
        self.upper.push(hi);
        self.cost.push(cost);
        Col { index }
    }

    /// The bounds `(lower, upper)` of column `index`.
    pub fn col_bounds(&self, index: usize) -> (f64, f64) {
        (self.lower[index], self.upper[index])
    }

    /// Set the bounds of column `index`.
    pub fn set_col_bounds(&mut self, index: usize, lo: f64, hi: f64) {
        (self.lower[index], self.upper[index]) = (lo, hi);
    }

    /// Fix column `index` at 0 (both bounds).
    pub fn fix_at_zero(&mut self, index: usize) {
        (self.lower[index], self.upper[index]) = (0.0, 0.0);
    }

    /// Add the row `e = rhs`; returns its index (the position of its dual in HiGHS'
    /// solution). A constant inside `e` moves to the right-hand side.
    pub fn row_eq(&mut self, e: Terms, rhs: f64) -> usize {
        let b = rhs - e.constant;
        self.row(e, b, b)
    }

    /// Add the row `e <= rhs`; returns its index.
    pub fn row_le(&mut self, e: Terms, rhs: f64) -> usize {
        let b = rhs - e.constant;
        self.row(e, f64::NEG_INFINITY, b)
    }

    /// Add the row `lo <= e <= hi`; returns its index.
    pub fn row_range(&mut self, e: Terms, lo: f64, hi: f64) -> usize {
        let k = e.constant;
        self.row(e, lo - k, hi - k)
    }

    /// Add the row `e >= rhs`; returns its index.
    pub fn row_ge(&mut self, e: Terms, rhs: f64) -> usize {
        let b = rhs - e.constant;
        self.row(e, b, f64::INFINITY)
    }

    /// Store a row, its entries in column order with repeated columns summed and zeros
    /// dropped (so two builds of one network store the same arrays).
    fn row(&mut self, e: Terms, lo: f64, hi: f64) -> usize {
        let entries = normalized(e.entries, self.lower.len()).unwrap_or_else(|| {
            self.unsound = true;
            Vec::new()
        });
        self.col.extend(entries.iter().map(|&(c, _)| c));
        self.value.extend(entries.iter().map(|&(_, a)| a));
        self.row_start.push(self.col.len());
        self.row_lower.push(lo);
        self.row_upper.push(hi);
        self.row_lower.len() - 1
    }

    pub fn num_cols(&self) -> usize {
        self.lower.len()
    }

    pub fn num_rows(&self) -> usize {
        self.row_lower.len()
    }

    /// Nonzeros of the matrix.
    pub fn num_nonzeros(&self) -> usize {
        self.value.len()
    }

    /// Objective coefficient of every column, in column order.
    pub fn costs(&self) -> &[f64] {
        &self.cost
    }

    /// A copy of the bounds and objective coefficients.
    pub fn coefficients(&self) -> Coefficients {
        Coefficients {
            col_lower: self.lower.clone(),
            col_upper: self.upper.clone(),
            cost: self.cost.clone(),
            row_lower: self.row_lower.clone(),
            row_upper: self.row_upper.clone(),
        }
    }

    /// Whether `other` has the same columns, rows and matrix, so that it differs from this
    /// LP at most in bounds and objective coefficients (a [`Change`] of it).
    pub fn same_matrix(&self, other: &Lp) -> bool {
        self.num_cols() == other.num_cols()
            && self.row_start == other.row_start
            && self.col == other.col
            && self.value.len() == other.value.len()
            && self
                .value
                .iter()
                .zip(&other.value)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// A new HiGHS instance holding the LP (see [`Lp::pass_to`]).
    pub fn into_highs(self) -> Result<highs::Model, Error> {
        let mut model = highs::Model::new(highs::ColProblem::default());
        self.pass_to(&mut model)?;
        Ok(model)
    }

    /// Pass the LP (minimise, no objective offset) to the empty HiGHS `model`. The
    /// row-wise matrix is freed as soon as its column-wise copy is built. HiGHS refuses an
    /// LP only for inconsistent arrays or NaN/infinite costs (validation rejects both in the
    /// input): that is a [`Error::Solver`].
    pub fn pass_to(self, model: &mut highs::Model) -> Result<(), Error> {
        let Lp {
            lower,
            upper,
            cost,
            row_lower,
            row_upper,
            row_start,
            col,
            value,
            unsound,
            ..
        } = self;
        if unsound {
            return Err(Error::Solver(
                "a row names a column the LP does not have, or the LP has more columns than \
                 32-bit indices hold: refused rather than passed to HiGHS wrong"
                    .into(),
            ));
        }
        let (start, index, value) = column_wise(lower.len(), &row_start, col, value);
        let n = |len: usize| {
            highs_sys::HighsInt::try_from(len).map_err(|_| {
                Error::Solver(format!(
                    "the LP is too large for HiGHS' 32-bit indices ({len})"
                ))
            })
        };
        let (num_col, num_row, num_nz) = (n(lower.len())?, n(row_lower.len())?, n(value.len())?);
        // SAFETY: `model` is a valid HiGHS instance; every array has the length HiGHS is told
        // (cost/lower/upper: columns, row_lower/row_upper: rows, start: columns + 1,
        // index/value: nonzeros) and outlives the call, which copies them.
        let status = unsafe {
            highs_sys::Highs_passLp(
                model.as_mut_ptr(),
                num_col,
                num_row,
                num_nz,
                highs_sys::kHighsMatrixFormatColwise,
                highs_sys::kHighsObjSenseMinimize,
                0.0,
                cost.as_ptr(),
                lower.as_ptr(),
                upper.as_ptr(),
                row_lower.as_ptr(),
                row_upper.as_ptr(),
                start.as_ptr(),
                index.as_ptr(),
                value.as_ptr(),
            )
        };
        if status == highs_sys::kHighsStatusError {
            return Err(Error::Solver(format!(
                "HiGHS refused the LP ({num_col} columns, {num_row} rows, {num_nz} nonzeros)"
            )));
        }
        Ok(())
    }
}

/// The row-wise matrix (`row_start`, `col`, `value`) column-wise: HiGHS' `start` (columns +
/// 1 entries), `index` (row of each nonzero, ascending within a column) and `value`.
fn column_wise(
    columns: usize,
    row_start: &[usize],
    col: Vec<u32>,
    value: Vec<f64>,
) -> (Vec<highs_sys::HighsInt>, Vec<highs_sys::HighsInt>, Vec<f64>) {
    let nnz = value.len();
    let mut start = vec![0 as highs_sys::HighsInt; columns + 1];
    for &c in &col {
        start[c as usize + 1] += 1;
    }
    for c in 0..columns {
        start[c + 1] += start[c];
    }
    let mut next: Vec<usize> = start[..columns].iter().map(|&s| s as usize).collect();
    let mut index = vec![0 as highs_sys::HighsInt; nnz];
    let mut by_column = vec![0.0; nnz];
    for r in 0..row_start.len() - 1 {
        for k in row_start[r]..row_start[r + 1] {
            let c = col[k] as usize;
            index[next[c]] = r as highs_sys::HighsInt;
            by_column[next[c]] = value[k];
            next[c] += 1;
        }
    }
    (start, index, by_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_numbered_in_the_order_they_are_minted() {
        let mut lp = Lp::default();
        let cols: Vec<Col> = (0..1000).map(|i| lp.col(0.0, i as f64, 1.0)).collect();
        assert!(cols.iter().enumerate().all(|(i, c)| c.index == i));
        assert_eq!(lp.num_cols(), 1000);
    }

    /// A column that is not one of the LP's (here one of a larger LP) makes the LP refuse to
    /// reach HiGHS: an error, not a panic and not a row on the wrong column.
    #[test]
    fn a_column_of_another_lp_is_refused_at_hand_over() {
        let mut lp = Lp::default();
        let x = lp.col(0.0, 1.0, 1.0);
        let mut larger = Lp::default();
        let foreign = (0..5)
            .map(|_| larger.col(0.0, 1.0, 0.0))
            .last()
            .expect("five");
        let mut e = Terms::with_capacity(2);
        e.add_mul(1.0, x);
        e.add_mul(1.0, foreign);
        lp.row_ge(e, 1.0);
        let err = lp.into_highs().map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
    }

    /// Repeated columns add up, cancelling ones leave no entry, entries are in column order.
    #[test]
    fn a_row_sums_repeated_columns_and_drops_zeros() {
        let mut lp = Lp::default();
        let (x, y, z) = (
            lp.col(0.0, 1.0, 0.0),
            lp.col(0.0, 1.0, 0.0),
            lp.col(0.0, 1.0, 0.0),
        );
        let mut e = Terms::with_capacity(5);
        e.add_mul(2.0, z);
        e.add_mul(1.0, y);
        e.add_mul(-1.0, y);
        e.add_mul(0.5, x);
        e.add_mul(0.25, z);
        e.add_constant(3.0);
        let r = lp.row_le(e, 4.0);
        assert_eq!(lp.col, vec![0, 2]);
        assert_eq!(lp.value, vec![0.5, 2.25]);
        assert_eq!(lp.row_upper[r], 1.0);
    }

    #[test]
    fn rows_reach_highs_column_wise_with_their_senses() {
        // min x + 2y  s.t.  x + y >= 2,  x - y <= 1,  y + 0.5 = 1.5 (i.e. y = 1),  0 <= x, y <= 10
        let mut lp = Lp::default();
        let x = lp.col(0.0, 10.0, 1.0);
        let y = lp.col(0.0, 10.0, 2.0);
        let sum = |a: f64, b: f64| {
            let mut e = Terms::with_capacity(2);
            e.add_mul(a, x);
            e.add_mul(b, y);
            e
        };
        let ge = lp.row_ge(sum(1.0, 1.0), 2.0);
        let le = lp.row_le(sum(1.0, -1.0), 1.0);
        let mut e = Terms::with_capacity(1);
        e.add_mul(1.0, y);
        e.add_constant(0.5);
        let eq = lp.row_eq(e, 1.5);
        assert_eq!((ge, le, eq), (0, 1, 2));
        assert_eq!(lp.num_nonzeros(), 5);
        let solved = lp.into_highs().unwrap().solve();
        assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
        let s = solved.get_solution();
        // y = 1, x = 1 (x + y >= 2 binds with dual 1 per unit; x - y <= 1 slack).
        assert!((s.columns()[0] - 1.0).abs() < 1e-9 && (s.columns()[1] - 1.0).abs() < 1e-9);
        assert!(
            (s.dual_rows()[ge] - 1.0).abs() < 1e-9,
            "{:?}",
            s.dual_rows()
        );
        assert!(s.dual_rows()[le].abs() < 1e-9);
        assert!(
            (s.dual_rows()[eq] - 1.0).abs() < 1e-9,
            "{:?}",
            s.dual_rows()
        );
    }

    #[test]
    fn column_wise_keeps_rows_in_order_within_each_column() {
        // rows: r0 = 2 c1 + 3 c0, r1 = 5 c2, r2 = 7 c0 + 11 c2
        let (start, index, value) = column_wise(
            3,
            &[0, 2, 3, 5],
            vec![1, 0, 2, 0, 2],
            vec![2., 3., 5., 7., 11.],
        );
        assert_eq!(start, vec![0, 2, 3, 5]);
        assert_eq!(index, vec![0, 2, 0, 1, 2]);
        assert_eq!(value, vec![3., 7., 2., 5., 11.]);
    }
}
