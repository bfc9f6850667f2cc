//! Runs of market events (`market.on-market-run`): offline, a quiet
//! stretch of ticks goes to an agent in one call. Whatever happens inside
//! the stretch — outputs, a timer, an order, a fault — the agent, the
//! account and everyone else must see exactly what one call per event
//! gives.

use floor_host::model::{MarketEvent, Nanos, Payload, Quote, Side, Trade};
use floor_host::node::{Delivery, Node};
use floor_tests::{gate_agent, hostile_agent, node_with};

/// 400 BTCUSDT events 1 ms apart from 1 s: quotes on a slow wave, and a
/// trade every ninth.
fn market() -> Vec<(Nanos, MarketEvent)> {
    (0..400u64)
        .map(|i| {
            let t = 1_000_000_000 + i * 1_000_000;
            let mid = 100.0 + (i as f64 / 17.0).sin();
            let event = if i % 9 == 8 {
                MarketEvent::Trade(Trade {
                    symbol: "BTCUSDT".into(),
                    price: mid,
                    size: 0.25,
                    aggressor: if i % 2 == 0 { Side::Buy } else { Side::Sell },
                    trade_id: i,
                })
            } else {
                MarketEvent::Quote(Quote {
                    symbol: "BTCUSDT".into(),
                    bid: mid - 0.01,
                    bid_size: 3.0,
                    ask: mid + 0.01,
                    ask_size: 4.0,
                })
            };
            (t, event)
        })
        .collect()
}

