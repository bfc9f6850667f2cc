//! The exchange's behaviour, order type by order type, with exact
//! balances.

use super::engine::OrderRef;
use super::*;
use crate::model::{Side, TimeInForce};

fn f(x: &str) -> Fixed {
    x.parse().unwrap()
}

const S: &str = "BTCUSDT";

/// Alice and Bob, 10 BTC and 1,000,000 USDT each, 0.1 % fees both ways.
fn exchange() -> (Exchange, u32, u32) {
    let mut ex = Exchange::new(vec![SymbolSpec::spot(S, "BTC", "USDT")]).unwrap();
    let a = ex.open_account("alice", 10, 10);
    let b = ex.open_account("bob", 10, 10);
    for acct in [a, b] {
        ex.deposit(acct, "BTC", f("10"));
        ex.deposit(acct, "USDT", f("1000000"));
    }
    (ex, a, b)
}

fn limit(side: Side, qty: &str, price: &str) -> NewOrder {
    NewOrder::limit(S, side, f(qty), f(price))
}

fn executions(ex: &mut Exchange) -> Vec<(u32, order::ExecKind, OrderState, Fixed)> {
    ex.drain_events()
        .filter_map(|e| match e {
            Event::Execution(x) => Some((x.order.account, x.exec, x.order.state, x.last_qty)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_crossing_limit_fills_at_the_resting_price_and_refunds_the_improvement() {
    let (mut ex, a, b) = exchange();
    let sell = ex.new_order(a, limit(Side::Sell, "1", "30000"), 1).unwrap();
    assert_eq!(sell.order.state, OrderState::New);
    assert_eq!(ex.balance(a, "BTC").locked, f("1"));
    let buy = ex.new_order(b, limit(Side::Buy, "1", "30100"), 2).unwrap();
    assert_eq!(buy.order.state, OrderState::Filled);
    assert_eq!(buy.fills.len(), 1);
    assert_eq!(buy.fills[0].price, f("30000"));
    assert_eq!(buy.fills[0].commission, f("0.001"));
    assert_eq!(&*buy.fills[0].commission_asset, "BTC");
    // Bob paid 30,000 (not 30,100) and received 1 BTC less 0.1 %.
    assert_eq!(ex.balance(b, "USDT").free, f("970000"));
    assert_eq!(ex.balance(b, "USDT").locked, Fixed::ZERO);
    assert_eq!(ex.balance(b, "BTC").free, f("10.999"));
    // Alice sold 1 BTC for 30,000 less 30 fee.
    assert_eq!(
        ex.balance(a, "BTC"),
        account::Balance {
            free: f("9"),
            locked: Fixed::ZERO
        }
    );
    assert_eq!(ex.balance(a, "USDT").free, f("1029970"));
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(sell.order.order_id))
            .unwrap()
            .state,
        OrderState::Filled
    );
    assert!(ex.open_orders(a, None).is_empty());
    let trades = ex.my_trades(b, S);
    assert_eq!(trades.len(), 1);
    assert!(trades[0].is_buyer && !trades[0].is_maker);
}

#[test]
fn price_time_priority_and_partial_fills_accumulate() {
    let (mut ex, a, b) = exchange();
    let first = ex
        .new_order(a, limit(Side::Sell, "0.5", "100"), 1)
        .unwrap()
        .order
        .order_id;
    let second = ex
        .new_order(a, limit(Side::Sell, "0.5", "100"), 2)
        .unwrap()
        .order
        .order_id;
    let better = ex
        .new_order(a, limit(Side::Sell, "0.2", "99.5"), 3)
        .unwrap()
        .order
        .order_id;
    executions(&mut ex);
    let buy = ex.new_order(b, limit(Side::Buy, "0.9", "100"), 4).unwrap();
    let fills: Vec<_> = buy.fills.iter().map(|x| (x.price, x.qty)).collect();
    assert_eq!(
        fills,
        vec![
            (f("99.5"), f("0.2")),
            (f("100"), f("0.5")),
            (f("100"), f("0.2"))
        ]
    );
    assert_eq!(buy.order.executed_qty, f("0.9"));
    assert_eq!(buy.order.cum_quote_qty, f("89.9"));
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(better)).unwrap().state,
        OrderState::Filled
    );
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(first)).unwrap().state,
        OrderState::Filled
    );
    let rest = ex.order(a, S, &OrderRef::Id(second)).unwrap();
    assert_eq!(
        (rest.state, rest.executed_qty),
        (OrderState::PartiallyFilled, f("0.2"))
    );
    assert_eq!(ex.depth(S, 5).unwrap().2, vec![(f("100"), f("0.3"))]);
    // NEW for the taker, then a TRADE for each side of each fill.
    let kinds: Vec<_> = executions(&mut ex)
        .into_iter()
        .map(|(acct, x, s, _)| (acct, x, s))
        .collect();
    assert_eq!(kinds.len(), 7);
    assert_eq!(kinds[0], (b, order::ExecKind::New, OrderState::New));
    assert_eq!(
        kinds[6],
        (a, order::ExecKind::Trade, OrderState::PartiallyFilled)
    );
}

