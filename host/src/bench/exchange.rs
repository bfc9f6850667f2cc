//! The simulated exchange's matching engine alone: a seeded mix of limit
//! orders (resting and crossing), market orders and cancels from three
//! accounts against one symbol, events drained after each request as the
//! protocol server does. Behind `sim_orders_per_sec`.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rustc_hash::FxHashMap;

use crate::exchange::{Event, Exchange, Fixed, NewOrder, OrderRef, SymbolSpec};
use crate::model::Side;

const SYMBOL: &str = "BTCUSDT";

/// A running order flow against one exchange.
pub struct OrderFlow {
    exchange: Exchange,
    rng: StdRng,
    accounts: [u32; 3],
    /// The flow's open orders (cancel candidates), with the owner, and
    /// where each id sits in that list.
    recent: Vec<(u32, u64)>,
    position: FxHashMap<u64, usize>,
    now: u64,
    mix: Mix,
}

impl Default for OrderFlow {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderFlow {
    /// A book seeded with resting liquidity around 100.00.
    pub fn new() -> OrderFlow {
        let spec = SymbolSpec::spot(SYMBOL, "BTC", "USDT");
        let mut exchange = Exchange::new(vec![spec])
            .expect("a valid symbol")
            .retain(10_000);
        let accounts = [0, 1, 2].map(|i| {
            let a = exchange.open_account(&format!("bench{i}"), 2, 4);
            exchange.deposit(a, "BTC", Fixed::units(1_000_000_000));
            exchange.deposit(a, "USDT", Fixed::units(1_000_000_000));
            a
        });
        let mut flow = OrderFlow {
            exchange,
            rng: StdRng::seed_from_u64(42),
            accounts,
            recent: Vec::new(),
            now: 0,
            position: FxHashMap::default(),
            mix: Mix::default(),
        };
        for _ in 0..2_000 {
            flow.limit(true);
        }
        flow
    }

    fn limit(&mut self, resting: bool) {
        let side = if self.rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        // Resting orders sit 1–50 ticks from 100.00 on their own side;
        // crossing ones reach up to 5 ticks through it.
        let ticks: i64 = if resting {
            self.rng.random_range(1..50)
        } else {
            -self.rng.random_range(0..5)
        };
        let offset = Fixed(ticks * 1_000_000);
        let price = match side {
            Side::Buy => Fixed::units(100) - offset,
            Side::Sell => Fixed::units(100) + offset,
        };
        let qty = Fixed(self.rng.random_range(10..100) * 1_000_000);
        let account = self.accounts[self.rng.random_range(0..3)];
        let placed =
            self.exchange
                .new_order(account, NewOrder::limit(SYMBOL, side, qty, price), self.now);
        if let Ok(ack) = placed
            && !ack.order.state.is_final()
        {
            self.position.insert(ack.order.order_id, self.recent.len());
            self.recent.push((account, ack.order.order_id));
        }
    }

    /// One request: 15 % crossing limit, 10 % market order, and
    /// otherwise a resting limit while fewer than 2,000 of the flow's
    /// orders are open, else a cancel of a random one of them (so the
    /// book keeps its size through the run). Returns the events it
    /// produced.
    pub fn step(&mut self) -> usize {
        self.now += 1;
        let roll = self.rng.random_range(0..100);
        if roll < 15 {
            self.limit(false);
            self.mix.crossing += 1;
        } else if roll < 25 {
            let side = if self.rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let qty = Fixed(self.rng.random_range(10..100) * 1_000_000);
            let account = self.accounts[self.rng.random_range(0..3)];
            let _ = self
                .exchange
                .new_order(account, NewOrder::market(SYMBOL, side, qty), self.now);
            self.mix.market += 1;
        } else if self.recent.len() < 2_000 {
            self.limit(true);
            self.mix.resting += 1;
        } else {
            let i = self.rng.random_range(0..self.recent.len());
            let (account, id) = self.recent[i];
            self.forget(id);
            match self
                .exchange
                .cancel(account, SYMBOL, &OrderRef::Id(id), self.now)
            {
                Ok(_) => self.mix.cancelled += 1,
                Err(_) => self.mix.cancel_unknown += 1,
            }
        }
        // Like a client reading its execution reports: orders that ended
        // are no longer cancel candidates.
        let mut n = 0;
        let mut ended = Vec::new();
        for e in self.exchange.drain_events() {
            n += 1;
            if let Event::Execution(x) = e
                && x.order.state.is_final()
            {
                ended.push(x.order.order_id);
            }
        }
        for id in ended {
            self.forget(id);
        }
        n
    }

    fn forget(&mut self, id: u64) {
        if let Some(i) = self.position.remove(&id) {
            self.recent.swap_remove(i);
            if let Some((_, moved)) = self.recent.get(i) {
                self.position.insert(*moved, i);
            }
        }
    }

    /// What the flow has done so far.
    pub fn mix(&self) -> Mix {
        self.mix
    }
}

/// Counts of the requests an [`OrderFlow`] made.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mix {
    /// Limit orders placed away from the touch.
    pub resting: u64,
    /// Limit orders placed through the touch.
    pub crossing: u64,
    /// Market orders.
    pub market: u64,
    /// Cancels of open orders.
    pub cancelled: u64,
    /// Cancels refused (-2011): none unless the flow loses track.
    pub cancel_unknown: u64,
}

/// Requests per second through the matching engine.
pub fn exchange_throughput(requests: u64) -> f64 {
    let mut flow = OrderFlow::new();
    let start = std::time::Instant::now();
    let mut events = 0;
    for _ in 0..requests {
        events += flow.step();
    }
    std::hint::black_box(events);
    requests as f64 / start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark measures what it says: every kind of request happens
    /// in about its share, takers trade, and most cancels find their order.
    #[test]
    fn the_flow_is_the_advertised_mix() {
        let mut flow = OrderFlow::new();
        let events: usize = (0..50_000).map(|_| flow.step()).sum();
        let m = flow.mix();
        let total = (m.resting + m.crossing + m.market + m.cancelled + m.cancel_unknown) as f64;
        assert!(total > 49_000.0, "{m:?}");
        assert!((m.crossing as f64 / total - 0.15).abs() < 0.02, "{m:?}");
        assert!((m.market as f64 / total - 0.10).abs() < 0.02, "{m:?}");
        assert!(m.resting as f64 / total > 0.3, "{m:?}");
        assert_eq!(m.cancel_unknown, 0, "every cancel found its order: {m:?}");
        assert!(m.cancelled as f64 / total > 0.2, "{m:?}");
        assert!(
            events as f64 > 3.0 * total,
            "fills and reports happened: {events}"
        );
        let open: usize = flow
            .accounts
            .iter()
            .map(|a| flow.exchange.open_orders(*a, None).len())
            .sum();
        assert!(
            (500..5_000).contains(&open),
            "the book keeps its size: {open}"
        );
    }
}
