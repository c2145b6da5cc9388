//! Conversions between proto messages and domain types (nothing else happens here).

use super::proto;
use gridtrade_engine::formulation::{DcConvention, FormulationOptions, Kvl, NetworkModel};
use gridtrade_engine::network::{BranchKind, Network};
use gridtrade_engine::solution::Status as SolveStatus;
use gridtrade_engine::solve::Outcome;
use tonic::Status;

/// Summary of network `n`, held by the server under `name`.
pub fn summary(name: &str, n: &Network, version: u64) -> proto::NetworkSummary {
    let count = |k| n.branches.iter().filter(|b| b.kind == k).count() as u32;
    proto::NetworkSummary {
        name: name.to_string(),
        version,
        snapshots: n.snapshots.len() as u32,
        first_snapshot: n.snapshots.names.first().cloned().unwrap_or_default(),
        last_snapshot: n.snapshots.names.last().cloned().unwrap_or_default(),
        buses: n.buses.len() as u32,
        zones: n.zones(),
        lines: count(BranchKind::Line),
        transformers: count(BranchKind::Transformer),
        links: n.links.len() as u32,
        generators: n.generators.len() as u32,
        loads: n.loads.len() as u32,
        storage_units: n.storage_units.len() as u32,
    }
}

/// Elements per page of GetNetwork by default, and at most.
pub const PAGE_SIZE: (usize, usize) = (5000, 50_000);

/// A page of network `n`'s elements (buses, branches and links, generators, storage units,
/// counted in that order) from position `offset`, at most `size` of them.
pub fn network(
    name: &str,
    n: &Network,
    version: u64,
    offset: usize,
    size: usize,
) -> proto::GetNetworkResponse {
    let counts = [
        n.buses.len(),
        n.branches.len() + n.links.len(),
        n.generators.len(),
        n.storage_units.len(),
    ];
    let total: usize = counts.iter().sum();
    let end = offset.saturating_add(size).min(total);
    // The part of list k (starting at position `start` overall) on this page.
    let mut start = 0;
    let mut window = [0..0, 0..0, 0..0, 0..0];
    for (k, &c) in counts.iter().enumerate() {
        let a = offset.clamp(start, start + c) - start;
        let b = end.clamp(start, start + c) - start;
        window[k] = a..b;
        start += c;
    }
    let mut page = full_network(name, n, version);
    page.buses = page.buses.drain(window[0].clone()).collect();
    page.branches = page.branches.drain(window[1].clone()).collect();
    page.generators = page.generators.drain(window[2].clone()).collect();
    page.storage_units = page.storage_units.drain(window[3].clone()).collect();
    if end < total {
        page.next_page_token = format!("{version}:{end}");
    }
    page
}

/// Version and offset of a page token.
pub fn page_token(token: &str) -> Result<(u64, usize), Status> {
    token
        .split_once(':')
        .and_then(|(v, o)| Some((v.parse().ok()?, o.parse().ok()?)))
        .ok_or_else(|| Status::invalid_argument(format!("page_token `{token}`: not one we gave")))
}