#[test]
fn market_orders_by_quantity_and_by_quote_amount() {
    let (mut ex, a, b) = exchange();
    ex.new_order(a, limit(Side::Sell, "1", "100"), 1).unwrap();
    ex.new_order(a, limit(Side::Sell, "1", "101"), 2).unwrap();
    let m = ex
        .new_order(b, NewOrder::market(S, Side::Buy, f("1.5")), 3)
        .unwrap();
    assert_eq!(m.order.state, OrderState::Filled);
    assert_eq!(m.order.cum_quote_qty, f("150.5"));
    assert_eq!(
        ex.balance(b, "USDT"),
        account::Balance {
            free: f("999849.5"),
            locked: Fixed::ZERO
        }
    );
    // 40 USDT at 101 buys 0.39603 (step 0.00001); the rest of the quote stays free.
    let q = NewOrder {
        quantity: None,
        quote_qty: Some(f("40")),
        ..NewOrder::market(S, Side::Buy, Fixed::ZERO)
    };
    let m = ex.new_order(b, q, 4).unwrap();
    assert_eq!(
        (m.order.state, m.order.executed_qty),
        (OrderState::Filled, f("0.39603"))
    );
    assert_eq!(m.order.orig_qty, f("0.39603"));
    assert_eq!(m.order.cum_quote_qty, f("39.99903"));
    assert_eq!(ex.balance(b, "USDT").locked, Fixed::ZERO);
    // More than the book holds: fills what is there and expires.
    let m = ex
        .new_order(b, NewOrder::market(S, Side::Buy, f("5")), 5)
        .unwrap();
    assert_eq!(
        (m.order.state, m.order.executed_qty),
        (OrderState::Expired, f("0.10397"))
    );
    // Nothing left: a market order expires unfilled and locks nothing.
    let m = ex
        .new_order(b, NewOrder::market(S, Side::Buy, f("1")), 6)
        .unwrap();
    assert_eq!(
        (m.order.state, m.order.executed_qty),
        (OrderState::Expired, Fixed::ZERO)
    );
    assert_eq!(ex.balance(b, "USDT").locked, Fixed::ZERO);
}

#[test]
fn ioc_and_fok() {
    let (mut ex, a, b) = exchange();
    ex.new_order(a, limit(Side::Sell, "1", "100"), 1).unwrap();
    let fok = ex
        .new_order(b, limit(Side::Buy, "2", "100").tif(TimeInForce::Fok), 2)
        .unwrap();
    assert_eq!(
        (fok.order.state, fok.order.executed_qty),
        (OrderState::Expired, Fixed::ZERO)
    );
    assert_eq!(
        ex.depth(S, 1).unwrap().2,
        vec![(f("100"), f("1"))],
        "FOK took nothing"
    );
    let ioc = ex
        .new_order(b, limit(Side::Buy, "2", "100").tif(TimeInForce::Ioc), 3)
        .unwrap();
    assert_eq!(
        (ioc.order.state, ioc.order.executed_qty),
        (OrderState::Expired, f("1"))
    );
    assert!(
        ex.depth(S, 1).unwrap().1.is_empty(),
        "IOC's rest did not rest"
    );
    assert_eq!(ex.balance(b, "USDT").locked, Fixed::ZERO);
    ex.new_order(a, limit(Side::Sell, "1", "100"), 4).unwrap();
    let fok = ex
        .new_order(b, limit(Side::Buy, "1", "100").tif(TimeInForce::Fok), 5)
        .unwrap();
    assert_eq!(fok.order.state, OrderState::Filled);
}

