//! The node trading through the Binance connector against the simulated
//! exchange on loopback: intents in, orders over signed REST, execution
//! reports back over the WebSocket API, into the order manager.

use std::net::SocketAddr;
use std::time::Duration;

use floor_host::config::NodeConfig;
use floor_host::exchange::api::user::ReportFaults;
use floor_host::exchange::api::{LimitKind, RateLimit, SimServer};
use floor_host::exchange::setup::SimSetup;
use floor_host::exchange::{Fixed, NewOrder};
use floor_host::model::{
    MarketEvent, OrderEvent, OrderIntent, OrderStatus, OrderType, Payload, Quote, Side,
    TimeInForce, TopicPattern,
};
use floor_host::node::Node;
use floor_host::venue::binance::rest::Credentials;
use floor_host::venue::binance::{BinanceVenue, ConnectorConfig};
use floor_tests::{runtime, sim_config, test_cache};

/// Our account is 0; the house (liquidity) is 1.
const HOUSE: u32 = 1;

struct Paper {
    node: Node,
    server: SimServer,
    _rt: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

fn px(p: &str) -> Fixed {
    p.parse().unwrap()
}

/// The simulator with house liquidity (asks 0.5 @ 30000 and 0.5 @ 30010,
/// bid 0.5 @ 29990), `limits` as its rate limits (Binance's when empty),
/// and a node whose agent `desk` trades BTCUSDT through the connector.
fn paper(limits: Vec<RateLimit>) -> Paper {
    paper_with(limits, &floor_tests::desk_and_gate())
}

/// [`paper`] with these `[[agents]]` tables instead of `desk` and `gate`.
fn paper_with(limits: Vec<RateLimit>, agents: &str) -> Paper {
    let rt = runtime();
    let (mut exchange, mut api) = SimSetup::parse(&sim_config(&[("me", "k", "s")]))
        .unwrap()
        .build()
        .unwrap();
    if !limits.is_empty() {
        api.limits = limits;
    }
    let house = exchange.open_account("house", 0, 0);
    assert_eq!(house, HOUSE);
    exchange.deposit(house, "BTC", Fixed::units(100));
    exchange.deposit(house, "USDT", Fixed::units(10_000_000));
    for (side, qty, price) in [
        (Side::Sell, "0.5", "30000"),
        (Side::Sell, "0.5", "30010"),
        (Side::Buy, "0.5", "29990"),
    ] {
        exchange
            .new_order(
                house,
                NewOrder::limit("BTCUSDT", side, px(qty), px(price)),
                0,
            )
            .unwrap();
    }
    let server = rt
        .block_on(SimServer::start(
            exchange,
            api,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    let venue = BinanceVenue::connect(ConnectorConfig {
        name: "sim".into(),
        rest_url: server.rest_url(),
        stream_url: server.ws_url(),
        ws_api_url: server.ws_url(),
        api_key: "k".into(),
        credentials: Credentials::Hmac(b"s".to_vec()),
        symbols: vec!["BTCUSDT".into()],
        scope: "paper-test".into(),
        reconcile_every: Duration::from_secs(3600),
        breaker_failures: 3,
        breaker_open_ms: 60_000,
        poll_wait: Duration::from_millis(5),
        spin: Duration::from_micros(50),
    })
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
{header}
[account]
balances = {{ BTC = 10.0, USDT = 1000000.0 }}

[limits]
max_order_notional = 1e9
max_position = 1000.0
max_orders_per_second = 100000
max_orders_per_second_per_agent = 100000

{agents}"#,
        header = floor_tests::node_header(data.path(), 30_000.0),
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let mut node = Node::new(&cfg, Box::new(venue)).unwrap();
    node.tap(TopicPattern::parse("order.#").unwrap());
    node.tap(TopicPattern::parse("venue.#").unwrap());
    // The host values orders against the touch it has seen.
    node.inject(
        MarketEvent::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid: 29990.0,
            bid_size: 0.5,
            ask: 30000.0,
            ask_size: 0.5,
        }),
        1,
    );
    Paper {
        node,
        server,
        _rt: rt,
        _data: data,
    }
}

fn intent(
    side: Side,
    ty: OrderType,
    qty: f64,
    price: Option<f64>,
    tif: TimeInForce,
) -> OrderIntent {
    OrderIntent {
        symbol: "BTCUSDT".into(),
        side,
        order_type: ty,
        quantity: qty,
        limit_price: price,
        time_in_force: tif,
        tag: Default::default(),
        stop_price: None,
    }
}

/// The order events for `order_id`, in the order the node published them.
fn events(node: &Node, order_id: &str) -> Vec<OrderEvent> {
    node.tapped()
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::OrderEvent(o) if o.order_id == order_id => Some((**o).clone()),
            _ => None,
        })
        .collect()
}

