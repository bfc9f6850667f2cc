//! Rule-based pre-trade risk check.
//!
//! The host sends every order intent to the risk agents as a request on
//! `risk.check.request` and waits for one reply each. This agent answers:
//!
//! - **reject** when the intent's notional (quantity × limit price, or the
//!   far side of the current quote for market orders) is over
//!   `max_order_notional`, or when there is no price to value it with;
//! - **resize** down when the order would take the absolute position in the
//!   symbol past `max_position`, to the quantity that reaches the cap exactly;
//! - **reject** when the position is already at the cap in that direction;
//! - **approve** otherwise.
//!
//! Config: `max_order_notional` (10000), `max_position` (1.0, base units),
//! and per symbol `max_position.<SYMBOL>` to override it (read once, at
//! `init`: a value that is not a positive number fails `init` there
//! rather than every check later).
//! Rejection reasons name the rule, the value and the limit.

use floor_sdk::prelude::*;

#[derive(Default)]
struct Risk {
    max_order_notional: f64,
    max_position: f64,
    /// `max_position.<SYMBOL>` overrides.
    per_symbol: Vec<(String, f64)>,
}

impl Risk {
    fn check(&self, intent: &OrderIntent) -> RiskVerdict {
        if !(intent.quantity.is_finite() && intent.quantity > 0.0) {
            return RiskVerdict::Reject(format!("quantity {} is not positive", intent.quantity));
        }
        let price = match intent.order_type {
            OrderType::Limit => intent.limit_price,
            OrderType::Market => host::quote(&intent.symbol).map(|q| match intent.side {
                Side::Buy => q.ask,
                Side::Sell => q.bid,
            }),
        };
        let Some(price) = price else {
            return RiskVerdict::Reject(format!(
                "no price to value the order in {}",
                intent.symbol
            ));
        };
        let notional = intent.quantity * price;
        if notional > self.max_order_notional {
            return RiskVerdict::Reject(format!(
                "max_order_notional: {notional:.2} > {:.2}",
                self.max_order_notional
            ));
        }
        let position = host::position(&intent.symbol).quantity;
        let signed = match intent.side {
            Side::Buy => intent.quantity,
            Side::Sell => -intent.quantity,
        };
        let after = position + signed;
        let max_position = self
            .per_symbol
            .iter()
            .find(|(symbol, _)| *symbol == intent.symbol)
            .map_or(self.max_position, |(_, cap)| *cap);
        if after.abs() <= max_position + 1e-12 {
            return RiskVerdict::Approve;
        }
        // Room left in the order's direction before the cap.
        let room = match intent.side {
            Side::Buy => max_position - position,
            Side::Sell => max_position + position,
        };
        if room > 1e-12 {
            RiskVerdict::Resize(room)
        } else {
            RiskVerdict::Reject(format!(
                "max_position: {} would reach {after:.6} (limit ±{max_position})",
                intent.symbol
            ))
        }
    }
}

impl Agent for Risk {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        self.max_order_notional = config.parse_or("max_order_notional", 10_000.0)?;
        self.max_position = config.parse_or("max_position", 1.0)?;
        if self.max_order_notional <= 0.0 || self.max_position <= 0.0 {
            return Err(error(
                "bad_config",
                "max_order_notional and max_position must be > 0",
            ));
        }
        self.per_symbol = Vec::new();
        for (key, _) in config.pairs() {
            let Some(symbol) = key.strip_prefix("max_position.") else {
                continue;
            };
            let cap: f64 = config.parse_or(key, 0.0)?;
            if !(cap.is_finite() && cap > 0.0) {
                return Err(error(
                    "bad_config",
                    format!("config key `{key}` = {cap}: need a position cap > 0"),
                ));
            }
            self.per_symbol.push((symbol.to_string(), cap));
        }
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        if let Payload::OrderIntent(intent) = &msg.payload {
            out.reply(Payload::RiskVerdict(self.check(intent)));
        }
        Ok(())
    }
}

floor_sdk::export_agent!(Risk);