fn full_network(name: &str, n: &Network, version: u64) -> proto::GetNetworkResponse {
    let bus = |i: usize| n.buses[i].name.clone();
    let mut branches: Vec<proto::Branch> = n
        .branches
        .iter()
        .map(|b| proto::Branch {
            name: b.name.clone(),
            kind: match b.kind {
                BranchKind::Line => proto::BranchKind::Line,
                BranchKind::Transformer => proto::BranchKind::Transformer,
            } as i32,
            bus0: bus(b.bus0),
            bus1: bus(b.bus1),
            capacity_mw: b.s_max,
            efficiency: 1.0,
            in_service: b.in_service,
        })
        .collect();
    branches.extend(n.links.iter().map(|l| proto::Branch {
        name: l.name.clone(),
        kind: proto::BranchKind::Link as i32,
        bus0: bus(l.bus0),
        bus1: bus(l.bus1),
        capacity_mw: l.p_nom,
        efficiency: l.efficiency,
        in_service: l.in_service,
    }));
    proto::GetNetworkResponse {
        summary: Some(summary(name, n, version)),
        buses: n
            .buses
            .iter()
            .map(|b| proto::Bus {
                name: b.name.clone(),
                zone: b.zone.clone(),
                country: b.country.clone(),
                x: b.x,
                y: b.y,
            })
            .collect(),
        branches,
        generators: n
            .generators
            .iter()
            .map(|g| proto::Generator {
                name: g.name.clone(),
                bus: bus(g.bus),
                carrier: g.carrier.clone(),
                p_nom: g.p_nom,
                in_service: g.in_service,
            })
            .collect(),
        storage_units: n
            .storage_units
            .iter()
            .map(|s| proto::StorageUnit {
                name: s.name.clone(),
                bus: bus(s.bus),
                carrier: s.carrier.clone(),
                p_nom: s.p_nom,
                max_hours: s.max_hours,
                in_service: s.in_service,
            })
            .collect(),
        next_page_token: String::new(),
    }
}

/// The N-1 contingencies of a solve request: none, every branch, or those named (a name
/// the network lacks is INVALID_ARGUMENT when the LP is built).
fn contingencies(
    r: &proto::SolveRequest,
) -> Result<Option<gridtrade_engine::formulation::Contingencies>, Status> {
    use gridtrade_engine::formulation::{Contingencies, Outages};
    let outages = match (r.all_contingencies, r.contingencies.is_empty()) {
        (false, true) => return Ok(None),
        (true, true) => Outages::All,
        (false, false) => Outages::Branches(r.contingencies.clone()),
        (true, false) => {
            return Err(Status::invalid_argument(
                "contingencies: name branches or set all_contingencies, not both",
            ))
        }
    };
    Ok(Some(Contingencies {
        outages,
        rating: r.contingency_rating.unwrap_or(1.0),
    }))
}

/// The binding post-contingency limits of an N-1 report (none without contingencies).
fn contingency_limits(
    security: Option<&gridtrade_engine::report::SecuritySummary>,
) -> Vec<proto::ContingencyLimit> {
    security.map_or(Vec::new(), |sec| {
        sec.binding
            .iter()
            .map(|b| proto::ContingencyLimit {
                outage: b.outage.clone(),
                monitored: b.monitored.clone(),
                snapshots_binding: b.snapshots_binding as u32,
                mean_shadow_price: b.mean_shadow_price,
            })
            .collect()
    })
}

/// The formulation options of a solve request; unknown enum values are INVALID_ARGUMENT.
pub fn formulation(r: &proto::SolveRequest) -> Result<FormulationOptions, Status> {
    let model = network_model(r.model, NetworkModel::Dc)?;
    let dc_convention = match proto::DcConvention::try_from(r.dc_convention) {
        Ok(proto::DcConvention::Unspecified | proto::DcConvention::Matpower) => {
            DcConvention::Matpower
        }
        Ok(proto::DcConvention::Powermodels) => DcConvention::Powermodels,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "dc_convention: unknown value {}",
                r.dc_convention
            )))
        }
    };
    let kvl = match proto::Kvl::try_from(r.kvl) {
        Ok(proto::Kvl::Unspecified | proto::Kvl::Auto) => Kvl::Auto,
        Ok(proto::Kvl::Cycles) => Kvl::Cycles,
        Ok(proto::Kvl::Angles) => Kvl::Angles,
        Ok(proto::Kvl::Ptdf) => Kvl::Ptdf,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "kvl: unknown value {}",
                r.kvl
            )))
        }
    };
    if (r.snapshot_start, r.snapshot_end) != (0, 0) && r.snapshot_start >= r.snapshot_end {
        return Err(Status::invalid_argument(format!(
            "snapshot_start {} must be below snapshot_end {}",
            r.snapshot_start, r.snapshot_end
        )));
    }
    Ok(FormulationOptions {
        model,
        dc_convention,
        angle_limits: r.angle_limits,
        kvl,
        voll: r.voll,
        co2_price: r.co2_price,
        pwl_segments: (r.pwl_segments > 0).then_some(r.pwl_segments as usize),
        slack_penalty: None,
        contingencies: contingencies(r)?,
        flow_domain: None,
    })
}