#[test]
fn limit_maker_is_refused_when_it_would_take() {
    let (mut ex, a, b) = exchange();
    ex.new_order(a, limit(Side::Sell, "1", "100"), 1).unwrap();
    let post = |p: &str| NewOrder {
        kind: OrderKind::LimitMaker,
        tif: None,
        ..limit(Side::Buy, "1", p)
    };
    let err = ex.new_order(b, post("100"), 2).unwrap_err();
    assert_eq!(
        (err.code, err.msg.as_str()),
        (-2010, "Order would immediately match and take.")
    );
    let ok = ex.new_order(b, post("99.99"), 3).unwrap();
    assert_eq!(
        (ok.order.state, ok.order.is_working),
        (OrderState::New, true)
    );
}

#[test]
fn stop_loss_and_take_profit_trigger_on_the_last_trade() {
    let (mut ex, a, b) = exchange();
    // A trade at 100 sets the last price.
    ex.new_order(a, limit(Side::Sell, "0.1", "100"), 1).unwrap();
    ex.new_order(b, limit(Side::Buy, "0.1", "100"), 2).unwrap();
    let stop = |kind, side, stop: &str, price: Option<&str>| NewOrder {
        kind,
        tif: price.map(|_| TimeInForce::Gtc),
        price: price.map(f),
        stop_price: Some(f(stop)),
        ..limit(side, "0.1", "1")
    };
    let err = ex
        .new_order(b, stop(OrderKind::StopLoss, Side::Sell, "100", None), 3)
        .unwrap_err();
    assert_eq!(err.msg, "Order would trigger immediately.");
    let sl = ex
        .new_order(b, stop(OrderKind::StopLoss, Side::Sell, "95", None), 4)
        .unwrap()
        .order;
    let tp = ex
        .new_order(
            b,
            stop(OrderKind::TakeProfitLimit, Side::Sell, "110", Some("109")),
            5,
        )
        .unwrap()
        .order;
    assert!(!sl.is_working && !tp.is_working);
    assert_eq!(ex.balance(b, "BTC").locked, f("0.2"));
    // Liquidity below; then a trade at 94 triggers the stop-loss, which sells into the bids.
    ex.new_order(a, limit(Side::Buy, "1", "94"), 6).unwrap();
    ex.new_order(a, limit(Side::Buy, "0.06", "94"), 7).unwrap();
    ex.new_order(b, limit(Side::Sell, "0.06", "94"), 8).unwrap();
    let sl = ex.order(b, S, &OrderRef::Id(sl.order_id)).unwrap();
    assert_eq!((sl.state, sl.executed_qty), (OrderState::Filled, f("0.1")));
    assert!(sl.working_time > 0);
    let tp_now = ex.order(b, S, &OrderRef::Id(tp.order_id)).unwrap();
    assert_eq!(tp_now.state, OrderState::New, "take-profit still waits");
    // A trade at 110 triggers the take-profit limit, which rests at 109.
    ex.new_order(a, limit(Side::Sell, "0.05", "110"), 9)
        .unwrap();
    ex.new_order(b, limit(Side::Buy, "0.05", "110"), 10)
        .unwrap();
    let tp_now = ex.order(b, S, &OrderRef::Id(tp.order_id)).unwrap();
    assert!(tp_now.is_working);
    assert_eq!(ex.book_ticker(S).unwrap().1, Some((f("109"), f("0.1"))));
}

