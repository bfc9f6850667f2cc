//! The admin API of a running `floor run` process: `floor status`, `floor
//! halt | reduce | resume`, the token, and what a stopped host leaves.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use floor_tests::{floor, floor_bin, workspace};

/// A `floor run` child on the paced synthetic venue, killed on drop.
struct Host {
    child: Child,
    config: std::path::PathBuf,
    data: tempfile::TempDir,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Host {
    start_with(&floor_tests::desk_and_gate())
}

/// A host running `agents` (TOML tables; `[deploy]` and the like too).
fn start_with(agents: &str) -> Host {
    start_args(agents, &[])
}

/// [`start_with`], with more arguments to `floor run`.
fn start_args(agents: &str, extra: &[&str]) -> Host {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("host.toml");
    let text = format!(
        "{}\n[venue]\nkind = \"synthetic\"\nevents_per_second = 200\n\n[limits]\nmax_orders_per_second_per_agent = 1000\n{agents}",
        floor_tests::node_header(data.path(), 20_000.0),
    );
    std::fs::write(&config, text).unwrap();
    let child = Command::new(floor_bin())
        .args(["run", config.to_str().unwrap(), "--for", "120s", "-q"])
        .args(extra)
        .current_dir(workspace())
        .stdout(Stdio::null())
        // Its log, for tests that look at what it said (and for people).
        .stderr(std::fs::File::create(data.path().join("host.log")).unwrap())
        .spawn()
        .unwrap();
    let host = Host {
        child,
        config,
        data,
    };
    // The host writes admin.json once it listens.
    wait_for("admin.json", || {
        host.data.path().join("admin.json").exists()
    });
    host
}

/// Ctrl-C, and the host exits cleanly.
fn stop_cleanly(host: &mut Host) {
    let pid = host.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(host.child.wait().unwrap().success());
}

/// Poll `done` until it holds. The bound on polls only guards against a
/// hang; nothing here is about speed.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3_000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} never happened");
}

fn cli(host: &Host, args: &[&str]) -> (bool, String, String) {
    let mut all = args.to_vec();
    all.push(host.config.to_str().unwrap());
    let out = floor(&all, None);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status(host: &Host) -> Value {
    let (ok, out, err) = cli(host, &["status", "--json"]);
    assert!(ok, "floor status failed: {err}");
    serde_json::from_str(&out).unwrap()
}

/// POST `body` to the admin API at `url`; the status and the JSON answer.
async fn post(url: &str, token: &str, path: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn admin(data: &Path) -> (String, String) {
    let d: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("admin.json")).unwrap()).unwrap();
    let token = std::fs::read_to_string(d["token_file"].as_str().unwrap()).unwrap();
    (d["url"].as_str().unwrap().to_string(), token)
}

#[test]
fn an_operator_halts_and_resumes_a_running_host() {
    let host = start();
    wait_for("market events", || {
        status(&host)["events"].as_u64().unwrap() > 0
    });
    let s = status(&host);
    assert_eq!(s["trading"], "active");
    assert!(
        s["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "gate")
    );

    let (ok, out, err) = cli(&host, &["halt", "--reason", "desk review"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "trading: active → halted (desk review)");
    let s = status(&host);
    assert_eq!(s["trading"], "halted");
    assert_eq!(s["trading_change"]["by"], "operator");
    assert_eq!(s["trading_change"]["reason"], "desk review");
    assert_eq!(s["open_orders"].as_array().unwrap().len(), 0);

    let (ok, out, _) = cli(&host, &["reduce", "-r", "winding down"]);
    assert!(ok);
    assert_eq!(out.trim(), "trading: halted → reducing (winding down)");
    let (ok, out, _) = cli(&host, &["resume", "-r", "done"]);
    assert!(ok);
    assert_eq!(out.trim(), "trading: reducing → active (done)");

    let (ok, out, _) = cli(&host, &["status"]);
    assert!(ok);
    assert!(
        out.starts_with("trading active (by operator: done)"),
        "{out}"
    );
}

#[test]
fn the_api_refuses_a_wrong_token_and_a_bad_body_with_what_to_do() {
    let host = start();
    let (url, token) = admin(host.data.path());
    let rt = floor_tests::runtime();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let r = http
            .get(format!("{url}/v1/status"))
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("admin.token"), "{v}");
        let r = http.get(format!("{url}/v1/status")).send().await.unwrap();
        assert_eq!(r.status(), 401, "no token at all");

        let (status, v) = post(&url, &token, "/v1/trading", r#"{"state": "paused"}"#).await;
        assert_eq!(status, 400);
        let e = v["error"].as_str().unwrap();
        assert!(
            e.contains("unknown variant `paused`") && e.contains("halted"),
            "{e}"
        );

        let (status, v) = post(&url, &token, "/v1/dlq/replay", r#"{"ids": [999]}"#).await;
        assert_eq!(status, 400);
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("no dead letter with id 999"),
            "{v}"
        );
    });
    // The host kept running through all of it.
    assert_eq!(status(&host)["trading"], "active");
}

