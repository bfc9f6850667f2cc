//! The on-disk format of journal segments: a header, then records, each
//! framed and checksummed so a reader can tell a complete record from a
//! torn or damaged one without trusting any length it reads.
//!
//! ```text
//! segment  = header record*
//! header   = "FLOORJNL" version:u32 reserved:u32            (16 bytes)
//! record   = len:u32 crc:u32 seq:u64 kind:u8 time:u64 payload[len - 9]
//!            crc = CRC-32 (IEEE) of seq, kind, time and payload
//! ```
//!
//! All integers are little-endian. `seq` numbers records from 1 without
//! gaps across segments; a segment's file name is its first `seq`, zero
//! padded to 20 digits, so names sort in order. CRC-32 comes from
//! `crc32fast` (SIMD-accelerated, already in the build through wasmtime).

use std::fmt;

/// First bytes of every segment.
pub const MAGIC: &[u8; 8] = b"FLOORJNL";
/// Format version written after the magic.
pub const VERSION: u32 = 1;
/// Bytes of the segment header.
pub const HEADER_LEN: usize = 16;
/// Bytes of a record's frame before its payload (len, crc, seq, kind, time).
pub const FRAME_LEN: usize = 4 + 4 + 8 + 1 + 8;
/// The largest payload a record may carry. A length field past it is
/// damage, not a record: the reader never allocates what a bad length says.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// The segment header.
pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Append one framed record to `out`.
pub fn encode(out: &mut Vec<u8>, seq: u64, kind: u8, time: u64, payload: &[u8]) {
    let len = (payload.len() + 9) as u32;
    let start = out.len();
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// One record, borrowed from the segment's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Sequence number.
    pub seq: u64,
    /// What the payload is (the journal's caller decides the codes).
    pub kind: u8,
    /// Event time, ns.
    pub time: u64,
    /// The bytes.
    pub payload: &'a [u8],
}

/// Why the bytes at some offset are not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Fewer bytes than the frame or the length needs: a write cut short.
    Truncated,
    /// A length no record can have.
    BadLength(u32),
    /// The checksum does not match the bytes.
    BadChecksum,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Truncated => write!(f, "the record is cut short"),
            Damage::BadLength(n) => write!(f, "a record length of {n} bytes is impossible"),
            Damage::BadChecksum => write!(f, "the record's checksum does not match its bytes"),
        }
    }
}

/// Decode the record at the start of `bytes`: the record and its total
/// length, or what is wrong with it. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<(RecordRef<'_>, usize), Damage> {
    if bytes.len() < FRAME_LEN {
        return Err(Damage::Truncated);
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let len = u32_at(0);
    if (len as usize) < 9 || len as usize > MAX_PAYLOAD + 9 {
        return Err(Damage::BadLength(len));
    }
    let total = 8 + 8 + len as usize;
    if bytes.len() < total {
        return Err(Damage::Truncated);
    }
    if crc32fast::hash(&bytes[8..total]) != u32_at(4) {
        return Err(Damage::BadChecksum);
    }
    Ok((
        RecordRef {
            seq: u64_at(8),
            kind: bytes[16],
            time: u64_at(17),
            payload: &bytes[FRAME_LEN..total],
        },
        total,
    ))
}

/// Whether `bytes` start with a header this version can read.
pub fn header_ok(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN && &bytes[..8] == MAGIC && bytes[8..12] == VERSION.to_le_bytes()
}

/// The file name of the segment whose first record is `seq`.
pub fn segment_name(seq: u64) -> String {
    format!("{seq:020}.journal")
}

/// The first seq of a segment, from its file name.
pub fn segment_seq(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".journal")?;
    (stem.len() == 20).then(|| stem.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_any_flipped_bit_is_caught() {
        let mut buf = Vec::new();
        encode(&mut buf, 7, 3, 1_000, b"hello");
        assert_eq!(buf.len(), FRAME_LEN + 5);
        let (r, n) = decode(&buf).unwrap();
        assert_eq!(
            (r.seq, r.kind, r.time, r.payload, n),
            (7, 3, 1_000, &b"hello"[..], buf.len())
        );
        for byte in 0..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[byte] ^= 1 << bit;
                assert!(decode(&bad).is_err(), "flip of bit {bit} in byte {byte}");
            }
        }
        assert_eq!(decode(&buf[..buf.len() - 1]), Err(Damage::Truncated));
    }

    #[test]
    fn names_sort_in_seq_order_and_parse_back() {
        assert_eq!(segment_name(42), "00000000000000000042.journal");
        assert_eq!(segment_seq(&segment_name(42)), Some(42));
        assert_eq!(segment_seq("42.journal"), None);
        assert_eq!(segment_seq("00000000000000000042.tmp"), None);
        assert!(header_ok(&header()));
        assert!(!header_ok(b"FLOORJNL"));
    }
}
