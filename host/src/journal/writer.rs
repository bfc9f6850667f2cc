//! Appending to the journal: records are framed into a buffer, written by
//! [`Journal::commit`] as one batch (group commit) and made durable
//! according to the [`Durability`] policy; segments rotate at a size.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::format::{self, FRAME_LEN, MAX_PAYLOAD};
use super::reader::{self, ReadError, TornTail};
use super::syncer::Syncer;

/// When committed records reach the disk itself, not just the page cache.
///
/// `Interval` syncs on a thread of the journal's own, so the writer never
/// waits for the disk; `EveryCommit` syncs in `commit`, on the writer's
/// thread.
///
/// A killed process (`kill -9`) loses nothing it committed under any
/// policy — `commit` has handed the bytes to the kernel. What the policy
/// decides is what a power cut or a kernel crash may take: under
/// `EveryCommit` nothing committed, under `Interval(d)` at most the last
/// `d` of commits, under `Never` whatever the OS had not written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` on every commit.
    EveryCommit,
    /// `fdatasync` on a commit when the last one is at least this old.
    Interval(Duration),
    /// Leave it to the OS.
    Never,
}

/// How a journal is kept.
#[derive(Debug, Clone, Copy)]
pub struct JournalConfig {
    /// When commits are synced.
    pub durability: Durability,
    /// A segment is closed and a new one started past this many bytes.
    pub segment_bytes: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            durability: Durability::Interval(Duration::from_millis(1)),
            segment_bytes: 64 << 20,
        }
    }
}

/// Why the journal cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading what is there failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A file operation failed.
    #[error("journal {what} at {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A payload over [`MAX_PAYLOAD`].
    #[error("a journal record of {0} bytes is over the {MAX_PAYLOAD}-byte limit")]
    TooLarge(usize),
}