pub fn solve_response(
    n: &Network,
    name: &str,
    version: u64,
    o: &Outcome,
    opts: &gridtrade_engine::solve::SolveOptions,
    include_series: bool,
) -> proto::SolveResponse {
    let r = o.results.as_ref().expect("checked by the caller");
    let summary = gridtrade_engine::report::summary(n, o, &opts.formulation);
    // A bus out of service has no price (NaN in the engine): its series is left out, as
    // the proto says, so that no answer carries a NaN.
    let series =
        |names: Vec<&str>, table: &gridtrade_engine::solution::Table| -> Vec<proto::Series> {
            names
                .into_iter()
                .zip(table)
                .filter(|(_, values)| values.iter().all(|v| v.is_finite()))
                .map(|(name, values)| proto::Series {
                    name: name.to_string(),
                    values: values.clone(),
                })
                .collect()
        };
    let branch_names: Vec<&str> = n
        .branches
        .iter()
        .map(|b| b.name.as_str())
        .chain(n.links.iter().map(|l| l.name.as_str()))
        .collect();
    let flows: gridtrade_engine::solution::Table =
        r.branch_p0.iter().chain(&r.link_p0).cloned().collect();
    let mus: gridtrade_engine::solution::Table =
        r.branch_mu.iter().chain(&r.link_mu).cloned().collect();
    proto::SolveResponse {
        network: name.to_string(),
        version,
        status: match o.status {
            SolveStatus::Optimal => proto::SolveStatus::Optimal,
            _ => proto::SolveStatus::TimeLimit,
        } as i32,
        objective: r.objective,
        time_limit_s: opts.time_limit.unwrap_or(0.0),
        formulation: o.size.form.map_or(String::new(), |f| f.to_string()),
        lp_columns: o.size.columns as u64,
        lp_rows: o.size.rows as u64,
        limit_rows: o.size.limit_rows as u64,
        rounds: o.size.rounds as u32,
        contingency_limits: contingency_limits(summary.security.as_ref()),
        islanding_outages: summary
            .security
            .as_ref()
            .map_or(Vec::new(), |sec| sec.islanding_outages.clone()),
        timings: Some(proto::Timings {
            build_s: o.timings.build_s,
            solve_s: o.timings.solve_s,
            extract_s: o.timings.extract_s,
        }),
        snapshots: n.snapshots.len() as u32,
        co2_t: r.co2_t,
        co2_limit: summary.co2_limit.as_ref().map(co2_limit),
        expansion: summary.expansion.iter().map(capacity_choice).collect(),
        load_shed_mwh: r.shed_mwh,
        zones: summary
            .zones
            .iter()
            .map(|z| proto::ZonePrice {
                zone: z.name.clone(),
                load_weighted_price: z.prices.load_weighted_price,
                min_price: z.prices.min_price,
                max_price: z.prices.max_price,
                mean_price: z.prices.mean_price,
            })
            .collect(),
        bus_prices: if include_series {
            series(
                n.buses.iter().map(|b| b.name.as_str()).collect(),
                &r.bus_price,
            )
        } else {
            Vec::new()
        },
        branch_flows: if include_series {
            series(branch_names.clone(), &flows)
        } else {
            Vec::new()
        },
        branch_shadow_prices: if include_series {
            series(branch_names, &mus)
        } else {
            Vec::new()
        },
        generator_output: if include_series {
            series(
                n.generators.iter().map(|g| g.name.as_str()).collect(),
                &r.gen_p,
            )
        } else {
            Vec::new()
        },
        report_text: gridtrade_engine::report::text(&summary),
    }
}

