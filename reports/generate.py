#!/usr/bin/env python3
"""reports/generate.py [OUT_DIR] - the report from the harness's files.

A thin entry point: everything lives in the gortreport package
(python3 -m gortreport.generate, see reports/README.md).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    from gortreport.generate import main

    main()
