//! Risk sentinel: the pre-trade checks a risk desk runs on every order,
//! as one risk agent.
//!
//! The host sends each order intent on `risk.check.request`; the sentinel
//! reads the quote, the account (cash, positions) and the account's open
//! orders through the host and answers with one verdict. First the checks
//! that no size can fix, in this order, each a rejection naming the rule:
//!
//! 1. `bad_quantity`: the quantity is not a positive number;
//! 2. `no_quote`: there is no quote to value the order with;
//! 3. `fat_finger`: a limit price more than `band_pct` (5%) from the mid;
//! 4. `self_cross`: the order would trade against one of the account's own
//!    resting orders in the symbol (a wash trade): a limit that reaches an
//!    opposite resting price, or a market order while any opposite order
//!    rests;
//!
//! then, for an order that reduces a position, **approve** — cutting risk
//! is never blocked. An order that opens or grows a position must also:
//!
//! 5. `stop_required`: carry a protective stop (`stop-price`) on the right
//!    side of the price (below for a buy, above for a sell) and no further
//!    than `max_stop_pct` (5%) from it — the host holds that stop once the
//!    order fills;
//!
//! and it is sized down (**resize**) to the smallest room left under:
//!
//! 6. `max_order_notional` (50,000 in the quote asset);
//! 7. `max_position` (base units; per symbol `max_position.<SYMBOL>`;
//!    unlimited unless set);
//! 8. `max_position_pct` (20) of equity for the resulting position;
//! 9. for a buy, `min_cash_reserve_pct` (50) of equity left in cash after
//!    paying for it;
//! 10. for a buy, buying power: the free cash.
//!
//! No room at all is a rejection naming the rule that left none.
//!
//! Equity is the quote asset's cash (free and locked) plus every position in
//! `symbols` (and the order's own) at its mid. Config: `symbols` (the
//! account's symbols, comma-separated; default: just the order's),
//! `quote` (USDT), and the limits above.

use floor_sdk::prelude::*;

/// The sentinel's limits.
#[derive(Debug, Clone, PartialEq)]
struct Rules {
    band_pct: f64,
    max_stop_pct: f64,
    max_order_notional: f64,
    max_position_pct: f64,
    min_cash_reserve_pct: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            band_pct: 5.0,
            max_stop_pct: 5.0,
            max_order_notional: 50_000.0,
            max_position_pct: 20.0,
            min_cash_reserve_pct: 50.0,
        }
    }
}

/// What the sentinel knows when it judges one intent.
#[derive(Debug, Clone, Default)]
struct Account {
    /// The order's symbol's top of book, if any.
    quote: Option<(f64, f64)>,
    /// Position in the order's symbol, signed.
    position: f64,
    /// The cap on that position, if one is configured.
    max_position: Option<f64>,
    /// Free cash in the quote asset.
    cash_free: f64,
    /// Cash, free and locked, plus positions at their mids.
    equity: f64,
    /// The account's resting orders in the symbol: (id, side, limit price).
    resting: Vec<(String, Side, Option<f64>)>,
}

fn name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// Slack for comparisons of prices and quantities computed in floats.
const EPS: f64 = 1e-9;

impl Rules {
    fn check(&self, intent: &OrderIntent, account: &Account) -> RiskVerdict {
        let reject = |rule: &str, why: String| RiskVerdict::Reject(format!("{rule}: {why}"));
        let qty = intent.quantity;
        if !(qty.is_finite() && qty > 0.0) {
            return reject("bad_quantity", format!("{qty} is not a positive quantity"));
        }
        let Some((bid, ask)) = account.quote else {
            return reject(
                "no_quote",
                format!("no quote for {} to value the order with", intent.symbol),
            );
        };
        let mid = (bid + ask) / 2.0;
        let price = match (intent.order_type, intent.limit_price) {
            (OrderType::Limit, Some(p)) => {
                let off = (p / mid - 1.0).abs() * 100.0;
                if !p.is_finite() || off > self.band_pct + EPS {
                    return reject(
                        "fat_finger",
                        format!(
                            "limit {p} is {off:.2}% from the mid {mid} (band {}%)",
                            self.band_pct
                        ),
                    );
                }
                p
            }
            _ => match intent.side {
                Side::Buy => ask,
                Side::Sell => bid,
            },
        };
        if let Some(id) = self.crosses(intent, price, account) {
            return reject(
                "self_cross",
                format!(
                    "a {} at {price} would trade against our own order {id}",
                    name(intent.side)
                ),
            );
        }
        let signed = match intent.side {
            Side::Buy => qty,
            Side::Sell => -qty,
        };
        let (pos, after) = (account.position, account.position + signed);
        if after.abs() <= pos.abs() + EPS && after * pos >= 0.0 {
            return RiskVerdict::Approve;
        }
        if let Some(why) = self.stop_problem(intent, price) {
            return reject("stop_required", why);
        }
        self.size(intent.side, qty, price, account)
    }

