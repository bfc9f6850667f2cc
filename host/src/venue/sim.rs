//! The simulated venue, first cut: a seeded random walk per symbol with a
//! spread, producing quotes and trades, and filling orders against the touch.
//!
//! What it models: market orders and marketable limit orders fill at the
//! touch (asks for buys, bids for sells) as takers; non-marketable GTC
//! limit orders rest and fill at their limit price, up to the size shown at
//! the touch, when the market moves through them (partial fills happen);
//! IOC/FOK limit orders that are not marketable are cancelled/expired.
//! Maker and taker fees are charged in the quote asset.
//!
//! What it does not (yet): depth beyond the touch, queue position,
//! self-trade prevention, exchange filters and the Binance protocol. The
//! full matching engine replaces this behind the same [`Venue`] trait.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{Polled, Venue, VenueError, VenueEvent, VenueOrder};
use crate::model::{
    ExecutionReport, MarketEvent, Name, Nanos, OrderStatus, OrderType, Quote, Side, TimeInForce,
    Trade,
};

/// One simulated symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSymbol {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: Name,
    /// Starting mid price.
    pub price: f64,
    /// Standard deviation of one step's log return, in basis points.
    #[serde(default = "default_volatility_bps")]
    pub volatility_bps: f64,
    /// Bid/ask spread, in basis points of the mid.
    #[serde(default = "default_spread_bps")]
    pub spread_bps: f64,
    /// Typical size at the touch, base units.
    #[serde(default = "default_size")]
    pub size: f64,
    /// Price increment.
    #[serde(default = "default_tick_size")]
    pub tick_size: f64,
}

fn default_volatility_bps() -> f64 {
    2.0
}
fn default_spread_bps() -> f64 {
    1.0
}
fn default_size() -> f64 {
    5.0
}
fn default_tick_size() -> f64 {
    0.01
}

/// Simulator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed: the same seed gives the same market.
    pub seed: u64,
    /// Event time of the first step, ns.
    pub start_time: Nanos,
    /// Event time between steps, ns (each step quotes one symbol).
    pub step: Nanos,
    /// Probability that a step also prints a trade.
    pub trade_probability: f64,
    /// Taker fee, basis points of notional.
    pub taker_fee_bps: f64,
    /// Maker fee, basis points of notional.
    pub maker_fee_bps: f64,
    /// Symbols.
    pub symbols: Vec<SimSymbol>,
}

struct Book {
    cfg: SimSymbol,
    mid: f64,
    quote: Quote,
    trade_id: u64,
}

struct Resting {
    order: VenueOrder,
    leaves: f64,
}

/// The simulated venue.
pub struct SimVenue {
    cfg: SimConfig,
    rng: StdRng,
    books: Vec<Book>,
    next_symbol: usize,
    now: Nanos,
    resting: Vec<Resting>,
    pending: VecDeque<(Nanos, VenueEvent)>,
}

fn round_to(price: f64, tick: f64) -> f64 {
    if tick > 0.0 {
        (price / tick).round() * tick
    } else {
        price
    }
}

fn quote_around(cfg: &SimSymbol, mid: f64, bid_size: f64, ask_size: f64) -> Quote {
    let half = (mid * cfg.spread_bps / 2e4).max(cfg.tick_size / 2.0);
    let bid = round_to(mid - half, cfg.tick_size);
    let mut ask = round_to(mid + half, cfg.tick_size);
    if ask <= bid {
        ask = bid + cfg.tick_size.max(f64::EPSILON);
    }
    Quote {
        symbol: cfg.symbol.clone(),
        bid,
        bid_size,
        ask,
        ask_size,
    }
}

impl SimVenue {
    /// A simulator for `cfg`.
    pub fn new(cfg: SimConfig) -> Self {
        let books = cfg
            .symbols
            .iter()
            .map(|s| Book {
                mid: s.price,
                quote: quote_around(s, s.price, s.size, s.size),
                cfg: s.clone(),
                trade_id: 0,
            })
            .collect();
        Self {
            rng: StdRng::seed_from_u64(cfg.seed),
            now: cfg.start_time,
            books,
            next_symbol: 0,
            resting: Vec::new(),
            pending: VecDeque::new(),
            cfg,
        }
    }

    fn book(&self, symbol: &str) -> Option<&Book> {
        self.books.iter().find(|b| b.cfg.symbol == symbol)
    }

    fn fee(&self, notional: f64, maker: bool) -> f64 {
        notional
            * if maker {
                self.cfg.maker_fee_bps
            } else {
                self.cfg.taker_fee_bps
            }
            / 1e4
    }

