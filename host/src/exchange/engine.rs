//! The exchange: accounts, symbols, order entry, cancels and queries.
//!
//! [`Exchange`] is a deterministic state machine: every call takes the
//! event time (`now_ms`) from its caller, and the same calls in the same
//! order give the same orders, trades and balances. What it reports goes
//! into an event queue ([`Exchange::drain_events`]) that the protocol layer
//! turns into `executionReport`, `trade` and `outboundAccountPosition`
//! messages. Matching itself is in [`matching`](super::matching).

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::account::{Account, Balance};
use super::book::{Book, DepthDiff};
use super::error::{ApiError, reject};
use super::order::{
    Event, ExecKind, Execution, Fill, NewOrder, Order, OrderKind, OrderState, StpMode,
};
use super::store::OrderStore;
use super::symbol::SymbolSpec;
use crate::model::Fixed;
use crate::model::{Side, TimeInForce};

/// How many closed orders and trades each account keeps for
/// `allOrders` / `myTrades` (oldest go first).
pub const DEFAULT_RETAIN: usize = 100_000;

/// Client order ids the exchange makes start with this (`sim-42`).
pub const GENERATED_PREFIX: &str = "sim-";

/// A price level: price and total quantity.
pub type Level = (Fixed, Fixed);

/// Which order a cancel or query means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// The exchange's order id.
    Id(u64),
    /// The client order id.
    Client(String),
}

/// What the exchange answers to a new order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderAck {
    /// The order after its first matching pass.
    pub order: Order,
    /// Its fills in that pass.
    pub fills: Vec<Fill>,
}

/// A fill as the account's trade history keeps it (`myTrades`).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountTrade {
    /// Symbol.
    pub symbol: Arc<str>,
    /// Trade id.
    pub id: u64,
    /// The account's order.
    pub order_id: u64,
    /// Price.
    pub price: Fixed,
    /// Quantity.
    pub qty: Fixed,
    /// Price × quantity.
    pub quote_qty: Fixed,
    /// Fee.
    pub commission: Fixed,
    /// Fee asset.
    pub commission_asset: Arc<str>,
    /// Time, ms.
    pub time: u64,
    /// The account bought.
    pub is_buyer: bool,
    /// The account's order was resting.
    pub is_maker: bool,
}

pub(super) struct Market {
    pub(super) spec: SymbolSpec,
    pub(super) name: Arc<str>,
    pub(super) base: usize,
    pub(super) quote: usize,
    pub(super) book: Book,
    /// Stop orders waiting for their trigger, in placement order.
    pub(super) stops: Vec<u64>,
    pub(super) last_price: Option<Fixed>,
    pub(super) next_trade_id: u64,
}

pub(super) struct Ledger {
    pub(super) account: Account,
    pub(super) open: FxHashSet<u64>,
    pub(super) closed: VecDeque<u64>,
    pub(super) trades: VecDeque<AccountTrade>,
    /// Client-supplied order ids of open and retained orders (the latest
    /// holder); generated ids (`sim-<id>`) are found by parsing instead.
    client_ids: FxHashMap<Arc<str>, u64>,
}

/// The simulated exchange's state.
pub struct Exchange {
    pub(super) assets: Vec<Arc<str>>,
    asset_ids: FxHashMap<String, usize>,
    pub(super) markets: Vec<Market>,
    market_ids: FxHashMap<String, usize>,
    pub(super) ledgers: Vec<Ledger>,
    pub(super) orders: OrderStore,
    retired: Vec<Order>,
    next_order_id: u64,
    pub(super) events: Vec<Event>,
    pub(super) dirty: Vec<u32>,
    retain: usize,
    default_stp: StpMode,
}

fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl Exchange {
    /// An exchange trading `symbols`.
    ///
    /// # Errors
    /// A symbol definition that cannot be traded, or one listed twice.
    pub fn new(symbols: Vec<SymbolSpec>) -> Result<Exchange, String> {
        let mut ex = Exchange {
            assets: Vec::new(),
            asset_ids: FxHashMap::default(),
            markets: Vec::new(),
            market_ids: FxHashMap::default(),
            ledgers: Vec::new(),
            orders: OrderStore::new(1, DEFAULT_RETAIN),
            retired: Vec::new(),
            next_order_id: 1,
            events: Vec::new(),
            dirty: Vec::new(),
            retain: DEFAULT_RETAIN,
            default_stp: StpMode::default(),
        };
        for spec in symbols {
            if let Some(p) = spec.problem() {
                return Err(p);
            }
            if ex.market_ids.contains_key(&spec.symbol) {
                return Err(format!("symbol {} is listed twice", spec.symbol));
            }
            let base = ex.asset_id(&spec.base_asset);
            let quote = ex.asset_id(&spec.quote_asset);
            ex.market_ids.insert(spec.symbol.clone(), ex.markets.len());
            ex.markets.push(Market {
                name: spec.symbol.as_str().into(),
                spec,
                base,
                quote,
                book: Book::new(),
                stops: Vec::new(),
                last_price: None,
                next_trade_id: 1,
            });
        }
        Ok(ex)
    }

    /// Keep about `n` closed orders (in all) and `n` trades per account
    /// for queries; open orders are always kept. Call before trading.
    pub fn retain(mut self, n: usize) -> Exchange {
        self.retain = n.max(1);
        self.orders = OrderStore::new(self.next_order_id, self.retain);
        self
    }

    /// The order a client order id names for this account.
    fn find_client(&self, account: u32, client: &str) -> Option<u64> {
        if let Some(id) = self.ledgers[account as usize].client_ids.get(client) {
            return Some(*id);
        }
        let id = client.strip_prefix(GENERATED_PREFIX)?.parse().ok()?;
        let o = self.orders.get(&id)?;
        (o.account == account && &*o.client_order_id == client).then_some(id)
    }

    fn asset_id(&mut self, name: &str) -> usize {
        if let Some(id) = self.asset_ids.get(name) {
            return *id;
        }
        self.assets.push(name.into());
        self.asset_ids
            .insert(name.to_string(), self.assets.len() - 1);
        self.assets.len() - 1
    }

    /// Open an account with maker/taker fees in basis points; its id.
    pub fn open_account(&mut self, name: &str, maker_bps: i64, taker_bps: i64) -> u32 {
        self.ledgers.push(Ledger {
            account: Account::new(name, maker_bps, taker_bps),
            open: FxHashSet::default(),
            closed: VecDeque::new(),
            trades: VecDeque::new(),
            client_ids: FxHashMap::default(),
        });
        (self.ledgers.len() - 1) as u32
    }

    /// Credit an asset to an account (creating the asset if new).
    pub fn deposit(&mut self, account: u32, asset: &str, amount: Fixed) {
        let id = self.asset_id(asset);
        self.ledgers[account as usize].account.credit(id, amount);
    }

    /// The symbols traded, in the order given.
    pub fn symbols(&self) -> impl Iterator<Item = &SymbolSpec> {
        self.markets.iter().map(|m| &m.spec)
    }

    /// An account's non-zero balances by asset name.
    pub fn balances(&self, account: u32) -> Vec<(&str, Balance)> {
        self.ledgers[account as usize]
            .account
            .balances()
            .map(|(id, b)| (&*self.assets[id], b))
            .collect()
    }

    /// One balance.
    pub fn balance(&self, account: u32, asset: &str) -> Balance {
        self.asset_ids
            .get(asset)
            .map(|id| self.ledgers[account as usize].account.balance(*id))
            .unwrap_or_default()
    }

    /// The account record (fees, name).
    pub fn account(&self, account: u32) -> &Account {
        &self.ledgers[account as usize].account
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.ledgers.len()
    }

    /// Is `symbol` traded here?
    ///
    /// # Errors
    /// -1121 when it is not.
    pub fn check_symbol(&self, symbol: &str) -> Result<(), ApiError> {
        self.market(symbol).map(|_| ())
    }

    /// The book's update id (Binance's `lastUpdateId`).
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn update_id(&self, symbol: &str) -> Result<u64, ApiError> {
        Ok(self.markets[self.market(symbol)?].book.update_id())
    }

    pub(super) fn market(&self, symbol: &str) -> Result<usize, ApiError> {
        self.market_ids
            .get(symbol)
            .copied()
            .ok_or_else(ApiError::bad_symbol)
    }

    /// Events since the last drain, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Best bid and best ask: (price, quantity) each.
    pub fn book_ticker(&self, symbol: &str) -> Result<(Option<Level>, Option<Level>), ApiError> {
        let book = &self.markets[self.market(symbol)?].book;
        Ok((book.best(Side::Buy), book.best(Side::Sell)))
    }

    /// The top `limit` levels a side: `(lastUpdateId, bids, asks)`.
    pub fn depth(
        &self,
        symbol: &str,
        limit: usize,
    ) -> Result<(u64, Vec<Level>, Vec<Level>), ApiError> {
        let book = &self.markets[self.market(symbol)?].book;
        Ok((
            book.update_id(),
            book.levels(Side::Buy).take(limit).collect(),
            book.levels(Side::Sell).take(limit).collect(),
        ))
    }

    /// Record depth changes of a symbol for [`Exchange::take_depth_diff`].
    pub fn track_depth(&mut self, symbol: &str, on: bool) -> Result<(), ApiError> {
        let m = self.market(symbol)?;
        self.markets[m].book.track_changes(on);
        Ok(())
    }

    /// The depth changes of a symbol since the last call.
    pub fn take_depth_diff(&mut self, symbol: &str) -> Result<Option<DepthDiff>, ApiError> {
        let m = self.market(symbol)?;
        Ok(self.markets[m].book.take_diff())
    }

    /// The last traded price.
    pub fn last_price(&self, symbol: &str) -> Result<Option<Fixed>, ApiError> {
        Ok(self.markets[self.market(symbol)?].last_price)
    }

    /// One of the account's orders, open or among the retained closed ones.
    ///
    /// # Errors
    /// -1121 for an unknown symbol, -2013 when there is no such order.
    pub fn order(&self, account: u32, symbol: &str, which: &OrderRef) -> Result<&Order, ApiError> {
        self.market(symbol)?;
        let id = match which {
            OrderRef::Id(id) => *id,
            OrderRef::Client(c) => self
                .find_client(account, c)
                .ok_or_else(ApiError::no_such_order)?,
        };
        self.orders
            .get(&id)
            .filter(|o| o.account == account && &*o.symbol == symbol)
            .ok_or_else(ApiError::no_such_order)
    }

    /// The account's open orders (of one symbol, or all), oldest first.
    pub fn open_orders(&self, account: u32, symbol: Option<&str>) -> Vec<&Order> {
        let mut ids: Vec<u64> = self.ledgers[account as usize]
            .open
            .iter()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| self.orders.get(id))
            .filter(|o| symbol.is_none_or(|s| &*o.symbol == s))
            .collect()
    }

    /// The account's orders of one symbol, open and retained closed, by id.
    pub fn all_orders(&self, account: u32, symbol: &str) -> Vec<&Order> {
        let ledger = &self.ledgers[account as usize];
        let mut ids: Vec<u64> = ledger
            .open
            .iter()
            .chain(ledger.closed.iter())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| self.orders.get(id))
            .filter(|o| &*o.symbol == symbol)
            .collect()
    }

    /// The account's retained trades of one symbol, oldest first.
    pub fn my_trades(&self, account: u32, symbol: &str) -> Vec<&AccountTrade> {
        self.ledgers[account as usize]
            .trades
            .iter()
            .filter(|t| &*t.symbol == symbol)
            .collect()
    }

    /// Place an order.
    ///
    /// # Errors
    /// Binance's codes: -1121 unknown symbol, -1102/-1106 parameters that
    /// are missing or not taken by this type, -1013 filters, -1100 a bad
    /// client id, -2010 a refusal (balance, duplicate id, post-only that
    /// would take, stop that would trigger at once).
    pub fn new_order(
        &mut self,
        account: u32,
        req: NewOrder,
        now_ms: u64,
    ) -> Result<OrderAck, ApiError> {
        let m = self.market(&req.symbol)?;
        let plan = self.check(account, m, &req)?;
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        let client_order_id: Arc<str> = match &req.client_order_id {
            Some(c) => c.as_str().into(),
            None => format!("{GENERATED_PREFIX}{order_id}").into(),
        };
        let order = Order {
            symbol: self.markets[m].name.clone(),
            order_id,
            client_order_id: client_order_id.clone(),
            account,
            side: req.side,
            kind: req.kind,
            tif: req.tif.unwrap_or(TimeInForce::Gtc),
            price: req.price.unwrap_or_default(),
            stop_price: req.stop_price.unwrap_or_default(),
            orig_qty: req.quantity.unwrap_or_default(),
            orig_quote_qty: req.quote_qty.unwrap_or_default(),
            executed_qty: Fixed::ZERO,
            cum_quote_qty: Fixed::ZERO,
            prevented_qty: Fixed::ZERO,
            state: OrderState::New,
            stp: req.stp.unwrap_or(self.default_stp),
            time: now_ms,
            update_time: now_ms,
            working_time: if req.kind.has_stop() { 0 } else { now_ms },
            is_working: !req.kind.has_stop(),
            locked: plan.lock,
            slot: None,
        };
        let ledger = &mut self.ledgers[account as usize];
        let locked = ledger.account.lock(plan.lock_asset, plan.lock);
        debug_assert!(locked, "check() saw the funds");
        ledger.open.insert(order_id);
        if req.client_order_id.is_some() {
            ledger.client_ids.insert(client_order_id, order_id);
        }
        let mut retired = std::mem::take(&mut self.retired);
        self.orders.insert(order, &mut retired);
        for o in retired.drain(..) {
            let ids = &mut self.ledgers[o.account as usize].client_ids;
            if ids.get(&o.client_order_id) == Some(&o.order_id) {
                ids.remove(&o.client_order_id);
            }
        }
        self.retired = retired;
        self.report(order_id, ExecKind::New, "NONE", now_ms);
        self.touch(account);
        let mut fills = Vec::new();
        if req.kind.has_stop() {
            self.markets[m].stops.push(order_id);
        } else {
            self.work(m, order_id, now_ms, Some(&mut fills));
        }
        self.trigger_stops(m, now_ms);
        self.flush_balances(now_ms);
        let order = self.orders[&order_id].clone();
        Ok(OrderAck { order, fills })
    }

    /// Cancel an open order.
    ///
    /// # Errors
    /// -1121 unknown symbol; -2011 when the order is not open.
    pub fn cancel(
        &mut self,
        account: u32,
        symbol: &str,
        which: &OrderRef,
        now_ms: u64,
    ) -> Result<Order, ApiError> {
        let m = self.market(symbol)?;
        let id = match which {
            OrderRef::Id(id) => *id,
            OrderRef::Client(c) => self
                .find_client(account, c)
                .ok_or_else(ApiError::unknown_order)?,
        };
        let open = self
            .orders
            .get(&id)
            .is_some_and(|o| o.account == account && &*o.symbol == symbol && !o.state.is_final());
        if !open {
            return Err(ApiError::unknown_order());
        }
        if let Some(h) = self.orders.get_mut(&id).and_then(|o| o.slot.take()) {
            self.markets[m].book.remove(h);
        } else {
            self.markets[m].stops.retain(|s| *s != id);
        }
        self.finish(id, OrderState::Canceled, ExecKind::Canceled, "NONE", now_ms);
        self.flush_balances(now_ms);
        Ok(self.orders[&id].clone())
    }

    /// Cancel every open order of the account in one symbol.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn cancel_all(
        &mut self,
        account: u32,
        symbol: &str,
        now_ms: u64,
    ) -> Result<Vec<Order>, ApiError> {
        self.market(symbol)?;
        let ids: Vec<u64> = self
            .open_orders(account, Some(symbol))
            .iter()
            .map(|o| o.order_id)
            .collect();
        ids.into_iter()
            .map(|id| self.cancel(account, symbol, &OrderRef::Id(id), now_ms))
            .collect()
    }

    /// Record an event for the order's owner.
    pub(super) fn report(
        &mut self,
        order_id: u64,
        exec: ExecKind,
        reason: &'static str,
        now_ms: u64,
    ) {
        let order = self.orders[&order_id].clone();
        self.events.push(Event::Execution(Box::new(Execution {
            order,
            exec,
            reason,
            last_qty: Fixed::ZERO,
            last_price: Fixed::ZERO,
            commission: Fixed::ZERO,
            commission_asset: None,
            trade_id: -1,
            is_maker: false,
            time: now_ms,
        })));
    }

    /// Mark an account's balances as changed in this request.
    pub(super) fn touch(&mut self, account: u32) {
        if !self.dirty.contains(&account) {
            self.dirty.push(account);
        }
    }

    fn flush_balances(&mut self, now_ms: u64) {
        for account in self.dirty.drain(..) {
            self.events.push(Event::Balances {
                account,
                time: now_ms,
            });
        }
    }

    /// End an order: free what it still locks, set its final state, report,
    /// and move it to the account's closed history.
    pub(super) fn finish(
        &mut self,
        id: u64,
        state: OrderState,
        exec: ExecKind,
        reason: &'static str,
        now_ms: u64,
    ) {
        let (account, asset, locked) = {
            let o = self.orders.get_mut(&id).expect("finishing a known order");
            o.state = state;
            o.update_time = now_ms;
            o.is_working = false;
            let locked = std::mem::take(&mut o.locked);
            let m = self.market_ids[&*o.symbol];
            let market = &self.markets[m];
            let asset = if o.side == Side::Buy {
                market.quote
            } else {
                market.base
            };
            (o.account, asset, locked)
        };
        if !locked.is_zero() {
            self.ledgers[account as usize].account.unlock(asset, locked);
            self.touch(account);
        }
        self.report(id, exec, reason, now_ms);
        self.archive(account, id);
    }

    /// Move an ended order from the account's open set to its history.
    pub(super) fn archive(&mut self, account: u32, id: u64) {
        let retain = self.retain;
        let ledger = &mut self.ledgers[account as usize];
        ledger.open.remove(&id);
        ledger.closed.push_back(id);
        if ledger.closed.len() > retain {
            ledger.closed.pop_front();
        }
        self.orders.closed(id);
    }

    pub(super) fn record_trade(&mut self, account: u32, trade: AccountTrade) {
        let retain = self.retain;
        let trades = &mut self.ledgers[account as usize].trades;
        trades.push_back(trade);
        if trades.len() > retain {
            trades.pop_front();
        }
    }
}

