//! What an agent can reach: only read-only directories its config grants,
//! and time only as the host's event time.

use floor_host::model::{MarketEvent, Quote};
use floor_tests::HostileNode;

const ALL: &str = r#""fixture.#""#;

#[test]
fn a_granted_directory_is_readable_but_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "weights v1").unwrap();
    let grant = format!(r#"read_dirs = {{ "/data" = "{}" }}"#, dir.path().display());
    let mut h = HostileNode::with("reader", "", ALL, &grant);
    h.attack();
    assert_eq!(h.published("fixture.ok.read"), vec!["weights v1"]);
    let write = h.published("fixture.ok.write");
    assert!(write[0].starts_with("denied"), "{write:?}");
    assert!(!dir.path().join("new.txt").exists());
}

#[test]
fn without_a_grant_there_are_no_files() {
    let mut h = HostileNode::new("reader", "", ALL);
    h.attack();
    let read = h.published("fixture.ok.read");
    assert!(read[0].starts_with("error:"), "{read:?}");
}

#[test]
fn no_environment_no_network_no_wall_clock_no_file_system() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut h = HostileNode::with_config("ambient", "", ALL, "", &format!(r#"connect = "{addr}""#));
    h.node.inject(quote(), 5_000_000);
    h.attack();
    let report = h.published("fixture.ok.ambient");
    assert_eq!(report.len(), 1);
    let r = &report[0];
    assert!(r.starts_with("env=0 args=0 connect=denied"), "{r}");
    // The agent's clock is the event time of the message it handles.
    assert!(r.contains("clock=5000000 "), "{r}");
    assert!(r.contains("root=hidden"), "{r}");
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "no connection reached the listener"
    );
}

fn quote() -> MarketEvent {
    MarketEvent::Quote(Quote {
        symbol: "BTCUSDT".into(),
        bid: 99.0,
        bid_size: 1.0,
        ask: 101.0,
        ask_size: 1.0,
    })
}

#[test]
fn timers_fire_in_event_time() {
    let mut h = HostileNode::new("timer", "", ALL);
    h.attack(); // at event time 0: `wake` is due at 1 ms
    h.node.inject(quote(), 500_000);
    assert!(h.published("fixture.ok.timer").is_empty(), "not due yet");
    h.node.inject(quote(), 2_000_000);
    assert_eq!(h.published("fixture.ok.timer"), vec!["wake"]);
    h.node.inject(quote(), 3_000_000);
    assert_eq!(
        h.published("fixture.ok.timer").len(),
        1,
        "a timer fires once"
    );
}