fn statuses(node: &Node, order_id: &str) -> Vec<&'static str> {
    events(node, order_id)
        .iter()
        .map(|e| e.status.name())
        .collect()
}

/// Most node steps a wait may take: a guard against a hang (an idle step
/// waits 5 ms for the venue), not a statement about speed.
const MAX_STEPS: usize = 50_000;

/// Step the node until `done` holds (or fail after [`MAX_STEPS`], saying
/// where it stood).
fn until(p: &mut Paper, what: &str, done: impl Fn(&Node) -> bool) {
    let mut steps = 0;
    while !done(&p.node) {
        steps += 1;
        assert!(
            steps < MAX_STEPS,
            "{what} never happened; order events: {:?}",
            p.node
                .tapped()
                .iter()
                .map(|e| e.topic.clone())
                .collect::<Vec<_>>()
        );
        p.node.step();
    }
}

fn done(node: &Node, order_id: &str) -> bool {
    events(node, order_id).iter().any(|e| e.status.is_final())
}

fn house_buys(p: &Paper, qty: &str) {
    p.server.shared().with_exchange(|ex| {
        ex.new_order(HOUSE, NewOrder::market("BTCUSDT", Side::Buy, px(qty)), 1)
            .unwrap();
    });
}

#[test]
fn every_order_type_round_trips_through_the_connector() {
    let mut p = paper(Vec::new());
    let limit = |side, qty, price, tif| intent(side, OrderType::Limit, qty, Some(price), tif);

    // Market: sweeps two levels, two fills.
    p.node
        .submit(
            "desk",
            intent(Side::Buy, OrderType::Market, 0.6, None, TimeInForce::Gtc),
        )
        .unwrap();
    until(&mut p, "the market order", |n| done(n, "desk-1"));
    let ev = events(&p.node, "desk-1");
    assert_eq!(
        statuses(&p.node, "desk-1"),
        ["accepted", "partially_filled", "filled"]
    );
    assert_eq!((ev[1].last_quantity, ev[1].last_price), (0.5, 30000.0));
    assert_eq!((ev[2].last_quantity, ev[2].last_price), (0.1, 30010.0));
    assert!((ev[2].cumulative_quantity - 0.6).abs() < 1e-12);
    // 10 bps taker fee, charged in BTC, valued in USDT at the fill price.
    assert!((ev[1].fee - 0.0005 * 30000.0).abs() < 1e-6, "{}", ev[1].fee);

    // GTC limit: rests, then cancelled on request.
    p.node
        .submit("desk", limit(Side::Buy, 0.2, 29000.0, TimeInForce::Gtc))
        .unwrap();
    until(&mut p, "the limit order to rest", |n| {
        !events(n, "desk-2").is_empty()
    });
    p.node.cancel_order("desk", "desk-2").unwrap();
    until(&mut p, "the cancel", |n| done(n, "desk-2"));
    assert_eq!(statuses(&p.node, "desk-2"), ["accepted", "cancelled"]);

    // IOC that cannot trade, FOK that cannot trade in full: expired, unfilled.
    p.node
        .submit("desk", limit(Side::Buy, 0.1, 29500.0, TimeInForce::Ioc))
        .unwrap();
    p.node
        .submit("desk", limit(Side::Buy, 1.0, 30010.0, TimeInForce::Fok))
        .unwrap();
    until(&mut p, "IOC and FOK", |n| {
        done(n, "desk-3") && done(n, "desk-4")
    });
    for id in ["desk-3", "desk-4"] {
        let ev = events(&p.node, id);
        assert_eq!(
            ev.last().unwrap().status,
            OrderStatus::Expired,
            "{id}: {ev:?}"
        );
        assert_eq!(ev.last().unwrap().cumulative_quantity, 0.0, "{id}");
    }

    // A resting sell filled in parts by the market: fills accumulate.
    p.node
        .submit("desk", limit(Side::Sell, 0.3, 30005.0, TimeInForce::Gtc))
        .unwrap();
    until(&mut p, "the sell to rest", |n| {
        !events(n, "desk-5").is_empty()
    });
    house_buys(&p, "0.1");
    until(&mut p, "the first part", |n| events(n, "desk-5").len() == 2);
    house_buys(&p, "0.2");
    until(&mut p, "the rest", |n| done(n, "desk-5"));
    let ev = events(&p.node, "desk-5");
    assert_eq!(
        statuses(&p.node, "desk-5"),
        ["accepted", "partially_filled", "filled"]
    );
    assert_eq!(
        ev.iter().map(|e| e.last_quantity).collect::<Vec<_>>(),
        [0.0, 0.1, 0.2]
    );
    assert!((ev[2].cumulative_quantity - 0.3).abs() < 1e-12);

    // Off the tick: Binance's filter error, as the rejection's reason.
    p.node
        .submit("desk", limit(Side::Buy, 0.1, 29999.995, TimeInForce::Gtc))
        .unwrap();
    until(&mut p, "the rejection", |n| done(n, "desk-6"));
    match &events(&p.node, "desk-6").last().unwrap().status {
        OrderStatus::Rejected { reason } => {
            assert!(
                reason.contains("PRICE_FILTER") && reason.contains("-1013"),
                "{reason}"
            )
        }
        other => panic!("not rejected: {other:?}"),
    }

    let s = p.node.summary(0.0);
    assert_eq!(s.oms_errors, 0, "every report applied once: {s:?}");
    let pos = p.node.oms().portfolio.position("BTCUSDT").quantity;
    // The venue took the buy's 0.1% commission in BTC, as Binance spot
    // does: 0.6 bought is 0.5994 held.
    assert!(
        (pos - (0.6 * (1.0 - 0.001) - 0.3)).abs() < 1e-12,
        "bought 0.6 less its commission, sold 0.3: {pos}"
    );
}

