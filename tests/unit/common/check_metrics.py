"""check_metrics.py FILE: the Prometheus text in FILE parses with the real
prometheus_client parser and holds the families test_metrics.c wrote."""
import sys
from prometheus_client.parser import text_string_to_metric_families

fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
names = {f.name for f in fams}
want = {"x", "y_seconds", "riffle_partition_high_watermark"}
assert names == want, names
samples = sum(len(f.samples) for f in fams)
assert samples == 1 + 19 + 3, samples  # counter, 17 buckets+sum+count, 3
hist = [f for f in fams if f.name == "y_seconds"][0]
assert hist.type == "histogram", hist.type
