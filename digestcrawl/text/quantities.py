"""Number words and unit letters as multipliers: 1億, 100 million and 100m are one quantity."""

from __future__ import annotations

MULTIPLIERS = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2, "thousand": 1e3,
               "million": 1e6, "millionen": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
               "milliarden": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
