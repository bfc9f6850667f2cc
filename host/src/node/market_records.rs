//! Market-data records (kinds 1 and 3) read directly, their symbol shared.
//!
//! A replay and a backtest over a journal read every quote and trade the
//! session recorded; through serde, with the symbol checked as UTF-8 on
//! every record, that was about 200 instructions a record — a thirtieth
//! of a replayed event — for some 45 bytes. This reads postcard's wire
//! format (version 1, a stable specification; `replay::wire` writes it the
//! same way) field by field: an enum as its variant's varint index, a
//! string as its varint length and its bytes, a float as its 8
//! little-endian bytes, an unsigned integer as a LEB128 varint. A symbol
//! that is the one the interner gave last is taken without looking at its
//! bytes again. Whatever the payload, the answer is what
//! `postcard::from_bytes::<MarketEvent>` gives; the tests hold the two to
//! each other, bad payloads included.

use postcard::Error;

use crate::model::{Interner, MarketEvent, Quote, Side, Trade};

/// A market record's payload as a [`MarketEvent`], its symbol the one
/// `names` shares. Bytes after the event are ignored, as postcard does.
///
/// # Errors
/// When the payload is not a postcard `MarketEvent`: postcard's own error
/// for what is wrong (cut short, a bad varint, enum index or UTF-8).
pub fn decode(payload: &[u8], names: &mut Interner) -> Result<MarketEvent, Error> {
    let mut r = Reader(payload);
    let variant = r.varint(5)?;
    if variant > 1 {
        return Err(BAD_INDEX);
    }
    let symbol = names
        .name_bytes(r.bytes()?)
        .ok_or(Error::DeserializeBadUtf8)?;
    Ok(match variant {
        0 => MarketEvent::Quote(Quote {
            symbol,
            bid: r.f64()?,
            bid_size: r.f64()?,
            ask: r.f64()?,
            ask_size: r.f64()?,
        }),
        1 => MarketEvent::Trade(Trade {
            symbol,
            price: r.f64()?,
            size: r.f64()?,
            aggressor: match r.varint(5)? {
                0 => Side::Buy,
                1 => Side::Sell,
                _ => return Err(BAD_INDEX),
            },
            trade_id: r.varint(10)?,
        }),
        _ => unreachable!("checked above"),
    })
}

/// What postcard says of an enum index that names no variant (serde's
/// own complaint, which postcard passes on).
const BAD_INDEX: Error = Error::SerdeDeCustom;

/// The unread part of a payload.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::DeserializeUnexpectedEnd);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// A varint of at most `max` bytes (5 for a u32, 10 for a u64), whose
    /// last byte holds no bits past the type's width.
    fn varint(&mut self, max: usize) -> Result<u64, Error> {
        let bits = if max == 5 { 32 } else { 64 };
        let mut v = 0u64;
        for i in 0..max {
            let b = *self
                .take(1)?
                .first()
                .ok_or(Error::DeserializeUnexpectedEnd)?;
            let shift = 7 * i as u32;
            if i == max - 1 && u32::from(b) >> (bits - shift) != 0 {
                return Err(Error::DeserializeBadVarint);
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::DeserializeBadVarint)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = self.varint(10)?;
        self.take(usize::try_from(len).map_err(|_| Error::DeserializeUnexpectedEnd)?)
    }

    fn f64(&mut self) -> Result<f64, Error> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes(
            b.try_into().map_err(|_| Error::DeserializeUnexpectedEnd)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(symbol: &str, bid: f64) -> MarketEvent {
        MarketEvent::Quote(Quote {
            symbol: symbol.into(),
            bid,
            bid_size: 1.25,
            ask: bid + 1.0,
            ask_size: 2.0,
        })
    }

    fn trade(symbol: &str, aggressor: Side, trade_id: u64) -> MarketEvent {
        MarketEvent::Trade(Trade {
            symbol: symbol.into(),
            price: 100.25,
            size: 0.5,
            aggressor,
            trade_id,
        })
    }

    /// What postcard itself reads from `payload`.
    fn postcard_reads(payload: &[u8]) -> Result<MarketEvent, Error> {
        postcard::from_bytes(payload)
    }

    /// Two reads' results, comparable to the bit (a corrupted float may
    /// be a NaN, which equals nothing).
    fn bits(read: Result<MarketEvent, Error>) -> Result<Vec<u8>, Error> {
        read.map(|e| postcard::to_stdvec(&e).unwrap())
    }

    #[test]
    fn quotes_and_trades_read_as_postcard_reads_them_with_one_shared_symbol() {
        let events = [
            quote("BTCUSDT", 99.5),
            trade("BTCUSDT", Side::Sell, 1 << 40),
            trade("ETHUSDT", Side::Buy, u64::MAX),
            quote("ETHUSDT", f64::MIN_POSITIVE),
            quote("BTCUSDT", -0.0),
            quote("", 1e300),
            trade("ÉTH€", Side::Buy, 0),
        ];
        let mut names = Interner::default();
        let mut read = Vec::new();
        for e in &events {
            let payload = postcard::to_stdvec(e).unwrap();
            let direct = decode(&payload, &mut names).unwrap();
            assert_eq!(direct, postcard_reads(&payload).unwrap());
            assert_eq!(&direct, e);
            read.push(direct);
        }
        assert!(
            std::ptr::eq(read[0].symbol(), read[4].symbol()),
            "one shared name for BTCUSDT"
        );
        // Bytes after the event are ignored, as postcard ignores them.
        let mut longer = postcard::to_stdvec(&events[1]).unwrap();
        longer.extend_from_slice(&[7, 7, 7]);
        assert_eq!(decode(&longer, &mut names).unwrap(), events[1]);
    }

    #[test]
    fn every_cut_and_every_corruption_fails_or_reads_as_postcard_does() {
        let mut names = Interner::default();
        for e in [quote("BTCUSDT", 99.5), trade("BTCUSDT", Side::Sell, 300)] {
            let payload = postcard::to_stdvec(&e).unwrap();
            for cut in 0..payload.len() {
                assert_eq!(
                    decode(&payload[..cut], &mut names).err(),
                    postcard_reads(&payload[..cut]).err(),
                    "cut at {cut}"
                );
                assert!(decode(&payload[..cut], &mut names).is_err());
            }
            // Every byte set to each of a few telling values.
            for at in 0..payload.len() {
                for v in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xc3, 0xff] {
                    let mut bad = payload.clone();
                    bad[at] = v;
                    assert_eq!(
                        bits(decode(&bad, &mut names)),
                        bits(postcard_reads(&bad)),
                        "byte {at} set to {v:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn overlong_and_oversized_varints_are_refused_as_postcard_refuses_them() {
        let mut names = Interner::default();
        let cases: [&[u8]; 5] = [
            // The variant index: six bytes, and a fifth byte past 32 bits.
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            &[0x80, 0x80, 0x80, 0x80, 0x10],
            // The symbol's length: far past the payload.
            &[0x00, 0xff, 0xff, 0xff, 0xff, 0x0f],
            // A trade id of eleven bytes, and a tenth byte past 64 bits.
            &[
                0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
            ],
            &[
                0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ],
        ];
        for (i, c) in cases.iter().enumerate() {
            let theirs = postcard_reads(c);
            assert!(theirs.is_err(), "case {i}: postcard reads it");
            assert_eq!(decode(c, &mut names), theirs, "case {i}");
        }
    }
}