#[test]
fn self_trade_prevention_modes() {
    let (mut ex, a, _) = exchange();
    let with = |stp| NewOrder {
        stp: Some(stp),
        ..limit(Side::Buy, "1", "100")
    };
    // EXPIRE_MAKER (the default): the resting order goes, the taker rests.
    let maker = ex
        .new_order(a, limit(Side::Sell, "1", "100"), 1)
        .unwrap()
        .order
        .order_id;
    let taker = ex
        .new_order(a, with(StpMode::ExpireMaker), 2)
        .unwrap()
        .order;
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(maker)).unwrap().state,
        OrderState::ExpiredInMatch
    );
    assert_eq!((taker.state, taker.is_working), (OrderState::New, true));
    ex.cancel(a, S, &OrderRef::Id(taker.order_id), 3).unwrap();
    // EXPIRE_TAKER: the taker goes, the maker stays.
    let maker = ex
        .new_order(a, limit(Side::Sell, "1", "100"), 4)
        .unwrap()
        .order
        .order_id;
    let taker = ex
        .new_order(a, with(StpMode::ExpireTaker), 5)
        .unwrap()
        .order;
    assert_eq!(taker.state, OrderState::ExpiredInMatch);
    assert_eq!(taker.prevented_qty, f("1"));
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(maker)).unwrap().state,
        OrderState::New
    );
    // EXPIRE_BOTH.
    let taker = ex.new_order(a, with(StpMode::ExpireBoth), 6).unwrap().order;
    assert_eq!(taker.state, OrderState::ExpiredInMatch);
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(maker)).unwrap().state,
        OrderState::ExpiredInMatch
    );
    // DECREMENT: the smaller one expires, the larger keeps the difference.
    let maker = ex
        .new_order(a, limit(Side::Sell, "0.4", "100"), 7)
        .unwrap()
        .order
        .order_id;
    let taker = ex.new_order(a, with(StpMode::Decrement), 8).unwrap().order;
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(maker)).unwrap().state,
        OrderState::ExpiredInMatch
    );
    assert_eq!(
        (taker.state, taker.prevented_qty, taker.leaves()),
        (OrderState::New, f("0.4"), f("0.6"))
    );
    assert_eq!(
        ex.balance(a, "USDT").locked,
        f("60"),
        "the buy locks only what is left"
    );
    ex.cancel(a, S, &OrderRef::Id(taker.order_id), 9).unwrap();
    // NONE: it trades with itself.
    ex.new_order(a, limit(Side::Sell, "1", "100"), 10).unwrap();
    assert_eq!(
        ex.new_order(a, with(StpMode::None), 11)
            .unwrap()
            .order
            .state,
        OrderState::Filled
    );
    assert!(ex.trades_printed_are_balanced(a));
}

#[test]
fn cancels_free_funds_and_unknown_orders_get_binance_codes() {
    let (mut ex, a, _) = exchange();
    let o = ex
        .new_order(a, limit(Side::Buy, "1", "100").client_id("mine-1"), 1)
        .unwrap()
        .order;
    assert_eq!(ex.balance(a, "USDT").locked, f("100"));
    let dup = ex
        .new_order(a, limit(Side::Buy, "1", "99").client_id("mine-1"), 2)
        .unwrap_err();
    assert_eq!(
        (dup.code, dup.msg.as_str()),
        (-2010, "Duplicate order sent.")
    );
    let c = ex
        .cancel(a, S, &OrderRef::Client("mine-1".into()), 3)
        .unwrap();
    assert_eq!((c.order_id, c.state), (o.order_id, OrderState::Canceled));
    assert_eq!(
        ex.balance(a, "USDT"),
        account::Balance {
            free: f("1000000"),
            locked: Fixed::ZERO
        }
    );
    assert_eq!(
        ex.cancel(a, S, &OrderRef::Id(o.order_id), 4)
            .unwrap_err()
            .code,
        -2011
    );
    assert_eq!(
        ex.cancel(a, S, &OrderRef::Id(999), 4).unwrap_err().code,
        -2011
    );
    assert_eq!(ex.order(a, S, &OrderRef::Id(999)).unwrap_err().code, -2013);
    assert_eq!(
        ex.cancel(a, "NOPE", &OrderRef::Id(1), 4).unwrap_err().code,
        -1121
    );
    // The id is free again once the order is closed.
    ex.new_order(a, limit(Side::Buy, "1", "99").client_id("mine-1"), 5)
        .unwrap();
    assert_eq!(ex.all_orders(a, S).len(), 2);
}