/// A node whose `runner` (config `config`) takes every market event, with
/// the risk agent its orders pass; runs on or off.
fn runner(config: &str, runs: bool) -> (Node, tempfile::TempDir) {
    let agent = hostile_agent(
        "runner",
        &format!(r#"mode = "runner", {config}"#),
        r#""md.#""#,
        r#""fixture.ok.#""#,
        "order_symbols = [\"BTCUSDT\"]",
    );
    // Offline (no journal), as a backtest is; checkpoints fall inside
    // would-be runs: a run ends at one.
    let supervisor = "[journal]\nenabled = false\n[supervisor]\ncheckpoint_every = 37\n";
    let (mut node, dir) = node_with(&format!("{supervisor}{agent}{}", gate_agent()));
    node.set_delivery(if runs {
        Delivery::Runs
    } else {
        Delivery::OneAtATime
    });
    (node, dir)
}

/// Everything the runner published, by topic, and what the node says of
/// it and of the account.
fn outcome(node: &Node) -> Vec<String> {
    // In the order published: a timer or a fill handled one event late
    // would show.
    let mut all: Vec<String> = node
        .tapped()
        .iter()
        .map(|e| match &e.payload {
            Payload::Custom(b) => format!("{}: {}", e.topic, String::from_utf8_lossy(b)),
            other => format!("{}: {other:?}", e.topic),
        })
        .collect();
    let s = node.summary(0.0);
    let a = s.agents.iter().find(|a| a.name == "runner").unwrap();
    all.push(format!(
        "handled {} faults {} starts {} market {} | orders {} fills {} | position {:?}",
        a.handled,
        a.faults,
        a.starts,
        a.market_calls,
        s.orders,
        s.fills,
        node.oms().portfolio.position("BTCUSDT").quantity
    ));
    // The bus's counters: a run's events are counted as if queued and
    // delivered one by one.
    for t in &s.topics {
        all.push(format!(
            "bus {}: published {} delivered {} handled {} dead-lettered {}",
            t.topic, t.published, t.delivered, t.latency.count, t.dead_lettered
        ));
    }
    all
}

/// Feed `events` one call per event, or in runs; the outcome and the
/// events that went in runs.
fn feed(config: &str, runs: bool) -> (Vec<String>, u64, u64) {
    let (mut node, _dir) = runner(config, runs);
    let events = market();
    let mut i = 0;
    while i < events.len() {
        i += node.inject_run(&events[i..], &mut |_, _: &mut Node| {});
    }
    let s = node.summary(0.0);
    let a = s.agents.iter().find(|a| a.name == "runner").unwrap();
    (outcome(&node), a.market_in_runs, a.market_runs)
}

#[test]
fn a_run_gives_the_agent_and_the_account_what_one_call_per_event_gives() {
    // Outputs every 7th event, a timer that falls due five events after
    // it is set, an order and its fill mid-stream, then a panic.
    let config =
        r#"every = "7", timer_at = "100", timer_ns = "3000000", buy_at = "150", panic_at = "260""#;
    let (one, in_runs_one, _) = feed(config, false);
    let (runs, in_runs, calls) = feed(config, true);
    assert_eq!(in_runs_one, 0, "runs off: one call per event");
    assert!(
        in_runs > 200 && calls * 3 < in_runs,
        "most events went in runs: {in_runs} in {calls} calls"
    );
    assert_eq!(runs, one, "a run changes nothing anyone sees");
    // The script did run: outputs, the timer at its time, the fill, the
    // fault and the instance after it.
    let text = one.join("\n");
    assert!(
        text.contains("fixture.ok.timer: soon at 1102000000 after 103"),
        "{text}"
    );
    assert!(text.contains("Filled 0.5"), "{text}");
    assert!(text.contains("faults 1 starts 2"), "{text}");
    assert!(text.contains("position 0.5"), "{text}");
    // After the fill, ticks carry the position (`host::position`).
    assert!(
        one.iter().any(|l| l.contains("pos=0.5 ")),
        "the position travels with later events: {text}"
    );
    // A timer set due at once fires after the next input, in a run too.
    let now = r#"every = "7", timer_at = "40", timer_ns = "0""#;
    let (one, _, _) = feed(now, false);
    let (runs, in_runs, _) = feed(now, true);
    assert!(in_runs > 300, "{in_runs}");
    assert_eq!(runs, one);
    assert!(
        one.iter()
            .any(|l| l.contains("soon at 1040000000 after 41")),
        "{one:?}"
    );
}

#[test]
fn quote_of_and_the_clock_in_a_run_are_those_of_the_event_being_handled() {
    let (runs, in_runs, _) = feed(r#"every = "5""#, true);
    assert!(in_runs > 300, "{in_runs}");
    let events = market();
    for line in runs.iter().filter(|l| l.starts_with("fixture.ok.run")) {
        let field = |k: &str| {
            line.split(' ')
                .find_map(|w| w.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_string()
        };
        let n: usize = field("n").parse().unwrap();
        let (t, _) = &events[n - 1];
        assert_eq!(field("t"), t.to_string(), "{line}");
        assert_eq!(field("now"), t.to_string(), "the clock: {line}");
        // The newest quote up to this event (a trade moves no quote).
        let bid = events[..n]
            .iter()
            .rev()
            .find_map(|(_, e)| match e {
                MarketEvent::Quote(q) => Some(q.bid),
                MarketEvent::Trade(_) => None,
            })
            .unwrap();
        assert_eq!(field("bid"), bid.to_string(), "quote-of: {line}");
    }
}

#[test]
fn an_agent_that_skips_through_a_run_takes_the_events_it_skipped_and_nothing_breaks() {
    // `skipper` calls `run.next` itself until it says no, on its first
    // event: the host counts the run's events as taken (the agent's own
    // loss), does its part of each, and its output is the last one's.
    let agent = hostile_agent(
        "skipper",
        r#"mode = "skipper""#,
        r#""md.#", "fixture.in.#""#,
        r#""fixture.ok.#""#,
        "",
    );
    let offline = "[journal]\nenabled = false\n";
    let (mut node, _dir) = node_with(&format!("{offline}{agent}"));
    node.set_delivery(Delivery::Runs);
    let events = market();
    let mut i = 0;
    while i < events.len() {
        i += node.inject_run(&events[i..], &mut |_, _: &mut Node| {});
    }
    let said: Vec<(String, u64)> = node
        .tapped()
        .iter()
        .filter(|e| e.topic == "fixture.ok.skip")
        .map(|e| match &e.payload {
            Payload::Custom(b) => (String::from_utf8_lossy(b).into_owned(), e.trace_id),
            other => panic!("{other:?}"),
        })
        .collect();
    let skipped: u64 = said
        .iter()
        .map(|(t, _)| t.rsplit('=').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        said.len() as u64 + skipped,
        400,
        "every event taken once: {said:?}"
    );
    assert!(skipped > 300, "runs were skipped through: {said:?}");
    // Its output is caused by the last event it took: the trace is that
    // event's (a market event's trace is its id), not the first one's.
    let (first, trace) = &said[0];
    let id: u64 = first
        .split(' ')
        .next()
        .and_then(|w| w.strip_prefix("id="))
        .unwrap()
        .parse()
        .unwrap();
    let n: u64 = first.rsplit('=').next().unwrap().parse().unwrap();
    assert!(n > 0, "{first}");
    assert!(*trace > id, "{first}: trace {trace}");
    let s = node.summary(0.0);
    let a = s.agents.iter().find(|a| a.name == "skipper").unwrap();
    assert_eq!((a.market_calls, a.faults), (400, 0));
    // Outside a run, `run.next` says no.
    node.publish("fixture.in.hello", Payload::Custom(b"hi".to_vec()));
    let last = node.tapped().last().unwrap();
    assert_eq!(last.payload, Payload::Custom(b"outside=false".to_vec()));
}
