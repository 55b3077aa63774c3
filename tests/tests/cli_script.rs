//! `fk script` over a pipe: each line is answered before the next one is
//! written, a bad line is reported with its number and the script goes on,
//! and watch events are printed as they arrive, between lines.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use fk_e2e::{binary, stderr, stdout, Stack, StackOptions};
use fk_local::StoreKind;

/// How long one line may take to be answered (a write goes through both
/// queues of the local stack).
const ANSWER: Duration = Duration::from_secs(30);

/// `fk script` with its three streams piped; each output stream is read
/// line by line on a thread of its own.
struct Piped {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err: Receiver<String>,
}

impl Piped {
    fn start(stack: &Stack, args: &[&str]) -> Piped {
        let mut child = Command::new(binary("fk"))
            .arg("--deployment")
            .arg(&stack.deployment_file)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the fk binary runs");
        let out = lines_of(child.stdout.take().unwrap());
        let err = lines_of(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        Piped {
            child,
            stdin,
            out,
            err,
        }
    }

    fn write(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line on stdout, or a panic naming what was awaited.
    fn next_out(&self, awaited: &str) -> String {
        self.out
            .recv_timeout(ANSWER)
            .unwrap_or_else(|_| panic!("no stdout line within {ANSWER:?}: awaited {awaited}"))
    }

    fn next_err(&self, awaited: &str) -> String {
        self.err
            .recv_timeout(ANSWER)
            .unwrap_or_else(|_| panic!("no stderr line within {ANSWER:?}: awaited {awaited}"))
    }

    /// Closes stdin and waits for the exit status.
    fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().unwrap()
    }
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_line_is_answered_before_the_next_is_written() {
    // given: a script whose standard input stays open
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;
    let mut script = Piped::start(&stack, &["script"]);

    // when/then: each answer arrives while the next line is still unwritten
    script.write("create /pipe first");
    assert_eq!(script.next_out("Created"), "Created /pipe");

    script.write("get /pipe");
    assert_eq!(script.next_out("the data"), "first");

    script.write("set /pipe second");
    script.write("get /pipe");
    assert_eq!(
        script.next_out("the data after set"),
        "second",
        "set prints nothing without -s"
    );

    script.write("get /nope");
    assert_eq!(
        script.next_err("the failure"),
        "line 5: Node does not exist: /nope"
    );

    // a failed line does not stop the script
    script.write("ls /pipe");
    assert_eq!(script.next_out("the children"), "[]");

    let status = script.finish();
    assert_eq!(status.code(), Some(1), "a line failed");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_event_is_printed_as_it_arrives_between_lines() {
    // given: a script that watches a node, then writes nothing more
    let stack = Stack::start(StackOptions::new(StoreKind::Redis)).await;
    let created = stack.fk(&["create", "/watched", "a"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let mut script = Piped::start(&stack, &["script"]);
    script.write("get -w /watched");
    assert_eq!(script.next_out("the data"), "a");

    // when: another client changes the node
    let set = stack.fk(&["set", "/watched", "b"]);
    assert!(set.status.success(), "{}", stderr(&set));

    // then: zkCli's lines arrive with no further input
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("WatchedEvent")) {
        seen.push(script.next_out("the watch event"));
    }
    assert_eq!(
        seen,
        [
            "",
            "WATCHER::",
            "",
            "WatchedEvent state:SyncConnected type:NodeDataChanged path:/watched"
        ]
    );
    script.write("quit");
    assert!(script.finish().success());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_reported_with_their_numbers_and_the_rest_runs() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let script = "\
create /b x
bogus /b
get -q /b

# comments and blank lines keep their numbers
getAcl /b
create -c /b/c
create -t 500 /b/t
create /b/acl x world:anyone:cdrwa
set /b --data-file -
get /b
";
    let out = stack.fk_with_stdin(&["script"], Some(script));

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let errors: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    let starts = [
        "line 2: Command not found: bogus",
        "line 3: unexpected argument '-q' found",
        "line 6: not supported: getAcl: ACLs",
        "line 7: not supported: container nodes",
        "line 8: not supported: TTL nodes",
        "line 9: not supported: ACLs (world:anyone:cdrwa)",
        "line 10: --data-file -: standard input holds the commands",
    ];
    assert_eq!(errors.len(), starts.len(), "{errors:#?}");
    for (error, start) in errors.iter().zip(starts) {
        assert!(error.starts_with(start), "{error:?} should start {start:?}");
    }
    assert!(
        errors[1].contains("get [-s] [-w] path"),
        "the usage: {errors:?}"
    );
    // the lines after the bad ones ran
    assert_eq!(stdout(&out), "Created /b\nx\n");

    let clean = stack.fk_with_stdin(&["script"], Some("ls /b\n# fine\n\nget /b\n"));
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert_eq!(stdout(&clean), "[]\nx\n");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_command_and_a_terminal_fk_runs_a_script() {
    let stack = Stack::start(StackOptions::new(StoreKind::Dynamodb)).await;

    let out = stack.fk_with_stdin(&[], Some("create /plain p\nget /plain\nquit\nget /never\n"));

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Created /plain\np\n", "quit ends the script");
    stack.stop().await;
}