#[test]
fn bad_orders_are_refused_with_the_reason() {
    let (mut ex, a, _) = exchange();
    let cases: Vec<(NewOrder, i32, &str)> = vec![
        (
            NewOrder {
                symbol: "XYZ".into(),
                ..limit(Side::Buy, "1", "100")
            },
            -1121,
            "Invalid symbol.",
        ),
        (
            limit(Side::Buy, "1", "100.001"),
            -1013,
            "Filter failure: PRICE_FILTER",
        ),
        (
            limit(Side::Buy, "0.000001", "100"),
            -1013,
            "Filter failure: LOT_SIZE",
        ),
        (
            limit(Side::Buy, "0.01", "100"),
            -1013,
            "Filter failure: NOTIONAL",
        ),
        (
            NewOrder {
                tif: None,
                ..limit(Side::Buy, "1", "100")
            },
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            NewOrder {
                price: None,
                ..limit(Side::Buy, "1", "100")
            },
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            NewOrder {
                tif: Some(TimeInForce::Gtc),
                ..NewOrder::market(S, Side::Buy, f("1"))
            },
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        (
            limit(Side::Buy, "1", "100").client_id("has space"),
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'.",
        ),
        (
            limit(Side::Buy, "100", "100000"),
            -2010,
            "Account has insufficient balance for requested action.",
        ),
        (
            limit(Side::Sell, "11", "100"),
            -2010,
            "Account has insufficient balance for requested action.",
        ),
    ];
    for (req, code, msg) in cases {
        let err = ex.new_order(a, req.clone(), 1).unwrap_err();
        assert_eq!((err.code, err.msg.as_str()), (code, msg), "{req:?}");
    }
    assert!(
        ex.all_orders(a, S).is_empty(),
        "nothing refused was recorded"
    );
    assert_eq!(ex.balance(a, "USDT").locked, Fixed::ZERO);
}

#[test]
fn depth_diffs_follow_the_book() {
    let (mut ex, a, b) = exchange();
    ex.track_depth(S, true).unwrap();
    ex.new_order(a, limit(Side::Sell, "1", "100"), 1).unwrap();
    ex.new_order(a, limit(Side::Buy, "1", "99"), 2).unwrap();
    ex.new_order(b, limit(Side::Buy, "0.4", "100"), 3).unwrap();
    let d = ex.take_depth_diff(S).unwrap().unwrap();
    assert_eq!(d.asks, vec![(f("100"), f("0.6"))]);
    assert_eq!(d.bids, vec![(f("99"), f("1"))]);
    assert_eq!(d.final_update_id, ex.depth(S, 1).unwrap().0);
}

impl Exchange {
    /// Every account's BTC and USDT add up to what was deposited, less the
    /// fees the fills charged (test helper: money is neither made nor lost).
    fn trades_printed_are_balanced(&self, account: u32) -> bool {
        let fees = |asset: &str| -> Fixed {
            self.my_trades(account, S)
                .iter()
                .filter(|t| &*t.commission_asset == asset)
                .fold(Fixed::ZERO, |acc, t| acc + t.commission)
        };
        let total = |asset: &str| {
            let b = self.balance(account, asset);
            b.free + b.locked
        };
        total("BTC") + fees("BTC") == f("10") && total("USDT") + fees("USDT") == f("1000000")
    }
}

/// A seeded storm of orders of every kind and cancels from four accounts:
/// afterwards no money was made or lost, every lock belongs to an open
/// order, and the book is not crossed.
#[test]
fn random_order_flow_conserves_money_and_keeps_the_book_sound() {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    let mut ex = Exchange::new(vec![SymbolSpec::spot(S, "BTC", "USDT")]).unwrap();
    let accounts: Vec<u32> = (0..4)
        .map(|i| ex.open_account(&format!("t{i}"), 2 + i, 5 + i))
        .collect();
    for &a in &accounts {
        ex.deposit(a, "BTC", f("50"));
        ex.deposit(a, "USDT", f("5000000"));
    }
    let mut rng = StdRng::seed_from_u64(7);
    let kinds = [
        OrderKind::Limit,
        OrderKind::Limit,
        OrderKind::Limit,
        OrderKind::Market,
        OrderKind::LimitMaker,
        OrderKind::StopLoss,
        OrderKind::StopLossLimit,
        OrderKind::TakeProfit,
        OrderKind::TakeProfitLimit,
    ];
    let tifs = [
        TimeInForce::Gtc,
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
    ];
    let stps = [
        StpMode::ExpireMaker,
        StpMode::ExpireTaker,
        StpMode::ExpireBoth,
        StpMode::Decrement,
        StpMode::None,
    ];
    let (mut accepted, mut refused) = (0, 0);
    for t in 0..20_000u64 {
        let a = accounts[rng.random_range(0..accounts.len())];
        if rng.random_bool(0.25) {
            let open: Vec<u64> = ex
                .open_orders(a, Some(S))
                .iter()
                .map(|o| o.order_id)
                .collect();
            if let Some(id) = open.get(rng.random_range(0..open.len().max(1))) {
                ex.cancel(a, S, &OrderRef::Id(*id), t).unwrap();
            }
            continue;
        }
        let kind = kinds[rng.random_range(0..kinds.len())];
        let price = Fixed::from_f64(100.0 + rng.random_range(-200..200) as f64 * 0.01);
        let stop = Fixed::from_f64(100.0 + rng.random_range(-300..300) as f64 * 0.01);
        let qty = Fixed(rng.random_range(60..300) * 100_000);
        let req = NewOrder {
            symbol: S.into(),
            side: if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            },
            kind,
            tif: kind
                .needs_tif()
                .then(|| tifs[rng.random_range(0..tifs.len())]),
            quantity: Some(qty),
            quote_qty: None,
            price: kind.has_price().then_some(price),
            stop_price: kind.has_stop().then_some(stop),
            client_order_id: None,
            stp: Some(stps[rng.random_range(0..stps.len())]),
        };
        match ex.new_order(a, req, t) {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert_eq!(
                    e.code, -2010,
                    "only refusals of the -2010 kind are expected: {e}"
                );
                refused += 1;
            }
        }
        ex.drain_events();
    }
    assert!(
        accepted > 10_000 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
    assert!(
        ex.my_trades(accounts[0], S).len() > 1_000,
        "the storm traded"
    );
    for asset in ["BTC", "USDT"] {
        let held = accounts.iter().fold(Fixed::ZERO, |acc, &a| {
            let b = ex.balance(a, asset);
            acc + b.free + b.locked
        });
        let fees = accounts.iter().fold(Fixed::ZERO, |acc, &a| {
            ex.my_trades(a, S)
                .iter()
                .filter(|t| &*t.commission_asset == asset)
                .fold(acc, |acc, t| acc + t.commission)
        });
        let deposited = if asset == "BTC" {
            f("200")
        } else {
            f("20000000")
        };
        assert_eq!(held + fees, deposited, "{asset} is conserved");
    }
    for &a in &accounts {
        let locked_by_orders = |side: Side| {
            ex.open_orders(a, Some(S))
                .iter()
                .filter(|o| o.side == side)
                .fold(Fixed::ZERO, |acc, o| acc + o.locked)
        };
        assert_eq!(ex.balance(a, "USDT").locked, locked_by_orders(Side::Buy));
        assert_eq!(ex.balance(a, "BTC").locked, locked_by_orders(Side::Sell));
        assert!(
            ex.balance(a, "USDT").free >= Fixed::ZERO && ex.balance(a, "BTC").free >= Fixed::ZERO
        );
    }
    let (bid, ask) = ex.book_ticker(S).unwrap();
    if let (Some((b, _)), Some((a, _))) = (bid, ask) {
        assert!(b < a, "book crossed: bid {b} ask {a}");
    }
}

