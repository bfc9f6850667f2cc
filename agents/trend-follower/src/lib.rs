//! Trend follower with a stop and a target: a classic long-only setup,
//! written on the SDK's [`Lifecycle`].
//!
//! Entry, on a quote of its symbol while scanning: the mid is above its
//! `ma`-period average (20), the RSI (14) is between `rsi_min` and
//! `rsi_max` (50–70: rising, not yet overbought), and the latest trade's
//! size is above the average of the last `volume_window` trades (20). It
//! buys `quantity` at market with a stop `stop_pct` (5%) below the entry
//! and a target at `reward_risk` (3) times the risk above it.
//!
//! The stop travels with the entry order (`stop-price`), so the host holds
//! it: when the bid falls to it the host sells the position at market
//! (tag `stop:<entry id>`) before this agent even sees the quote — and it
//! would do so if this agent were stuck or gone. The agent follows that
//! order to CLOSED; only if the host's stop order is refused does it sell
//! on its own at the next quote below the stop.
//!
//! Holding, on each quote: the bid at or above the target sells the
//! position at market. Each entry and exit is published
//! on `signal.trend_follower.<symbol>` (+10 entering, -10 leaving), and each
//! closed trade's PnL is logged.
//!
//! An entry the risk stage refuses goes back to scanning; a refused exit
//! keeps holding and tries again on the next quote. The whole state,
//! lifecycle included, survives a hot swap (`serde_snapshot!`).
//!
//! Config: `symbol` (required), `ma` (20), `rsi` (14), `rsi_min` (50),
//! `rsi_max` (70), `volume_window` (20), `quantity` (0.01), `stop_pct` (5),
//! `reward_risk` (3).

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
struct TrendFollower {
    symbol: String,
    quantity: f64,
    stop_pct: f64,
    reward_risk: f64,
    rsi_band: (f64, f64),
    ma: Option<Sma>,
    rsi: Option<Rsi>,
    volume: Option<Sma>,
    last_volume: f64,
    trade: Lifecycle,
    /// Fills of the order in `working`: (quantity, notional).
    filled: (f64, f64),
    /// The order whose fills `filled` adds up.
    #[serde(default)]
    working: String,
    /// The host holds our stop (false after it failed to close the trade).
    #[serde(default)]
    host_stop: bool,
}

impl TrendFollower {
    fn signal(&self, score: f64, out: &mut Outputs) {
        out.publish(
            format!("signal.trend_follower.{}", self.symbol),
            Payload::Signal(Signal {
                symbol: self.symbol.clone(),
                score,
                confidence: 1.0,
                horizon_ns: 3_600_000_000_000,
            }),
        );
    }