    /// The id of a resting order of ours this one would trade against.
    fn crosses(&self, intent: &OrderIntent, price: f64, account: &Account) -> Option<String> {
        account
            .resting
            .iter()
            .find(|(_, side, limit)| {
                *side != intent.side
                    && match (intent.side, limit) {
                        // A market order may walk the book to any price.
                        _ if intent.order_type == OrderType::Market => true,
                        (_, None) => true,
                        (Side::Buy, Some(l)) => price >= *l - EPS,
                        (Side::Sell, Some(l)) => price <= *l + EPS,
                    }
            })
            .map(|(id, _, _)| id.clone())
    }

    /// Why the intent's stop is missing or unusable, if it is.
    fn stop_problem(&self, intent: &OrderIntent, price: f64) -> Option<String> {
        let Some(stop) = intent.stop_price else {
            return Some(format!(
                "an order that adds risk needs a stop-price within {}% of {price}",
                self.max_stop_pct
            ));
        };
        let distance = match intent.side {
            Side::Buy => price - stop,
            Side::Sell => stop - price,
        };
        if !stop.is_finite() || distance <= 0.0 {
            let side = if intent.side == Side::Buy {
                "below"
            } else {
                "above"
            };
            return Some(format!("the stop {stop} must be {side} the price {price}"));
        }
        let pct = distance / price * 100.0;
        (pct > self.max_stop_pct + EPS).then(|| {
            format!(
                "the stop {stop} is {pct:.2}% from {price}, more than {}%",
                self.max_stop_pct
            )
        })
    }

    /// Approve, resize to the tightest room, or reject naming the rule.
    fn size(&self, side: Side, qty: f64, price: f64, account: &Account) -> RiskVerdict {
        let pos = account.position;
        // How far the position may go in the order's direction.
        let toward = |cap: f64| match side {
            Side::Buy => cap - pos,
            Side::Sell => cap + pos,
        };
        let equity = account.equity.max(0.0);
        let mut rooms = vec![
            ("max_order_notional", self.max_order_notional / price),
            (
                "max_position_pct",
                toward(self.max_position_pct / 100.0 * equity / price),
            ),
        ];
        if let Some(cap) = account.max_position {
            rooms.push(("max_position", toward(cap)));
        }
        if side == Side::Buy {
            let reserve = self.min_cash_reserve_pct / 100.0 * equity;
            rooms.push((
                "min_cash_reserve_pct",
                (account.cash_free - reserve) / price,
            ));
            rooms.push(("buying_power", account.cash_free / price));
        }
        let (rule, room) =
            rooms.into_iter().fold(
                ("", f64::INFINITY),
                |best, r| if r.1 < best.1 { r } else { best },
            );
        if room >= qty - EPS {
            RiskVerdict::Approve
        } else if room > qty * 1e-6 {
            RiskVerdict::Resize(room)
        } else {
            RiskVerdict::Reject(format!(
                "{rule}: no room for a {} at {price} (position {pos}, equity {equity:.2}, free cash {:.2})",
                name(side),
                account.cash_free
            ))
        }
    }
}

#[derive(Default)]
struct RiskSentinel {
    rules: Rules,
    symbols: Vec<String>,
    quote_asset: String,
    config: Config,
}

