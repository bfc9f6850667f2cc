//! Market data, order events and order intents as numbers
//! (`wit/market.wit`): an agent built with `floor-sdk` takes quotes and
//! trades through `on-market`, order events through `on-order-event` and
//! intents through `on-intent`, and the envelope it rebuilds from the
//! numbers is, field for field, the one `on-message` would have given it.

use floor_host::model::{Envelope, MarketEvent, OrderStatus, Payload, Quote, Side, Trade};
use floor_host::node::Node;
use floor_tests::{hostile_agent, market_buy, node_with, published};

/// A market envelope as the `echo` fixture writes it.
fn envelope_text(e: &Envelope) -> String {
    let payload = match &e.payload {
        Payload::Quote(q) => format!(
            "quote {} {} {} {} {}",
            q.symbol, q.bid, q.bid_size, q.ask, q.ask_size
        ),
        Payload::Trade(t) => format!(
            "trade {} {} {} {} {}",
            t.symbol,
            t.price,
            t.size,
            match t.aggressor {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
            t.trade_id
        ),
        Payload::OrderEvent(e) => format!(
            "order {} {} {} {} {} {} {} {} {} {} {}",
            e.order_id,
            e.agent,
            e.tag,
            e.symbol,
            match e.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
            match &e.status {
                OrderStatus::Accepted => "accepted".to_string(),
                OrderStatus::PartiallyFilled => "partially-filled".to_string(),
                OrderStatus::Filled => "filled".to_string(),
                OrderStatus::Cancelled => "cancelled".to_string(),
                OrderStatus::Rejected { reason } => format!("rejected({reason})"),
                OrderStatus::Expired => "expired".to_string(),
            },
            e.last_quantity,
            e.last_price,
            e.cumulative_quantity,
            e.leaves_quantity,
            e.fee
        ),
        Payload::Signal(s) => format!(
            "signal {} {} {} {}",
            s.symbol, s.score, s.confidence, s.horizon_ns
        ),
        _ => "other".to_string(),
    };
    format!(
        "{} {} {} {} {} {} {:?} {} {payload}",
        e.id, e.topic, e.source, e.sequence, e.event_time, e.trace_id, e.correlation_id, e.attempt
    )
}

/// What the echo agent wrote for market data (it also gets its own
/// order's events).
fn market_echoes(node: &Node) -> Vec<String> {
    published(node, "fixture.ok.echo")
        .into_iter()
        .filter(|t| {
            t.split(' ')
                .nth(1)
                .is_some_and(|topic| topic.starts_with("md."))
        })
        .collect()
}

/// The echo fixture as a strategy on BTCUSDT's market data, writing
/// every envelope it gets on `fixture.ok.echo`.
fn echo_agent() -> String {
    hostile_agent(
        "echo",
        r#"mode = "echo""#,
        r#""md.#""#,
        r#""fixture.ok.#""#,
        r#"order_symbols = ["BTCUSDT"]"#,
    )
}

fn echo_node() -> (Node, tempfile::TempDir) {
    let echo = echo_agent();
    let (mut node, dir) = node_with(&format!("{echo}{}", floor_tests::gate_agent()));
    node.tap(floor_host::model::TopicPattern::parse("md.#").unwrap());
    (node, dir)
}

/// [`echo_node`] after 20 ticks, holding a position in BTCUSDT (bought
/// after the tenth), which each later tick carries to the agent.
fn echo_node_holding() -> (Node, tempfile::TempDir) {
    let (mut node, dir) = echo_node();
    for _ in 0..10 {
        node.step();
    }
    node.submit("echo", market_buy(0.5)).unwrap();
    for _ in 0..10 {
        node.step();
    }
    (node, dir)
}

#[test]
fn quotes_and_trades_arrive_as_numbers_and_the_agent_sees_the_same_envelopes() {
    let (mut node, _dir) = echo_node_holding();
    // Trades, and a symbol of its own (another stream), from outside the
    // venue's feed.
    for (i, symbol) in [(1u64, "BTCUSDT"), (2, "ETHUSDT"), (3, "BTCUSDT")] {
        node.inject(
            MarketEvent::Trade(Trade {
                symbol: symbol.into(),
                price: 100.0 + i as f64,
                size: 0.25 * i as f64,
                aggressor: if i % 2 == 0 { Side::Sell } else { Side::Buy },
                trade_id: 40 + i,
            }),
            1_000_000_000 + i,
        );
        node.inject(
            MarketEvent::Quote(Quote {
                symbol: symbol.into(),
                bid: 99.5,
                bid_size: 1.5,
                ask: 100.5,
                ask_size: 2.5,
            }),
            1_000_000_000 + i,
        );
    }
    let sent: Vec<String> = node
        .tapped()
        .iter()
        .filter(|e| e.topic.starts_with("md."))
        .map(|e| envelope_text(e))
        .collect();
    assert!(sent.len() >= 26, "{} market messages", sent.len());
    assert!(sent.iter().any(|t| t.contains(" trade ETHUSDT ")));
    let echoed = market_echoes(&node);
    let envelopes: Vec<&str> = echoed
        .iter()
        .map(|t| t.split(" | ").next().unwrap())
        .collect();
    assert_eq!(envelopes, sent);
    let agent = &node.summary(0.0).agents[0];
    assert_eq!(
        agent.market_calls,
        sent.len() as u64,
        "every one went through `on-market`"
    );
}

#[test]
fn the_position_sent_with_a_tick_is_what_position_of_answers() {
    let (node, _dir) = echo_node_holding();
    let held = node.oms().portfolio.position("BTCUSDT");
    assert!(held.quantity > 0.0, "the order filled: {held:?}");
    let echoed = market_echoes(&node);
    let last = echoed.last().unwrap();
    let parts: Vec<&str> = last.split(" | ").collect();
    assert_eq!(parts.len(), 5, "{last}");
    // The SDK's answer (from the event) is the host's (a call), and the
    // account's.
    assert_eq!(parts[3], parts[4], "{last}");
    assert_eq!(
        parts[3],
        format!(
            "BTCUSDT {} {} {}",
            held.quantity, held.average_price, held.realized_pnl
        )
    );
    for t in &echoed {
        let p: Vec<&str> = t.split(" | ").collect();
        assert_eq!((p[1], p[3]), (p[2], p[4]), "quote and position: {t}");
    }
}

#[test]
fn after_a_risk_check_a_tick_sees_the_hosts_quote_not_the_one_the_intent_carried() {
    // The echo fixture as a risk agent that also hears the market: the
    // quote that came with an intent answers `host::quote` only during
    // that call; every tick after it sees the host's quote of its time.
    let checker = hostile_agent(
        "checker",
        r#"mode = "echo""#,
        r#""md.#""#,
        r#""fixture.ok.#""#,
        "",
    )
    .replace(r#"role = "model""#, r#"role = "risk""#);
    let (mut node, _dir) = node_with(&format!("{}{checker}", echo_agent()));
    for _ in 0..10 {
        node.step();
    }
    node.submit("echo", market_buy(0.5)).unwrap();
    for _ in 0..10 {
        node.step();
    }
    // What the checker wrote (the strategy echoes too).
    let texts: Vec<String> = node
        .tapped()
        .iter()
        .filter(|e| e.topic.as_str() == "fixture.ok.echo" && e.source.as_str() == "checker")
        .filter_map(|e| match &e.payload {
            Payload::Custom(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect();
    let request = texts
        .iter()
        .position(|t| t.split(' ').nth(1) == Some("risk.check.request"))
        .expect("the checker was asked");
    let after: Vec<&String> = texts[request + 1..]
        .iter()
        .filter(|t| t.split(' ').nth(1).is_some_and(|x| x.starts_with("md.")))
        .collect();
    assert!(after.len() >= 5, "ticks after the check: {texts:#?}");
    let carried = texts[request].split(" | ").nth(1).unwrap();
    let mut moved = false;
    for t in after {
        let p: Vec<&str> = t.split(" | ").collect();
        assert_eq!(p.len(), 5, "{t}");
        assert_eq!(p[1], p[2], "the SDK's quote is the host's: {t}");
        moved |= p[1] != carried;
    }
    assert!(
        moved,
        "the market moved after the check, so a stale quote would show"
    );
}

#[test]
fn market_data_that_is_a_request_goes_through_on_message() {
    let (mut node, _dir) = echo_node();
    node.step();
    // A quote with a correlation id (a request: market data never is one
    // from a venue) cannot travel as numbers.
    let mut env = node.tapped()[0].as_ref().clone();
    env.id = 9_000;
    env.correlation_id = Some(77);
    node.publish_envelope(env.clone());
    let echoed = market_echoes(&node);
    let last = echoed.last().unwrap();
    assert_eq!(last.split(" | ").next(), Some(envelope_text(&env).as_str()));
    assert_eq!(
        node.summary(0.0).agents[0].market_calls,
        1,
        "only the first"
    );
}

#[test]
fn order_events_arrive_as_numbers_and_the_agent_sees_the_same_envelopes() {
    let (mut node, _dir) = echo_node();
    node.tap(floor_host::model::TopicPattern::parse("order.#").unwrap());
    for _ in 0..5 {
        node.step();
    }
    // Filled at once (accepted, then filled), a second one (a new order
    // number), and one the host's limits refuse (its reason is the one
    // string left in the call).
    node.submit("echo", market_buy(0.5)).unwrap();
    node.submit("echo", market_buy(0.25)).unwrap();
    node.submit("echo", market_buy(1e9)).unwrap();
    for _ in 0..5 {
        node.step();
    }
    let sent: Vec<String> = node
        .tapped()
        .iter()
        .filter(|e| matches!(e.payload, Payload::OrderEvent(_)))
        .map(|e| envelope_text(e))
        .collect();
    assert_eq!(sent.len(), 5, "{sent:#?}");
    assert!(sent.iter().any(|t| t.contains(" rejected(")), "{sent:#?}");
    assert!(
        sent.iter().any(|t| t.contains(" echo-2 echo ")),
        "{sent:#?}"
    );
    let echoed: Vec<String> = published(&node, "fixture.ok.echo")
        .into_iter()
        .filter(|t| {
            t.split(' ')
                .nth(1)
                .is_some_and(|topic| topic.starts_with("order."))
        })
        .collect();
    assert_eq!(echoed, sent);
    let agent = &node.summary(0.0).agents[0];
    assert_eq!((agent.order_calls, agent.faults), (5, 0));
}

#[test]
fn order_intents_arrive_as_numbers_with_the_quote_and_position_the_host_would_answer() {
    use floor_host::model::{OrderType, TimeInForce};
    // The echo fixture as the risk agent: it writes each request as it
    // sees it, with the quote and position the SDK answers (sent along
    // with the intent) and those the host's imports answer, and approves.
    let checker = format!(
        r#"
[[agents]]
name = "checker"
path = "{}"
role = "risk"
publish = ["fixture.ok.#"]
config = {{ mode = "echo" }}
"#,
        floor_tests::fixture("hostile").display()
    );
    let (mut node, _dir) = node_with(&format!("{}{checker}", echo_agent()));
    for _ in 0..10 {
        node.step();
    }
    node.submit("echo", market_buy(0.5)).unwrap();
    for _ in 0..3 {
        node.step();
    }
    let mut resting = market_buy(0.25);
    resting.order_type = OrderType::Limit;
    resting.limit_price = Some(50.0);
    resting.time_in_force = TimeInForce::Gtc;
    resting.tag = "second".into();
    resting.stop_price = Some(45.5);
    node.submit("echo", resting).unwrap();
    node.step();
    let requests: Vec<String> = published(&node, "fixture.ok.echo")
        .into_iter()
        .filter(|t| t.split(' ').nth(1) == Some("risk.check.request"))
        .collect();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let expected = [
        ("intent BTCUSDT buy market 0.5 None ioc t None", 0.0),
        (
            "intent BTCUSDT buy limit 0.25 Some(50.0) gtc second Some(45.5)",
            0.5,
        ),
    ];
    for (text, (intent, held)) in requests.iter().zip(expected) {
        let parts: Vec<&str> = text.split(" | ").collect();
        assert_eq!(parts.len(), 5, "{text}");
        // id topic source sequence time trace correlation attempt payload
        let head: Vec<&str> = parts[0].splitn(9, ' ').collect();
        assert_eq!(head[2], "host", "{text}");
        assert_eq!(head[6], format!("Some({})", head[0]), "a request's own id");
        assert_eq!(head[8], intent, "{text}");
        // The carried quote is the host's, and there is one.
        assert_eq!(parts[1], parts[2], "{text}");
        assert!(parts[1].starts_with("BTCUSDT "), "{text}");
        // So is the carried position: flat, then the first order's fill.
        assert_eq!(parts[3], parts[4], "{text}");
        let quantity: f64 = parts[3].split(' ').nth(1).unwrap().parse().unwrap();
        assert!((quantity - held).abs() < 1e-9, "{text}");
    }
    let summary = node.summary(0.0);
    let checker = summary.agents.iter().find(|a| a.name == "checker").unwrap();
    assert_eq!((checker.intent_calls, checker.faults), (2, 0));
    assert_eq!(
        summary.agents[0].intent_calls, 0,
        "a strategy gets no intents"
    );
}

#[test]
fn signals_arrive_as_numbers_with_the_position_the_host_would_answer() {
    use floor_host::model::Signal;
    // The echo fixture hears signals; it holds 0.5 BTCUSDT and nothing
    // else, and writes each signal as it sees it with the position the
    // SDK answers (sent along with the signal) and the host's import.
    let echo = hostile_agent(
        "echo",
        r#"mode = "echo""#,
        r#""signal.#""#,
        r#""fixture.ok.#""#,
        r#"order_symbols = ["BTCUSDT"]"#,
    );
    let (mut node, _dir) = node_with(&format!("{echo}{}", floor_tests::gate_agent()));
    for _ in 0..10 {
        node.step();
    }
    node.submit("echo", market_buy(0.5)).unwrap();
    node.step();
    let signal = |symbol: &str, score: f64, horizon_ns: u64| {
        Payload::Signal(Signal {
            symbol: symbol.into(),
            score,
            confidence: 0.25,
            horizon_ns,
        })
    };
    // One from another host, every field its own; two from this host,
    // in two streams (the second symbol has no position).
    let remote = Envelope {
        id: 1 << 40,
        topic: "signal.momentum.BTCUSDT".into(),
        source: "momentum".into(),
        sequence: 17,
        event_time: 123_456_789,
        trace_id: 99,
        correlation_id: Some(5),
        attempt: 2,
        payload: signal("BTCUSDT", -7.5, 60_000_000_000),
    };
    node.publish_envelope(remote.clone());
    node.publish("signal.trend.ETHUSDT", signal("ETHUSDT", 3.0, 0));
    node.publish("signal.trend.BTCUSDT", signal("BTCUSDT", 10.0, u64::MAX));
    let echoes: Vec<String> = published(&node, "fixture.ok.echo")
        .into_iter()
        .filter(|t| {
            t.split(' ')
                .nth(1)
                .is_some_and(|x| x.starts_with("signal."))
        })
        .collect();
    assert_eq!(echoes.len(), 3, "{echoes:#?}");
    // The remote signal as it was sent, field for field.
    let parts: Vec<&str> = echoes[0].split(" | ").collect();
    assert_eq!(parts.len(), 3, "{}", echoes[0]);
    assert_eq!(parts[0], envelope_text(&remote));
    let held = [0.5, 0.0, 0.5];
    for (text, (symbol, quantity)) in echoes.iter().zip([
        ("BTCUSDT", held[0]),
        ("ETHUSDT", held[1]),
        ("BTCUSDT", held[2]),
    ]) {
        let parts: Vec<&str> = text.split(" | ").collect();
        assert!(parts[0].contains(&format!(" signal {symbol} ")), "{text}");
        // The carried position is the host's.
        assert_eq!(parts[1], parts[2], "{text}");
        let mut p = parts[1].split(' ');
        assert_eq!(p.next(), Some(symbol), "{text}");
        let q: f64 = p.next().unwrap().parse().unwrap();
        assert!((q - quantity).abs() < 1e-9, "{text}");
    }
    assert!(
        echoes[1].contains(" host ")
            && echoes[1].ends_with("signal ETHUSDT 3 0.25 0 | ETHUSDT 0 0 0 | ETHUSDT 0 0 0"),
        "{}",
        echoes[1]
    );
    assert!(
        echoes[2].contains(&format!(" signal BTCUSDT 10 0.25 {} |", u64::MAX)),
        "{}",
        echoes[2]
    );
    let echo = &node.summary(0.0).agents[0];
    assert_eq!((echo.signal_calls, echo.faults), (3, 0));
}
