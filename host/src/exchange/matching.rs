//! Matching: an incoming order takes from the book in price-time
//! priority, self-trade prevention applies, what is left rests or expires,
//! and stop orders trigger on the last trade price.
//!
//! Money moves here. A fill spends exactly what the order locked for that
//! quantity, refunds price improvement at once, and credits the other asset
//! less the fee (Binance charges the fee in the asset received). Every sum
//! is in [`Fixed`] integers, so balances reconcile to the last 10⁻⁸.

use super::book::Handle;
use super::engine::{AccountTrade, Exchange, available, stop_triggered};
use super::order::{Event, ExecKind, Execution, Fill, OrderKind, OrderState, PublicTrade, StpMode};
use crate::model::Fixed;
use crate::model::{Side, TimeInForce};

/// Why a taker stopped matching.
#[derive(PartialEq)]
enum Stop {
    /// Nothing (crossing) left on the other side.
    Book,
    /// It has what it asked for.
    Done,
    /// Self-trade prevention expired it.
    Prevented,
}

impl Exchange {
    /// Match order `id` as a taker, then rest or expire what is left.
    pub(super) fn work(
        &mut self,
        m: usize,
        id: u64,
        now_ms: u64,
        mut fills: Option<&mut Vec<Fill>>,
    ) {
        let o = &self.orders[&id];
        let (side, account, stp) = (o.side, o.account, o.stp);
        let kind = o.kind.triggered();
        let limit = o.kind.has_price().then_some(o.price);
        let by_quote = o.orig_qty.is_zero();
        let step = self.markets[m].spec.step_size;
        if kind == OrderKind::Limit
            && o.tif == TimeInForce::Fok
            && available(&self.markets[m].book, side, limit) < o.leaves()
        {
            self.finish(id, OrderState::Expired, ExecKind::Expired, "NONE", now_ms);
            return;
        }
        let stop = loop {
            let o = &self.orders[&id];
            let book = &self.markets[m].book;
            let Some(h) = book.head(side.opposite()) else {
                break Stop::Book;
            };
            let maker = book.node(h);
            let (price, maker_id, maker_leaves) = (maker.price, maker.order_id, maker.leaves);
            let crosses = match (side, limit) {
                (_, None) => true,
                (Side::Buy, Some(l)) => price <= l,
                (Side::Sell, Some(l)) => price >= l,
            };
            if !crosses {
                break Stop::Book;
            }
            let want = if by_quote {
                (o.orig_quote_qty - o.cum_quote_qty).div_floor(price, step)
            } else {
                o.leaves()
            };
            if want.is_zero() {
                break Stop::Done;
            }
            if maker.account == account && stp != StpMode::None {
                match stp {
                    StpMode::ExpireMaker => {
                        self.prevent_maker(m, h, maker_id, now_ms);
                        continue;
                    }
                    StpMode::ExpireBoth => {
                        self.prevent_maker(m, h, maker_id, now_ms);
                        break Stop::Prevented;
                    }
                    StpMode::Decrement if !by_quote => {
                        let d = want.min(maker_leaves);
                        self.decrement(m, h, maker_id, id, d, price, now_ms);
                        if self.orders[&id].leaves().is_zero() {
                            break Stop::Prevented;
                        }
                        continue;
                    }
                    _ => break Stop::Prevented,
                }
            }
            let mut qty = want.min(maker_leaves);
            // A market order spends no more than it locked; a buy whose
            // lock fell short (the book moved, or self-trade prevention
            // took its cheaper levels) takes the rest from free funds.
            if limit.is_none() {
                let short = price.times(qty) - o.locked;
                if side == Side::Buy && !by_quote && short > Fixed::ZERO {
                    let asset = self.markets[m].quote;
                    if self.ledgers[account as usize].account.lock(asset, short) {
                        self.orders.get_mut(&id).expect("the taker exists").locked += short;
                    }
                }
                let o = &self.orders[&id];
                let afford = match side {
                    Side::Buy => o.locked.div_floor(price, step),
                    Side::Sell => o.locked,
                };
                qty = qty.min(afford);
                if qty.is_zero() {
                    break Stop::Book;
                }
            }
            let fill = self.fill(m, id, h, maker_id, qty, price, by_quote, now_ms);
            if let Some(fills) = fills.as_deref_mut() {
                fills.push(fill);
            }
        };
        let o = self.orders.get_mut(&id).expect("the taker exists");
        if stop == Stop::Prevented {
            o.prevented_qty = o.orig_qty - o.executed_qty;
            self.expire_in_match(id, now_ms);
        } else if by_quote {
            // Binance reports the quantity a quote-amount order bought.
            o.orig_qty = o.executed_qty;
            if stop == Stop::Done && !o.executed_qty.is_zero() {
                o.state = OrderState::Filled;
                self.complete(id);
            } else {
                self.finish(id, OrderState::Expired, ExecKind::Expired, "NONE", now_ms);
            }
        } else if o.state == OrderState::Filled {
            self.complete(id);
        } else if (kind == OrderKind::Limit && o.tif == TimeInForce::Gtc)
            || kind == OrderKind::LimitMaker
        {
            let leaves = o.leaves();
            o.is_working = true;
            if o.working_time == 0 {
                o.working_time = now_ms;
            }
            let price = o.price;
            let h = self.markets[m]
                .book
                .insert(side, price, id, account, leaves);
            self.orders.get_mut(&id).expect("the taker exists").slot = Some(h);
        } else {
            self.finish(id, OrderState::Expired, ExecKind::Expired, "NONE", now_ms);
        }
    }