impl RiskSentinel {
    /// The account as the host sees it now, for an intent in `symbol`.
    fn account(&self, symbol: &str) -> Account {
        let mid = |s: &str| host::quote(s).map(|q| (q.bid + q.ask) / 2.0);
        let cash = host::balance(&self.quote_asset);
        let mut equity = cash.free + cash.locked;
        let mut marked = false;
        for s in &self.symbols {
            marked |= s == symbol;
            if let Some(m) = mid(s) {
                equity += host::position(s).quantity * m;
            }
        }
        let position = host::position(symbol).quantity;
        let quote = host::quote(symbol).map(|q| (q.bid, q.ask));
        if !marked && let Some((b, a)) = quote {
            equity += position * (b + a) / 2.0;
        }
        let max_position = self
            .config
            .get(&format!("max_position.{symbol}"))
            .or_else(|| self.config.get("max_position"))
            .and_then(|v| v.parse().ok());
        Account {
            quote,
            position,
            max_position,
            cash_free: cash.free,
            equity,
            resting: host::open_orders(symbol)
                .into_iter()
                .map(|o| (o.order_id, o.side, o.limit_price))
                .collect(),
        }
    }
}

impl Agent for RiskSentinel {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let d = Rules::default();
        self.rules = Rules {
            band_pct: config.parse_or("band_pct", d.band_pct)?,
            max_stop_pct: config.parse_or("max_stop_pct", d.max_stop_pct)?,
            max_order_notional: config.parse_or("max_order_notional", d.max_order_notional)?,
            max_position_pct: config.parse_or("max_position_pct", d.max_position_pct)?,
            min_cash_reserve_pct: config
                .parse_or("min_cash_reserve_pct", d.min_cash_reserve_pct)?,
        };
        let r = &self.rules;
        let pcts = [r.band_pct, r.max_stop_pct, r.max_position_pct];
        if pcts.iter().any(|p| !(*p > 0.0 && *p <= 100.0))
            || !(0.0..100.0).contains(&r.min_cash_reserve_pct)
            || r.max_order_notional <= 0.0
        {
            return Err(error(
                "bad_config",
                "band_pct, max_stop_pct and max_position_pct must be in (0, 100], \
                 min_cash_reserve_pct in [0, 100) and max_order_notional > 0",
            ));
        }
        for (key, value) in config.pairs() {
            if (key == "max_position" || key.starts_with("max_position."))
                && !value.parse::<f64>().is_ok_and(|v| v > 0.0)
            {
                return Err(error(
                    "bad_config",
                    format!("{key} = {value:?}: need a positive number of base units"),
                ));
            }
        }
        self.symbols = config.list("symbols");
        self.quote_asset = config.get("quote").unwrap_or("USDT").to_string();
        self.config = config.clone();
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        if let Payload::OrderIntent(intent) = &msg.payload {
            let account = self.account(&intent.symbol);
            out.reply(Payload::RiskVerdict(self.rules.check(intent, &account)));
        }
        Ok(())
    }
}