#[test]
fn history_is_bounded_but_open_orders_are_always_kept() {
    let mut ex = Exchange::new(vec![SymbolSpec::spot(S, "BTC", "USDT")])
        .unwrap()
        .retain(10);
    let a = ex.open_account("alice", 0, 0);
    ex.deposit(a, "USDT", f("1000000"));
    let old = ex
        .new_order(a, limit(Side::Buy, "1", "50").client_id("keep-me"), 0)
        .unwrap()
        .order;
    let first_closed = ex
        .new_order(a, limit(Side::Buy, "1", "60"), 1)
        .unwrap()
        .order
        .order_id;
    ex.cancel(a, S, &OrderRef::Id(first_closed), 1).unwrap();
    for t in 2..40 {
        let id = ex
            .new_order(a, limit(Side::Buy, "1", "60"), t)
            .unwrap()
            .order
            .order_id;
        ex.cancel(a, S, &OrderRef::Id(id), t).unwrap();
    }
    assert_eq!(
        ex.order(a, S, &OrderRef::Id(first_closed))
            .unwrap_err()
            .code,
        -2013
    );
    assert_eq!(
        ex.order(a, S, &OrderRef::Client(format!("sim-{first_closed}")))
            .unwrap_err()
            .code,
        -2013
    );
    // The old open order survives eviction, by id and by client id.
    assert_eq!(
        ex.order(a, S, &OrderRef::Client("keep-me".into()))
            .unwrap()
            .order_id,
        old.order_id
    );
    let c = ex
        .cancel(a, S, &OrderRef::Client("keep-me".into()), 41)
        .unwrap();
    assert_eq!(c.state, OrderState::Canceled);
    assert_eq!(ex.balance(a, "USDT").locked, Fixed::ZERO);
    assert!(ex.all_orders(a, S).len() <= 11);
    // Generated ids are found by their text too, and their prefix is reserved.
    let last = ex
        .new_order(a, limit(Side::Buy, "1", "60"), 42)
        .unwrap()
        .order;
    assert_eq!(
        ex.order(a, S, &OrderRef::Client(last.client_order_id.to_string()))
            .unwrap()
            .order_id,
        last.order_id
    );
    let err = ex
        .new_order(a, limit(Side::Buy, "1", "60").client_id("sim-7"), 43)
        .unwrap_err();
    assert_eq!(err.code, -1100);
}

