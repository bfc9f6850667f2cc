//! Criterion benchmarks of the hot paths, on the same harness as
//! `floor bench` (`floor_host::bench`). Build the agents first:
//! `cargo xtask bench` does both.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use floor_host::bench::{AgentProbe, OrderFlow, Pipeline, RiskStage, TickToOrder};

fn agents_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/agents"))
}

fn agent(c: &mut Criterion) {
    let mut probe =
        AgentProbe::new(&agents_dir()).expect("build the agents with `cargo xtask build`");
    c.bench_function("agent_call (one tick, fuel + deadline)", |b| {
        b.iter(|| probe.call())
    });
    c.bench_function("instantiate (pooling allocator)", |b| {
        b.iter(|| probe.instantiate())
    });
    c.bench_function("component_load (compiled, from disk)", |b| {
        b.iter(|| probe.load())
    });
}

fn tick_to_order(c: &mut Criterion) {
    // Every tick turns the strategy around, so every tick sends an order.
    for (pipeline, name) in [
        (
            Pipeline::Reference,
            "tick_to_order (momentum → judge → sentinel + sizer → limits → venue)",
        ),
        (
            Pipeline::OneRisk,
            "tick_to_order_one_risk (strategy → risk → limits → venue)",
        ),
    ] {
        let mut t = TickToOrder::new(&agents_dir(), pipeline)
            .expect("build the agents with `cargo xtask build`");
        c.bench_function(name, |b| b.iter(|| std::hint::black_box(t.tick())));
    }
}

fn risk_stage(c: &mut Criterion) {
    let mut r = RiskStage::new(&agents_dir()).expect("build the agents with `cargo xtask build`");
    c.bench_function("risk_stage (intent → verdict, one risk agent)", |b| {
        b.iter(|| r.check())
    });
}

fn matching(c: &mut Criterion) {
    let mut flow = OrderFlow::new();
    c.bench_function(
        "sim_order (matching engine: limit, market, cancel mix)",
        |b| b.iter(|| std::hint::black_box(flow.step())),
    );
}

fn decode(c: &mut Criterion) {
    use floor_host::venue::binance::decode::{SAMPLES, decode};
    c.bench_function("md_decode (Binance trade message → host types)", |b| {
        b.iter(|| std::hint::black_box(decode(std::hint::black_box(SAMPLES[0]))))
    });
    c.bench_function("md_decode (Binance depth diff → host types)", |b| {
        b.iter(|| std::hint::black_box(decode(std::hint::black_box(SAMPLES[1]))))
    });
}

criterion_group!(benches, agent, tick_to_order, risk_stage, matching, decode);
criterion_main!(benches);
