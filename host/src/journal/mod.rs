//! The journal: an append-only, segmented, checksummed log on local disk —
//! the host's single truth (DESIGN.md, invariant 2).
//!
//! Why a purpose-built log rather than a crate: what the host needs is
//! small and exact — records in one total order with gap-free sequence
//! numbers, group commit under a durability policy the operator picks,
//! segments it can drop once a snapshot covers them, and a reader that
//! tells the tail a crash leaves (cut off, reported) from damage that a
//! crash cannot cause (refused, never skipped). The general-purpose
//! write-ahead-log crates either own the threading and the fsync policy
//! or lack one of those distinctions; ours is three short files over
//! `std::fs` and `crc32fast`, and its reader is property-tested against
//! random truncation, corruption and garbage (the tests below).
//!
//! The node's records (what is written, in which kind) are defined in
//! `node::record`; `replay` reads them back.
//!
//! - [`format`]: the bytes on disk.
//! - [`writer`]: [`Journal`], appends, group commit, rotation, retention.
//! - [`reader`]: reading back, torn tails, corruption.
//! - `syncer`: interval durability on a thread of its own.

pub mod format;
pub mod reader;
mod syncer;
pub mod writer;

pub use reader::{Entry, ReadError, Scan, TornTail, read_all};
pub use writer::{Durability, Journal, JournalConfig, JournalError};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(segment_bytes: u64) -> JournalConfig {
        JournalConfig {
            durability: Durability::Never,
            segment_bytes,
        }
    }

    fn write(dir: &std::path::Path, records: &[Vec<u8>], segment_bytes: u64) {
        let mut j = Journal::open(dir, cfg(segment_bytes)).unwrap();
        for (i, r) in records.iter().enumerate() {
            j.append((i % 7) as u8, i as u64 * 10, r).unwrap();
            if i % 3 == 0 {
                j.commit().unwrap();
            }
        }
        j.sync().unwrap();
    }

    #[test]
    fn records_come_back_in_order_across_segments_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..500u32).map(|i| i.to_le_bytes().repeat(10)).collect();
        write(dir.path(), &records, 4096);
        let segs = reader::segments(dir.path()).unwrap();
        assert!(segs.len() > 5, "rotated: {} segments", segs.len());
        let scan = read_all(dir.path(), 1).unwrap();
        assert!(scan.torn.is_none());
        let got: Vec<_> = scan.entries.iter().map(|e| e.payload.clone()).collect();
        assert_eq!(got, records);
        assert_eq!(scan.entries[499].seq, 500);
        assert_eq!((scan.entries[8].kind, scan.entries[8].time), (1, 80));
        // Reopened, it appends after the last record.
        let mut j = Journal::open(dir.path(), cfg(4096)).unwrap();
        assert_eq!(j.append(0, 0, b"more").unwrap(), 501);
        drop(j);
        let scan = read_all(dir.path(), 500).unwrap();
        assert_eq!(scan.entries.len(), 2);
        assert_eq!(scan.entries[1].payload, b"more");
    }

    #[test]
    fn uncommitted_records_are_not_on_disk_and_commit_puts_them_there() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), cfg(1 << 20)).unwrap();
        j.append(1, 1, b"a").unwrap();
        assert_eq!(read_all(dir.path(), 1).unwrap().entries.len(), 0);
        j.commit().unwrap();
        assert_eq!(j.committed_seq(), 1);
        assert_eq!(read_all(dir.path(), 1).unwrap().entries.len(), 1);
        // The policy decides the syncs.
        let mut every = Journal::open(
            &dir.path().join("b"),
            JournalConfig {
                durability: Durability::EveryCommit,
                ..cfg(1 << 20)
            },
        )
        .unwrap();
        every.append(1, 1, b"a").unwrap();
        every.commit().unwrap();
        every.commit().unwrap();
        assert_eq!(every.syncs(), 2);
        assert_eq!(j.syncs(), 0);
    }

    #[test]
    fn a_torn_tail_is_cut_off_on_open_and_damage_before_it_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..100u32).map(|i| vec![i as u8; 40]).collect();
        write(dir.path(), &records, 2048);
        let segs = reader::segments(dir.path()).unwrap();
        let last = &segs.last().unwrap().1;
        let len = std::fs::metadata(last).unwrap().len();
        // A crash in the middle of the last write.
        std::fs::OpenOptions::new()
            .write(true)
            .open(last)
            .unwrap()
            .set_len(len - 7)
            .unwrap();
        let scan = read_all(dir.path(), 1).unwrap();
        let torn = scan.torn.clone().unwrap();
        assert_eq!(scan.entries.len(), 99);
        assert_eq!(torn.damage, "the record is cut short");
        let mut j = Journal::open(dir.path(), cfg(2048)).unwrap();
        assert_eq!(j.recovered().unwrap().valid_len, torn.valid_len);
        let kept = last.with_extension(format!("journal.torn-{}", torn.valid_len));
        assert_eq!(std::fs::read(&kept).unwrap().len() as u64, torn.torn_bytes);
        assert_eq!(j.append(0, 0, b"after").unwrap(), 100);
        drop(j);
        let scan = read_all(dir.path(), 1).unwrap();
        assert!(scan.torn.is_none());
        assert_eq!(scan.entries.len(), 100);
        // A flipped byte in an older segment is not a crash: refused.
        let first = &segs[0].1;
        let mut bytes = std::fs::read(first).unwrap();
        bytes[100] ^= 0x40;
        std::fs::write(first, &bytes).unwrap();
        let e = read_all(dir.path(), 1).unwrap_err().to_string();
        assert!(
            e.contains("is corrupt at") && e.contains("restore the segment"),
            "{e}"
        );
        assert!(
            Journal::open(dir.path(), cfg(2048)).is_err(),
            "opening changes nothing"
        );
        assert_eq!(std::fs::read(first).unwrap(), bytes);
    }

    #[test]
    fn retention_drops_only_whole_segments_before_the_seq() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..200u32).map(|i| vec![i as u8; 50]).collect();
        write(dir.path(), &records, 2048);
        let mut j = Journal::open(dir.path(), cfg(2048)).unwrap();
        let before = reader::segments(dir.path()).unwrap();
        let removed = j.retain_from(100).unwrap();
        let after = reader::segments(dir.path()).unwrap();
        assert_eq!(before.len() - after.len(), removed);
        assert!(removed > 0);
        assert!(after[0].0 <= 100, "record 100 is still there");
        let scan = read_all(dir.path(), 1).unwrap();
        assert_eq!(scan.entries.first().unwrap().seq, after[0].0);
        assert_eq!(scan.entries.last().unwrap().seq, 200);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Cut the journal anywhere, or flip any byte of its last segment:
        /// the reader returns exactly a prefix of what was written, never
        /// a record that was not, and never panics.
        #[test]
        fn any_truncation_or_flip_of_the_tail_yields_a_clean_prefix(
            sizes in proptest::collection::vec(0usize..300, 1..60),
            cut in any::<prop::sample::Index>(),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let records: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| vec![i as u8; *n])
                .collect();
            write(dir.path(), &records, 4096);
            let last = reader::segments(dir.path()).unwrap().last().unwrap().1.clone();
            let mut bytes = std::fs::read(&last).unwrap();
            bytes.truncate(cut.index(bytes.len() + 1));
            if let Some((at, mask)) = flip
                && !bytes.is_empty()
            {
                let i = at.index(bytes.len());
                bytes[i] ^= mask.max(1);
            }
            std::fs::write(&last, &bytes).unwrap();
            let scan = read_all(dir.path(), 1).unwrap();
            let n = scan.entries.len();
            prop_assert!(n <= records.len());
            for (e, r) in scan.entries.iter().zip(&records) {
                prop_assert_eq!(&e.payload, r);
            }
            // And the writer carries on after the prefix.
            let mut j = Journal::open(dir.path(), cfg(4096)).unwrap();
            prop_assert_eq!(j.next_seq(), n as u64 + 1);
            j.append(0, 0, b"next").unwrap();
            drop(j);
            let again = read_all(dir.path(), 1).unwrap();
            prop_assert!(again.torn.is_none());
            prop_assert_eq!(again.entries.len(), n + 1);
        }

        /// Whatever bytes a segment holds, reading it never panics.
        #[test]
        fn garbage_segments_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut with_header = format::header().to_vec();
            with_header.extend_from_slice(&bytes);
            for b in [&bytes, &with_header] {
                let (valid, _) = reader::scan_segment(b, 1, &mut |_| {});
                prop_assert!(valid.len <= b.len());
            }
        }
    }
}
