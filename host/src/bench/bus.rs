//! The bus alone, no WebAssembly: throughput in one thread, and the hop
//! from a producer on another thread to a handler.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::bus::inbound::recv_spinning;
use crate::bus::{Bus, DedupWindow, InProcessBus, Stamper, clock};
use crate::model::{Envelope, Payload, TopicPattern};

/// Messages per second through the in-process bus: one producer, one
/// subscriber, no WebAssembly, small envelopes published and taken in
/// batches of 256 (each envelope is cloned from a template, as a producer
/// would build it). With `dedup`, the subscriber checks every id against
/// its window, as reliable delivery does.
pub fn bus_throughput(messages: u64, dedup: bool) -> f64 {
    use crate::bus::{Bus, InProcessBus};
    use crate::model::TopicPattern;
    let mut bus = InProcessBus::new();
    bus.subscribe(0, TopicPattern::parse("md.tick.*").expect("valid pattern"));
    let template = Envelope {
        id: 0,
        topic: "md.tick.BTCUSDT".into(),
        source: "venue".into(),
        sequence: 0,
        event_time: 0,
        trace_id: 0,
        correlation_id: None,
        attempt: 1,
        payload: Payload::Custom(Vec::new()),
    };
    let mut window = crate::bus::DedupWindow::default();
    let start = Instant::now();
    let mut taken = 0u64;
    while taken < messages {
        for i in 0..256 {
            let mut e = template.clone();
            e.id = taken + i;
            bus.publish(e, None);
        }
        while let Some(d) = bus.next() {
            if !dedup || window.insert(d.envelope.id) {
                std::hint::black_box(&d.envelope.id);
            }
            taken += 1;
        }
    }
    taken as f64 / start.elapsed().as_secs_f64()
}

/// The hop across threads: a producer thread publishes `messages` small
/// envelopes at `per_second`; the bus's thread, waiting on its input
/// channel as a node waits on its venue feed (polling for `spin`, then
/// asleep), takes each, stamps it, routes it through the bus with reliable
/// de-duplication, and enters a handler. Returns producer send → handler
/// entry, ns, per message.
///
/// The producer paces itself (spinning to each message's due time) so the
/// figure is one hop's latency, not a backlog's.
pub fn bus_hop(messages: u64, per_second: u64, spin: Duration) -> Histogram<u64> {
    let (tx, rx) = mpsc::channel::<(u64, u64)>();
    let producer = std::thread::spawn(move || {
        let interval = Duration::from_secs_f64(1.0 / per_second.max(1) as f64);
        let start = Instant::now();
        for i in 0..messages {
            let due = interval.mul_f64(i as f64);
            while start.elapsed() < due {
                std::hint::spin_loop();
            }
            if tx.send((clock::now_ns(), i)).is_err() {
                return;
            }
        }
    });
    let mut bus = InProcessBus::with_reliable(vec![
        TopicPattern::parse("signal.#").expect("valid pattern"),
    ]);
    bus.subscribe(0, TopicPattern::parse("signal.*.*").expect("valid pattern"));
    let mut stamper = Stamper::new();
    let mut window = DedupWindow::default();
    let mut hops = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("valid bounds");
    while let Ok((sent, i)) = recv_spinning(&rx, spin, Duration::from_secs(3600)) {
        let env: Envelope = stamper.stamp(
            "producer",
            "signal.trend.BTCUSDT".to_string(),
            Payload::Custom(Vec::new()),
            i,
            i,
            None,
        );
        bus.publish(env, None);
        while let Some(d) = bus.next() {
            if window.insert(d.envelope.id) {
                // Handler entry.
                hops.saturating_record(clock::now_ns().saturating_sub(sent).max(1));
            }
        }
    }
    let _ = producer.join();
    hops
}
