//! Reading a journal back: every record in seq order, across segments,
//! stopping cleanly where the last write was cut off.
//!
//! Damage at the end of the *last* segment is what a crash leaves (a
//! record half written, or written but not yet synced): the reader stops
//! there and reports it as a torn tail, and the writer cuts it off when it
//! opens the journal. Damage anywhere else — inside an older segment, a
//! gap in the sequence, a missing segment — is not something a crash
//! does; it is reported as corruption and nothing past it is returned, so
//! a replay never silently skips an input.

use std::fs;
use std::path::{Path, PathBuf};

use super::format::{self, Damage, HEADER_LEN};

/// One record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number, from 1 without gaps.
    pub seq: u64,
    /// What the payload is.
    pub kind: u8,
    /// Event time, ns.
    pub time: u64,
    /// The bytes.
    pub payload: Vec<u8>,
}

/// Where a torn tail starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The last segment's file.
    pub segment: PathBuf,
    /// Bytes of it that hold whole records (the header included).
    pub valid_len: u64,
    /// Bytes after that.
    pub torn_bytes: u64,
    /// What was wrong with the first of them.
    pub damage: String,
}

/// Why a journal cannot be read past some point.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The directory or a segment could not be read.
    #[error("cannot read the journal at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Damage that a crash does not cause.
    #[error(
        "the journal is corrupt at {path}, byte {offset}: {what}; the records before it are intact \
         — restore the segment from a backup, or move it and the ones after it away to start from there"
    )]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// Where in it.
        offset: u64,
        /// What is wrong.
        what: String,
    },
}

/// The segments of the journal in `dir`, in seq order: (first seq, path).
///
/// # Errors
/// When the directory cannot be listed.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, ReadError> {
    let io = |source| ReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if let Some(seq) = name.to_str().and_then(format::segment_seq) {
            found.push((seq, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Everything a read found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The records, in order.
    pub entries: Vec<Entry>,
    /// The torn tail of the last segment, if there was one.
    pub torn: Option<TornTail>,
}

/// Read the whole journal in `dir`, from seq `from` on.
///
/// # Errors
/// [`ReadError`] for unreadable files and for damage a crash cannot cause.
pub fn read_all(dir: &Path, from: u64) -> Result<Scan, ReadError> {
    let mut scan = Scan::default();
    let torn = for_each(dir, |r| {
        if r.seq >= from {
            scan.entries.push(Entry {
                seq: r.seq,
                kind: r.kind,
                time: r.time,
                payload: r.payload.to_vec(),
            });
        }
    })?;
    scan.torn = torn;
    Ok(scan)
}

/// Call `visit` with every record in order; the torn tail, if any.
///
/// # Errors
/// [`ReadError`] for unreadable files and for damage a crash cannot cause.
pub fn for_each(
    dir: &Path,
    mut visit: impl FnMut(format::RecordRef<'_>),
) -> Result<Option<TornTail>, ReadError> {
    let segs = segments(dir)?;
    let mut expected: Option<u64> = None;
    for (i, (first, path)) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let corrupt = |offset: u64, what: String| ReadError::Corrupt {
            path: path.clone(),
            offset,
            what,
        };
        if let Some(e) = expected
            && *first != e
        {
            return Err(corrupt(
                0,
                format!(
                    "the segment starts at record {first}, but the one before it ended at {}",
                    e - 1
                ),
            ));
        }
        let bytes = fs::read(path).map_err(|source| ReadError::Io {
            path: path.clone(),
            source,
        })?;
        let (valid, damage) = scan_segment(&bytes, *first, &mut visit);
        expected = Some(valid.next_seq);
        if let Some(damage) = damage {
            if !last {
                return Err(corrupt(valid.len as u64, damage));
            }
            return Ok(Some(TornTail {
                segment: path.clone(),
                valid_len: valid.len as u64,
                torn_bytes: (bytes.len() - valid.len) as u64,
                damage,
            }));
        }
    }
    Ok(None)
}

/// How far a segment holds whole records.
#[derive(Debug, Clone, Copy)]
pub(super) struct Valid {
    /// Bytes of whole records, header included.
    pub len: usize,
    /// The seq the next record must have.
    pub next_seq: u64,
}

/// Walk one segment's records (its first must be `first`), calling
/// `visit`; how far it is whole, and what stopped the walk if not its end.
pub(super) fn scan_segment(
    bytes: &[u8],
    first: u64,
    visit: &mut impl FnMut(format::RecordRef<'_>),
) -> (Valid, Option<String>) {
    let mut valid = Valid {
        len: 0,
        next_seq: first,
    };
    if bytes.len() < HEADER_LEN {
        return (valid, Some("the segment header is cut short".into()));
    }
    if !format::header_ok(bytes) {
        return (
            valid,
            Some("not a Floor journal segment of this version (bad header)".into()),
        );
    }
    valid.len = HEADER_LEN;
    while valid.len < bytes.len() {
        match format::decode(&bytes[valid.len..]) {
            Ok((r, n)) if r.seq == valid.next_seq => {
                visit(r);
                valid.len += n;
                valid.next_seq += 1;
            }
            Ok((r, _)) => {
                return (
                    valid,
                    Some(format!("record {} where {} was due", r.seq, valid.next_seq)),
                );
            }
            Err(d @ (Damage::Truncated | Damage::BadLength(_) | Damage::BadChecksum)) => {
                return (valid, Some(d.to_string()));
            }
        }
    }
    (valid, None)
}
