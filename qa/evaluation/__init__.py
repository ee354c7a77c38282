"""Gold questions and the metrics that score answers against them.

Single answers are scored SQuAD-style (exact match and token F1, best over the aliases); list
answers by precision/recall over the gold items. The metrics are pure functions of their
arguments, so they are unit-tested on their own.

The runner (``evaluate``) asks every gold question through ``Answerer.ask``, the code path of
``POST /ask``, conversations included; ``score_item`` turns one response into figures and is pure,
so tests feed it hand-made responses. ``run_cli`` is `qa eval`: report files, baseline gate.

One idea per module:

- ``gold``: the gold file and its questions (``GoldItem``, ``load_gold``).
- ``metrics``: answer normalisation, exact match, token F1, list scores, percentiles.
- ``scoring``: one response scored against its gold item (``score_item``, ``ItemResult``).
- ``plain_baseline``: the "top retrieved sentence is the answer" baseline.
- ``figures``: item results averaged into figures, calibration bands, the targets.
- ``report``: the reader and the baseline scored into one ``EvaluationReport``.
- ``baseline_gate``: the saved baseline figures and the regression check against them.
- ``rendering``: report.md and the summary table `qa eval` prints.
- ``runner``: asking the gold set (``evaluate``) and `qa eval` itself (``run_cli``).
"""
