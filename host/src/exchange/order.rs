//! Orders as the exchange keeps them, in Binance's vocabulary.
//!
//! The names (`LIMIT_MAKER`, `EXPIRED_IN_MATCH`, `TRADE_PREVENTION`, …)
//! serialise exactly as Binance writes them, so the protocol layer prints
//! these types as they are.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::Fixed;
use crate::model::{Side, TimeInForce};

/// Order types Binance spot accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderKind {
    /// At the best prices available.
    Market,
    /// At the limit or better; may rest.
    Limit,
    /// A limit order that is refused if it would take (post-only).
    LimitMaker,
    /// Market order once the last price reaches the stop (a loss exit).
    StopLoss,
    /// Limit order once the last price reaches the stop.
    StopLossLimit,
    /// Market order once the last price reaches the target.
    TakeProfit,
    /// Limit order once the last price reaches the target.
    TakeProfitLimit,
}

impl OrderKind {
    /// Every kind, for parsing and `exchangeInfo`.
    pub const ALL: [OrderKind; 7] = [
        OrderKind::Limit,
        OrderKind::LimitMaker,
        OrderKind::Market,
        OrderKind::StopLoss,
        OrderKind::StopLossLimit,
        OrderKind::TakeProfit,
        OrderKind::TakeProfitLimit,
    ];

    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            OrderKind::Market => "MARKET",
            OrderKind::Limit => "LIMIT",
            OrderKind::LimitMaker => "LIMIT_MAKER",
            OrderKind::StopLoss => "STOP_LOSS",
            OrderKind::StopLossLimit => "STOP_LOSS_LIMIT",
            OrderKind::TakeProfit => "TAKE_PROFIT",
            OrderKind::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
        }
    }

    /// Takes a limit price.
    pub fn has_price(self) -> bool {
        matches!(
            self,
            OrderKind::Limit
                | OrderKind::LimitMaker
                | OrderKind::StopLossLimit
                | OrderKind::TakeProfitLimit
        )
    }

    /// Takes a stop price and waits for it.
    pub fn has_stop(self) -> bool {
        matches!(
            self,
            OrderKind::StopLoss
                | OrderKind::StopLossLimit
                | OrderKind::TakeProfit
                | OrderKind::TakeProfitLimit
        )
    }

    /// Needs a time in force.
    pub fn needs_tif(self) -> bool {
        matches!(
            self,
            OrderKind::Limit | OrderKind::StopLossLimit | OrderKind::TakeProfitLimit
        )
    }

    /// What a triggered stop order becomes.
    pub fn triggered(self) -> OrderKind {
        match self {
            OrderKind::StopLoss | OrderKind::TakeProfit => OrderKind::Market,
            OrderKind::StopLossLimit | OrderKind::TakeProfitLimit => OrderKind::Limit,
            other => other,
        }
    }
}

/// Where an order stands (Binance's `X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    /// Accepted, nothing filled (a stop order waits in this state).
    New,
    /// Partly filled, still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by its owner.
    Canceled,
    /// Refused after acceptance (a triggered stop that could not be funded).
    Rejected,
    /// Ended by its time in force (IOC/FOK, a market order without liquidity).
    Expired,
    /// Ended by self-trade prevention.
    ExpiredInMatch,
}

impl OrderState {
    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            OrderState::New => "NEW",
            OrderState::PartiallyFilled => "PARTIALLY_FILLED",
            OrderState::Filled => "FILLED",
            OrderState::Canceled => "CANCELED",
            OrderState::Rejected => "REJECTED",
            OrderState::Expired => "EXPIRED",
            OrderState::ExpiredInMatch => "EXPIRED_IN_MATCH",
        }
    }

    /// True once nothing more can happen.
    pub fn is_final(self) -> bool {
        !matches!(self, OrderState::New | OrderState::PartiallyFilled)
    }
}

/// What just happened to an order (Binance's `x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecKind {
    /// Accepted.
    New,
    /// Cancelled.
    Canceled,
    /// Refused.
    Rejected,
    /// Filled, partly or fully.
    Trade,
    /// Expired.
    Expired,
    /// Stopped by self-trade prevention.
    TradePrevention,
}

/// Self-trade prevention modes (the taker's mode decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StpMode {
    /// Let the accounts trade with themselves.
    None,
    /// Expire the incoming order's rest.
    ExpireTaker,
    /// Expire the resting order (Binance's default).
    #[default]
    ExpireMaker,
    /// Expire both.
    ExpireBoth,
    /// Reduce both by the prevented quantity; the smaller one expires.
    Decrement,
}

impl StpMode {
    /// Every mode, for parsing and `exchangeInfo`.
    pub const ALL: [StpMode; 5] = [
        StpMode::None,
        StpMode::ExpireTaker,
        StpMode::ExpireMaker,
        StpMode::ExpireBoth,
        StpMode::Decrement,
    ];

    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            StpMode::None => "NONE",
            StpMode::ExpireTaker => "EXPIRE_TAKER",
            StpMode::ExpireMaker => "EXPIRE_MAKER",
            StpMode::ExpireBoth => "EXPIRE_BOTH",
            StpMode::Decrement => "DECREMENT",
        }
    }
}

