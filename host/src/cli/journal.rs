//! `floor journal DATA_DIR`: what a host's journal holds — records by
//! kind, first and last, a torn tail — and, with `--dump`, every record
//! decoded as one JSON line (the form to grep for "what came in just
//! before that order").

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::journal::{Entry, reader};
use crate::node::record::{self, kind};

/// Arguments of `floor journal`.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The host's data directory (its `journal/` is read), or the journal
    /// directory itself.
    data_dir: PathBuf,
    /// Print every record as a JSON line instead of the summary.
    #[arg(long)]
    dump: bool,
    /// Start at this record (with `--dump`).
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
}

/// One record as JSON: seq, time, kind, and its decoded content.
fn decode(e: &Entry) -> Value {
    let content = match e.kind {
        kind::MARKET | kind::INJECTED => record::decode_market(&e.payload)
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .map_err(|err| err.to_string()),
        kind::IDLE => Ok(Value::Null),
        kind::CANCEL | kind::CANCEL_REFUSED => Ok(Value::String(
            String::from_utf8_lossy(&e.payload).into_owned(),
        )),
        kind::ORDER | kind::ANSWER => crate::node::order_records::to_json(e.kind, &e.payload),
        kind::VENUE
        | kind::REPORTS
        | kind::OPERATION
        | kind::SESSION
        | kind::SUBMIT
        | kind::CUT => serde_json::from_slice(&e.payload).map_err(|err| err.to_string()),
        _ => Err(format!("{} bytes of an unknown kind", e.payload.len())),
    };
    let mut v = json!({"seq": e.seq, "time_ns": e.time, "kind": kind::name(e.kind)});
    match content {
        Ok(c) => v["input"] = c,
        Err(why) => v["undecodable"] = Value::String(why),
    }
    v
}

/// Run `floor journal`.
///
/// # Errors
/// When the journal cannot be read (the message says where it is damaged).
pub fn journal(args: JournalArgs) -> anyhow::Result<ExitCode> {
    let dir = if args.data_dir.join("journal").is_dir() {
        args.data_dir.join("journal")
    } else {
        args.data_dir.clone()
    };
    anyhow::ensure!(
        !reader::segments(&dir)?.is_empty(),
        "no journal segments in `{}`: give the data directory of a host (its `journal/`)",
        dir.display()
    );
    let scan = reader::read_all(&dir, args.from)?;
    if args.dump {
        for e in &scan.entries {
            println!("{}", decode(e));
        }
    } else {
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for e in &scan.entries {
            *by_kind.entry(kind::name(e.kind)).or_default() += 1;
        }
        let first = scan.entries.first();
        let last = scan.entries.last();
        let summary = json!({
            "journal": dir,
            "records": scan.entries.len(),
            "by_kind": by_kind,
            "first": first.map(|e| json!({"seq": e.seq, "time_ns": e.time})),
            "last": last.map(|e| json!({"seq": e.seq, "time_ns": e.time})),
            "torn_tail": scan.torn.as_ref().map(|t| json!({
                "segment": t.segment, "valid_bytes": t.valid_len,
                "torn_bytes": t.torn_bytes, "damage": t.damage,
            })),
        });
        if args.json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            println!("journal   {}", dir.display());
            println!("records   {}", scan.entries.len());
            for (k, n) in &by_kind {
                println!("  {k:<10} {n}");
            }
            if let (Some(f), Some(l)) = (first, last) {
                println!("seq       {} … {}", f.seq, l.seq);
                println!("time_ns   {} … {}", f.time, l.time);
            }
            if let Some(t) = &scan.torn {
                println!(
                    "torn tail {} bytes after byte {} of {} ({}); the host cuts it off and keeps it beside the journal when it opens it",
                    t.torn_bytes,
                    t.valid_len,
                    t.segment.display(),
                    t.damage
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
