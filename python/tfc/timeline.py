"""tensorflow.python.client.timeline over tfc: Timeline(step_stats) of a
traced run (RunOptions(trace_level=FULL_TRACE), RunMetadata) gives the
Chrome trace tfc_run_metadata_chrome_trace wrote (chrome://tracing)."""

import json


class Timeline(object):
    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow=True, show_memory=False):
        """The run's step statistics as Chrome trace JSON (a string)."""
        trace = getattr(self._step_stats, "_chrome_trace", None)
        if trace is None:
            return json.dumps({"traceEvents": []})
        return trace
