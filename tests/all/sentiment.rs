//! The sentiment model agent in a node: headlines in, signals out for the
//! symbols they name, and a judge that trades on them.

use floor_host::config::NodeConfig;
use floor_host::model::{MarketEvent, News, OrderStatus, Payload, Quote, Side};
use floor_host::node::Node;

const MS: u64 = 1_000_000;

use floor_tests::sentiment_agent;

fn node(agents: &str) -> (Node, tempfile::TempDir) {
    floor_tests::trading_node(agents, 1_000_000.0)
}

fn headline(node: &mut Node, text: &str, symbols: &[&str], at: u64) {
    node.headline_at(
        News {
            headline: text.into(),
            source: "wire".into(),
            symbols: symbols.iter().map(|s| (*s).to_string()).collect(),
        },
        at,
    )
    .unwrap();
}

/// (topic, score, confidence) of every sentiment signal so far.
fn signals(node: &Node) -> Vec<(String, f64, f64)> {
    node.tapped()
        .iter()
        .filter(|e| e.topic.starts_with("signal.sentiment."))
        .filter_map(|e| match &e.payload {
            Payload::Signal(s) => Some((e.topic.to_string(), s.score, s.confidence)),
            _ => None,
        })
        .collect()
}

#[test]
fn headlines_become_signals_for_the_symbols_they_name() {
    let (mut node, _d) = node(&sentiment_agent(
        r#"symbols = "$BTC=BTCUSDT,bitcoin=BTCUSDT", cashtags = false"#,
    ));
    headline(
        &mut node,
        "$BTC plunges as exchange halts withdrawals, traders fear contagion",
        &[],
        MS,
    );
    headline(
        &mut node,
        "Bitcoin soars to a record high as ETF inflows surge",
        &[],
        2 * MS,
    );
    // Names nothing the agent knows: no signal. An unmapped cashtag is
    // ignored with `cashtags = false`.
    headline(
        &mut node,
        "Weather is mild across the region; $AAPL flat",
        &[],
        3 * MS,
    );
    // The feed's own tag is a symbol too.
    headline(
        &mut node,
        "Ether slides after the network upgrade is delayed again",
        &["ETHUSDT"],
        4 * MS,
    );
    let s = signals(&node);
    assert_eq!(
        s.iter().map(|(t, ..)| t.as_str()).collect::<Vec<_>>(),
        [
            "signal.sentiment.BTCUSDT",
            "signal.sentiment.BTCUSDT",
            "signal.sentiment.ETHUSDT"
        ],
        "{s:?}"
    );
    let (bear, bull, eth) = (&s[0], &s[1], &s[2]);
    assert!(
        bear.1 < -5.0 && bear.2 > 0.6,
        "a crash reads bearish: {bear:?}"
    );
    assert!(
        bull.1 > 5.0 && bull.2 > 0.6,
        "a record high reads bullish: {bull:?}"
    );
    assert!(
        eth.1 < 0.0,
        "a delay that sinks a price reads bearish: {eth:?}"
    );
    for (_, score, confidence) in &s {
        assert!((-10.0..=10.0).contains(score) && (0.0..=1.0).contains(confidence));
    }
}

#[test]
fn the_judge_trades_on_what_the_model_reads_in_the_news() {
    let judge = format!(
        r#"
[[agents]]
name = "judge"
path = "{}"
role = "strategy"
subscribe = ["signal.sentiment.*", "md.tick.BTCUSDT"]
publish = ["signal.ensemble.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", quantity = 0.1, enter = 3, exit = 1, min_voters = 1, allow_short = true }}
"#,
        floor_tests::agent("ensemble-judge").display()
    );
    let (mut node, _d) = node(&format!(
        "{}{judge}",
        sentiment_agent(r#"symbols = "$BTC=BTCUSDT,bitcoin=BTCUSDT""#)
    ));
    let quote = |node: &mut Node, at: u64| {
        node.inject(
            MarketEvent::Quote(Quote {
                symbol: "BTCUSDT".into(),
                bid: 19_999.5,
                bid_size: 5.0,
                ask: 20_000.5,
                ask_size: 5.0,
            }),
            at,
        );
    };
    for i in 1..=5 {
        quote(&mut node, i * MS);
    }
    assert!(
        floor_tests::order_events(&node).is_empty(),
        "no news, no view, no trade"
    );
    headline(
        &mut node,
        "Bitcoin soars to a record high as ETF inflows surge",
        &[],
        10 * MS,
    );
    quote(&mut node, 11 * MS);
    assert_eq!(
        floor_tests::order_events(&node),
        [
            (Side::Buy, OrderStatus::Accepted),
            (Side::Buy, OrderStatus::Filled)
        ]
    );
    assert!((node.oms().portfolio.position("BTCUSDT").quantity - 0.1).abs() < 1e-12);
    // The news turns: the model's bearish reading replaces its last one,
    // and the judge goes from long to short.
    headline(
        &mut node,
        "$BTC plunges as exchange halts withdrawals, traders fear contagion",
        &[],
        20 * MS,
    );
    quote(&mut node, 21 * MS);
    assert_eq!(
        floor_tests::order_events(&node)[2..],
        [
            (Side::Sell, OrderStatus::Accepted),
            (Side::Sell, OrderStatus::Filled)
        ]
    );
    assert!((node.oms().portfolio.position("BTCUSDT").quantity + 0.1).abs() < 1e-12);
}

#[test]
fn a_bad_mapping_is_refused_at_start_with_the_form_expected() {
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        "{}{}",
        floor_tests::node_header(data.path(), 20_000.0),
        sentiment_agent(r#"symbols = "BTCUSDT""#)
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let e = Node::new(&cfg, Box::new(floor_tests::test_venue(&cfg)))
        .err()
        .expect("the agent refuses its config");
    let said = format!("{e:#}");
    assert!(
        said.contains("bad_config") && said.contains("KEY=SYMBOL"),
        "{said}"
    );
}