    fn fill(
        &self,
        order_id: &Name,
        leaves_after: f64,
        qty: f64,
        price: f64,
        maker: bool,
    ) -> ExecutionReport {
        ExecutionReport {
            order_id: order_id.clone(),
            status: if leaves_after > 1e-12 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::Filled
            },
            last_quantity: qty,
            last_price: price,
            fee: self.fee(qty * price, maker),
            fee_base: 0.0,
        }
    }

    fn step(&mut self) {
        if self.books.is_empty() {
            return;
        }
        self.now += self.cfg.step;
        let i = self.next_symbol;
        self.next_symbol = (i + 1) % self.books.len();
        let z: f64 = StandardNormal.sample(&mut self.rng);
        let u_bid: f64 = self.rng.random_range(0.5..1.5);
        let u_ask: f64 = self.rng.random_range(0.5..1.5);
        let trade_roll: f64 = self.rng.random();
        let buy_aggressor: bool = self.rng.random();
        let book = &mut self.books[i];
        book.mid *= (z * book.cfg.volatility_bps / 1e4).exp();
        book.quote = quote_around(
            &book.cfg,
            book.mid,
            book.cfg.size * u_bid,
            book.cfg.size * u_ask,
        );
        let quote = book.quote.clone();
        let now = self.now;
        self.pending
            .push_back((now, VenueEvent::Market(MarketEvent::Quote(quote.clone()))));
        if trade_roll < self.cfg.trade_probability {
            book.trade_id += 1;
            let (price, size, aggressor) = if buy_aggressor {
                (quote.ask, quote.ask_size * 0.1, Side::Buy)
            } else {
                (quote.bid, quote.bid_size * 0.1, Side::Sell)
            };
            let trade = Trade {
                symbol: quote.symbol.clone(),
                price,
                size,
                aggressor,
                trade_id: book.trade_id,
            };
            self.pending
                .push_back((now, VenueEvent::Market(MarketEvent::Trade(trade))));
        }
        for report in self.match_resting(&quote) {
            self.pending.push_back((now, VenueEvent::Execution(report)));
        }
    }

    /// Fill resting orders the new touch has moved through, at their price.
    fn match_resting(&mut self, quote: &Quote) -> Vec<ExecutionReport> {
        let mut reports = Vec::new();
        let (mut bid_left, mut ask_left) = (quote.bid_size, quote.ask_size);
        let mut i = 0;
        while i < self.resting.len() {
            let r = &self.resting[i];
            let price = r.order.limit_price.unwrap_or(0.0);
            let crossed = r.order.symbol == quote.symbol
                && match r.order.side {
                    Side::Buy => quote.ask <= price,
                    Side::Sell => quote.bid >= price,
                };
            let available = match r.order.side {
                Side::Buy => &mut ask_left,
                Side::Sell => &mut bid_left,
            };
            if !crossed || *available <= 0.0 {
                i += 1;
                continue;
            }
            let qty = r.leaves.min(*available);
            *available -= qty;
            let leaves = r.leaves - qty;
            reports.push(self.fill(&r.order.order_id.clone(), leaves, qty, price, true));
            if leaves > 1e-12 {
                self.resting[i].leaves = leaves;
                i += 1;
            } else {
                self.resting.remove(i);
            }
        }
        reports
    }

    fn reject(order_id: &Name, reason: String) -> ExecutionReport {
        ExecutionReport {
            order_id: order_id.clone(),
            status: OrderStatus::Rejected { reason },
            last_quantity: 0.0,
            last_price: 0.0,
            fee: 0.0,
            fee_base: 0.0,
        }
    }

    fn status_only(order_id: &Name, status: OrderStatus) -> ExecutionReport {
        ExecutionReport {
            order_id: order_id.clone(),
            status,
            last_quantity: 0.0,
            last_price: 0.0,
            fee: 0.0,
            fee_base: 0.0,
        }
    }
}

impl Venue for SimVenue {
    fn name(&self) -> &str {
        "sim"
    }

    fn poll(&mut self) -> Polled {
        if self.pending.is_empty() {
            self.step();
        }
        match self.pending.pop_front() {
            Some((t, e)) => Polled::Event(t, e),
            None => Polled::Ended,
        }
    }

    fn submit(&mut self, order: VenueOrder, _now: Nanos) -> Vec<ExecutionReport> {
        let id = order.order_id.clone();
        let Some(book) = self.book(&order.symbol) else {
            return vec![Self::reject(
                &id,
                format!("unknown symbol `{}`", order.symbol),
            )];
        };
        if !(order.quantity.is_finite() && order.quantity > 0.0) {
            return vec![Self::reject(
                &id,
                format!("invalid quantity {}", order.quantity),
            )];
        }
        let limit = match (order.order_type, order.limit_price) {
            (OrderType::Limit, Some(p)) if p.is_finite() && p > 0.0 => Some(p),
            (OrderType::Limit, p) => {
                return vec![Self::reject(
                    &id,
                    format!("limit order needs a positive limit price, got {p:?}"),
                )];
            }
            (OrderType::Market, _) => None,
        };
        let q = &book.quote;
        let touch = match order.side {
            Side::Buy => q.ask,
            Side::Sell => q.bid,
        };
        let marketable = match (order.side, limit) {
            (_, None) => true,
            (Side::Buy, Some(p)) => p >= touch,
            (Side::Sell, Some(p)) => p <= touch,
        };
        let mut reports = vec![Self::status_only(&id, OrderStatus::Accepted)];
        if marketable {
            reports.push(self.fill(&id, 0.0, order.quantity, touch, false));
        } else {
            match order.time_in_force {
                TimeInForce::Gtc => self.resting.push(Resting {
                    leaves: order.quantity,
                    order,
                }),
                TimeInForce::Ioc => reports.push(Self::status_only(&id, OrderStatus::Cancelled)),
                TimeInForce::Fok => reports.push(Self::status_only(&id, OrderStatus::Expired)),
            }
        }
        reports
    }

