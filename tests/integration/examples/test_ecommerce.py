#!/usr/bin/python3
"""test_ecommerce.py: examples/ecommerce (kafkajs 2.2.4) against 3
controllers + 3 brokers with replication, as the example's README runs it.

1. order-service.js publishes orders 1..300 as fast as acked, creating
   `orders` (6 partitions, replication factor 3) on the way.
2. The four services start, each in its own consumer group, and read that
   backlog from the beginning.
3. order-service.js publishes orders 301..700 at 50/s. Meanwhile (on a
   loaded machine possibly just after) the email service, started with
   RIFFLE_CRASH_AFTER=400, SIGKILLs itself right after saving an order and
   before committing its offset; the payment service is SIGKILLed and the
   analytics service SIGTERMed (it must exit 0 after committing); all three
   are started again. Then orders 701..1000 are published.
4. Once every service's state holds 1,000 orders: each state shows every
   order id 1..1000 exactly once, inventory's decrements equal the ordered
   quantities per sku, analytics' revenue and per-sku counts equal the sums
   over the published orders, payments equal the order totals; the
   restarted services resumed from their committed offsets (the SIGTERMed
   one gets nothing again, the SIGKILLed one less than it had done) and the
   email service got its uncommitted order again and skipped it.

kafkajs is installed from the npm registry into $RIFFLE_NODE_DIR (the build
tree) on first use; the example runs with NODE_PATH pointing there.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "ecommerce")
sys.path.insert(0, os.path.join(HERE, "..", "..", "system"))
sys.path.insert(0, os.path.join(HERE, "..", "broker"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from riffle_harness import (ControllerCluster, Proc, Workdir,  # noqa: E402
                            wait_until)
from sys_harness import ReplCluster  # noqa: E402

N = 1000
FIRST_BATCH = 300
SECOND_BATCH = 400
RATE = 50
EMAIL_CRASH_AFTER = 400
SERVICES = ("inventory", "payment", "email", "analytics")
INITIAL_STOCK = 100000  # examples/ecommerce/lib/catalog.js


def ensure_kafkajs():
    node_dir = os.environ["RIFFLE_NODE_DIR"]
    mod = os.path.join(node_dir, "node_modules", "kafkajs", "package.json")
    if not os.path.exists(mod):
        os.makedirs(node_dir, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", node_dir, "--no-audit",
                        "--no-fund", "--no-save", "kafkajs@2.2.4"],
                       check=True, timeout=300)
    return os.path.join(node_dir, "node_modules")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None  # not written yet (or being replaced)


def read_ndjson(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


class Example:
    def __init__(self, wd, bootstrap):
        self.wd = wd
        self.data = os.path.join(wd.path, "data")
        self.env = {"NODE_PATH": ensure_kafkajs(),
                    "RIFFLE_BOOTSTRAP": bootstrap,
                    "RIFFLE_DATA_DIR": self.data}
        self.procs = {}
        for s in SERVICES:
            self.procs[s] = Proc(wd, s, ["node", os.path.join(EXAMPLE,
                                                              s + ".js")],
                                 env=self.env)
        self.procs["email"].env["RIFFLE_CRASH_AFTER"] = str(EMAIL_CRASH_AFTER)

    def orders(self, name, *args):
        return Proc(self.wd, name, ["node", os.path.join(EXAMPLE,
                                                         "order-service.js")]
                    + [str(a) for a in args], env=self.env).start()

    def order_ids(self, service):
        """Order ids in a service's state, in the order applied."""
        d = self.data
        if service == "inventory":
            st = read_json(os.path.join(d, "inventory.json"))
            return st["orders"] if st else []
        if service == "analytics":
            st = read_json(os.path.join(d, "analytics.json"))
            return st["order_ids"] if st else []
        name = {"payment": "payments", "email": "emails"}[service]
        return [r["order_id"] for r in
                read_ndjson(os.path.join(d, name + ".ndjson"))]

    def wait_joined(self, service):
        wait_until(lambda: "joined group '%s'" % service
                   in self.procs[service].log_since_start(), 90,
                   "%s joined its group" % service, interval=0.2)

    def redelivered(self, service):
        return self.procs[service].log_since_start().count(
            "already processed, skipped")