floor_sdk::export_agent!(RiskSentinel);

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(side: Side, qty: f64, limit: Option<f64>, stop: Option<f64>) -> OrderIntent {
        OrderIntent {
            symbol: "X".into(),
            side,
            order_type: if limit.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: qty,
            limit_price: limit,
            time_in_force: TimeInForce::Gtc,
            tag: String::new(),
            stop_price: stop,
        }
    }

    /// 100,000 cash, flat, X quoted 99.9 / 100.1.
    fn account() -> Account {
        Account {
            quote: Some((99.9, 100.1)),
            cash_free: 100_000.0,
            equity: 100_000.0,
            ..Account::default()
        }
    }

    fn rejected(v: RiskVerdict) -> String {
        match v {
            RiskVerdict::Reject(why) => why,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn a_sized_order_with_a_stop_is_approved() {
        let r = Rules::default();
        // 10 × 100.1 = 1,001: far inside every limit; stop 4% below.
        let v = r.check(&intent(Side::Buy, 10.0, None, Some(96.1)), &account());
        assert_eq!(v, RiskVerdict::Approve);
    }

    #[test]
    fn what_no_size_can_fix_is_rejected_by_rule() {
        let r = Rules::default();
        let a = account();
        let why = rejected(r.check(&intent(Side::Buy, -1.0, None, Some(96.0)), &a));
        assert!(why.starts_with("bad_quantity:"), "{why}");
        let flat = Account {
            quote: None,
            ..account()
        };
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, Some(96.0)), &flat));
        assert_eq!(why, "no_quote: no quote for X to value the order with");
        let why = rejected(r.check(&intent(Side::Buy, 1.0, Some(106.0), Some(101.0)), &a));
        assert_eq!(
            why,
            "fat_finger: limit 106 is 6.00% from the mid 100 (band 5%)"
        );
        // Inside the band is fine.
        let v = r.check(&intent(Side::Buy, 1.0, Some(104.0), Some(100.0)), &a);
        assert_eq!(v, RiskVerdict::Approve);
    }

    #[test]
    fn a_stop_is_required_on_the_right_side_and_close_enough() {
        let r = Rules::default();
        let a = account();
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, None), &a));
        assert_eq!(
            why,
            "stop_required: an order that adds risk needs a stop-price within 5% of 100.1"
        );
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, Some(101.0)), &a));
        assert_eq!(
            why,
            "stop_required: the stop 101 must be below the price 100.1"
        );
        // A short's stop sits above its entry.
        let why = rejected(r.check(&intent(Side::Sell, 1.0, None, Some(99.0)), &a));
        assert_eq!(
            why,
            "stop_required: the stop 99 must be above the price 99.9"
        );
        assert_eq!(
            r.check(&intent(Side::Sell, 1.0, None, Some(104.0)), &a),
            RiskVerdict::Approve
        );
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, Some(90.0)), &a));
        assert!(why.contains("10.09% from 100.1, more than 5%"), "{why}");
    }

    #[test]
    fn reducing_a_position_is_approved_without_a_stop() {
        let r = Rules::default();
        let long = Account {
            position: 50.0,
            ..account()
        };
        assert_eq!(
            r.check(&intent(Side::Sell, 50.0, None, None), &long),
            RiskVerdict::Approve
        );
        // Selling past flat opens a short: that adds risk and needs a stop.
        let why = rejected(r.check(&intent(Side::Sell, 60.0, None, None), &long));
        assert!(why.starts_with("stop_required:"), "{why}");
    }

    #[test]
    fn trading_against_our_own_resting_order_is_refused() {
        let r = Rules::default();
        let a = Account {
            resting: vec![("me-1".into(), Side::Sell, Some(100.5))],
            ..account()
        };
        // A limit buy below our offer does not cross it …
        assert_eq!(
            r.check(&intent(Side::Buy, 1.0, Some(100.4), Some(96.0)), &a),
            RiskVerdict::Approve
        );
        // … a market buy may walk the book up to it.
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, Some(96.0)), &a));
        assert_eq!(
            why,
            "self_cross: a buy at 100.1 would trade against our own order me-1"
        );
        let why = rejected(r.check(&intent(Side::Buy, 1.0, Some(100.5), Some(96.0)), &a));
        assert_eq!(
            why,
            "self_cross: a buy at 100.5 would trade against our own order me-1"
        );
        // The same side never crosses.
        let v = r.check(&intent(Side::Sell, 1.0, Some(100.4), Some(104.0)), &a);
        assert_eq!(v, RiskVerdict::Approve);
    }

    #[test]
    fn size_is_cut_to_the_tightest_limit() {
        let r = Rules::default();
        let a = account();
        let stop = Some(96.0);
        // 20% of 100,000 equity at 100.1 is 199.8 units; the notional cap
        // (50,000) allows 499.5; the reserve (50,000 of cash left) 499.5.
        match r.check(&intent(Side::Buy, 300.0, None, stop), &a) {
            RiskVerdict::Resize(q) => assert!((q - 20_000.0 / 100.1).abs() < 1e-9, "{q}"),
            other => panic!("{other:?}"),
        }
        // A position cap binds before that.
        let capped = Account {
            max_position: Some(5.0),
            position: 3.0,
            ..account()
        };
        assert_eq!(
            r.check(&intent(Side::Buy, 10.0, None, stop), &capped),
            RiskVerdict::Resize(2.0)
        );
        // Little cash: the reserve leaves (30,000 − 50,000) < 0 → no room.
        let poor = Account {
            cash_free: 30_000.0,
            ..account()
        };
        let why = rejected(r.check(&intent(Side::Buy, 1.0, None, stop), &poor));
        assert!(why.starts_with("min_cash_reserve_pct: no room"), "{why}");
        // Without a reserve, buying power binds: 3,003 of cash buys 30.
        let spend_all = Rules {
            min_cash_reserve_pct: 0.0,
            max_position_pct: 100.0,
            ..Rules::default()
        };
        let little = Account {
            cash_free: 3_003.0,
            ..account()
        };
        assert_eq!(
            spend_all.check(&intent(Side::Buy, 50.0, None, stop), &little),
            RiskVerdict::Resize(3_003.0 / 100.1)
        );
    }
}