/// What an accepted order will lock.
pub(super) struct Plan {
    pub(super) lock_asset: usize,
    pub(super) lock: Fixed,
}

impl Exchange {
    /// Validate a new order against its type's parameters, the filters,
    /// the book and the account; what it must lock.
    fn check(&self, account: u32, m: usize, req: &NewOrder) -> Result<Plan, ApiError> {
        let market = &self.markets[m];
        let spec = &market.spec;
        let kind = req.kind;
        match (kind.needs_tif(), req.tif) {
            (true, None) => return Err(ApiError::missing("timeInForce")),
            (false, Some(_)) => return Err(ApiError::not_required("timeInForce")),
            _ => {}
        }
        let price = match (kind.has_price(), req.price) {
            (true, Some(p)) => {
                spec.check_price(p)?;
                Some(p)
            }
            (true, None) => return Err(ApiError::missing("price")),
            (false, Some(_)) => return Err(ApiError::not_required("price")),
            (false, None) => None,
        };
        let stop = match (kind.has_stop(), req.stop_price) {
            (true, Some(p)) => {
                spec.check_price(p)?;
                Some(p)
            }
            (true, None) => return Err(ApiError::missing("stopPrice")),
            (false, Some(_)) => return Err(ApiError::not_required("stopPrice")),
            (false, None) => None,
        };
        let market_kind = kind == OrderKind::Market;
        match (req.quantity, req.quote_qty) {
            (Some(_), Some(_)) => {
                return Err(ApiError::new(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            (None, None) if market_kind => {
                return Err(ApiError::new(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                ));
            }
            (None, _) if !market_kind => return Err(ApiError::missing("quantity")),
            (Some(q), None) => spec.check_qty(q)?,
            (None, Some(q)) => {
                if q < spec.min_notional || q.is_zero() {
                    return Err(ApiError::filter("NOTIONAL"));
                }
            }
            (None, None) => unreachable!("handled above"),
        }
        if let (Some(p), Some(q)) = (price.or(stop), req.quantity) {
            spec.check_notional(p, q)?;
        } else if let (Some(q), Some(last)) = (req.quantity, market.last_price) {
            spec.check_notional(last, q)?;
        }
        if let Some(c) = &req.client_order_id {
            if !valid_client_id(c) {
                return Err(ApiError::illegal_chars("newClientOrderId"));
            }
            if c.starts_with(GENERATED_PREFIX) {
                return Err(ApiError::new(
                    -1100,
                    format!(
                        "Illegal characters found in parameter 'newClientOrderId'; the prefix `{GENERATED_PREFIX}` is reserved for ids the simulator makes."
                    ),
                ));
            }
            if let Some(id) = self.find_client(account, c)
                && self.orders.get(&id).is_some_and(|o| !o.state.is_final())
            {
                return Err(ApiError::rejected(reject::DUPLICATE));
            }
        }
        if kind == OrderKind::LimitMaker {
            let p = price.expect("limit maker has a price");
            let crosses = match req.side {
                Side::Buy => market.book.best(Side::Sell).is_some_and(|(a, _)| p >= a),
                Side::Sell => market.book.best(Side::Buy).is_some_and(|(b, _)| p <= b),
            };
            if crosses {
                return Err(ApiError::rejected(reject::WOULD_TAKE));
            }
        }
        if let (Some(s), Some(last)) = (stop, market.last_price)
            && stop_triggered(kind, req.side, s, last)
        {
            return Err(ApiError::rejected(reject::WOULD_TRIGGER));
        }
        let plan = self.funds_needed(
            m,
            req.side,
            kind,
            price.or(stop),
            req.quantity,
            req.quote_qty,
        );
        if self.ledgers[account as usize]
            .account
            .balance(plan.lock_asset)
            .free
            < plan.lock
        {
            return Err(ApiError::rejected(reject::INSUFFICIENT_BALANCE));
        }
        Ok(plan)
    }

    /// What an order must lock: quote for a buy (limit × quantity, the
    /// book's cost for a market order), base for a sell.
    pub(super) fn funds_needed(
        &self,
        m: usize,
        side: Side,
        kind: OrderKind,
        price: Option<Fixed>,
        qty: Option<Fixed>,
        quote_qty: Option<Fixed>,
    ) -> Plan {
        let market = &self.markets[m];
        let book = &market.book;
        let effective = kind.triggered();
        let lock = match (side, effective, qty, quote_qty) {
            (Side::Buy, OrderKind::Market, _, Some(quote)) => quote,
            (Side::Buy, OrderKind::Market, Some(q), None) => match price {
                // A stop-market buy locks at its stop until it triggers.
                Some(p) if kind.has_stop() => p.times(q),
                _ => walk_cost(book, Side::Sell, q),
            },
            (Side::Buy, _, Some(q), _) => price.unwrap_or_default().times(q),
            (Side::Sell, OrderKind::Market, None, Some(quote)) => {
                walk_base_for_quote(book, quote, market.spec.step_size)
            }
            (Side::Sell, _, Some(q), _) => q,
            _ => Fixed::ZERO,
        };
        let lock_asset = if side == Side::Buy {
            market.quote
        } else {
            market.base
        };
        Plan { lock_asset, lock }
    }
}

/// True when the last price has reached a stop order's trigger.
pub(super) fn stop_triggered(kind: OrderKind, side: Side, stop: Fixed, last: Fixed) -> bool {
    match (kind, side) {
        (OrderKind::StopLoss | OrderKind::StopLossLimit, Side::Buy) => last >= stop,
        (OrderKind::StopLoss | OrderKind::StopLossLimit, Side::Sell) => last <= stop,
        (OrderKind::TakeProfit | OrderKind::TakeProfitLimit, Side::Buy) => last <= stop,
        (OrderKind::TakeProfit | OrderKind::TakeProfitLimit, Side::Sell) => last >= stop,
        _ => false,
    }
}

/// Quote cost of buying `qty` from the asks, best first (what is there).
fn walk_cost(book: &Book, side: Side, qty: Fixed) -> Fixed {
    let mut left = qty;
    let mut cost = Fixed::ZERO;
    for (p, q) in book.levels(side) {
        let take = left.min(q);
        cost += p.times(take);
        left -= take;
        if left.is_zero() {
            break;
        }
    }
    cost
}

/// Base needed to receive `quote` from the bids, best first.
fn walk_base_for_quote(book: &Book, quote: Fixed, step: Fixed) -> Fixed {
    let mut left = quote;
    let mut base = Fixed::ZERO;
    for (p, q) in book.levels(Side::Buy) {
        let want = left.div_floor(p, step);
        let take = want.min(q);
        base += take;
        left -= p.times(take);
        if take < q || left.is_zero() {
            break;
        }
    }
    base
}

/// Quantity available to a taker up to `limit` (FOK's check).
pub(super) fn available(book: &Book, taker: Side, limit: Option<Fixed>) -> Fixed {
    let mut total = Fixed::ZERO;
    for (p, q) in book.levels(taker.opposite()) {
        let ok = match (taker, limit) {
            (_, None) => true,
            (Side::Buy, Some(l)) => p <= l,
            (Side::Sell, Some(l)) => p >= l,
        };
        if !ok {
            break;
        }
        total += q;
    }
    total
}