def check_state(ex, published):
    ids = list(range(1, N + 1))
    assert sorted(o["order_id"] for o in published) == ids, \
        "published.ndjson does not hold orders 1..%d once each" % N
    for s in SERVICES:
        got = ex.order_ids(s)
        dup = len(got) - len(set(got))
        assert dup == 0, "%s applied %d order(s) twice" % (s, dup)
        assert sorted(got) == ids, "%s: %d orders, missing %s" % (
            s, len(got), sorted(set(ids) - set(got))[:10])
    qty = {}
    for o in published:
        for it in o["items"]:
            qty[it["sku"]] = qty.get(it["sku"], 0) + it["quantity"]
    cents = sum(round(o["total"] * 100) for o in published)
    inv = read_json(os.path.join(ex.data, "inventory.json"))
    assert inv["taken"] == qty, (inv["taken"], qty)
    for sku, n in qty.items():
        assert inv["stock"][sku] == INITIAL_STOCK - n, (sku, inv["stock"])
    an = read_json(os.path.join(ex.data, "analytics.json"))
    assert an["orders"] == N, an["orders"]
    assert an["revenue_cents"] == cents, (an["revenue_cents"], cents)
    assert an["per_sku"] == qty, (an["per_sku"], qty)
    total = {o["order_id"]: o["total"] for o in published}
    for p in read_ndjson(os.path.join(ex.data, "payments.ndjson")):
        assert p["amount"] == total[p["order_id"]], p
    emails = read_ndjson(os.path.join(ex.data, "emails.ndjson"))
    for e in emails:
        assert e["to"].startswith("customer-"), e
    print("state: %d orders each in %s; %d items in %d skus; revenue %.2f"
          % (N, ", ".join(SERVICES), sum(qty.values()), len(qty),
             cents / 100))


def scenario(ex):
    first = ex.orders("orders-1", FIRST_BATCH, 0)
    rc = first.wait(120)
    assert rc == 0, "order-service (first %d) exited %d" % (FIRST_BATCH, rc)
    assert "created topic orders (6 partitions, replication factor 3)" \
        in first.log(), "order-service did not create the topic"
    for s in SERVICES:
        ex.procs[s].start()
    for s in SERVICES:
        ex.wait_joined(s)
    stream = ex.orders("orders-2", SECOND_BATCH, RATE)

    # email crashes by itself between saving order #400 and committing it.
    email = ex.procs["email"]
    wait_until(lambda: not email.running(), 120,
               "email crashed after %d orders" % EMAIL_CRASH_AFTER)
    assert "crashing before the offset is committed" in \
        email.log_since_start(), "email exited, but not by RIFFLE_CRASH_AFTER"
    assert len(ex.order_ids("email")) == EMAIL_CRASH_AFTER
    del email.env["RIFFLE_CRASH_AFTER"]
    email.start()

    # Mid-stream: SIGKILL payment, SIGTERM analytics, then start both again.
    wait_until(lambda: len(ex.order_ids("payment")) >= FIRST_BATCH + 150
               and len(ex.order_ids("analytics")) >= FIRST_BATCH + 150,
               120, "payment and analytics past order %d"
               % (FIRST_BATCH + 150), interval=0.1)
    ex.procs["payment"].kill9()
    done_payment = len(ex.order_ids("payment"))
    rc = ex.procs["analytics"].term(timeout=30)
    assert rc == 0, "analytics exited %d on SIGTERM" % rc
    assert "SIGTERM: committing and leaving the group" in \
        ex.procs["analytics"].log_since_start()
    done_analytics = len(ex.order_ids("analytics"))
    print("payment SIGKILLed after %d orders, analytics SIGTERMed after %d"
          " (%s)" % (done_payment, done_analytics,
                     "mid-stream" if stream.running()
                     else "after the stream of orders up to %d"
                     % (FIRST_BATCH + SECOND_BATCH)))
    ex.procs["payment"].start()
    ex.procs["analytics"].start()

    rc = stream.wait(300)
    assert rc == 0, "order-service exited %d" % rc
    last = ex.orders("orders-3", N - FIRST_BATCH - SECOND_BATCH, 100)
    rc = last.wait(300)
    assert rc == 0, "order-service (last batch) exited %d" % rc
    published = read_ndjson(os.path.join(ex.data, "published.ndjson"))
    assert len(published) == N, "%d orders published" % len(published)
    for s in SERVICES:
        wait_until(lambda: len(ex.order_ids(s)) >= N, 180,
                   "%s has %d orders" % (s, N), interval=0.2)
        assert ex.procs[s].running(), "%s exited" % s
    check_state(ex, published)

    # Resumed from committed offsets, not from the beginning.
    again = ex.redelivered("analytics")
    assert again == 0, \
        "analytics got %d order(s) again after a clean SIGTERM" % again
    again = ex.redelivered("payment")
    assert again < done_payment, \
        "payment re-read %d orders: did not resume from its commits" % again
    print("restarts: analytics redelivered 0, payment redelivered %d of %d"
          % (again, done_payment))
    again = ex.redelivered("email")
    assert again >= 1, \
        "email did not get its uncommitted order again after its crash"
    print("email redelivered %d after crashing before a commit" % again)
    for s in SERVICES:
        rc = ex.procs[s].term(timeout=30)
        assert rc == 0, "%s exited %d on SIGTERM" % (s, rc)


def main():
    with Workdir(prefix="riffle-shop-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        brokers = ReplCluster(wd, ctl, n=3, extra={
            "offsets.topic.num.partitions": "6",
            "offsets.topic.replication.factor": "3"})
        brokers.start()
        ex = Example(wd, brokers.bootstrap())
        scenario(ex)
        brokers.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
