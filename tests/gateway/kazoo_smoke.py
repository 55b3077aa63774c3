"""kazoo against the ZooKeeper gateway: each basic call and its errors.

Run by tests/tests/gateway_kazoo.rs as `python kazoo_smoke.py HOST:PORT`;
prints one line per check and `kazoo smoke: ok` at the end, exits non-zero
on the first failure.
"""

import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NoNodeError,
    NodeExistsError,
    NotEmptyError,
    UnimplementedError,
)
from kazoo.protocol.states import EventType


def check(what, condition):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        sys.exit(1)


def expect_error(what, error, call):
    try:
        call()
    except error:
        check(what, True)
        return
    except Exception as other:  # noqa: BLE001 - say what came instead
        check(f"{what} (got {other!r})", False)
    check(f"{what} (no error)", False)


def main(hosts):
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=30)
    check("connected with a session", zk.client_id[0] != 0)

    zk.ensure_path("/kz/app")
    check("ensure_path", zk.exists("/kz/app") is not None)
    path = zk.create("/kz/app/item-", b"one", sequence=True, ephemeral=True)
    check("an ephemeral sequential create", path == "/kz/app/item-0000000000")
    data, stat = zk.get(path)
    check("get", data == b"one" and stat.version == 0 and stat.ephemeralOwner == zk.client_id[0])
    stat = zk.set(path, b"two", version=0)
    check("a versioned set", stat.version == 1)
    expect_error("a stale version is BadVersion", BadVersionError, lambda: zk.set(path, b"x", version=0))
    expect_error("an existing node is NodeExists", NodeExistsError, lambda: zk.create("/kz/app"))
    expect_error("a missing node is NoNode", NoNodeError, lambda: zk.get("/kz/missing"))
    expect_error("a parent is NotEmpty", NotEmptyError, lambda: zk.delete("/kz/app"))
    check("get_children", zk.get_children("/kz/app") == ["item-0000000000"])
    check("exists of a missing node", zk.exists("/kz/missing") is None)

    # A one-shot data watch, then a children watch.
    fired = threading.Event()
    events = []

    def on_change(event):
        events.append(event)
        fired.set()

    zk.get(path, watch=on_change)
    zk.set(path, b"three")
    check("a data watch fires", fired.wait(20) and events[0].type == EventType.CHANGED)
    fired.clear()
    zk.get_children("/kz/app", watch=on_change)
    zk.create("/kz/app/other")
    check("a children watch fires", fired.wait(20) and events[1].type == EventType.CHILD)

    # A transaction: all or nothing.
    tx = zk.transaction()
    tx.check("/kz/app", 0)
    tx.create("/kz/app/tx", b"t")
    tx.set_data("/kz/app/other", b"o")
    results = tx.commit()
    check("a transaction commits", results[1] == "/kz/app/tx" and results[2].version == 1)
    tx = zk.transaction()
    tx.delete("/kz/app/tx")
    tx.check("/kz/app", 99)
    results = tx.commit()
    check(
        "a failed transaction reports each op",
        isinstance(results[1], BadVersionError) and zk.exists("/kz/app/tx") is not None,
    )

    expect_error("set_acls is Unimplemented", UnimplementedError, lambda: zk.set_acls("/kz/app", []))
    acls, _ = zk.get_acls("/kz/app")
    check("get_acls answers the open ACL", [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "world", "anyone")])
    zk.sync("/kz")
    check("the session is still connected", zk.connected)

    zk.delete("/kz", recursive=True)
    check("a recursive delete", zk.exists("/kz") is None)
    zk.stop()
    zk.close()
    print("kazoo smoke: ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