/// Replace over the real connector: a resting sell, partly filled, is
/// replaced with a new size and price; the host cancels it at the
/// simulator (PENDING_REPLACE until the venue confirms over the user
/// stream), then sends what is still wanted at the new price.
#[test]
fn a_partly_filled_order_is_replaced_through_the_connector() {
    let mut p = paper(Vec::new());
    let limit = |qty, price| {
        intent(
            Side::Sell,
            OrderType::Limit,
            qty,
            Some(price),
            TimeInForce::Gtc,
        )
    };
    p.node.submit("desk", limit(0.3, 30005.0)).unwrap();
    until(&mut p, "the sell to rest", |n| {
        !events(n, "desk-1").is_empty()
    });
    house_buys(&p, "0.1");
    until(&mut p, "the first part", |n| events(n, "desk-1").len() == 2);
    // 0.5 in all at 30,008: the 0.1 sold counts, so 0.4 more is offered.
    p.node
        .replace_order("desk", "desk-1", 0.5, Some(30008.0))
        .unwrap();
    assert_eq!(
        p.node.oms().get("desk-1").unwrap().state.name(),
        "PENDING_REPLACE",
        "until the venue confirms the cancel"
    );
    until(&mut p, "the replacement to rest", |n| {
        !events(n, "desk-2").is_empty()
    });
    assert_eq!(
        statuses(&p.node, "desk-1"),
        ["accepted", "partially_filled", "cancelled"]
    );
    assert_eq!(statuses(&p.node, "desk-2"), ["accepted"]);
    let new = &p.node.oms().get("desk-2").unwrap().intent;
    assert!((new.quantity - 0.4).abs() < 1e-12, "{}", new.quantity);
    assert_eq!(new.limit_price, Some(30008.0));
    // Our account (0) at the simulator holds just the new order.
    let resting = p.server.shared().with_exchange(|ex| {
        ex.open_orders(0, Some("BTCUSDT"))
            .iter()
            .map(|o| (o.price, o.orig_qty))
            .collect::<Vec<_>>()
    });
    assert_eq!(resting, [(px("30008"), px("0.4"))]);
    assert_eq!(p.node.summary(0.0).oms_errors, 0);
}

