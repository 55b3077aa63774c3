//! `fk` against zkCli 3.8's output formats: `get -s`, `set -s`, `ls -R`,
//! `deleteall`, `sync`, data from a file or stdin, `--` before data that
//! starts with `-`, a refused `multi`'s per-op results, `history` and
//! `redo`, `printwatches`, `close`/`connect`, the unsupported commands.

use fk_e2e::{stderr, stdout, Stack, StackOptions};
use fk_local::StoreKind;
use serde_json::Value;

/// zkCli's `StatPrinter` lines, in order.
const STAT_KEYS: [&str; 11] = [
    "cZxid",
    "ctime",
    "mZxid",
    "mtime",
    "pZxid",
    "cversion",
    "dataVersion",
    "aclVersion",
    "ephemeralOwner",
    "dataLength",
    "numChildren",
];

/// Checks `lines` are a Stat as zkCli prints it; returns its values.
fn stat_of(lines: &[&str]) -> Vec<String> {
    assert_eq!(lines.len(), STAT_KEYS.len(), "{lines:#?}");
    lines
        .iter()
        .zip(STAT_KEYS)
        .map(|(line, key)| {
            let value = line
                .strip_prefix(&format!("{key} = "))
                .unwrap_or_else(|| panic!("{line:?} is not {key}"));
            value.to_string()
        })
        .collect()
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    stdout(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_set_print_the_stat_only_with_dash_s() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    ok(&stack.fk(&["create", "/g", "hello"]));

    let plain = ok(&stack.fk(&["get", "/g"]));
    let with_stat = ok(&stack.fk(&["get", "-s", "/g"]));
    let set = ok(&stack.fk(&["set", "/g", "v2"]));
    let set_stat = ok(&stack.fk(&["set", "-s", "-v", "1", "/g", "v3"]));

    assert_eq!(plain, "hello\n");
    let lines: Vec<&str> = with_stat.lines().collect();
    assert_eq!(lines[0], "hello");
    let stat = stat_of(&lines[1..]);
    assert!(stat[0].starts_with("0x"), "cZxid in hex: {stat:?}");
    // Java's Date.toString(), e.g. "Sun Dec 06 05:31:37 UTC 2026"
    let ctime: Vec<&str> = stat[1].split(' ').collect();
    assert_eq!(ctime.len(), 6, "{ctime:?}");
    assert_eq!((ctime[4], ctime[3].len()), ("UTC", 8), "{ctime:?}");
    assert_eq!(stat[6], "0", "dataVersion");
    assert_eq!(stat[9], "5", "dataLength");
    assert_eq!(set, "", "set prints nothing without -s");
    let stat = stat_of(&set_stat.lines().collect::<Vec<_>>());
    assert_eq!((stat[6].as_str(), stat[9].as_str()), ("2", "2"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_dash_r_lists_full_paths_as_zkcli_walks_and_deleteall_removes_them() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let script = "\
create /t
create /t/b
create /t/c
create /t/b/d
create /t/b/d/e
create /t/a
ls -R /t
ls -s /t
sync /t
";
    let out = ok(&stack.fk_with_stdin(&["script"], Some(script)));

    let lines: Vec<&str> = out.lines().skip(6).collect();
    // the node, its children, then depth first each child's subtree
    assert_eq!(
        lines[..6],
        ["/t", "/t/a", "/t/b", "/t/c", "/t/b/d", "/t/b/d/e"]
    );
    assert_eq!(lines[6], "[a, b, c]");
    let stat = stat_of(&lines[7..18]);
    assert_eq!(stat[10], "3", "numChildren");
    assert_eq!(lines[18..], ["Sync is OK"]);

    let json = ok(&stack.fk(&["--json", "ls", "-R", "/t/b"]));
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        doc["paths"],
        serde_json::json!(["/t/b", "/t/b/d", "/t/b/d/e"])
    );

    // deleteall in batches of two (three multis), silent as zkCli's
    let deleted = ok(&stack.fk(&["deleteall", "/t", "-b", "2"]));
    assert_eq!(deleted, "");
    let gone = stack.fk(&["stat", "/t"]);
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(stderr(&gone), "Node does not exist: /t\n");
    let missing = stack.fk(&["deleteall", "/t"]);
    assert_eq!(stderr(&missing), "Node does not exist: /t\n");

    // rmr, the old name
    ok(&stack.fk(&["create", "/r"]));
    ok(&stack.fk(&["create", "/r/x"]));
    ok(&stack.fk(&["rmr", "/r"]));
    assert_eq!(ok(&stack.fk(&["ls", "/"])), "[]\n");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_comes_from_a_file_from_stdin_or_after_double_dash() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload");
    std::fs::write(&file, b"from a file\nwith two lines").unwrap();
    let file = file.to_str().unwrap();

    ok(&stack.fk(&["create", "--data-file", file, "/f"]));
    let from_file = ok(&stack.fk(&["get", "/f"]));
    ok(&stack.fk_with_stdin(&["set", "/f", "--data-file", "-"], Some("from stdin")));
    let from_stdin = ok(&stack.fk(&["get", "/f"]));
    ok(&stack.fk(&["create", "/dash", "--", "-starts-with-a-dash"]));
    let dashed = ok(&stack.fk(&["get", "/dash"]));
    let script = format!("set /dash -v 0 -- -1\nget /dash\nset /f --data-file {file}\nget /f\n");
    let scripted = ok(&stack.fk_with_stdin(&["script"], Some(&script)));
    let without_dash = stack.fk(&["set", "/dash", "-2"]);

    assert_eq!(from_file, "from a file\nwith two lines\n");
    assert_eq!(from_stdin, "from stdin\n");
    assert_eq!(dashed, "-starts-with-a-dash\n");
    assert_eq!(scripted, "-1\nfrom a file\nwith two lines\n");
    assert_eq!(without_dash.status.code(), Some(2), "an option, not data");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_multi_reports_each_op_in_text_and_in_json() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    ok(&stack.fk(&["create", "/m", "x"]));
    let steps = ["create /m/a x", "check /m -v 7", "delete /m/zz"];

    let text = stack.fk(&["multi", steps[0], steps[1], steps[2]]);
    let json = stack.fk(&["--json", "multi", steps[0], steps[1], steps[2]]);

    assert_eq!(text.status.code(), Some(1));
    assert_eq!(
        stderr(&text),
        "version No is not valid : /m\n\
         \x20 create /m/a: OK (0), rolled back\n\
         \x20 check /m: BADVERSION (-103)\n\
         \x20 delete /m/zz: RUNTIMEINCONSISTENCY (-2)\n"
    );
    assert_eq!(json.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["error"], "BadVersion");
    assert_eq!(doc["code"], -103);
    assert_eq!(doc["path"], "/m");
    assert_eq!(
        doc["results"],
        serde_json::json!([
            { "op": "create", "path": "/m/a", "error": "Ok", "code": 0 },
            { "op": "check", "path": "/m", "error": "BadVersion", "code": -103 },
            { "op": "delete", "path": "/m/zz", "error": "RuntimeInconsistency", "code": -2 },
        ])
    );
    // rolled back: nothing was created
    assert_eq!(ok(&stack.fk(&["ls", "/m"])), "[]\n");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_redo_and_printwatches_behave_as_in_zkcli() {
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let script = "\
create /h a
get /h
redo 1
redo 9
printwatches off
printwatches
get -w /h
set /h b
wait 1 -t 30
printwatches on
printwatches
history
";
    let out = stack.fk_with_stdin(&["script"], Some(script));

    assert_eq!(out.status.code(), Some(1), "redo 9 failed");
    assert_eq!(stderr(&out), "line 4: Command index out of range\n");
    assert_eq!(
        stdout(&out),
        "Created /h\na\na\nprintwatches is off\na\nprintwatches is on\n\
         1 - get /h\n2 - get /h\n3 - redo 9\n4 - printwatches off\n5 - printwatches\n\
         6 - get -w /h\n7 - set /h b\n8 - wait 1 -t 30\n9 - printwatches on\n\
         10 - printwatches\n11 - history\n",
        "the event came (wait returned) but was not printed; a redo is \
         recorded as the command it ran"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_leaves_no_session_until_connect_opens_a_new_one() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let script = "\
create /c
create -e /c/mine x
getEphemerals
whoami
close
ls /c
connect
ls /c
getEphemerals
";
    let out = stack.fk_with_stdin(&["script"], Some(script));

    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "line 6: Not connected\n");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..3], ["Created /c", "Created /c/mine", "[/c/mine]"]);
    assert_eq!(lines[3], "Auth scheme: User");
    assert!(lines[4].starts_with("session: 0x"), "{text}");
    // the close took the ephemeral; the new session owns none
    assert_eq!(lines[5..], ["[]", "[]"], "{text}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_answers_one_json_document() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let script = "\
create /j x
get -s /j
set -s /j y
stat /j
ls -s /j
ls -R /j
sync /j
getAllChildrenNumber /j
getEphemerals /j
multi 'create /j/k a' 'set /j/k b'
history
printwatches
version
whoami
delete /j/k
deleteall /j
setquota -n 5 /j
get /j
";
    let out = stack.fk_with_stdin(&["--json", "script"], Some(script));

    assert_eq!(out.status.code(), Some(1), "setquota and the last get fail");
    let docs: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(docs.len(), 18, "{docs:#?}");
    assert_eq!(docs[1]["data"], "x");
    assert_eq!(docs[2]["stat"]["version"], 1);
    assert_eq!(docs[5]["paths"], serde_json::json!(["/j"]));
    assert_eq!(docs[9]["results"][1]["stat"]["version"], 1);
    assert_eq!(docs[10]["history"][0]["command"], "create /j x");
    assert_eq!(docs[11]["printwatches"], true);
    assert_eq!(docs[15]["deleted"], true);
    assert_eq!(docs[16]["error"], "Unimplemented");
    assert_eq!(docs[16]["code"], -6);
    assert_eq!(docs[16]["line"], 17);
    assert_eq!(docs[17]["error"], "NoNode");
    stack.stop().await;
}

#[test]
fn unsupported_zkcli_commands_say_why_and_fail_and_shell_commands_need_the_shell() {
    for (command, reason) in [
        (vec!["getAcl", "/a"], "ACLs"),
        (vec!["setAcl", "/a", "world:anyone:r"], "ACLs"),
        (vec!["addauth", "digest", "u:p"], "authentication"),
        (vec!["listquota", "/a"], "quotas"),
        (vec!["reconfig", "-add", "1=h:1:2;3"], "reconfiguration"),
        (vec!["config"], "ensemble"),
    ] {
        let out = std::process::Command::new(fk_e2e::binary("fk"))
            .args(&command)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        let message = stderr(&out);
        let expected = format!("not supported: {}: ", command[0]);
        assert!(message.starts_with(&expected), "{command:?}: {message}");
        assert!(message.contains(reason), "{command:?}: {message}");
    }
    let unknown = std::process::Command::new(fk_e2e::binary("fk"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(stderr(&unknown), "Command not found: frobnicate\n");
    let shell_only = std::process::Command::new(fk_e2e::binary("fk"))
        .args(["redo", "1"])
        .output()
        .unwrap();
    assert_eq!(shell_only.status.code(), Some(2));
    assert_eq!(
        stderr(&shell_only),
        "redo is a command of the shell and of scripts (fk shell, fk script)\n"
    );
}
