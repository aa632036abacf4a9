"""gortreport - reads gort's harness files and turns them into reports.

One package, one reader per format (all validated against the JSON Schema
files in reports/schemas/), the statistics shared by the report and the gate,
and one renderer per output format. Command-line entry points are thin.
"""

__version__ = "0.1.0"

# Modules and who builds on them:
#   errors   InputError and the exit codes every command shares (0, 1, 2)
#   jsonio   read/validate/write harness JSON against reports/schemas/
#   gbench   the one Google Benchmark reader (units, true medians, errors)
#   stats    the statistics shared by the report and the gate (SciPy)
#   compare  base vs current benchmark comparison (gort.compare/1)
#   gate     the decision over report.json and compare.json (gort-gate)
