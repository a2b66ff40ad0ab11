"""Human A/B study as in the paper's Table II (Section IV-C).

Raters see two videos of the same transfer (same source dance, same target photo) from two methods side by
side and pick the more realistic and natural one; the "(F)" rows of Table II show only the generated
foreground. The parts, one job each:

- `manifest`: the study folder (`study.json`, the videos under opaque names, the admin token) made from one
  folder of generated videos per method.
- `media`: the derived videos: foreground only on a neutral grey, and the visibly broken side of an
  attention check (frames shuffled in time, or one frame frozen).
- `sequence`: each rater's randomised sequence of pairs, left and right randomised.
- `store`: the votes database (SQLite in WAL mode by default, PostgreSQL through a URL).
- `app`: the web app (Flask) raters and the admin use; `server` runs it (waitress).
- `stats`: preference ratios, confidence intervals, significance, attention-check exclusion, the table.
- `loadtest`: simulated raters against a running server.
"""