#[test]
fn a_fill_while_the_user_stream_is_down_arrives_once() {
    let mut p = paper(Vec::new());
    p.node
        .submit(
            "desk",
            intent(
                Side::Sell,
                OrderType::Limit,
                0.3,
                Some(30005.0),
                TimeInForce::Gtc,
            ),
        )
        .unwrap();
    until(&mut p, "the sell to rest", |n| {
        !events(n, "desk-1").is_empty()
    });
    // The report of this fill is lost on the wire, then the stream drops.
    let shared = p.server.shared().clone();
    shared.set_report_faults(ReportFaults {
        lose: true,
        ..ReportFaults::default()
    });
    house_buys(&p, "0.1");
    shared.drop_streams();
    let notice = |n: &Node, topic: &str| n.tapped().iter().position(|e| e.topic == topic);
    until(&mut p, "the stream to come back", |n| {
        notice(n, "venue.userdata.restored").is_some()
    });
    // From here the stream delivers everything, twice.
    shared.set_report_faults(ReportFaults {
        duplicate: true,
        ..ReportFaults::default()
    });
    until(&mut p, "the recovered fill", |n| {
        events(n, "desk-1").len() == 2
    });
    let restored = notice(&p.node, "venue.userdata.restored").unwrap();
    let lost = notice(&p.node, "venue.userdata.lost").expect("the drop was noticed");
    assert!(lost < restored);
    house_buys(&p, "0.2");
    until(&mut p, "the last fill", |n| done(n, "desk-1"));
    // Let any duplicate arrive.
    for _ in 0..50 {
        p.node.step();
    }
    let ev = events(&p.node, "desk-1");
    assert_eq!(
        statuses(&p.node, "desk-1"),
        ["accepted", "partially_filled", "filled"]
    );
    assert_eq!(
        ev.iter().map(|e| e.last_quantity).collect::<Vec<_>>(),
        [0.0, 0.1, 0.2]
    );
    assert_eq!(p.node.summary(0.0).oms_errors, 0);
    let pos = p.node.oms().portfolio.position("BTCUSDT").quantity;
    assert!((pos + 0.3).abs() < 1e-12, "{pos}");
}

/// The issue's burst: 1,000 intents at once through the node, a venue
/// allowing 250 orders a second, and not one 429.
#[test]
fn a_thousand_intents_never_meet_a_429() {
    let mut p = paper(vec![
        RateLimit {
            kind: LimitKind::RequestWeight,
            interval_ms: 1_000,
            limit: 300,
        },
        RateLimit {
            kind: LimitKind::Orders,
            interval_ms: 1_000,
            limit: 250,
        },
    ]);
    for _ in 0..1_000 {
        p.node
            .submit(
                "desk",
                intent(
                    Side::Buy,
                    OrderType::Limit,
                    0.001,
                    Some(29000.0),
                    TimeInForce::Gtc,
                ),
            )
            .unwrap();
    }
    let accepted = |n: &Node| {
        n.tapped()
            .iter()
            .filter(|e| e.topic == "order.accepted.BTCUSDT")
            .count()
    };
    until(&mut p, "1,000 acceptances", |n| accepted(n) == 1_000);
    assert_eq!(
        p.server.shared().refusals(),
        0,
        "the connector waited its turn"
    );
    let open = p
        .server
        .shared()
        .with_exchange(|ex| ex.open_orders(0, Some("BTCUSDT")).len());
    assert_eq!(open, 1_000, "each intent is one order");
    assert_eq!(p.node.summary(0.0).rejects, 0);
}

