"""kazoo's recipes against the ZooKeeper gateway, under concurrency: each
participant is a client of its own (a session of its own), on a thread of
its own.

Run by tests/tests/gateway_kazoo.rs as `python kazoo_recipes.py HOST:PORT
[RECIPE...]` (default: all); prints one line per recipe and
`kazoo recipes: ok` at the end, exits non-zero on the first failure.
"""

import sys
import threading
import time

from kazoo.client import KazooClient

# Participants per recipe, and rounds each: small, because every write is a
# queue round trip through the local stack on a 2-core machine.
PARTICIPANTS = 3
ROUNDS = 2
WAIT_S = 120


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=15)
    zk.start(timeout=30)
    return zk


def run_all(target, count):
    """Runs target(i) on `count` threads; re-raises the first failure."""
    failures = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
        if t.is_alive():
            raise AssertionError(f"a participant did not finish within {WAIT_S} s")
    if failures:
        raise failures[0]


def check(what, condition):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        sys.exit(1)


def lock(hosts, root):
    """Mutual exclusion: unversioned read-modify-write under the lock."""
    clients = [client(hosts) for _ in range(PARTICIPANTS)]
    clients[0].create(f"{root}/count", b"0", makepath=True)
    inside = []
    overlaps = []

    def work(i):
        zk = clients[i]
        for _ in range(ROUNDS):
            with zk.Lock(f"{root}/lock", f"p{i}"):
                inside.append(i)
                if len(inside) > 1:
                    overlaps.append(list(inside))
                value = int(zk.get(f"{root}/count")[0])
                zk.set(f"{root}/count", str(value + 1).encode())
                inside.remove(i)

    run_all(work, PARTICIPANTS)
    value = int(clients[0].get(f"{root}/count")[0])
    for zk in clients:
        zk.stop()
    check(f"lock: {value} increments, no overlap", value == PARTICIPANTS * ROUNDS and not overlaps)


def election(hosts, root):
    """One leader at a time; each candidate leads once, then steps down."""
    clients = [client(hosts) for _ in range(PARTICIPANTS)]
    leading = []
    led = []
    overlaps = []

    def work(i):
        def lead():
            leading.append(i)
            if len(leading) > 1:
                overlaps.append(list(leading))
            led.append(i)
            time.sleep(0.2)
            leading.remove(i)

        clients[i].Election(f"{root}/election", f"c{i}").run(lead)

    run_all(work, PARTICIPANTS)
    for zk in clients:
        zk.stop()
    check(f"election: leaders {led}, one at a time", sorted(led) == list(range(PARTICIPANTS)) and not overlaps)


def barrier(hosts, root):
    """A double barrier: nobody passes enter() before all arrive."""
    clients = [client(hosts) for _ in range(PARTICIPANTS)]
    arrived = []
    entered_early = []

    def work(i):
        b = clients[i].DoubleBarrier(f"{root}/barrier", PARTICIPANTS, identifier=f"b{i}")
        arrived.append(i)
        b.enter()
        if len(arrived) < PARTICIPANTS:
            entered_early.append(i)
        b.leave()

    run_all(work, PARTICIPANTS)
    for zk in clients:
        zk.stop()
    check("double barrier: all entered together and left", not entered_early)


def counter(hosts, root):
    """Versioned increments that retry on BadVersion."""
    clients = [client(hosts) for _ in range(PARTICIPANTS)]

    def work(i):
        c = clients[i].Counter(f"{root}/counter")
        for _ in range(ROUNDS):
            c += 1

    run_all(work, PARTICIPANTS)
    value = clients[0].Counter(f"{root}/counter").value
    for zk in clients:
        zk.stop()
    check(f"counter: {value}", value == PARTICIPANTS * ROUNDS)


def queue(hosts, root):
    """Every item put is taken exactly once by competing consumers."""
    producer = client(hosts)
    items = [f"item-{n}".encode() for n in range(PARTICIPANTS * ROUNDS)]
    q = producer.LockingQueue(f"{root}/queue")
    q.put_all(items)
    consumers = [client(hosts) for _ in range(PARTICIPANTS)]
    taken = []

    def work(i):
        cq = consumers[i].LockingQueue(f"{root}/queue")
        for _ in range(ROUNDS):
            item = cq.get(timeout=WAIT_S)
            taken.append(item)
            cq.consume()

    run_all(work, PARTICIPANTS)
    for zk in [producer] + consumers:
        zk.stop()
    check(f"locking queue: {len(taken)} items taken once each", sorted(taken) == sorted(items))


RECIPES = {"lock": lock, "election": election, "barrier": barrier, "counter": counter, "queue": queue}


def main(hosts, names):
    for name in names or RECIPES:
        RECIPES[name](hosts, f"/recipes-{name}-{int(time.time() * 1000)}")
    print("kazoo recipes: ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