/// A market buy locks the book's cost when it arrives; when self-trade
/// prevention then expires the account's own cheaper asks, it pays more per
/// unit and takes the difference from free funds, as far as they go,
/// instead of stopping short.
#[test]
fn a_market_buy_past_its_own_asks_is_not_cut_short() {
    use crate::model::Side;
    let mut ex = Exchange::new(vec![SymbolSpec::spot("BTCUSDT", "BTC", "USDT")]).unwrap();
    let me = ex.open_account("me", 0, 0);
    ex.deposit(me, "BTC", Fixed::units(10));
    let house = ex.open_account("house", 0, 0);
    ex.deposit(house, "BTC", Fixed::units(100));
    ex.deposit(house, "USDT", Fixed::units(10_000_000));
    let p = |s: &str| s.parse::<Fixed>().unwrap();
    ex.new_order(
        house,
        NewOrder::limit("BTCUSDT", Side::Sell, p("0.5"), p("30000")),
        0,
    )
    .unwrap();
    ex.new_order(
        me,
        NewOrder::limit("BTCUSDT", Side::Sell, p("0.3"), p("30005")),
        0,
    )
    .unwrap();
    let r = ex
        .new_order(house, NewOrder::market("BTCUSDT", Side::Buy, p("0.1")), 1)
        .unwrap();
    assert_eq!(r.order.executed_qty, p("0.1"));
    assert_eq!(r.fills.len(), 1);
    assert_eq!(r.fills[0].price, p("30005"));
    assert_eq!(r.order.state, OrderState::Filled);
    let usdt = ex
        .balances(house)
        .into_iter()
        .find(|(a, _)| *a == "USDT")
        .unwrap()
        .1;
    assert_eq!((usdt.free, usdt.locked), (p("9996999.5"), Fixed::ZERO));
}