/// `[venue] replay`: a recorded CSV drives the simulator's book, and the
/// node sees its quotes and prints through the connector's streams.
#[test]
fn a_recorded_market_reaches_the_node_through_the_streams() {
    use floor_host::config::VenueKind;
    use floor_host::node::connect::venue_for;
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("btc.csv");
    // The first row starts the clock; the rest come 3 s later, when the
    // connector is long subscribed.
    std::fs::write(
        &csv,
        "time_ms,symbol,kind,price,qty,side
0,BTCUSDT,bid,29000.00,1,
3000,BTCUSDT,bid,29999.50,1.2,
3000,BTCUSDT,ask,30000.50,0.8,
3040,BTCUSDT,trade,30000.50,0.1,buy
3100,BTCUSDT,bid,29995.00,1.0,
",
    )
    .unwrap();
    let text = format!(
        r#"
[node]
data_dir = "{data}"
cache_dir = "{cache}"

[venue]
kind = "sim"
replay = "{csv}"

[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 30000.0
"#,
        data = data.path().display(),
        cache = test_cache().display(),
        csv = csv.display(),
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let mut node = Node::new(&cfg, venue_for(&cfg, VenueKind::Sim).unwrap()).unwrap();
    node.tap(TopicPattern::parse("md.#").unwrap());
    let seen = |node: &Node| {
        let mut quotes = Vec::new();
        let mut trades = Vec::new();
        for e in node.tapped() {
            match &e.payload {
                Payload::Quote(q) => quotes.push((q.bid, q.ask)),
                Payload::Trade(t) => trades.push((t.price, t.size, t.aggressor)),
                _ => {}
            }
        }
        (quotes, trades)
    };
    let mut steps = 0;
    while seen(&node).0.last() != Some(&(29995.0, 30000.5)) {
        steps += 1;
        assert!(
            steps < MAX_STEPS,
            "the replay did not arrive: {:?}",
            seen(&node)
        );
        node.step();
    }
    let (quotes, trades) = seen(&node);
    assert!(quotes.contains(&(29999.5, 30000.5)), "{quotes:?}");
    assert_eq!(trades, [(30000.5, 0.1, Side::Buy)]);
}

#[test]
fn reconciliation_cancels_an_orphan_and_takes_the_venues_balances() {
    let mut p = paper(Vec::new());
    // On our account, unknown to this host: an order from an earlier run
    // (Floor's client-id prefix), one placed by hand, and a deposit.
    p.server.shared().with_exchange(|ex| {
        for (client, price) in [("fl-from-an-earlier-run", "29000"), ("by-hand", "28000")] {
            ex.new_order(
                0,
                NewOrder::limit("BTCUSDT", Side::Buy, px("0.1"), px(price)).client_id(client),
                1,
            )
            .unwrap();
        }
        ex.deposit(0, "USDT", Fixed::units(500));
    });
    p.node.reconcile_venue();
    let count = |n: &Node, topic: &str| n.tapped().iter().filter(|e| e.topic == topic).count();
    until(&mut p, "two ghost orders and one balance correction", |n| {
        count(n, "venue.reconcile.ghost_order") == 2 && count(n, "venue.reconcile.balance") == 1
    });
    let open: Vec<String> = p.server.shared().with_exchange(|ex| {
        ex.open_orders(0, None)
            .iter()
            .map(|o| o.client_order_id.to_string())
            .collect()
    });
    assert_eq!(
        open,
        ["by-hand"],
        "the orphan is cancelled, the hand order left alone"
    );
    let notices: Vec<String> = p
        .node
        .tapped()
        .iter()
        .filter(|e| e.topic.starts_with("venue.reconcile."))
        .map(|e| match &e.payload {
            Payload::Custom(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        })
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("`fl-from-an-earlier-run`") && n.ends_with("; cancelled")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("`by-hand`") && n.ends_with("left alone")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("USDT: the host had 1000000, the venue has 1000500")),
        "{notices:?}"
    );
    assert_eq!(p.node.oms().portfolio.balance("USDT").free, 1_000_500.0);
    assert_eq!(
        p.node.oms().portfolio.balance("BTC").free,
        10.0,
        "BTC agreed: untouched"
    );
    assert_eq!(p.node.summary(0.0).corrections, 1);
}

/// The fees charged on orders `ids`, quote asset.
fn fees(node: &Node, ids: &[&str]) -> f64 {
    ids.iter()
        .flat_map(|id| events(node, id))
        .map(|e| e.fee)
        .sum()
}

fn quote_at(p: &mut Paper, bid: f64, ask: f64, at: u64) {
    p.node.inject(
        MarketEvent::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid,
            bid_size: 1.0,
            ask,
            ask_size: 1.0,
        }),
        at,
    );
}

