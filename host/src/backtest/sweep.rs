//! Parameter sweeps: one backtest per point of a grid of agent settings,
//! run in parallel across cores.
//!
//! An axis is one agent setting and its values (`trend.fast=5,10,20`); the
//! grid is every combination, in the order the axes and values were given.
//! Each point is a backtest of its own — its own node, engine and
//! simulator, nothing shared but the read-only data — so its report is the
//! same whichever thread runs it and however many there are.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use serde::Serialize;

use crate::config::NodeConfig;
use crate::model::{MarketEvent, Nanos};

use super::Report;

/// One agent setting and the values to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The agent.
    pub agent: String,
    /// The config key.
    pub key: String,
    /// Its values, in order.
    pub values: Vec<String>,
}

impl Axis {
    /// `AGENT.KEY=V1,V2,…`.
    ///
    /// # Errors
    /// A malformed axis, saying the form.
    pub fn parse(text: &str) -> Result<Axis, String> {
        let form = "use AGENT.KEY=V1,V2,… (e.g. trend.fast=5,10,20)";
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: no `=`; {form}"))?;
        let (agent, key) = name
            .split_once('.')
            .ok_or_else(|| format!("`{name}`: no agent before the key; {form}"))?;
        let values: Vec<String> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if agent.is_empty() || key.is_empty() || values.is_empty() {
            return Err(format!("`{text}`: {form}"));
        }
        Ok(Axis {
            agent: agent.to_string(),
            key: key.to_string(),
            values,
        })
    }

    /// `AGENT.KEY`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.agent, self.key)
    }
}

/// One point of the grid and its backtest.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// `AGENT.KEY` → value.
    pub params: BTreeMap<String, String>,
    /// What the backtest found.
    pub report: Report,
}

/// Every combination of the axes' values, in order (the last axis
/// varies fastest).
pub fn grid(axes: &[Axis]) -> Vec<Vec<(usize, String)>> {
    let mut points: Vec<Vec<(usize, String)>> = vec![Vec::new()];
    for (i, axis) in axes.iter().enumerate() {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((i, v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// `cfg` with `point`'s settings.
///
/// # Errors
/// An axis naming an agent the config does not run.
pub fn apply(
    cfg: &NodeConfig,
    axes: &[Axis],
    point: &[(usize, String)],
) -> anyhow::Result<NodeConfig> {
    let mut cfg = cfg.clone();
    for (i, value) in point {
        let axis = &axes[*i];
        let names: Vec<&str> = cfg.agents.iter().map(|a| a.name.as_str()).collect();
        let all = names.join(", ");
        let agent = cfg
            .agents
            .iter_mut()
            .find(|a| a.name == axis.agent)
            .with_context(|| {
                format!(
                    "--sweep {}: the config runs no agent `{}` (it runs: {all})",
                    axis.name(),
                    axis.agent
                )
            })?;
        match agent.config.iter_mut().find(|(k, _)| *k == axis.key) {
            Some((_, v)) => v.clone_from(value),
            None => agent.config.push((axis.key.clone(), value.clone())),
        }
    }
    Ok(cfg)
}

/// Backtest every point of the grid on `threads` threads; the points come
/// back in grid order.
///
/// # Errors
/// The first point whose node cannot be built (a value an agent refuses,
/// say), naming the point.
pub fn run(
    cfg: &NodeConfig,
    axes: &[Axis],
    events: &[(Nanos, MarketEvent)],
    bar_ns: u64,
    threads: usize,
) -> anyhow::Result<Vec<Point>> {
    let points = grid(axes);
    // Check every point before spending time on any.
    let configs = points
        .iter()
        .map(|p| apply(cfg, axes, p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<Report>>>> =
        Mutex::new((0..points.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, points.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(cfg) = configs.get(i) else { break };
                    let report = tempfile::Builder::new()
                        .prefix("floor-sweep-")
                        .tempdir()
                        .context("cannot make a temporary directory for a sweep point")
                        .and_then(|work| super::run(cfg, events, bar_ns, work.path()));
                    results.lock().expect("sweep results lock poisoned")[i] = Some(report);
                }
            });
        }
    });
    let results = results.into_inner().expect("sweep results lock poisoned");
    points
        .into_iter()
        .zip(results)
        .map(|(point, report)| {
            let params: BTreeMap<String, String> = point
                .iter()
                .map(|(i, v)| (axes[*i].name(), v.clone()))
                .collect();
            let report = report
                .expect("every point was run")
                .with_context(|| format!("sweep point {params:?}"))?;
            Ok(Point { params, report })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_and_the_grid_is_every_combination_in_order() {
        let a = Axis::parse("trend.fast=5, 10").unwrap();
        assert_eq!(
            a,
            Axis {
                agent: "trend".into(),
                key: "fast".into(),
                values: vec!["5".into(), "10".into()]
            }
        );
        let b = Axis::parse("trend.slow=20,30,40").unwrap();
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![(0, "5".into()), (1, "20".into())]);
        assert_eq!(g[1], vec![(0, "5".into()), (1, "30".into())]);
        assert_eq!(g[5], vec![(0, "10".into()), (1, "40".into())]);
        for bad in [
            "trend.fast",
            "fast=1,2",
            "trend.fast=",
            ".fast=1",
            "trend.=1",
        ] {
            let e = Axis::parse(bad).unwrap_err();
            assert!(e.contains("AGENT.KEY=V1,V2"), "{bad}: {e}");
        }
    }
}