/// An open journal, appending after its last whole record.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    cfg: JournalConfig,
    file: File,
    path: PathBuf,
    /// Bytes in the current segment, including the uncommitted buffer.
    size: u64,
    buf: Vec<u8>,
    next_seq: u64,
    committed_seq: u64,
    recovered: Option<TornTail>,
    syncs: u64,
    /// For `Durability::Interval`: syncs in the background.
    syncer: Option<Syncer>,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> JournalError + 'a {
    move |source| JournalError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl Journal {
    /// Open (or create) the journal in `dir`. A torn tail — what a crash
    /// leaves — is cut off and reported by [`Journal::recovered`];
    /// damage elsewhere is an error and nothing is changed.
    ///
    /// # Errors
    /// [`JournalError`] when the directory cannot be used or the journal
    /// is corrupt before its tail.
    pub fn open(dir: &Path, cfg: JournalConfig) -> Result<Journal, JournalError> {
        fs::create_dir_all(dir).map_err(io("directory creation", dir))?;
        let torn = reader::for_each(dir, |_| {})?;
        let segs = reader::segments(dir)?;
        let (next_seq, path) = match segs.last() {
            None => (1, dir.join(format::segment_name(1))),
            Some((first, path)) => {
                let bytes = fs::read(path).map_err(io("read", path))?;
                let (valid, _) = reader::scan_segment(&bytes, *first, &mut |_| {});
                (valid.next_seq, path.clone())
            }
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io("open", &path))?;
        let mut size = file.metadata().map_err(io("stat", &path))?.len();
        if let Some(t) = &torn {
            // Keep what is cut off beside the journal: it is most likely a
            // half-written record, but nothing is thrown away unseen.
            let keep = path.with_extension(format!("journal.torn-{}", t.valid_len));
            let bytes = fs::read(&path).map_err(io("read", &path))?;
            fs::write(&keep, &bytes[t.valid_len as usize..])
                .map_err(io("saving the torn tail", &keep))?;
            file.set_len(t.valid_len)
                .map_err(io("truncation of the torn tail", &path))?;
            size = t.valid_len;
            tracing::warn!(
                "journal {}: cut off a torn tail of {} bytes after record {} ({}); the bytes are kept in {}",
                path.display(),
                t.torn_bytes,
                next_seq - 1,
                t.damage,
                keep.display()
            );
        }
        if size == 0 {
            file.write_all(&format::header())
                .map_err(io("header write", &path))?;
            size = format::HEADER_LEN as u64;
        }
        file.sync_data().map_err(io("sync", &path))?;
        sync_dir(dir)?;
        use std::io::Seek as _;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(io("seek", &path))?;
        let syncer = match cfg.durability {
            Durability::Interval(every) => Some(Syncer::start(
                file.try_clone().map_err(io("open", &path))?,
                every,
            )),
            _ => None,
        };
        Ok(Journal {
            dir: dir.to_path_buf(),
            cfg,
            file,
            path,
            size,
            buf: Vec::with_capacity(1 << 20),
            next_seq,
            committed_seq: next_seq - 1,
            recovered: torn,
            syncs: 0,
            syncer,
        })
    }

    /// The torn tail cut off when the journal was opened, if any.
    pub fn recovered(&self) -> Option<&TornTail> {
        self.recovered.as_ref()
    }

    /// The seq the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The last seq handed to the OS by a commit.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq
    }

    /// `fdatasync` calls so far (the background syncer's included).
    pub fn syncs(&self) -> u64 {
        self.syncs + self.syncer.as_ref().map_or(0, Syncer::syncs)
    }

    /// The journal's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Add a record to the current batch; its seq. Nothing reaches the
    /// file until [`Journal::commit`].
    ///
    /// # Errors
    /// [`JournalError::TooLarge`], or a failed rotation.
    pub fn append(&mut self, kind: u8, time: u64, payload: &[u8]) -> Result<u64, JournalError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(JournalError::TooLarge(payload.len()));
        }
        let need = (FRAME_LEN + payload.len()) as u64;
        if self.size + need > self.cfg.segment_bytes && self.size > format::HEADER_LEN as u64 {
            self.rotate()?;
        }
        let seq = self.next_seq;
        format::encode(&mut self.buf, seq, kind, time, payload);
        self.size += need;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Write the batch and sync it as the policy says.
    ///
    /// # Errors
    /// When the write or the sync fails; the batch is then lost and the
    /// journal should be reopened (which cuts off any partial write).
    pub fn commit(&mut self) -> Result<(), JournalError> {
        self.write_batch()?;
        match (&self.syncer, self.cfg.durability) {
            (Some(s), _) => {
                if let Some(e) = s.take_error() {
                    return Err(JournalError::Io {
                        what: "background sync",
                        path: self.path.clone(),
                        source: std::io::Error::other(e),
                    });
                }
                s.mark_dirty();
            }
            (None, Durability::EveryCommit) => self.sync()?,
            (None, _) => {}
        }
        Ok(())
    }

    /// Commit and sync now, whatever the policy.
    ///
    /// # Errors
    /// When the write or the sync fails.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.write_batch()?;
        self.file.sync_data().map_err(io("sync", &self.path))?;
        self.syncs += 1;
        Ok(())
    }

    /// Hand the batch to the OS.
    fn write_batch(&mut self) -> Result<(), JournalError> {
        if !self.buf.is_empty() {
            self.file
                .write_all(&self.buf)
                .map_err(io("write", &self.path))?;
            self.buf.clear();
            self.committed_seq = self.next_seq - 1;
        }
        Ok(())
    }

    /// Close the current segment (synced) and start the next.
    fn rotate(&mut self) -> Result<(), JournalError> {
        self.sync()?;
        let path = self.dir.join(format::segment_name(self.next_seq));
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .map_err(io("segment creation", &path))?;
        file.write_all(&format::header())
            .map_err(io("header write", &path))?;
        file.sync_data().map_err(io("sync", &path))?;
        sync_dir(&self.dir)?;
        if let Some(s) = &self.syncer {
            s.switch(file.try_clone().map_err(io("open", &path))?);
        }
        self.file = file;
        self.path = path;
        self.size = format::HEADER_LEN as u64;
        Ok(())
    }

    /// Delete whole segments whose records all come before `seq` (they
    /// are covered by a snapshot). The current segment is always kept.
    /// Returns how many were deleted.
    ///
    /// # Errors
    /// When the directory cannot be listed or a file removed.
    pub fn retain_from(&mut self, seq: u64) -> Result<usize, JournalError> {
        let segs = reader::segments(&self.dir)?;
        let mut removed = 0;
        for pair in segs.windows(2) {
            let (next_first, _) = pair[1];
            if next_first <= seq {
                fs::remove_file(&pair[0].1).map_err(io("segment removal", &pair[0].1))?;
                removed += 1;
            }
        }
        if removed > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(removed)
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Err(e) = self.commit() {
            tracing::error!(
                "journal {}: the last batch was not written: {e}",
                self.path.display()
            );
        }
    }
}

/// Make a new or removed file's directory entry durable.
fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("directory sync", dir))
}
