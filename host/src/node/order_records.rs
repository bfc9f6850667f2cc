//! Orders and the venue's answers as journal records, in postcard.
//!
//! Every order the node sends is journaled before it leaves (kind 13),
//! and the reports the venue answers it with right after (kind 14); a
//! replay encodes each order it sends the same way and compares the
//! bytes, and reads the recorded answers back. In JSON (kinds 8 and 2,
//! which journals written before these kinds keep, and which are still
//! read) that was a `serde_json` encoding per order and a parse per
//! answer: a twentieth of a replay, and of the path from a tick to an
//! order. Postcard writes the same fields in a fraction of the bytes and
//! the time; `floor journal` decodes them for people.
//!
//! The layouts are the journal's format: fields in the order below,
//! enums by variant index (postcard's wire format, version 1). Reorder
//! nothing here; add a record kind instead. The tests pin the bytes.

use serde::{Deserialize, Serialize};

use crate::model::{ExecutionReport, OrderStatus};
use crate::venue::VenueOrder;

/// An order: `VenueOrder`'s fields, in its declaration order (its enums
/// are plain, so postcard takes the type itself).
///
/// # Errors
/// Never in practice (postcard cannot fail on these types); the error is
/// postcard's.
pub fn encode_order(order: &VenueOrder) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(order)
}

/// An order record's payload.
///
/// # Errors
/// When the payload is not a postcard `VenueOrder`.
pub fn decode_order(payload: &[u8]) -> Result<VenueOrder, postcard::Error> {
    postcard::from_bytes(payload)
}

/// A report as recorded (`ExecutionReport`'s status is a tagged enum in
/// JSON, which postcard cannot read back; this is the same data).
#[derive(Serialize, Deserialize)]
struct Report<'a> {
    order_id: &'a str,
    status: Status<'a>,
    last_quantity: f64,
    last_price: f64,
    fee: f64,
    fee_base: f64,
}

#[derive(Serialize, Deserialize)]
enum Status<'a> {
    Accepted,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected(&'a str),
    Expired,
}

impl<'a> From<&'a ExecutionReport> for Report<'a> {
    fn from(r: &'a ExecutionReport) -> Self {
        Report {
            order_id: r.order_id.as_str(),
            status: match &r.status {
                OrderStatus::Accepted => Status::Accepted,
                OrderStatus::PartiallyFilled => Status::PartiallyFilled,
                OrderStatus::Filled => Status::Filled,
                OrderStatus::Cancelled => Status::Cancelled,
                OrderStatus::Rejected { reason } => Status::Rejected(reason),
                OrderStatus::Expired => Status::Expired,
            },
            last_quantity: r.last_quantity,
            last_price: r.last_price,
            fee: r.fee,
            fee_base: r.fee_base,
        }
    }
}

impl From<Report<'_>> for ExecutionReport {
    fn from(r: Report<'_>) -> Self {
        ExecutionReport {
            order_id: r.order_id.into(),
            status: match r.status {
                Status::Accepted => OrderStatus::Accepted,
                Status::PartiallyFilled => OrderStatus::PartiallyFilled,
                Status::Filled => OrderStatus::Filled,
                Status::Cancelled => OrderStatus::Cancelled,
                Status::Rejected(reason) => OrderStatus::Rejected {
                    reason: reason.to_string(),
                },
                Status::Expired => OrderStatus::Expired,
            },
            last_quantity: r.last_quantity,
            last_price: r.last_price,
            fee: r.fee,
            fee_base: r.fee_base,
        }
    }
}

/// The venue's answer: its reports, as a sequence.
///
/// # Errors
/// As [`encode_order`].
pub fn encode_reports(reports: &[ExecutionReport]) -> Result<Vec<u8>, postcard::Error> {
    let view: Vec<Report<'_>> = reports.iter().map(Report::from).collect();
    postcard::to_stdvec(&view)
}

/// A reports record's payload.
///
/// # Errors
/// When the payload is not a postcard sequence of reports.
pub fn decode_reports(payload: &[u8]) -> Result<Vec<ExecutionReport>, postcard::Error> {
    let view: Vec<Report<'_>> = postcard::from_bytes(payload)?;
    Ok(view.into_iter().map(ExecutionReport::from).collect())
}

/// An order or reports record (kinds 13 and 14) as JSON, for people:
/// the very JSON kinds 8 and 2 hold.
///
/// # Errors
/// When the payload does not decode, or the kind is another.
pub fn to_json(kind: u8, payload: &[u8]) -> Result<serde_json::Value, String> {
    let value = match kind {
        super::record::kind::ORDER => decode_order(payload).map(serde_json::to_value),
        super::record::kind::ANSWER => decode_reports(payload).map(serde_json::to_value),
        other => return Err(format!("record kind {other} is not an order or reports")),
    };
    value.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderType, Side, TimeInForce};

    fn order() -> VenueOrder {
        VenueOrder {
            order_id: "trend-7".into(),
            symbol: "BTCUSDT".into(),
            side: Side::Sell,
            order_type: OrderType::Limit,
            quantity: 0.5,
            limit_price: Some(101.25),
            time_in_force: TimeInForce::Gtc,
        }
    }

    fn report(status: OrderStatus) -> ExecutionReport {
        ExecutionReport {
            order_id: "trend-7".into(),
            status,
            last_quantity: 0.25,
            last_price: 101.25,
            fee: 0.01,
            fee_base: 0.0,
        }
    }

    #[test]
    fn an_order_reads_back_as_it_was_sent() {
        let out = encode_order(&order()).unwrap();
        assert_eq!(decode_order(&out).unwrap(), order());
        // The layout is the journal's: these bytes are what was written.
        let mut expected = vec![7];
        expected.extend_from_slice(b"trend-7");
        expected.push(7);
        expected.extend_from_slice(b"BTCUSDT");
        expected.extend_from_slice(&[1, 1]); // sell, limit
        expected.extend_from_slice(&0.5f64.to_le_bytes());
        expected.push(1);
        expected.extend_from_slice(&101.25f64.to_le_bytes());
        expected.push(0); // gtc
        assert_eq!(out, expected);
    }

    #[test]
    fn every_status_reads_back_as_it_was_reported() {
        let reports: Vec<ExecutionReport> = [
            OrderStatus::Accepted,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled,
            OrderStatus::Cancelled,
            OrderStatus::Rejected {
                reason: "max_position: ünïcode and spaces".into(),
            },
            OrderStatus::Expired,
        ]
        .into_iter()
        .map(report)
        .collect();
        let bytes = encode_reports(&reports).unwrap();
        assert_eq!(decode_reports(&bytes).unwrap(), reports);
        assert_eq!(decode_reports(&encode_reports(&[]).unwrap()).unwrap(), []);
        // Pinned: one accepted report.
        let one = encode_reports(&reports[..1]).unwrap();
        let mut expected = vec![1, 7];
        expected.extend_from_slice(b"trend-7");
        expected.push(0);
        for x in [0.25f64, 101.25, 0.01, 0.0] {
            expected.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(one, expected);
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let bytes =
            encode_reports(&[report(OrderStatus::Rejected { reason: "x".into() })]).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_reports(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_reports(&[1, 0, 9]).is_err(), "unknown status");
        assert!(decode_order(b"{\"order_id\":\"a\"}").is_err(), "JSON");
    }
}
