//! `floor replay`: a recorded session through its recorded agent versions
//! sends every order exactly as it was sent, and a difference is found
//! and shown.

use std::path::Path;
use std::process::Output;

use floor_host::journal::{Durability, Journal, JournalConfig, read_all};
use floor_host::node::order_records::{decode_order, decode_reports, encode_order};
use floor_host::node::record::kind;
use floor_host::venue::VenueOrder;

fn replay(dir: &str) -> (Output, serde_json::Value) {
    let out = floor_tests::floor(&["replay", dir, "--json"], None);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

#[test]
fn a_sixty_second_session_replays_bit_for_bit_and_a_second_run_appends_a_session() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    // 24,000 events at 400 per second: a minute of market.
    floor_tests::run_synthetic_demo(dir, 24_000);
    let (out, report) = replay(dir);
    assert!(out.status.success(), "{report}");
    assert_eq!(report["identical"], true);
    let s = &report["sessions"][0];
    assert_eq!(s["replayed"], s["records"], "every record replayed");
    assert!(s["records"].as_u64().unwrap() > 24_000);
    let recorded = read_all(&data.path().join("journal"), 1).unwrap();
    let submits = recorded
        .entries
        .iter()
        .filter(|e| e.kind == kind::ORDER)
        .count() as u64;
    assert!(submits > 0, "the demo traded");
    assert_eq!(s["orders"], submits, "every recorded order sent again");
    assert!(s["messages"].as_u64().unwrap() > 24_000);
    assert_eq!(s["agents"].as_array().unwrap().len(), 3);
    for a in s["agents"].as_array().unwrap() {
        let sha = a["sha256"].as_str().unwrap();
        assert!(
            data.path()
                .join("artifacts")
                .join(format!("{sha}.wasm"))
                .is_file(),
            "the artifact of {a} is kept"
        );
    }
    // The same again: the digest is a function of the journal; and of
    // nothing else, whether ticks go to agents in runs or one by one.
    let (_, again) = replay(dir);
    assert_eq!(again["sessions"][0]["digest"], s["digest"]);
    let one = floor_tests::floor(&["replay", dir, "--json", "--one-at-a-time"], None);
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one["sessions"][0]["digest"], s["digest"]);

    // A second run on the same data directory is a second session; its
    // orders are numbered after the first's, and replay as recorded.
    floor_tests::run_synthetic_demo(dir, 4_000);
    let (out, report) = replay(dir);
    assert!(out.status.success(), "{report}");
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["digest"], s["digest"]);
    assert_eq!(sessions[1]["replayed"], sessions[1]["records"]);
    assert!(sessions[1]["orders"].as_u64().unwrap() > 0, "{report}");
}