/// A trend follower (stop 1%, target 3:1) that has just bought 0.1 at
/// 30,000 through the connector; returns the event time reached.
fn follower_in_a_trade() -> (Paper, u64) {
    let agents = format!(
        r#"
[[agents]]
name = "follower"
path = "{}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT", "md.trade.BTCUSDT"]
publish = ["signal.trend_follower.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", ma = 3, rsi = 3, volume_window = 3, rsi_max = 100.5, quantity = 0.1, stop_pct = 1.0, reward_risk = 3.0 }}
{}"#,
        floor_tests::agent("trend-follower").display(),
        floor_tests::gate_agent()
    );
    let mut p = paper_with(Vec::new(), &agents);
    p.node.tap(TopicPattern::parse("signal.#").unwrap());
    let quote = quote_at;
    let trade = |p: &mut Paper, size: f64, at: u64| {
        p.node.inject(
            MarketEvent::Trade(floor_host::model::Trade {
                symbol: "BTCUSDT".into(),
                price: 29_990.0,
                size,
                aggressor: Side::Buy,
                trade_id: at,
            }),
            at,
        );
    };
    // A rising market on ordinary volume: no setup yet (volume not above
    // its average).
    let mut t = 10_000_000;
    for mid in [29_000.0, 29_200.0, 29_400.0, 29_600.0, 29_800.0] {
        trade(&mut p, 1.0, t);
        quote(&mut p, mid - 5.0, mid + 5.0, t + 1);
        t += 1_000_000;
    }
    assert!(p.node.oms().open_orders().next().is_none());
    assert_eq!(p.node.summary(0.0).orders, 0, "no setup on ordinary volume");
    // A big trade, then the touch at 29,990 / 30,000: the setup.
    trade(&mut p, 5.0, t);
    quote(&mut p, 29_990.0, 30_000.0, t + 1);
    until(&mut p, "the entry to fill", |n| done(n, "follower-1"));
    assert_eq!(statuses(&p.node, "follower-1"), ["accepted", "filled"]);
    let entry = events(&p.node, "follower-1").last().unwrap().last_price;
    assert_eq!(entry, 30_000.0, "the house's best ask");
    (p, t)
}