    /// One trade between taker `taker` and the resting order in slot `h`.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        m: usize,
        taker: u64,
        h: Handle,
        maker: u64,
        qty: Fixed,
        price: Fixed,
        by_quote: bool,
        now_ms: u64,
    ) -> Fill {
        let market = &mut self.markets[m];
        let trade_id = market.next_trade_id;
        market.next_trade_id += 1;
        market.last_price = Some(price);
        let (base, quote, step) = (market.base, market.quote, market.spec.step_size);
        if market.book.reduce(h, qty) {
            self.orders
                .get_mut(&maker)
                .expect("resting orders are known")
                .slot = None;
        }
        let notional = price.times(qty);
        let mut taker_fill = None;
        let mut buyer_is_maker = false;
        for (id, is_maker) in [(taker, false), (maker, true)] {
            let o = self.orders.get_mut(&id).expect("both sides exist");
            let account = &mut self.ledgers[o.account as usize].account;
            let bps = if is_maker {
                account.maker_bps
            } else {
                account.taker_bps
            };
            let (commission, fee_asset) = match o.side {
                Side::Buy => {
                    let release = if !o.kind.has_price() {
                        notional.min(o.locked)
                    } else if qty >= o.leaves() {
                        o.locked
                    } else {
                        o.price.times(qty).min(o.locked)
                    };
                    account.spend_locked(quote, release);
                    o.locked -= release;
                    account.credit(quote, release - notional);
                    let fee = qty.bps(bps);
                    account.credit(base, qty - fee);
                    buyer_is_maker |= is_maker;
                    (fee, base)
                }
                Side::Sell => {
                    let release = qty.min(o.locked);
                    account.spend_locked(base, release);
                    o.locked -= release;
                    let fee = notional.bps(bps);
                    account.credit(quote, notional - fee);
                    (fee, quote)
                }
            };
            o.executed_qty += qty;
            o.cum_quote_qty += notional;
            o.update_time = now_ms;
            let done = if by_quote && !is_maker {
                (o.orig_quote_qty - o.cum_quote_qty)
                    .div_floor(price, step)
                    .is_zero()
            } else {
                o.leaves().is_zero()
            };
            o.state = if done {
                OrderState::Filled
            } else {
                OrderState::PartiallyFilled
            };
            let order = o.clone();
            let owner = o.account;
            let fee_asset = self.assets[fee_asset].clone();
            self.record_trade(
                owner,
                AccountTrade {
                    symbol: order.symbol.clone(),
                    id: trade_id,
                    order_id: id,
                    price,
                    qty,
                    quote_qty: notional,
                    commission,
                    commission_asset: fee_asset.clone(),
                    time: now_ms,
                    is_buyer: order.side == Side::Buy,
                    is_maker,
                },
            );
            if !is_maker {
                taker_fill = Some(Fill {
                    price,
                    qty,
                    commission,
                    commission_asset: fee_asset.clone(),
                    trade_id,
                });
            }
            self.events.push(Event::Execution(Box::new(Execution {
                order,
                exec: ExecKind::Trade,
                reason: "NONE",
                last_qty: qty,
                last_price: price,
                commission,
                commission_asset: Some(fee_asset),
                trade_id: trade_id as i64,
                is_maker,
                time: now_ms,
            })));
            self.touch(owner);
            if done && is_maker {
                self.complete(id);
            }
        }
        self.events.push(Event::Trade(PublicTrade {
            symbol: self.markets[m].name.clone(),
            id: trade_id,
            price,
            qty,
            buyer_is_maker,
            time: now_ms,
        }));
        taker_fill.expect("the taker filled")
    }

    /// A filled order leaves the open set; rounding dust it still locks
    /// goes back to free.
    fn complete(&mut self, id: u64) {
        let o = self.orders.get_mut(&id).expect("completing a known order");
        o.is_working = false;
        let dust = std::mem::take(&mut o.locked);
        let (account, side) = (o.account, o.side);
        if !dust.is_zero() {
            let m = self.market(&self.orders[&id].symbol).expect("known symbol");
            let market = &self.markets[m];
            let asset = if side == Side::Buy {
                market.quote
            } else {
                market.base
            };
            self.ledgers[account as usize].account.unlock(asset, dust);
        }
        // The last TRADE report already said FILLED: no second report.
        self.archive(account, id);
    }

    /// Self-trade prevention ends an order (`EXPIRED_IN_MATCH`).
    fn expire_in_match(&mut self, id: u64, now_ms: u64) {
        self.finish(
            id,
            OrderState::ExpiredInMatch,
            ExecKind::TradePrevention,
            "NONE",
            now_ms,
        );
    }

    /// Self-trade prevention expires a resting order.
    fn prevent_maker(&mut self, m: usize, h: Handle, id: u64, now_ms: u64) {
        let node = self.markets[m].book.remove(h);
        let o = self.orders.get_mut(&id).expect("resting orders are known");
        o.slot = None;
        o.prevented_qty += node.leaves;
        self.expire_in_match(id, now_ms);
    }

    /// `DECREMENT`: both orders lose `d`; whichever reaches zero expires.
    #[allow(clippy::too_many_arguments)]
    fn decrement(
        &mut self,
        m: usize,
        h: Handle,
        maker: u64,
        taker: u64,
        d: Fixed,
        price: Fixed,
        now_ms: u64,
    ) {
        if self.markets[m].book.reduce(h, d) {
            self.orders
                .get_mut(&maker)
                .expect("resting orders are known")
                .slot = None;
        }
        let (base, quote) = (self.markets[m].base, self.markets[m].quote);
        for id in [maker, taker] {
            let o = self.orders.get_mut(&id).expect("both sides exist");
            o.prevented_qty += d;
            o.update_time = now_ms;
            let (asset, release) = match o.side {
                Side::Buy => (quote, o.price.max(price).times(d).min(o.locked)),
                Side::Sell => (base, d.min(o.locked)),
            };
            o.locked -= release;
            let account = o.account;
            self.ledgers[account as usize]
                .account
                .unlock(asset, release);
            self.touch(account);
            if id == maker {
                if self.orders[&id].leaves().is_zero() {
                    self.expire_in_match(id, now_ms);
                } else {
                    self.report(id, ExecKind::TradePrevention, "NONE", now_ms);
                }
            }
        }
    }

    /// Trigger the stop orders the last price has reached, oldest first,
    /// until none is left to trigger (a triggered stop's trades can trigger
    /// more).
    pub(super) fn trigger_stops(&mut self, m: usize, now_ms: u64) {
        loop {
            let Some(last) = self.markets[m].last_price else {
                return;
            };
            let orders = &self.orders;
            let Some(pos) = self.markets[m].stops.iter().position(|id| {
                let o = &orders[id];
                stop_triggered(o.kind, o.side, o.stop_price, last)
            }) else {
                return;
            };
            let id = self.markets[m].stops.remove(pos);
            let o = self.orders.get_mut(&id).expect("stops are known orders");
            o.is_working = true;
            o.working_time = now_ms;
            if o.kind.triggered() == OrderKind::Market && o.side == Side::Buy {
                // It locked at its stop price; now it locks what the book
                // will actually cost.
                let (account, held, leaves) = (o.account, o.locked, o.leaves());
                let quote = self.markets[m].quote;
                let need = self
                    .funds_needed(m, Side::Buy, OrderKind::Market, None, Some(leaves), None)
                    .lock;
                let acct = &mut self.ledgers[account as usize].account;
                acct.unlock(quote, held);
                let o = self.orders.get_mut(&id).expect("known");
                if acct.lock(quote, need) {
                    o.locked = need;
                } else {
                    o.locked = Fixed::ZERO;
                    self.touch(account);
                    self.finish(
                        id,
                        OrderState::Expired,
                        ExecKind::Expired,
                        "INSUFFICIENT_BALANCES",
                        now_ms,
                    );
                    continue;
                }
            }
            self.work(m, id, now_ms, None);
        }
    }
}
