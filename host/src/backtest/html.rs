//! The backtest's report as one HTML page: the figures, and the equity
//! curve and drawdown drawn as inline SVG from the data — no script, no
//! fonts or libraries fetched, so it opens offline and can be archived
//! with the run.

use std::fmt::Write as _;

use super::Report;

const W: f64 = 900.0;
const H: f64 = 220.0;

/// An SVG polyline of `values` scaled into the chart box.
fn chart(title: &str, values: &[f64], colour: &str, percent: bool) -> String {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (lo.min(0.0), lo.max(0.0) + 1.0)
    };
    let n = values.len().max(2) - 1;
    let mut points = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = 50.0 + (W - 60.0) * i as f64 / n as f64;
        let y = 10.0 + (H - 30.0) * (1.0 - (v - lo) / (hi - lo));
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    let label = |v: f64| {
        if percent {
            format!("{:.2}%", v * 100.0)
        } else {
            format!("{v:.2}")
        }
    };
    format!(
        r##"<h2>{title}</h2>
<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{title}">
<rect x="50" y="10" width="{bw}" height="{bh}" fill="none" stroke="#ccc"/>
<text x="45" y="20" text-anchor="end" font-size="11">{hi}</text>
<text x="45" y="{by}" text-anchor="end" font-size="11">{lo}</text>
<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>
</svg>"##,
        bw = W - 60.0,
        bh = H - 30.0,
        by = H - 20.0,
        hi = label(hi),
        lo = label(lo),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page for `report` of `config` on `data`.
pub fn page(report: &Report, config: &str, data: &str) -> String {
    let equity: Vec<f64> = report.equity_curve.iter().map(|p| p.1).collect();
    let drawdown: Vec<f64> = report.equity_curve.iter().map(|p| -p.2).collect();
    let rows = [
        ("events", report.events.to_string()),
        ("orders", report.orders.to_string()),
        ("rejects", report.rejects.to_string()),
        ("fills", report.fills.to_string()),
        ("trades (round trips)", report.trades.to_string()),
        ("win rate", format!("{:.1}%", report.win_rate * 100.0)),
        ("start equity", format!("{:.2}", report.start_equity)),
        ("end equity", format!("{:.2}", report.end_equity)),
        ("PnL", format!("{:+.2}", report.pnl)),
        ("fees", format!("{:.2}", report.fees)),
        (
            "total return",
            format!("{:+.3}%", report.total_return * 100.0),
        ),
        ("Sharpe (annualised)", format!("{:.3}", report.sharpe)),
        ("Sortino (annualised)", format!("{:.3}", report.sortino)),
        (
            "max drawdown",
            format!("{:.3}%", report.max_drawdown * 100.0),
        ),
        (
            "exposure",
            format!("{:.1}% of bars", report.exposure * 100.0),
        ),
        (
            "turnover",
            format!("{:.2}× starting equity", report.turnover),
        ),
        ("agent faults", report.agent_faults.to_string()),
    ];
    let mut table = String::new();
    for (k, v) in rows {
        let _ = write!(table, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Floor backtest</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:960px}}th{{text-align:left;padding-right:2em;font-weight:normal;color:#555}}td{{font-variant-numeric:tabular-nums}}</style>
</head><body>
<h1>Backtest</h1>
<p>config <code>{config}</code> · data <code>{data}</code> · bars of {bar}s</p>
<table>{table}</table>
{eq}
{dd}
</body></html>
"#,
        config = escape(config),
        data = escape(data),
        bar = report.bar_ns as f64 / 1e9,
        eq = chart("Equity", &equity, "#1f6feb", false),
        dd = chart("Drawdown", &drawdown, "#d1242f", true),
    )
}