/// The issue's full trade: the trend follower sees its setup, the risk
/// agent approves, the entry fills at the simulator, the host places its
/// stop, the target is hit, the exit fills, the stop goes, and the trade
/// is closed with the PnL the prices say.
#[test]
fn a_trend_trade_lives_from_entry_to_target_through_the_connector() {
    let (mut p, t) = follower_in_a_trade();
    let quote = quote_at;
    let stops = p.node.summary(0.0).stops;
    assert_eq!(stops.len(), 1, "the stop is placed with the fill");
    assert_eq!(
        (stops[0].origin.as_str(), stops[0].exit, stops[0].price),
        ("follower-1", Side::Sell, 29_700.0)
    );
    assert!((stops[0].quantity - 0.0999).abs() < 1e-12, "what is held");
    // Plan: stop 1% below 30,000 (29,700), target 3 × 300 above (30,900).
    // The house now bids at the target.
    p.server.shared().with_exchange(|ex| {
        ex.cancel_all(HOUSE, "BTCUSDT", 2).unwrap();
        ex.new_order(
            HOUSE,
            NewOrder::limit("BTCUSDT", Side::Buy, px("0.5"), px("30900")),
            3,
        )
        .unwrap();
    });
    quote(&mut p, 30_500.0, 30_510.0, t + 2_000_000);
    assert!(
        events(&p.node, "follower-2").is_empty(),
        "between stop and target: holding"
    );
    quote(&mut p, 30_900.0, 30_910.0, t + 3_000_000);
    until(&mut p, "the exit to fill", |n| done(n, "follower-2"));
    let exit = events(&p.node, "follower-2");
    assert_eq!(exit.last().unwrap().status.name(), "filled");
    assert_eq!(exit.last().unwrap().last_price, 30_900.0);
    // Closed: flat (it sold the 0.0999 it held: the venue took the buy's
    // 0.1% commission in BTC), and the realised PnL is
    // (30,900 − 30,000) × 0.0999 less the fees of both fills.
    let pos = p.node.oms().portfolio.position("BTCUSDT");
    assert_eq!(pos.quantity, 0.0);
    assert!(p.node.summary(0.0).stops.is_empty(), "flat: the stop went");
    let fees = fees(&p.node, &["follower-1", "follower-2"]);
    assert!(
        (pos.realized_pnl - (900.0 * 0.0999 - fees)).abs() < 1e-6,
        "{} vs {}",
        pos.realized_pnl,
        900.0 * 0.0999 - fees
    );
    let signals: Vec<f64> = p
        .node
        .tapped()
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::Signal(s) if e.topic == "signal.trend_follower.BTCUSDT" => Some(s.score),
            _ => None,
        })
        .collect();
    assert_eq!(signals, [10.0, -10.0], "entered, then left");
}

/// The other way out: the market falls to the stop, the host sells before
/// the strategy sees the quote, and the strategy follows its stop order to
/// CLOSED without selling a second time.
#[test]
fn a_trend_trade_is_stopped_out_by_the_stop_the_host_holds() {
    let (mut p, t) = follower_in_a_trade();
    // The house bids just under the stop (29,700).
    p.server.shared().with_exchange(|ex| {
        ex.cancel_all(HOUSE, "BTCUSDT", 2).unwrap();
        ex.new_order(
            HOUSE,
            NewOrder::limit("BTCUSDT", Side::Buy, px("0.5"), px("29690")),
            3,
        )
        .unwrap();
    });
    quote_at(&mut p, 29_800.0, 29_810.0, t + 2_000_000);
    assert!(events(&p.node, "follower-2").is_empty(), "above the stop");
    quote_at(&mut p, 29_690.0, 29_700.0, t + 3_000_000);
    until(&mut p, "the stop to fill", |n| done(n, "follower-2"));
    let stop = events(&p.node, "follower-2");
    let last = stop.last().unwrap();
    assert_eq!(
        (last.tag.as_str(), last.status.name(), last.last_price),
        ("stop:follower-1", "filled", 29_690.0)
    );
    // One more quote: the strategy has closed the trade and sends nothing.
    quote_at(&mut p, 29_600.0, 29_610.0, t + 4_000_000);
    assert!(events(&p.node, "follower-3").is_empty(), "no second sell");
    let summary = p.node.summary(0.0);
    assert_eq!(summary.stops_triggered, 1);
    assert!(summary.stops.is_empty());
    let pos = p.node.oms().portfolio.position("BTCUSDT");
    assert_eq!(pos.quantity, 0.0);
    let fees = fees(&p.node, &["follower-1", "follower-2"]);
    let expected = -310.0 * 0.0999 - fees;
    assert!(
        (pos.realized_pnl - expected).abs() < 1e-6,
        "{} vs {expected}",
        pos.realized_pnl
    );
}
