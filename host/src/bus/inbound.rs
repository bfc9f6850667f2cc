//! Waiting for input from another thread: spin a little, then sleep.
//!
//! A thread asleep on a channel takes 5–20 µs to wake when a message
//! arrives (the scheduler's futex wake-up, more on a busy machine): for a
//! node behind a venue feed that is most of a hop's latency. Polling the
//! channel for a short while after each message keeps the thread awake
//! through a burst, so the next message is taken in well under a
//! microsecond; once the feed goes quiet for longer than the spin, the
//! thread sleeps as before and costs no CPU. Trading engines make the same
//! trade (a busy-polling input thread); the spin is configurable, and 0
//! turns it off.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// The next message on `rx`: polled for up to `spin`, then waited for up
/// to `timeout` more.
///
/// # Errors
/// [`RecvTimeoutError`] as [`Receiver::recv_timeout`].
pub fn recv_spinning<T>(
    rx: &Receiver<T>,
    spin: Duration,
    timeout: Duration,
) -> Result<T, RecvTimeoutError> {
    if !spin.is_zero() {
        let start = Instant::now();
        loop {
            match rx.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) if start.elapsed() >= spin => break,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
    }
    rx.recv_timeout(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_is_there_waits_for_what_is_not_and_sees_the_end() {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(1).unwrap();
        let spin = Duration::from_micros(50);
        assert_eq!(recv_spinning(&rx, spin, Duration::ZERO), Ok(1));
        assert_eq!(
            recv_spinning(&rx, spin, Duration::from_millis(1)),
            Err(RecvTimeoutError::Timeout)
        );
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            tx.send(2).unwrap();
        });
        assert_eq!(
            recv_spinning(&rx, Duration::ZERO, Duration::from_secs(60)),
            Ok(2),
            "past the spin, it sleeps until the message comes"
        );
        sender.join().unwrap();
        assert_eq!(
            recv_spinning(&rx, spin, Duration::from_secs(60)),
            Err(RecvTimeoutError::Disconnected)
        );
    }
}
