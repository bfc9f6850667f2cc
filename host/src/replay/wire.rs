//! A market-data envelope's postcard encoding, written directly.
//!
//! A replay folds every message it publishes into its digest as postcard
//! bytes, and quotes and trades are nearly all of them. Through serde,
//! encoding one cost about 670 instructions — a sixth of a replayed
//! event — for some 80 bytes of varints, strings and floats. This writes
//! the same bytes for those two payloads in a fraction of that, following
//! postcard's wire format (version 1, a stable specification): unsigned
//! integers as LEB128 varints, a string as its varint length and its
//! bytes, an option as a 0 or 1 byte before its value, an enum as its
//! variant's varint index before its content, a float as its 8
//! little-endian bytes, a struct's fields in declaration order. Every
//! other payload goes through postcard itself, and the tests hold both to
//! the library's own output.

use crate::model::{Envelope, Payload, Side};

/// Append `env`'s postcard encoding to `out` if its payload is a quote or
/// a trade; false (nothing written) for any other payload.
pub fn market_envelope(env: &Envelope, out: &mut Vec<u8>) -> bool {
    let (index, symbol) = match &env.payload {
        Payload::Quote(q) => (0, &q.symbol),
        Payload::Trade(t) => (1, &t.symbol),
        _ => return false,
    };
    varint(out, env.id);
    string(out, &env.topic);
    string(out, &env.source);
    varint(out, env.sequence);
    varint(out, env.event_time);
    varint(out, env.trace_id);
    match env.correlation_id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            varint(out, id);
        }
    }
    varint(out, u64::from(env.attempt));
    varint(out, index);
    string(out, symbol);
    match &env.payload {
        Payload::Quote(q) => {
            for x in [q.bid, q.bid_size, q.ask, q.ask_size] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Payload::Trade(t) => {
            out.extend_from_slice(&t.price.to_le_bytes());
            out.extend_from_slice(&t.size.to_le_bytes());
            varint(
                out,
                match t.aggressor {
                    Side::Buy => 0,
                    Side::Sell => 1,
                },
            );
            varint(out, t.trade_id);
        }
        _ => unreachable!("only quotes and trades get here"),
    }
    true
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Quote, Trade};

    fn envelope(id: u64, correlation_id: Option<u64>, payload: Payload) -> Envelope {
        Envelope {
            id,
            topic: "md.tick.BTCUSDT".into(),
            source: "synthetic".into(),
            sequence: id.wrapping_mul(3),
            event_time: id.wrapping_add(1_700_000_000_000_000_000),
            trace_id: id,
            correlation_id,
            attempt: u32::try_from(id % 300).unwrap(),
            payload,
        }
    }

    #[test]
    fn quotes_and_trades_encode_as_postcard_does() {
        let quote = |s: &str, x: f64| {
            Payload::Quote(Quote {
                symbol: s.into(),
                bid: x,
                bid_size: -x / 3.0,
                ask: x + 0.5,
                ask_size: f64::MAX,
            })
        };
        let trade = |side, id| {
            Payload::Trade(Trade {
                symbol: "ETHUSDT".into(),
                price: 0.1,
                size: 1e-9,
                aggressor: side,
                trade_id: id,
            })
        };
        let long = "S".repeat(300);
        let cases = [
            envelope(0, None, quote("BTCUSDT", 100.0)),
            envelope(127, Some(0), quote("", -0.0)),
            envelope(128, Some(u64::MAX), quote(&long, f64::NAN)),
            envelope(u64::MAX, None, trade(Side::Buy, 0)),
            envelope(16_384, Some(300), trade(Side::Sell, u64::MAX)),
        ];
        for env in &cases {
            let mut out = vec![7u8];
            assert!(market_envelope(env, &mut out));
            assert_eq!(out[1..], postcard::to_stdvec(env).unwrap()[..], "{env:?}");
        }
    }

    #[test]
    fn other_payloads_are_left_to_postcard() {
        let env = envelope(5, None, Payload::Custom(vec![1, 2, 3]));
        let mut out = Vec::new();
        assert!(!market_envelope(&env, &mut out));
        assert!(out.is_empty());
    }
}