    fn cancel(&mut self, order_id: &str, _now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        let pos = self
            .resting
            .iter()
            .position(|r| r.order.order_id == order_id)
            .ok_or_else(|| VenueError::UnknownOrder(order_id.to_string()))?;
        let gone = self.resting.remove(pos);
        Ok(vec![Self::status_only(
            &gone.order.order_id,
            OrderStatus::Cancelled,
        )])
    }

    fn observe(&mut self, event: &MarketEvent, _now: Nanos) -> Vec<ExecutionReport> {
        let MarketEvent::Quote(q) = event else {
            return Vec::new();
        };
        match self.books.iter_mut().find(|b| b.cfg.symbol == q.symbol) {
            Some(book) => {
                book.quote.clone_from(q);
                book.mid = q.mid();
            }
            None => return Vec::new(),
        }
        self.match_resting(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> SimVenue {
        SimVenue::new(SimConfig {
            seed: 7,
            start_time: 1_000,
            step: 10,
            trade_probability: 0.5,
            taker_fee_bps: 10.0,
            maker_fee_bps: 0.0,
            symbols: vec![SimSymbol {
                symbol: "BTCUSDT".into(),
                price: 100.0,
                volatility_bps: 5.0,
                spread_bps: 10.0,
                size: 2.0,
                tick_size: 0.01,
            }],
        })
    }

    fn order(id: &str, side: Side, ty: OrderType, qty: f64, px: Option<f64>) -> VenueOrder {
        VenueOrder {
            order_id: id.into(),
            symbol: "BTCUSDT".into(),
            side,
            order_type: ty,
            quantity: qty,
            limit_price: px,
            time_in_force: TimeInForce::Gtc,
        }
    }

    #[test]
    fn same_seed_same_market() {
        let (mut a, mut b) = (sim(), sim());
        for _ in 0..100 {
            assert_eq!(a.poll(), b.poll());
        }
    }

    #[test]
    fn market_buy_fills_at_the_ask_with_taker_fee() {
        let mut v = sim();
        let ask = v.book("BTCUSDT").unwrap().quote.ask;
        let r = v.submit(order("o1", Side::Buy, OrderType::Market, 1.0, None), 0);
        assert_eq!(r[0].status, OrderStatus::Accepted);
        assert_eq!(r[1].status, OrderStatus::Filled);
        assert_eq!(r[1].last_price, ask);
        assert!((r[1].fee - ask * 1.0 * 10.0 / 1e4).abs() < 1e-12);
    }

    #[test]
    fn resting_limit_fills_partially_when_the_market_comes_to_it() {
        let mut v = sim();
        let r = v.submit(order("o1", Side::Buy, OrderType::Limit, 3.0, Some(99.0)), 0);
        assert_eq!(r.len(), 1, "only accepted: {r:?}");
        let q = |ask: f64, ask_size: f64| {
            MarketEvent::Quote(Quote {
                symbol: "BTCUSDT".into(),
                bid: ask - 0.1,
                bid_size: 1.0,
                ask,
                ask_size,
            })
        };
        assert!(v.observe(&q(99.5, 5.0), 0).is_empty());
        let fills = v.observe(&q(98.9, 2.0), 0);
        assert_eq!(fills.len(), 1);
        assert_eq!(fills[0].status, OrderStatus::PartiallyFilled);
        assert_eq!((fills[0].last_quantity, fills[0].last_price), (2.0, 99.0));
        let fills = v.observe(&q(98.8, 5.0), 0);
        assert_eq!(fills[0].status, OrderStatus::Filled);
        assert_eq!(fills[0].last_quantity, 1.0);
        assert_eq!(
            v.cancel("o1", 0),
            Err(VenueError::UnknownOrder("o1".into()))
        );
    }

    #[test]
    fn bad_orders_are_rejected_with_a_reason() {
        let mut v = sim();
        let r = v.submit(order("o1", Side::Buy, OrderType::Limit, 1.0, None), 0);
        assert!(
            matches!(&r[0].status, OrderStatus::Rejected { reason } if reason.contains("limit price"))
        );
        let mut o = order("o2", Side::Buy, OrderType::Market, 1.0, None);
        o.symbol = "NOPE".into();
        let r = v.submit(o, 0);
        assert!(
            matches!(&r[0].status, OrderStatus::Rejected { reason } if reason.contains("unknown symbol"))
        );
    }
}
