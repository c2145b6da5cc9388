//! A thin layer over good_lp that remembers the column and row index of everything it adds,
//! so results (primal values and duals) can be read back by index from HiGHS' solution.

use good_lp::solvers::highs::{highs, HighsProblem};
use good_lp::{variable, Constraint, Expression, ProblemVariables, SolverModel, Variable};

/// A column of the LP: the good_lp variable and its position in HiGHS' column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub var: Variable,
    pub index: usize,
}

/// The LP being built: columns with bounds and objective coefficients, and rows.
pub struct Lp {
    vars: ProblemVariables,
    /// Column `i` is `columns[i]` with objective coefficient `cost[i]`.
    columns: Vec<Variable>,
    cost: Vec<f64>,
    /// Constant part of the objective (not passed to HiGHS; added back to its value).
    pub constant: f64,
    rows: Vec<Constraint>,
}

impl Default for Lp {
    fn default() -> Self {
        Lp {
            vars: ProblemVariables::new(),
            columns: Vec::new(),
            cost: Vec::new(),
            constant: 0.0,
            rows: Vec::new(),
        }
    }
}

impl Lp {
    /// Add a column `lo <= x <= hi` with objective coefficient `cost`.
    pub fn col(&mut self, lo: f64, hi: f64, cost: f64) -> Col {
        let index = self.columns.len();
        let var = self.vars.add(variable().bounds(lo..=hi));
        self.columns.push(var);
        self.cost.push(cost);
        Col { var, index }
    }

    /// Add a row; returns its index (the position of its dual in HiGHS' solution).
    pub fn row(&mut self, c: Constraint) -> usize {
        self.rows.push(c);
        self.rows.len() - 1
    }

    pub fn num_cols(&self) -> usize {
        self.columns.len()
    }

    pub fn num_rows(&self) -> usize {
        self.rows.len()
    }

    /// Objective coefficient of every column, in column order.
    pub fn costs(&self) -> &[f64] {
        &self.cost
    }

    /// Hand the LP to HiGHS through good_lp: a HiGHS instance holding it.
    pub fn into_highs(self) -> highs::Model {
        self.into_problem().into_inner()
    }

    fn into_problem(self) -> HighsProblem {
        let mut objective = Expression::with_capacity(self.columns.len());
        for (var, &c) in self.columns.iter().zip(&self.cost) {
            if c != 0.0 {
                objective.add_mul(c, *var);
            }
        }
        let mut problem = self.vars.minimise(objective).using(highs);
        for row in self.rows {
            problem.add_constraint(row);
        }
        problem
    }
}
