//! Binance's error codes, as the simulated exchange returns them.
//!
//! Binance answers a refused request with `{"code": -NNNN, "msg": "…"}`.
//! Clients branch on the code, so the simulator uses Binance's codes and
//! messages (from its spot API's error-code list) for every refusal it
//! shares with Binance.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A refused request: Binance's code and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Binance's (negative) error code.
    pub code: i32,
    /// Human-readable message.
    pub msg: String,
    /// Details some errors carry (cancel-replace's two outcomes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.msg, self.code)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// Any code and message.
    pub fn new(code: i32, msg: impl Into<String>) -> ApiError {
        ApiError {
            code,
            msg: msg.into(),
            data: None,
        }
    }

    /// -1000: an unexpected failure.
    pub fn unknown(msg: impl Into<String>) -> ApiError {
        ApiError::new(-1000, msg)
    }

    /// -1003: over the request-weight budget.
    pub fn too_many_requests(limit: &str) -> ApiError {
        ApiError::new(
            -1003,
            format!(
                "Too much request weight used; current limit is {limit}. Please use WebSocket Streams for live updates to avoid polling the API."
            ),
        )
    }

    /// -1013: an exchange filter refused the order (`PRICE_FILTER`,
    /// `LOT_SIZE`, `NOTIONAL`, …).
    pub fn filter(name: &str) -> ApiError {
        ApiError::new(-1013, format!("Filter failure: {name}"))
    }

    /// -1015: over the order-count budget.
    pub fn too_many_orders(limit: &str) -> ApiError {
        ApiError::new(
            -1015,
            format!("Too many new orders; current limit is {limit}."),
        )
    }

    /// -1021: timestamp outside `recvWindow`.
    pub fn timestamp_outside_window() -> ApiError {
        ApiError::new(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        )
    }

    /// -1022: the signature does not match.
    pub fn bad_signature() -> ApiError {
        ApiError::new(-1022, "Signature for this request is not valid.")
    }

    /// -1100: a parameter has characters it may not have.
    pub fn illegal_chars(param: &str) -> ApiError {
        ApiError::new(
            -1100,
            format!("Illegal characters found in parameter '{param}'."),
        )
    }

    /// -1102: a mandatory parameter is missing or malformed.
    pub fn missing(param: &str) -> ApiError {
        ApiError::new(
            -1102,
            format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1106: a parameter was sent that this order type does not take.
    pub fn not_required(param: &str) -> ApiError {
        ApiError::new(
            -1106,
            format!("Parameter '{param}' sent when not required."),
        )
    }

    /// -1111: more decimals than the asset allows.
    pub fn bad_precision() -> ApiError {
        ApiError::new(
            -1111,
            "Precision is over the maximum defined for this asset.",
        )
    }

    /// -1115: unknown time in force.
    pub fn bad_tif() -> ApiError {
        ApiError::new(-1115, "Invalid timeInForce.")
    }

    /// -1116: unknown order type.
    pub fn bad_order_type() -> ApiError {
        ApiError::new(-1116, "Invalid orderType.")
    }

    /// -1117: unknown side.
    pub fn bad_side() -> ApiError {
        ApiError::new(-1117, "Invalid side.")
    }

    /// -1121: unknown symbol.
    pub fn bad_symbol() -> ApiError {
        ApiError::new(-1121, "Invalid symbol.")
    }

    /// -2010: the order was refused (insufficient balance, would take as a
    /// maker-only order, stop would trigger at once, duplicate id).
    pub fn rejected(msg: &str) -> ApiError {
        ApiError::new(-2010, msg)
    }

    /// -2011: cancel of an order that is not open.
    pub fn unknown_order() -> ApiError {
        ApiError::new(-2011, "Unknown order sent.")
    }

    /// -2013: query of an order that does not exist.
    pub fn no_such_order() -> ApiError {
        ApiError::new(-2013, "Order does not exist.")
    }

    /// -2014: the API key is not even well formed.
    pub fn bad_api_key_format() -> ApiError {
        ApiError::new(-2014, "API-key format invalid.")
    }

    /// -2015: unknown API key or no permission.
    pub fn rejected_api_key() -> ApiError {
        ApiError::new(-2015, "Invalid API-key, IP, or permissions for action.")
    }

    /// -2021: cancel-replace where one half failed.
    pub fn cancel_replace_partial() -> ApiError {
        ApiError::new(-2021, "Order cancel-replace partially failed.")
    }

    /// -2022: cancel-replace where both halves failed or it stopped.
    pub fn cancel_replace_failed() -> ApiError {
        ApiError::new(-2022, "Order cancel-replace failed.")
    }
}

/// -2010 messages Binance uses.
pub mod reject {
    /// Not enough free balance.
    pub const INSUFFICIENT_BALANCE: &str = "Account has insufficient balance for requested action.";
    /// A `LIMIT_MAKER` order that would cross.
    pub const WOULD_TAKE: &str = "Order would immediately match and take.";
    /// A stop order whose trigger is already met.
    pub const WOULD_TRIGGER: &str = "Order would trigger immediately.";
    /// A client order id that an open order already uses.
    pub const DUPLICATE: &str = "Duplicate order sent.";
}