/// A new order as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Type.
    pub kind: OrderKind,
    /// Time in force (limit kinds only).
    pub tif: Option<TimeInForce>,
    /// Base quantity.
    pub quantity: Option<Fixed>,
    /// Quote amount to spend or receive (market orders only).
    pub quote_qty: Option<Fixed>,
    /// Limit price.
    pub price: Option<Fixed>,
    /// Stop or target price.
    pub stop_price: Option<Fixed>,
    /// Client order id; the exchange makes one when absent.
    pub client_order_id: Option<String>,
    /// Self-trade prevention; the symbol's default when absent.
    pub stp: Option<StpMode>,
}

impl NewOrder {
    /// A limit GTC order.
    pub fn limit(symbol: &str, side: Side, qty: Fixed, price: Fixed) -> NewOrder {
        NewOrder {
            symbol: symbol.to_string(),
            side,
            kind: OrderKind::Limit,
            tif: Some(TimeInForce::Gtc),
            quantity: Some(qty),
            quote_qty: None,
            price: Some(price),
            stop_price: None,
            client_order_id: None,
            stp: None,
        }
    }

    /// A market order for a base quantity.
    pub fn market(symbol: &str, side: Side, qty: Fixed) -> NewOrder {
        NewOrder {
            kind: OrderKind::Market,
            tif: None,
            price: None,
            ..NewOrder::limit(symbol, side, qty, Fixed::ZERO)
        }
    }

    /// With a time in force.
    pub fn tif(mut self, tif: TimeInForce) -> NewOrder {
        self.tif = Some(tif);
        self
    }

    /// With a client order id.
    pub fn client_id(mut self, id: &str) -> NewOrder {
        self.client_order_id = Some(id.to_string());
        self
    }
}

/// An order as the exchange keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Symbol.
    pub symbol: Arc<str>,
    /// Exchange order id (unique across symbols here; Binance's is per symbol).
    pub order_id: u64,
    /// Client order id.
    pub client_order_id: Arc<str>,
    /// Owner.
    pub account: u32,
    /// Side.
    pub side: Side,
    /// Type as placed.
    pub kind: OrderKind,
    /// Time in force (`GTC` for kinds that take none, as Binance reports).
    pub tif: TimeInForce,
    /// Limit price (zero for market kinds).
    pub price: Fixed,
    /// Stop price (zero when none).
    pub stop_price: Fixed,
    /// Quantity asked for (zero for a market order by quote amount).
    pub orig_qty: Fixed,
    /// Quote amount asked for (market orders by quote amount).
    pub orig_quote_qty: Fixed,
    /// Filled so far.
    pub executed_qty: Fixed,
    /// Quote value filled so far.
    pub cum_quote_qty: Fixed,
    /// Quantity self-trade prevention took away.
    pub prevented_qty: Fixed,
    /// Status.
    pub state: OrderState,
    /// Self-trade prevention mode.
    pub stp: StpMode,
    /// Creation time, ms.
    pub time: u64,
    /// Last change, ms.
    pub update_time: u64,
    /// When it started working (on the book or triggered), ms; 0 until then.
    pub working_time: u64,
    /// On the book (or triggered) rather than waiting for a stop.
    pub is_working: bool,
    /// Funds still locked for it (quote for buys, base for sells).
    pub locked: Fixed,
    /// Its place in the book while it rests.
    pub(super) slot: Option<super::book::Handle>,
}

impl Order {
    /// Quantity not yet filled or prevented.
    pub fn leaves(&self) -> Fixed {
        self.orig_qty - self.executed_qty - self.prevented_qty
    }
}

/// One fill, as the `FULL` order response lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fill {
    /// Price.
    pub price: Fixed,
    /// Quantity.
    pub qty: Fixed,
    /// Fee.
    pub commission: Fixed,
    /// Fee asset.
    pub commission_asset: Arc<str>,
    /// Trade id.
    pub trade_id: u64,
}

/// An execution report for one order's owner (Binance's `executionReport`).
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// The order after this event.
    pub order: Order,
    /// What happened.
    pub exec: ExecKind,
    /// Why it was refused or expired, `NONE` otherwise (Binance's `r`).
    pub reason: &'static str,
    /// This fill's quantity.
    pub last_qty: Fixed,
    /// This fill's price.
    pub last_price: Fixed,
    /// This fill's fee.
    pub commission: Fixed,
    /// Asset of the fee (none without a fill; Binance's `"N": null`).
    pub commission_asset: Option<Arc<str>>,
    /// Trade id, or -1.
    pub trade_id: i64,
    /// This side was the maker.
    pub is_maker: bool,
    /// Event time, ms.
    pub time: u64,
}

/// A trade everyone sees (the `trade` stream).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicTrade {
    /// Symbol.
    pub symbol: Arc<str>,
    /// Trade id (per symbol).
    pub id: u64,
    /// Price.
    pub price: Fixed,
    /// Quantity.
    pub qty: Fixed,
    /// The buyer's order was resting.
    pub buyer_is_maker: bool,
    /// Trade time, ms.
    pub time: u64,
}

/// What the exchange reports after a request or a market step.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An order changed, for its owner.
    Execution(Box<Execution>),
    /// A trade printed.
    Trade(PublicTrade),
    /// An account's balances changed (Binance's `outboundAccountPosition`).
    Balances {
        /// The account.
        account: u32,
        /// Event time, ms.
        time: u64,
    },
}
