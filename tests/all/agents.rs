//! The reference agents through the host's API: state carried by
//! snapshot/restore (what hot swap builds on).

use std::sync::Arc;

use floor_host::agent::{AgentInstance, AgentLinker, AgentSpec, EmptyView, Rights};
use floor_host::model::{Envelope, Payload, Quote};
use floor_host::runtime::{ComponentCache, Limits, Runtime, RuntimeConfig};
use floor_tests::agent;

fn tick(n: u64, mid: f64) -> Envelope {
    Envelope {
        id: n,
        topic: "md.tick.BTCUSDT".into(),
        source: "venue".into(),
        sequence: n,
        event_time: n,
        trace_id: n,
        correlation_id: None,
        attempt: 1,
        payload: Payload::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid: mid - 0.5,
            bid_size: 1.0,
            ask: mid + 0.5,
            ask_size: 1.0,
        }),
    }
}

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        pool_instances: 8,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[test]
fn compiled_components_are_cached_by_content_hash_and_a_corrupt_cache_is_recompiled() {
    let runtime = runtime();
    let engine = runtime.engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = ComponentCache::new(engine, Some(dir.path().to_path_buf()));
    let first = cache.load(engine, &agent("risk")).unwrap();
    assert!(!first.from_cache);
    assert_eq!(first.sha256.len(), 64);
    let second = cache.load(engine, &agent("risk")).unwrap();
    assert!(second.from_cache);
    assert_eq!(first.sha256, second.sha256);
    // `second` maps the cached file; unmap it before corrupting the file in
    // place (the host itself only ever replaces cache files by rename).
    drop(second);

    let artifact = cache.path_for(&first.sha256).unwrap();
    std::fs::write(&artifact, b"not a compiled component").unwrap();
    let third = cache.load(engine, &agent("risk")).unwrap();
    assert!(
        !third.from_cache,
        "a corrupt artifact is recompiled, never loaded"
    );
    assert!(
        cache.load(engine, &agent("risk")).unwrap().from_cache,
        "and rewritten"
    );
}

#[test]
fn a_cache_that_others_may_write_to_is_never_loaded_from() {
    use std::os::unix::fs::PermissionsExt;
    let runtime = runtime();
    let engine = runtime.engine();
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let cache = ComponentCache::new(engine, Some(cache_dir.clone()));
    let first = cache.load(engine, &agent("risk")).unwrap();
    assert_eq!(
        std::fs::metadata(&cache_dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "the host makes its cache owner-only"
    );
    let cached = cache.path_for(&first.sha256).unwrap();
    assert!(cache.load(engine, &agent("risk")).unwrap().from_cache);

    // A cached file anyone may overwrite could be planted native code.
    std::fs::set_permissions(&cached, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(!cache.load(engine, &agent("risk")).unwrap().from_cache);
    std::fs::set_permissions(&cached, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(cache.load(engine, &agent("risk")).unwrap().from_cache);

    // So could a directory anyone may write to: nothing is read from it
    // (or written to it).
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::remove_file(&cached).unwrap();
    assert!(!cache.load(engine, &agent("risk")).unwrap().from_cache);
    assert!(!cached.exists(), "nothing written into it either");
}

#[test]
fn trend_state_survives_snapshot_and_restore_into_a_new_instance() {
    let runtime = runtime();
    let linker = AgentLinker::new(runtime.engine()).unwrap();
    let component = ComponentCache::new(runtime.engine(), None)
        .load(runtime.engine(), &agent("trend"))
        .unwrap()
        .component;
    let spec = AgentSpec {
        name: "trend".into(),
        component,
        limits: Limits::default(),
        rights: Rights::all(),
        config: vec![
            ("symbol".into(), "BTCUSDT".into()),
            ("fast".into(), "2".into()),
            ("slow".into(), "4".into()),
        ],
        seed: 1,
        read_dirs: Vec::new(),
    };
    let start =
        || AgentInstance::start(&runtime, &linker, spec.clone(), Arc::new(EmptyView)).unwrap();
    let mut old = start();
    // Three falling ticks: the averages are not full yet (slow = 4).
    for (n, mid) in [(1, 104.0), (2, 103.0), (3, 102.0)] {
        assert!(old.handle(&tick(n, mid), false).unwrap().is_empty());
    }
    let state = old.snapshot().unwrap();
    let mut new = start();
    new.restore(&state).unwrap();
    let mut fresh = start();
    // The fourth tick fills the slow window only for agents that saw the first three.
    let after_restore = new.handle(&tick(4, 101.0), false).unwrap();
    let after_old = old.handle(&tick(4, 101.0), false).unwrap();
    assert_eq!(after_restore, after_old);
    assert!(
        !after_old.is_empty(),
        "the window is full: the regime is set and published"
    );
    assert!(
        fresh.handle(&tick(4, 101.0), false).unwrap().is_empty(),
        "a fresh instance knows nothing"
    );
    assert_eq!(
        new.restore(b"not json").unwrap_err().reason,
        floor_host::model::ReasonCode::AgentError
    );
}