    fn on_quote(&mut self, q: &Quote, out: &mut Outputs) -> Result<(), Error> {
        let mid = (q.bid + q.ask) / 2.0;
        let (Some(ma), Some(rsi)) = (self.ma.as_mut(), self.rsi.as_mut()) else {
            return Err(error("not_initialised", "init was not called"));
        };
        let (avg, strength) = (ma.update(mid), rsi.update(mid));
        match self.trade.state() {
            TradeState::Scanning | TradeState::Closed => {
                let (Some(avg), Some(strength)) = (avg, strength) else {
                    return Ok(());
                };
                let volume_ok = self
                    .volume
                    .as_ref()
                    .and_then(Sma::value)
                    .is_some_and(|v| self.last_volume > v);
                let (lo, hi) = self.rsi_band;
                if mid > avg && strength > lo && strength < hi && volume_ok {
                    let plan = Plan::with_reward_risk(
                        Side::Buy,
                        q.ask,
                        self.quantity,
                        self.stop_pct,
                        self.reward_risk,
                    );
                    self.trade.setup(plan).map_err(lifecycle)?;
                    self.trade.approve().map_err(lifecycle)?;
                    out.market_with_stop(
                        &self.symbol,
                        Side::Buy,
                        self.quantity,
                        plan.stop,
                        "entry",
                    );
                    self.trade.placed().map_err(lifecycle)?;
                    self.signal(10.0, out);
                }
            }
            TradeState::Holding => {
                if let Some(why) = self.trade.check_exit(q.bid) {
                    self.signal(-10.0, out);
                    let host_stop_out = why == ExitReason::Stop
                        && self.host_stop
                        && host::open_orders(&self.symbol)
                            .iter()
                            .any(|o| o.tag.starts_with("stop:"));
                    self.trade.closing().map_err(lifecycle)?;
                    if host_stop_out {
                        host::log(
                            LogLevel::Info,
                            &format!("the host's stop is selling at bid {}", q.bid),
                        );
                        return Ok(());
                    }
                    // Sell what is held: a venue that takes the buy's
                    // commission in the coin leaves less than was bought.
                    let held = host::quantity(&self.symbol);
                    if held <= 0.0 {
                        // Someone else closed it: nothing to sell.
                        let pnl = self.trade.closed_at(q.bid).map_err(lifecycle)?;
                        host::log(
                            LogLevel::Warn,
                            &format!(
                                "{why:?} at bid {}, but the position is already flat (pnl {pnl:+.4})",
                                q.bid
                            ),
                        );
                        return Ok(());
                    }
                    host::log(LogLevel::Info, &format!("exit on {why:?} at bid {}", q.bid));
                    out.market(&self.symbol, Side::Sell, held.min(self.quantity), "exit");
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_order(&mut self, e: &OrderEvent) -> Result<(), Error> {
        if e.symbol != self.symbol {
            return Ok(());
        }
        if e.order_id != self.working {
            self.working = e.order_id.clone();
            self.filled = (0.0, 0.0);
        }
        if e.last_quantity > 0.0 {
            self.filled.0 += e.last_quantity;
            self.filled.1 += e.last_quantity * e.last_price;
        }
        let average = if self.filled.0 > 0.0 {
            self.filled.1 / self.filled.0
        } else {
            0.0
        };
        let done = matches!(
            e.status,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Expired
                | OrderStatus::Rejected(_)
        );
        if !done {
            return Ok(());
        }
        let tag = if e.tag.starts_with("stop:") {
            "stop"
        } else {
            e.tag.as_str()
        };
        if tag == "stop" && self.trade.state() == TradeState::Holding {
            // The stop's fill came before the quote that set it off.
            let stop = self.trade.plan().map_or(0.0, |p| p.stop);
            self.trade.check_exit(stop);
            self.trade.closing().map_err(lifecycle)?;
        }
        let result = match (self.trade.state(), tag, self.filled.0 > 0.0) {
            (TradeState::OrderPlaced, "entry", true) => {
                self.host_stop = true;
                self.trade.filled(average)
            }
            (TradeState::OrderPlaced, "entry", false) => self.trade.abandon(),
            (TradeState::OrderClosing, "exit" | "stop", true) => {
                self.trade.closed_at(average).map(|pnl| {
                    host::log(
                        LogLevel::Info,
                        &format!("trade closed: pnl {pnl:+.4} before fees"),
                    );
                })
            }
            (TradeState::OrderClosing, "exit", false) => self.trade.exit_refused(),
            (TradeState::OrderClosing, "stop", false) => {
                // The host's stop did not close it: from now on, our own.
                self.host_stop = false;
                self.trade.exit_refused()
            }
            _ => Ok(()),
        };
        result.map_err(lifecycle)
    }
}

fn lifecycle(e: floor_sdk::lifecycle::LifecycleError) -> Error {
    error("lifecycle", e.to_string())
}

impl Agent for TrendFollower {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        self.symbol = config.require("symbol")?.to_string();
        let ma: usize = config.parse_or("ma", 20)?;
        let rsi: usize = config.parse_or("rsi", 14)?;
        let window: usize = config.parse_or("volume_window", 20)?;
        self.quantity = config.parse_or("quantity", 0.01)?;
        self.stop_pct = config.parse_or("stop_pct", 5.0)?;
        self.reward_risk = config.parse_or("reward_risk", 3.0)?;
        self.rsi_band = (
            config.parse_or("rsi_min", 50.0)?,
            config.parse_or("rsi_max", 70.0)?,
        );
        if ma == 0 || rsi == 0 || window == 0 {
            return Err(error(
                "bad_config",
                "ma, rsi and volume_window must be at least 1",
            ));
        }
        if !(self.quantity > 0.0
            && self.stop_pct > 0.0
            && self.stop_pct < 100.0
            && self.reward_risk > 0.0)
        {
            return Err(error(
                "bad_config",
                "need quantity > 0, 0 < stop_pct < 100 and reward_risk > 0",
            ));
        }
        if self.rsi_band.0 >= self.rsi_band.1 {
            return Err(error("bad_config", "need rsi_min < rsi_max"));
        }
        self.ma = Some(Sma::new(ma));
        self.rsi = Some(Rsi::new(rsi));
        self.volume = Some(Sma::new(window));
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        match &msg.payload {
            Payload::Quote(q) if q.symbol == self.symbol => self.on_quote(q, out),
            Payload::Trade(t) if t.symbol == self.symbol => {
                if let Some(v) = self.volume.as_mut() {
                    v.update(t.size);
                }
                self.last_volume = t.size;
                Ok(())
            }
            Payload::OrderEvent(e) => self.on_order(e),
            _ => Ok(()),
        }
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(TrendFollower);