/// Copy `dir`'s journal into `into`, passing each record through `edit`.
pub(crate) fn rewrite(dir: &Path, into: &Path, edit: impl Fn(&mut u8, &mut Vec<u8>)) {
    let scan = read_all(&dir.join("journal"), 1).unwrap();
    let mut j = Journal::open(
        &into.join("journal"),
        JournalConfig {
            durability: Durability::Never,
            segment_bytes: 64 << 20,
        },
    )
    .unwrap();
    for mut e in scan.entries {
        edit(&mut e.kind, &mut e.payload);
        j.append(e.kind, e.time, &e.payload).unwrap();
    }
    j.sync().unwrap();
    copy_dir(&dir.join("artifacts"), &into.join("artifacts"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

#[test]
fn a_journal_with_its_orders_and_answers_in_json_replays_the_same() {
    // Journals written before orders and the venue's answers were
    // postcard (kinds 13 and 14) hold them in JSON (kinds 8 and 2): the
    // same session rewritten that way replays the same orders, and says
    // the orders for people as before.
    let data = tempfile::tempdir().unwrap();
    floor_tests::run_synthetic_demo(data.path().to_str().unwrap(), 4_000);
    let (out, now) = replay(data.path().to_str().unwrap());
    assert!(out.status.success(), "{now}");
    let old = tempfile::tempdir().unwrap();
    rewrite(data.path(), old.path(), |k, payload| match *k {
        kind::ORDER => {
            let o: VenueOrder = decode_order(payload).unwrap();
            *k = kind::SUBMIT;
            *payload = serde_json::to_vec(&o).unwrap();
        }
        kind::ANSWER => {
            let r = decode_reports(payload).unwrap();
            *k = kind::REPORTS;
            *payload = serde_json::to_vec(&r).unwrap();
        }
        _ => {}
    });
    let scan = read_all(&old.path().join("journal"), 1).unwrap();
    assert!(scan.entries.iter().any(|e| e.kind == kind::SUBMIT));
    assert!(!scan.entries.iter().any(|e| e.kind == kind::ORDER));
    let (out, then) = replay(old.path().to_str().unwrap());
    assert!(out.status.success(), "{then}");
    assert_eq!(then["identical"], true);
    let orders = &now["sessions"][0]["orders"];
    assert!(orders.as_u64().unwrap() > 0, "the demo traded");
    assert_eq!(&then["sessions"][0]["orders"], orders);
    assert_eq!(
        then["sessions"][0]["replayed"],
        now["sessions"][0]["replayed"]
    );
    // Both forms read the same for people.
    let dump = |dir: &Path| {
        let out = floor_tests::floor(&["journal", dir.to_str().unwrap(), "--dump"], None);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"kind\":\"submit\"") || l.contains("\"kind\":\"reports\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (new_form, json_form) = (dump(data.path()), dump(old.path()));
    assert!(!new_form.is_empty());
    assert_eq!(new_form, json_form);
}

#[test]
fn a_different_order_on_record_is_the_divergence_and_an_altered_artifact_is_refused() {
    let data = tempfile::tempdir().unwrap();
    floor_tests::run_synthetic_demo(data.path().to_str().unwrap(), 4_000);
    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    let first_order = scan
        .entries
        .iter()
        .find(|e| e.kind == kind::ORDER)
        .expect("the demo traded");
    let order = decode_order(&first_order.payload).unwrap();

    // As if the live node had sent twice the quantity: the replay, which
    // sends what the agents decide, parts from the record right there.
    let forged = tempfile::tempdir().unwrap();
    let target = first_order.payload.clone();
    rewrite(data.path(), forged.path(), |k, payload| {
        if *k == kind::ORDER && *payload == target {
            let mut o = decode_order(payload).unwrap();
            o.quantity *= 2.0;
            *payload = encode_order(&o).unwrap();
        }
    });
    let (out, report) = replay(forged.path().to_str().unwrap());
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["identical"], false);
    let d = &report["sessions"][0]["divergence"];
    assert_eq!(d["seq"], first_order.seq);
    let doubled = format!("\"quantity\":{}", order.quantity * 2.0);
    assert!(d["recorded"].as_str().unwrap().contains(&doubled), "{d}");
    let replayed = d["replayed"].as_str().unwrap();
    assert!(
        replayed.contains(&format!("\"quantity\":{}", order.quantity))
            && replayed.contains(order.order_id.as_str()),
        "{d}"
    );
    let text = floor_tests::floor(&["replay", forged.path().to_str().unwrap()], None);
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(
        printed.contains(&format!("DIVERGED at record {}", first_order.seq)),
        "{printed}"
    );

    // An artifact altered on disk is refused, not replayed.
    let artifacts = data.path().join("artifacts");
    let any = std::fs::read_dir(&artifacts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let mut bytes = std::fs::read(any.path()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(any.path(), bytes).unwrap();
    let out = floor_tests::floor(&["replay", data.path().to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was altered on disk"), "{err}");

    // Not a data directory: a clear error.
    let out = floor_tests::floor(&["replay", "/nonexistent-floor-dir"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no journal in"), "{err}");
}

#[test]
fn what_if_reports_the_orders_a_candidate_adds_removes_and_changes() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    floor_tests::run_synthetic_demo(dir, 4_000);
    let what_if = |candidate: &str| {
        let out = floor_tests::floor(&["replay", dir, "--agent", candidate, "--json"], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let diffs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        diffs[0].clone()
    };
    // The very same version: every decision unchanged.
    let trend = floor_tests::agent("trend");
    let same = what_if(&format!("trend={}", trend.display()));
    let orders = same["baseline"]["orders"].as_u64().unwrap();
    assert!(orders > 0, "{same}");
    assert_eq!(same["candidate"]["orders"], orders);
    assert_eq!(same["unchanged"], orders);
    assert_eq!(same["added"].as_array().unwrap().len(), 0);
    assert_eq!(same["removed"].as_array().unwrap().len(), 0);
    assert_eq!(same["changed"].as_array().unwrap().len(), 0);
    assert_eq!(same["baseline"]["pnl"], same["candidate"]["pnl"]);

    // Another strategy in trend's place on BTCUSDT: its orders differ, and
    // every one is accounted for.
    let meanrev = floor_tests::agent("meanrev");
    let other = what_if(&format!("trend={}", meanrev.display()));
    let n = |k: &str| other[k].as_array().unwrap().len() as u64;
    assert!(n("added") + n("removed") + n("changed") > 0, "{other}");
    assert_eq!(
        other["unchanged"].as_u64().unwrap() + n("removed") + n("changed"),
        other["baseline"]["orders"].as_u64().unwrap()
    );
    assert_eq!(
        other["unchanged"].as_u64().unwrap() + n("added") + n("changed"),
        other["candidate"]["orders"].as_u64().unwrap()
    );
    // The recorded run is untouched by either.
    let (out, report) = replay(dir);
    assert!(out.status.success(), "{report}");

    // A name the session does not have: a clear error.
    let out = floor_tests::floor(
        &[
            "replay",
            dir,
            "--agent",
            &format!("nobody={}", trend.display()),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the session has no agent `nobody`"), "{err}");
}

/// The desk's own component with a larger quantity: only the override
/// says so.
pub(crate) fn larger_desk() -> floor_host::deploy::DeployRequest {
    floor_host::deploy::DeployRequest {
        agent: "desk".into(),
        component: std::fs::read(floor_tests::agent("trend")).unwrap(),
        config: [("quantity".to_string(), "0.02".to_string())].into(),
        shadow: false,
    }
}

#[test]
fn a_deploy_mid_session_replays_from_its_kept_artifact_and_overrides() {
    use crate::journal::{turn, witnessed_node};
    use floor_host::node::operator::Operation;

    let data = tempfile::tempdir().unwrap();
    let (mut node, _) = witnessed_node(data.path());
    let before = turn(&mut node, 1..=6);
    let candidate = node.preparer().prepare(&larger_desk()).unwrap();
    node.operate(Operation::Deploy(Box::new(candidate)))
        .unwrap();
    let after = turn(&mut node, 7..=12);
    drop(node);
    assert!(before > 0 && after > 0, "{before} then {after} orders");
    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    let last = decode_order(
        &scan
            .entries
            .iter()
            .rfind(|e| e.kind == kind::ORDER)
            .unwrap()
            .payload,
    )
    .unwrap();
    assert_eq!(last.quantity, 0.02, "the deployed version traded");

    let (out, report) = replay(data.path().to_str().unwrap());
    assert!(out.status.success(), "{report}");
    assert_eq!(report["sessions"][0]["orders"], before + after);
}

#[test]
fn calls_the_deadline_cut_are_journaled_and_cut_again_in_the_replay() {
    let data = tempfile::tempdir().unwrap();
    // A spinning agent with fuel for seconds and a 2 ms deadline: the wall
    // clock cuts its calls (until the supervisor quarantines it). Without
    // the cut records, the replay (which has no wall clock) would spin on
    // through its fuel, and fault for another reason.
    let config = format!(
        "{}{}{}{}",
        floor_tests::node_section(data.path()),
        floor_tests::BTCUSDT,
        floor_tests::desk_and_gate(),
        floor_tests::hostile_agent(
            "spinner",
            r#"mode = "stall""#,
            r#""md.tick.BTCUSDT""#,
            "",
            "limits = { fuel = 20_000_000_000, deadline_ms = 2 }"
        )
    );
    let path = data.path().join("cut.toml");
    std::fs::write(&path, config).unwrap();
    let out = floor_tests::floor(
        &[
            "run",
            path.to_str().unwrap(),
            "--venue",
            "synthetic",
            "--fast",
            "--events",
            "2000",
            "--quiet",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = read_all(&data.path().join("journal"), 1).unwrap();
    let cuts: Vec<serde_json::Value> = recorded
        .entries
        .iter()
        .filter(|e| e.kind == kind::CUT)
        .map(|e| serde_json::from_slice(&e.payload).unwrap())
        .collect();
    assert!(!cuts.is_empty(), "the deadline cut the spinner's calls");
    assert!(cuts.iter().all(|c| c["agent"] == "spinner"), "{cuts:?}");
    assert_eq!(cuts[0]["call"], 1);
    let (out, report) = replay(data.path().to_str().unwrap());
    assert!(out.status.success(), "{report}");
    let s = &report["sessions"][0];
    assert_eq!(s["cuts"], cuts.len() as u64, "{report}");
    assert_eq!(s["replayed"], s["records"], "{report}");
}
