//! Binance market-data messages into the host's types.
//!
//! One pass of serde_json over the text with borrowed fields (no copy of
//! the payload), prices and quantities parsed exactly into [`Fixed`]; both
//! the raw form (`/ws/…`) and the combined form (`{"stream", "data"}`) are
//! accepted. This is the whole per-message cost of the feed before the
//! journal, so `floor bench` measures it (`md_decode_ns_p50`).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::{Fixed, Quote, Side, Trade};

/// A decoded market-data message.
#[derive(Debug, Clone, PartialEq)]
pub enum MarketMessage {
    /// A trade (`<symbol>@trade`).
    Trade {
        /// Event time, ms.
        event_time_ms: u64,
        /// The print.
        trade: Trade,
    },
    /// Best bid and ask (`<symbol>@bookTicker`).
    BookTicker {
        /// Book update id.
        update_id: u64,
        /// The quote.
        quote: Quote,
    },
    /// Changed levels (`<symbol>@depth[@100ms]`).
    Depth(DepthUpdate),
    /// The top of the book (`<symbol>@depth<N>`), or a REST depth snapshot.
    Snapshot(DepthSnapshot),
    /// An answer to SUBSCRIBE and friends (carries `id`).
    Reply {
        /// The request id.
        id: u64,
        /// The error, if the request failed.
        error: Option<String>,
    },
}

/// A diff-depth event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DepthUpdate {
    /// Symbol.
    pub symbol: String,
    /// Event time, ms.
    pub event_time_ms: u64,
    /// First update id in the event (`U`).
    pub first_update_id: u64,
    /// Last update id in the event (`u`).
    pub final_update_id: u64,
    /// Changed bids: price, new total (zero: remove).
    pub bids: Vec<(Fixed, Fixed)>,
    /// Changed asks.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// A book snapshot (partial depth stream or `GET /api/v3/depth`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DepthSnapshot {
    /// `lastUpdateId`.
    pub last_update_id: u64,
    /// Bids, best first.
    pub bids: Vec<(Fixed, Fixed)>,
    /// Asks, best first.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("undecodable market-data message ({reason}): {excerpt}")]
pub struct DecodeError {
    /// What was wrong.
    pub reason: String,
    /// The start of the message.
    pub excerpt: String,
}

fn fail(reason: impl Into<String>, text: &str) -> DecodeError {
    DecodeError {
        reason: reason.into(),
        excerpt: text.chars().take(120).collect(),
    }
}

/// `b` / `a`: a price (bookTicker) or a list of levels (depth), read in
/// the same single pass either way.
enum SideField<'a> {
    Text(&'a str),
    Levels(Vec<(Fixed, Fixed)>),
}

impl<'de: 'a, 'a> Deserialize<'de> for SideField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = SideField<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal string or a list of [price, quantity]")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(SideField::Text(v))
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut seq: S,
            ) -> Result<Self::Value, S::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some([p, q]) = seq.next_element::<[&'de str; 2]>()? {
                    let p: Fixed = p.parse().map_err(serde::de::Error::custom)?;
                    let q: Fixed = q.parse().map_err(serde::de::Error::custom)?;
                    out.push((p, q));
                }
                Ok(SideField::Levels(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> SideField<'a> {
    fn text(self) -> Option<&'a str> {
        match self {
            SideField::Text(t) => Some(t),
            SideField::Levels(_) => None,
        }
    }

    fn levels(self) -> Vec<(Fixed, Fixed)> {
        match self {
            SideField::Levels(l) => l,
            SideField::Text(_) => Vec::new(),
        }
    }
}

/// The combined form, read in one pass with its payload.
#[derive(Deserialize)]
struct Combined<T> {
    data: T,
}

/// A trade, exactly (the common case, read without optional fields).
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct TradeMsg<'a> {
    E: u64,
    #[serde(borrow)]
    s: &'a str,
    t: u64,
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    q: &'a str,
    m: bool,
}

/// A diff-depth event, exactly.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct DepthMsg<'a> {
    E: u64,
    #[serde(borrow)]
    s: &'a str,
    U: u64,
    u: u64,
    #[serde(borrow)]
    b: SideField<'a>,
    #[serde(borrow)]
    a: SideField<'a>,
}

fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, DecodeError> {
    if text.starts_with("{\"stream\"") {
        serde_json::from_str::<Combined<T>>(text).map(|c| c.data)
    } else {
        serde_json::from_str(text)
    }
    .map_err(|e| fail(e.to_string(), text))
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Raw<'a> {
    #[serde(default, borrow)]
    e: Option<&'a str>,
    #[serde(default)]
    E: Option<u64>,
    #[serde(default, borrow)]
    s: Option<&'a str>,
    #[serde(default)]
    t: Option<u64>,
    #[serde(default, borrow)]
    p: Option<&'a str>,
    #[serde(default, borrow)]
    q: Option<&'a str>,
    #[serde(default)]
    m: Option<bool>,
    #[serde(default)]
    U: Option<u64>,
    #[serde(default)]
    u: Option<u64>,
    #[serde(default, borrow)]
    b: Option<SideField<'a>>,
    #[serde(default, borrow)]
    a: Option<SideField<'a>>,
    #[serde(default, borrow)]
    B: Option<&'a str>,
    #[serde(default, borrow)]
    A: Option<&'a str>,
    #[serde(default, rename = "lastUpdateId")]
    last_update_id: Option<u64>,
    #[serde(default, borrow)]
    bids: Option<SideField<'a>>,
    #[serde(default, borrow)]
    asks: Option<SideField<'a>>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

fn amount(v: Option<&str>, what: &str, text: &str) -> Result<Fixed, DecodeError> {
    v.ok_or_else(|| fail(format!("no {what}"), text))?
        .parse()
        .map_err(|e| fail(format!("{what}: {e}"), text))
}

/// Decode one text frame.
///
/// # Errors
/// Malformed JSON, a message of no known kind, or an amount that is not
/// an 8-decimal number.
pub fn decode(text: &str) -> Result<MarketMessage, DecodeError> {
    // Binance puts the event type first: the two busiest kinds are read
    // into exact structs, the rest through the general one.
    let head = &text.as_bytes()[..text.len().min(64)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"\"e\":\"trade\"") {
        let t: TradeMsg = parse(text)?;
        return Ok(MarketMessage::Trade {
            event_time_ms: t.E,
            trade: Trade {
                symbol: t.s.into(),
                price: amount(Some(t.p), "price", text)?.to_f64(),
                size: amount(Some(t.q), "quantity", text)?.to_f64(),
                // The buyer resting means the seller took.
                aggressor: if t.m { Side::Sell } else { Side::Buy },
                trade_id: t.t,
            },
        });
    }
    if has(b"\"e\":\"depthUpdate\"") {
        let d: DepthMsg = parse(text)?;
        return Ok(MarketMessage::Depth(DepthUpdate {
            symbol: d.s.to_string(),
            event_time_ms: d.E,
            first_update_id: d.U,
            final_update_id: d.u,
            bids: d.b.levels(),
            asks: d.a.levels(),
        }));
    }
    let r: Raw = parse(text)?;
    match r.e {
        Some("trade") => {
            let buyer_is_maker = r.m.ok_or_else(|| fail("trade without m", text))?;
            Ok(MarketMessage::Trade {
                event_time_ms: r.E.unwrap_or_default(),
                trade: Trade {
                    symbol: r.s.ok_or_else(|| fail("trade without s", text))?.into(),
                    price: amount(r.p, "price", text)?.to_f64(),
                    size: amount(r.q, "quantity", text)?.to_f64(),
                    // The buyer resting means the seller took.
                    aggressor: if buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    trade_id: r.t.ok_or_else(|| fail("trade without t", text))?,
                },
            })
        }
        Some("depthUpdate") => Ok(MarketMessage::Depth(DepthUpdate {
            symbol: r.s.ok_or_else(|| fail("depth without s", text))?.into(),
            event_time_ms: r.E.unwrap_or_default(),
            first_update_id: r.U.ok_or_else(|| fail("depth without U", text))?,
            final_update_id: r.u.ok_or_else(|| fail("depth without u", text))?,
            bids: r.b.map(SideField::levels).unwrap_or_default(),
            asks: r.a.map(SideField::levels).unwrap_or_default(),
        })),
        Some(other) => Err(fail(format!("unknown event type {other}"), text)),
        None if r.last_update_id.is_some() => Ok(MarketMessage::Snapshot(DepthSnapshot {
            last_update_id: r.last_update_id.unwrap_or_default(),
            bids: r.bids.map(SideField::levels).unwrap_or_default(),
            asks: r.asks.map(SideField::levels).unwrap_or_default(),
        })),
        None if r.B.is_some() => Ok(MarketMessage::BookTicker {
            update_id: r.u.unwrap_or_default(),
            quote: Quote {
                symbol: r
                    .s
                    .ok_or_else(|| fail("bookTicker without s", text))?
                    .into(),
                bid: amount(r.b.and_then(SideField::text), "bid", text)?.to_f64(),
                bid_size: amount(r.B, "bid size", text)?.to_f64(),
                ask: amount(r.a.and_then(SideField::text), "ask", text)?.to_f64(),
                ask_size: amount(r.A, "ask size", text)?.to_f64(),
            },
        }),
        None if r.id.is_some() => Ok(MarketMessage::Reply {
            id: r.id.unwrap_or_default(),
            error: r.error.map(|e| e.get().to_string()),
        }),
        None => Err(fail("a message of no known kind", text)),
    }
}

/// Sample messages as Binance sends them (tests, `floor bench`).
pub const SAMPLES: [&str; 3] = [
    r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1760000000123,"s":"BTCUSDT","t":4211,"p":"30000.01000000","q":"0.01200000","T":1760000000122,"m":true,"M":true}}"#,
    r#"{"e":"depthUpdate","E":1760000000200,"s":"BTCUSDT","U":157,"u":160,"b":[["29999.99000000","1.50000000"],["29999.98000000","0.00000000"]],"a":[["30000.01000000","0.25000000"]]}"#,
    r#"{"u":400900217,"s":"BTCUSDT","b":"29999.99000000","B":"1.50000000","a":"30000.01000000","A":"0.25000000"}"#,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: &str) -> Fixed {
        x.parse().unwrap()
    }

    #[test]
    fn decodes_what_binance_and_the_simulator_send() {
        match decode(SAMPLES[0]).unwrap() {
            MarketMessage::Trade {
                event_time_ms,
                trade,
            } => {
                assert_eq!(event_time_ms, 1_760_000_000_123);
                assert_eq!(
                    (trade.symbol.as_str(), trade.price, trade.size),
                    ("BTCUSDT", 30_000.01, 0.012)
                );
                assert_eq!((trade.aggressor, trade.trade_id), (Side::Sell, 4211));
            }
            other => panic!("{other:?}"),
        }
        let MarketMessage::Depth(d) = decode(SAMPLES[1]).unwrap() else {
            panic!()
        };
        assert_eq!((d.first_update_id, d.final_update_id), (157, 160));
        assert_eq!(
            d.bids,
            vec![(f("29999.99"), f("1.5")), (f("29999.98"), Fixed::ZERO)]
        );
        let MarketMessage::BookTicker { update_id, quote } = decode(SAMPLES[2]).unwrap() else {
            panic!()
        };
        assert_eq!(
            (update_id, quote.bid, quote.ask_size),
            (400_900_217, 29_999.99, 0.25)
        );
        let snap = decode(r#"{"lastUpdateId":9,"bids":[["1.00","2.00"]],"asks":[]}"#).unwrap();
        assert_eq!(
            snap,
            MarketMessage::Snapshot(DepthSnapshot {
                last_update_id: 9,
                bids: vec![(f("1"), f("2"))],
                asks: vec![]
            })
        );
        assert_eq!(
            decode(r#"{"result":null,"id":7}"#).unwrap(),
            MarketMessage::Reply { id: 7, error: None }
        );
    }

    #[test]
    fn bad_messages_say_what_is_wrong() {
        assert!(
            decode("not json")
                .unwrap_err()
                .to_string()
                .contains("undecodable")
        );
        assert!(
            decode(r#"{"e":"kline"}"#)
                .unwrap_err()
                .reason
                .contains("unknown event type kline")
        );
        let bad_price = SAMPLES[0].replace("30000.01000000", "3e4");
        assert!(decode(&bad_price).unwrap_err().reason.contains("price"));
        assert!(decode("{}").unwrap_err().reason.contains("no known kind"));
    }
}