/// The domain edits of an update request; an empty edit is INVALID_ARGUMENT.
pub fn edits(
    r: &proto::UpdateNetworkRequest,
) -> Result<Vec<gridtrade_engine::network::Edit>, Status> {
    use gridtrade_engine::network::Edit;
    use proto::edit::Edit as E;
    r.edits
        .iter()
        .enumerate()
        .map(|(i, e)| match &e.edit {
            Some(E::SetInService(s)) => Ok(Edit::SetInService {
                element: s.element.clone(),
                in_service: s.in_service,
            }),
            Some(E::SetAttribute(s)) => Ok(Edit::SetAttribute {
                element: s.element.clone(),
                attribute: s.attribute.clone(),
                value: s.value,
            }),
            Some(E::AddLink(a)) => Ok(Edit::AddLink {
                name: a.name.clone(),
                bus0: a.bus0.clone(),
                bus1: a.bus1.clone(),
                p_nom: a.p_nom,
                p_min_pu: a.p_min_pu,
                efficiency: a.efficiency,
            }),
            None => Err(Status::invalid_argument(format!("edit {}: empty", i + 1))),
        })
        .collect()
}

/// The study a trade request asks for. Scenario text errors name the request field and line.
/// A request's `model` field: `unspecified` is `default` (the dc model for a plan, the
/// transport model for a trade study).
fn network_model(value: i32, default: NetworkModel) -> Result<NetworkModel, Status> {
    match proto::NetworkModel::try_from(value) {
        Ok(proto::NetworkModel::Unspecified) => Ok(default),
        Ok(proto::NetworkModel::Dc) => Ok(NetworkModel::Dc),
        Ok(proto::NetworkModel::Transport) => Ok(NetworkModel::Transport),
        Ok(proto::NetworkModel::Copperplate) => Ok(NetworkModel::Copperplate),
        Err(_) => Err(Status::invalid_argument(format!(
            "model: unknown value {value}"
        ))),
    }
}

/// A Plan request as the study's request (the scenario parsed, the options checked as
/// Solve's).
pub fn plan_request(
    r: &proto::PlanRequest,
    time_limit: Option<f64>,
) -> Result<gridtrade_studies::plan::PlanRequest, Status> {
    use gridtrade_studies::scenario::Scenario;
    let model = match proto::NetworkModel::try_from(r.model) {
        Ok(proto::NetworkModel::Unspecified | proto::NetworkModel::Dc) => NetworkModel::Dc,
        Ok(proto::NetworkModel::Transport) => NetworkModel::Transport,
        Ok(proto::NetworkModel::Copperplate) => NetworkModel::Copperplate,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "model: unknown value {}",
                r.model
            )))
        }
    };
    let mut options = formulation(&proto::SolveRequest {
        dc_convention: r.dc_convention,
        kvl: r.kvl,
        voll: r.voll,
        co2_price: r.co2_price,
        snapshot_start: r.snapshot_start,
        snapshot_end: r.snapshot_end,
        ..Default::default()
    })?;
    options.model = model;
    let scenario = if r.scenario_toml.is_empty() {
        None
    } else {
        let s =
            Scenario::parse(&r.scenario_toml, "scenario_toml").map_err(|e| super::status_of(&e))?;
        Some((s, "scenario_toml".to_string()))
    };
    Ok(gridtrade_studies::plan::PlanRequest {
        scenario,
        options,
        time_limit,
        leave_one_out: r.leave_one_out,
    })
}