#[test]
fn a_stopped_host_cleans_up_and_a_killed_one_is_reported_clearly() {
    let mut host = start();
    let admin_json = host.data.path().join("admin.json");
    // Ctrl-C: a clean stop removes admin.json.
    stop_cleanly(&mut host);
    assert!(!admin_json.exists(), "a clean stop removes admin.json");
    let (ok, _, err) = cli(&host, &["status"]);
    assert!(!ok);
    assert!(
        err.contains("no running host found") && err.contains("floor run"),
        "{err}"
    );

    // kill -9 leaves the file; the CLI says nobody answers.
    let mut host = start();
    host.child.kill().unwrap();
    host.child.wait().unwrap();
    assert!(admin_json_of(&host).exists());
    let (ok, _, err) = cli(&host, &["halt"]);
    assert!(!ok);
    assert!(
        err.contains("no host answers at http://127.0.0.1:"),
        "{err}"
    );
}

fn admin_json_of(host: &Host) -> std::path::PathBuf {
    host.data.path().join("admin.json")
}

#[test]
fn the_admin_api_listens_only_on_loopback() {
    let text = format!(
        "{}\n[admin]\nlisten = \"0.0.0.0:7070\"\n",
        floor_tests::BTCUSDT
    );
    let err = floor_host::config::NodeConfig::parse(&text, "t", Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("admin.listen = \"0.0.0.0:7070\" is not a loopback address")
            && err.contains("SSH tunnel"),
        "{err}"
    );
}

/// The counter's entry in `floor status --json`.
fn counter_of(s: &Value) -> Value {
    s["deploys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["agent"] == "counter")
        .unwrap()
        .clone()
}

#[test]
fn an_operator_deploys_sees_a_bad_version_rolled_back_and_rolls_back_by_hand() {
    let host = start_with(&format!(
        "\n[deploy]\nprobation_messages = 5\nprobation_secs = 0\n{}",
        floor_tests::counter_agent(r#""md.tick.*""#, r#"version = "a""#)
    ));
    let first = counter_of(&status(&host))["version"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = host.data.path();
    let good = dir.join("counter-b.wasm");
    std::fs::write(
        &good,
        floor_tests::variant(&floor_tests::fixture("counter"), "b"),
    )
    .unwrap();
    let bad = dir.join("counter-c.wasm");
    std::fs::write(
        &bad,
        floor_tests::variant(&floor_tests::fixture("counter"), "c"),
    )
    .unwrap();

    let (ok, out, err) = cli(
        &host,
        &[
            "deploy",
            good.to_str().unwrap(),
            "--agent",
            "counter",
            "--set",
            "version=b",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "deployed {} as `counter` version ",
            good.display()
        )),
        "{out}"
    );
    assert!(out.contains(&format!("(was {})", &first[..12])), "{out}");
    let c = counter_of(&status(&host));
    let second = c["version"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(c["overrides"]["version"], "b");
    assert_eq!(c["earlier"][0]["version"], first.as_str());

    // A version that traps on its third tick: `--wait` sees it rolled back.
    let (ok, out, _) = cli(
        &host,
        &[
            "deploy",
            bad.to_str().unwrap(),
            "--agent",
            "counter",
            "--set",
            "trap_on=3",
            "--wait",
        ],
    );
    assert!(!ok, "a rolled-back deploy exits non-zero: {out}");
    assert!(
        out.contains(&format!(
            "rolled back to {}: trap on message 3 of its probation",
            &second[..12]
        )),
        "{out}"
    );
    assert_eq!(counter_of(&status(&host))["version"], second.as_str());

    let (ok, out, err) = cli(&host, &["rollback", "--agent", "counter"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "`counter` rolled back from {} to {}",
            &second[..12],
            &first[..12]
        )),
        "{out}"
    );
    let s = status(&host);
    assert_eq!(counter_of(&s)["version"], first.as_str());
    let agent = s["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "counter")
        .unwrap()
        .clone();
    assert_eq!(agent["version"], first.as_str());
    assert_eq!(agent["state"], "running");

    // Garbage is refused before the node sees it; nothing changes.
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"junk").unwrap();
    let (ok, _, err) = cli(
        &host,
        &["deploy", junk.to_str().unwrap(), "--agent", "counter"],
    );
    assert!(!ok);
    assert!(
        err.contains("refused to run agent `counter` from the deployed file: it is not a well-formed WebAssembly component ("),
        "{err}"
    );
    assert_eq!(counter_of(&status(&host))["version"], first.as_str());
}

#[test]
fn a_watched_folder_deploys_a_changed_component_and_skips_a_broken_one() {
    let watched = tempfile::tempdir().unwrap();
    let file = watched.path().join("counter.wasm");
    std::fs::copy(floor_tests::fixture("counter"), &file).unwrap();
    let agents = format!(
        "\n[[agents]]\nname = \"counter\"\npath = \"{}\"\nrole = \"model\"\nsubscribe = [\"md.tick.*\"]\npublish = [\"swap.#\"]\n",
        file.display()
    );
    let host = start_args(&agents, &["--watch", watched.path().to_str().unwrap()]);
    let first = counter_of(&status(&host))["version"]
        .as_str()
        .unwrap()
        .to_string();
    // As a build writes: a temporary file, renamed over the component.
    let replace = |bytes: &[u8]| {
        let tmp = watched.path().join("counter.wasm.part");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    let log = host.data.path().join("host.log");
    let said = |what: &str| std::fs::read_to_string(&log).unwrap().contains(what);
    wait_for("the watcher started", || said("floor: watching"));
    // Not a component: refused, and the running version carries on.
    replace(b"\0asm but not really a component");
    wait_for("the broken build refused", || {
        said("floor: watch: counter.wasm → `counter` refused, the running version carries on:")
    });
    assert_eq!(counter_of(&status(&host))["version"], first.as_str());
    let records = |host: &Host| {
        let s = status(host);
        s["deploys"][0]["records"].as_array().unwrap().clone()
    };
    replace(&floor_tests::variant(&floor_tests::fixture("counter"), "w"));
    wait_for("the watched build deployed", || {
        counter_of(&status(&host))["version"] != first.as_str()
    });
    let r = records(&host);
    assert_eq!(r.len(), 1, "one swap, none from the broken file: {r:?}");
    assert_eq!(r[0]["kind"], "swapped");
    assert_eq!(r[0]["from"], &first[..12]);
    assert!(said("floor: watch: counter.wasm → `counter`: "));
    // A file no agent runs is left alone; the host runs on.
    std::fs::write(watched.path().join("nobody.wasm"), b"x").unwrap();
    wait_for("the stray file noticed", || {
        said(
            "floor: watch: nobody.wasm changed, but no agent runs it (name it after an agent: counter)",
        )
    });
    assert_eq!(counter_of(&status(&host))["state"], "probation");
}

#[test]
fn an_operator_approves_and_rejects_intents_that_wait_for_a_person() {
    // A trend follower trading 1 BTC (about 20,000) where anything over
    // 10,000 waits for a person.
    let host = start_with(&format!(
        r#"
[risk]
approval_notional = 10000.0

[[agents]]
name = "trend"
path = "{}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT"]
publish = ["signal.trend.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", fast = 2, slow = 4, quantity = 1.0 }}
{}"#,
        floor_tests::agent("trend").display(),
        floor_tests::gate_agent()
    ));
    let pending = |host: &Host| -> Vec<u64> {
        status(host)["pending_approvals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect()
    };
    // The agent waits for its intent's outcome before it sends another.
    wait_for("an intent waiting", || pending(&host).len() == 1);
    let (ok, out, _) = cli(&host, &["status"]);
    assert!(ok);
    assert!(out.contains("waiting for approval: "), "{out}");
    let first = pending(&host)[0];
    let (ok, out, err) = cli(&host, &["approve", &first.to_string(), "-r", "alice"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("intent {first} approved by alice: ")),
        "{out}"
    );

    wait_for("the next intent waiting", || {
        pending(&host).iter().any(|id| *id != first)
    });
    let second = pending(&host)[0];
    let (ok, out, err) = cli(&host, &["reject", &second.to_string(), "-r", "not now"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("intent {second} rejected: not now"));
    let s = status(&host);
    assert!(
        s["dlq_by_reason"]["approval_rejected"].as_u64() == Some(1),
        "{s}"
    );
    let ids = [first, second];
    let (ok, _, err) = cli(&host, &["approve", &ids[1].to_string()]);
    assert!(!ok);
    assert!(
        err.contains(&format!("no order intent waits for approval as {}", ids[1])),
        "{err}"
    );
}

#[test]
fn headlines_from_the_news_file_and_the_webhook_are_published_journaled_and_replayed() {
    let feed = tempfile::tempdir().unwrap();
    let file = feed.path().join("news.jsonl");
    std::fs::write(
        &file,
        "{\"time\": \"2026-11-20T14:30:00Z\", \"headline\": \"$BTC breaks 100k\", \"source\": \"wire\", \"symbols\": [\"BTCUSDT\"]}\n\
         {\"time\": \"2026-11-20T14:30:01Z\", \"headline\": \"Exchange outage resolved\"}\n\
         {\"time\": \"2026-11-20T14:30:02Z\", \"headline\": \"Fed holds rates\", \"source\": \"wire\"}\n",
    )
    .unwrap();
    let news_section = format!("\n[news]\nfile = \"{}\"\nspeed = 100\n", file.display());
    // The sentiment model reads every headline, in the run and again in
    // the replay below.
    let mut host = start_with(&format!(
        "{}{}{news_section}",
        floor_tests::desk_and_gate(),
        floor_tests::sentiment_agent(r#"symbols = "$BTC=BTCUSDT""#)
    ));
    wait_for("the news file's three headlines", || {
        status(&host)["news"].as_u64().unwrap() == 3
    });

    // The webhook, through the CLI.
    let (ok, out, err) = cli(
        &host,
        &[
            "news",
            "$BTC ETF approved",
            "--source",
            "twitter",
            "--symbol",
            "BTCUSDT",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.starts_with("published on news.headline.twitter at event time "),
        "{out}"
    );
    // What cannot be a headline is refused with why, and not counted.
    let (ok, _, err) = cli(&host, &["news", "  "]);
    assert!(!ok);
    assert!(
        err.contains("the headline was refused: the headline is empty"),
        "{err}"
    );
    let (ok, _, err) = cli(&host, &["news", "x", "--symbol", "btc"]);
    assert!(!ok);
    assert!(err.contains("symbol `btc` is not a symbol"), "{err}");
    let (url, token) = admin(host.data.path());
    floor_tests::runtime().block_on(async {
        let (status, v) = post(
            &url,
            &token,
            "/v1/news",
            r#"{"headline": "a", "tickers": ["BTCUSDT"]}"#,
        )
        .await;
        assert_eq!(status, 400);
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("unknown field `tickers`"),
            "{v}"
        );
        // Without a source, a webhook's headline is the webhook's.
        let (status, v) = post(
            &url,
            &token,
            "/v1/news",
            r#"{"headline": "Miner sells reserves"}"#,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(v["topic"], "news.headline.webhook");
    });
    assert_eq!(status(&host)["news"], 5);

    // Stop cleanly; the journal holds the five headlines (the refused
    // ones never reached the node), and replay reproduces the session,
    // headlines included.
    stop_cleanly(&mut host);
    let data = host.data.path().to_str().unwrap().to_string();
    let dump = floor(&["journal", &data, "--dump"], None);
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout);
    let headlines: Vec<&str> = dump
        .lines()
        .filter(|l| l.contains("\"command\":\"news\""))
        .collect();
    assert_eq!(headlines.len(), 5, "{dump}");
    assert!(
        headlines[0].contains("$BTC breaks 100k"),
        "{}",
        headlines[0]
    );
    let replay = floor(&["replay", &data, "--json"], None);
    let said = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
}