/// A plan's report as the Plan RPC's response.
pub fn plan_response(
    p: &gridtrade_studies::plan::PlanReport,
    network: &str,
    version: u64,
) -> proto::PlanResponse {
    proto::PlanResponse {
        network: network.to_string(),
        version,
        snapshots: p.snapshots as u32,
        system_cost_without: p.system_cost_without,
        system_cost_plan: p.system_cost_plan,
        saving: p.saving,
        co2_without_t: p.co2_without_t,
        co2_plan_t: p.co2_plan_t,
        shed_without_mwh: p.shed_without_mwh,
        shed_plan_mwh: p.shed_plan_mwh,
        co2_limit: p.co2_limit.as_ref().map(co2_limit),
        candidates: p
            .candidates
            .iter()
            .map(|c| proto::PlanCandidate {
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
        countries: p
            .countries
            .iter()
            .map(|c| proto::PlanCountry {
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

pub fn trade_request(
    r: &proto::TradeRequest,
    time_limit: Option<f64>,
) -> Result<gridtrade_studies::study::TradeRequest, Status> {
    use gridtrade_studies::scenario::Scenario;
    use gridtrade_studies::study::{Compare, Labelled, TradeRequest};
    let model = network_model(r.model, NetworkModel::Transport)?;
    // The solve options checks are shared with Solve.
    let mut o = formulation(&proto::SolveRequest {
        dc_convention: r.dc_convention,
        kvl: r.kvl,
        voll: r.voll,
        co2_price: r.co2_price,
        snapshot_start: r.snapshot_start,
        snapshot_end: r.snapshot_end,
        contingencies: r.contingencies.clone(),
        all_contingencies: r.all_contingencies,
        contingency_rating: r.contingency_rating,
        ..Default::default()
    })?;
    o.model = model;
    let scenario = |field: &str, text: &str, fallback: &str| -> Result<Labelled, Status> {
        let scenario = Scenario::parse(text, field).map_err(|e| super::status_of(&e))?;
        Ok(Labelled {
            label: scenario.label(fallback),
            scenario,
            origin: field.to_string(),
        })
    };
    if r.compare_base && !r.compare_toml.is_empty() {
        return Err(Status::invalid_argument(
            "compare_base and compare_toml: ask for one comparison",
        ));
    }
    let period = match (r.period_start, r.period_end) {
        (0, 0) => None,
        (a, b) => Some(a as usize..b as usize),
    };
    Ok(TradeRequest {
        scenario: (!r.scenario_toml.is_empty())
            .then(|| scenario("scenario_toml", &r.scenario_toml, "scenario"))
            .transpose()?,
        compare: if r.compare_base {
            Some(Compare::Base)
        } else if !r.compare_toml.is_empty() {
            Some(Compare::Scenario(scenario(
                "compare_toml",
                &r.compare_toml,
                "compare",
            )?))
        } else {
            None
        },
        autarky: !r.no_autarky,
        period,
        options: o,
        time_limit,
        cold: false,
        highs_options: Vec::new(),
        coupling: match r.coupling.as_str() {
            "" => None,
            c => Some(
                c.parse()
                    .map_err(|e: String| Status::invalid_argument(format!("coupling: {e}")))?,
            ),
        },
        flow_based: gridtrade_studies::coupling::FlowBasedOptions {
            frm: r.frm.unwrap_or(0.1),
            ..Default::default()
        },
    })
}

/// The coupling report of a study, with the flow-based domain named by element.
fn coupling_summary(
    n: &gridtrade_engine::network::Network,
    c: &gridtrade_studies::study::CouplingReport,
) -> proto::CouplingSummary {
    use gridtrade_studies::coupling::cnec_name;
    let rd = c.redispatch.clone().unwrap_or_default();
    proto::CouplingSummary {
        coupling: c.coupling.name().into(),
        total_cost: c.total_cost,
        redispatch_cost: rd.cost,
        redispatch_volume_mwh: rd.volume_mwh,
        hours_overloaded: rd.hours_overloaded as u32,
        redispatch_infeasible_hours: rd.infeasible_hours as u32,
        cnecs: c
            .cnecs
            .iter()
            .map(|k| proto::CnecRent {
                name: k.name.clone(),
                hours_binding: k.hours_binding as u32,
                mean_shadow_price: k.mean_shadow_price,
                congestion_rent: k.congestion_rent,
            })
            .collect(),
        loop_flows: c
            .loop_flows
            .iter()
            .map(|b| proto::LoopFlow {
                zone_a: b.zone_a.clone(),
                zone_b: b.zone_b.clone(),
                physical_mwh: b.physical_mwh,
                scheduled_mwh: b.scheduled_mwh,
                unscheduled_mwh: b.unscheduled_mwh,
                hours_against_schedule: b.hours_against_schedule as u32,
            })
            .collect(),
        domain: c.domain.as_ref().map(|d| proto::FlowBasedDomain {
            zones: d.zones.clone(),
            elements: d
                .cnecs
                .iter()
                .map(|k| proto::CriticalElement {
                    name: cnec_name(n, k),
                    monitored: n.branches[k.monitored].name.clone(),
                    outage: k
                        .outage
                        .map_or(String::new(), |o| n.branches[o].name.clone()),
                    zptdf: k.zptdf.clone(),
                    ram_forward: k.ram_forward.clone(),
                    ram_backward: k.ram_backward.clone(),
                })
                .collect(),
        }),
    }
}

fn capacity_choice(x: &gridtrade_engine::report::ExpansionSummary) -> proto::CapacityChoice {
    proto::CapacityChoice {
        component: x.component.clone(),
        name: x.name.clone(),
        nom: x.nom,
        nom_opt: x.nom_opt,
        nom_min: x.nom_min,
        nom_max: x.nom_max,
        cost_per_mw: x.cost_per_mw,
        investment: x.investment,
    }
}

fn co2_limit(c: &gridtrade_engine::report::Co2LimitSummary) -> proto::Co2Limit {
    proto::Co2Limit {
        name: c.name.clone(),
        sense: c.sense.clone(),
        limit_t: c.limit_t,
        mu: c.mu,
        co2_price: c.co2_price,
    }
}

fn trade_study(
    s: &gridtrade_studies::study::Study,
    n: &gridtrade_engine::network::Network,
) -> proto::TradeStudy {
    let r = &s.report;
    proto::TradeStudy {
        label: s.label.clone(),
        system_cost: r.welfare.system_cost,
        co2_t: r.co2_t,
        co2_limit: r.co2_limit.as_ref().map(co2_limit),
        shed_mwh: r.shed_mwh,
        zones: r
            .zones
            .iter()
            .map(|z| proto::ZoneTradeSummary {
                zone: z.zone.clone(),
                country: z.country.clone(),
                mean_price: z.prices.mean_price,
                load_weighted_price: z.prices.load_weighted_price,
                exports_mwh: z.exports_mwh,
                imports_mwh: z.imports_mwh,
                net_position_mwh: z.net_position_mwh,
            })
            .collect(),
        borders: r
            .borders
            .iter()
            .map(|b| proto::BorderSummary {
                zone_a: b.zone_a.clone(),
                zone_b: b.zone_b.clone(),
                flow_ab_mwh: b.flow_ab_mwh,
                flow_ba_mwh: b.flow_ba_mwh,
                hours_congested_ab: b.hours_congested_ab as u32,
                hours_congested_ba: b.hours_congested_ba as u32,
                congestion_rent: b.congestion_rent,
            })
            .collect(),
        gains_saving: s.gains.as_ref().map(|g| g.saving),
        country_gains: s
            .gains
            .iter()
            .flat_map(|g| &g.countries)
            .map(|c| proto::CountryGainSummary {
                country: c.country.clone(),
                gain: c.gain,
            })
            .collect(),
        contingency_limits: contingency_limits(r.security.as_ref()),
        islanding_outages: r
            .security
            .as_ref()
            .map_or(Vec::new(), |sec| sec.islanding_outages.clone()),
        coupling: s.coupling.as_ref().map(|c| coupling_summary(n, c)),
    }
}

/// A finished trade study as a response; `report_json` is what `gridtrade trade --json`
/// prints.
pub fn trade_response(
    out: &gridtrade_studies::study::TradeOutput,
    version: u64,
    n: &gridtrade_engine::network::Network,
) -> proto::TradeResponse {
    proto::TradeResponse {
        network: out.network.clone(),
        version,
        study: Some(trade_study(&out.study, n)),
        compare: out.compare.as_ref().map(|s| trade_study(s, n)),
        report_json: serde_json::to_string(out).expect("report serialises"),
    }
}
