"""tf.summary: summary ops, TensorFlow's (ScalarSummary, HistogramSummary,
ImageSummary, TensorSummaryV2 for text, MergeSummary): each gives a string
scalar holding one serialized tensorflow.Summary, which Session.run returns
as bytes; and FileWriter, which writes TensorBoard event files."""

import numpy as np

from . import dtypes
from . import errors
from .framework import (Graph, GraphDef, convert_to_tensor, get_default_graph, c_graph, _b, _s)
from ._lib import lib, Output, c_int64


def _summary(fn, tag, values, extra=()):
    v = convert_to_tensor(values)
    g = c_graph([v])
    return g._check_output(fn(g._h, _b(tag), v._c, *extra))


def scalar(name, tensor, collections=None, family=None):
    return _summary(lib.tfc_scalar_summary, name, tensor)


def histogram(name, values, collections=None, family=None):
    return _summary(lib.tfc_histogram_summary, name, values)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    return _summary(lib.tfc_image_summary, name, tensor, (int(max_outputs),))


def text(name, tensor, collections=None):
    """A TensorSummaryV2 with the "text" plugin, of a Python string or a
    string tensor."""
    if isinstance(tensor, (str, bytes)):
        g = get_default_graph()
        return g._check_output(lib.tfc_text_summary(g._h, _b(name), _b(tensor)))
    t = convert_to_tensor(tensor)
    if t.dtype != dtypes.string:
        raise TypeError("tf.summary.text needs a string tensor, got %s" % t.dtype.name)
    g = c_graph([t])
    return g._check_output(lib.tfc_text_summary_v2(g._h, _b(name), t._c))


def merge(inputs, collections=None, name=None):
    ts = [convert_to_tensor(t) for t in inputs]
    g = c_graph(ts)
    arr = (Output * max(len(ts), 1))(*[t._c for t in ts])
    return g._check_output(lib.tfc_merge_summary(g._h, arr, len(ts)))


def merge_all(key="summaries", scope=None, name=None):
    """All summaries of the graph merged into one, or None when there is none."""
    if key != "summaries":
        raise NotImplementedError("tfc: merge_all merges the 'summaries' collection only")
    g = get_default_graph()
    out = lib.tfc_merge_all_summaries(g._h)
    if not out.node:
        g._check()
        return None
    return g._tensor(out)


def _raise(st):
    raise errors._from_code(lib.tfc_status_code(st), _s(lib.tfc_status_message(st)))


class Summary(object):
    """A minimal tf.Summary for scalars written from Python:
    tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=0.5)])."""

    class Value(object):
        def __init__(self, tag="", simple_value=None, **kwargs):
            self.tag = tag
            self.simple_value = simple_value

    def __init__(self, value=None):
        self.value = list(value or [])


class FileWriter(object):
    """Writes events for TensorBoard to <logdir>/events.out.tfevents.*."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        if graph is None and graph_def is not None:
            graph = graph_def
        if isinstance(graph, GraphDef):
            graph = graph._graph
        if graph is not None and not isinstance(graph, Graph):
            raise TypeError("graph must be a tf.Graph or the session's graph_def")
        st = lib.tfc_status_new()
        try:
            self._h = lib.tfc_summary_writer_new(_b(logdir), graph._h if graph else None,
                                                 int(max_queue), float(flush_secs), st)
            if not self._h:
                _raise(st)
        finally:
            lib.tfc_status_free(st)
        self._logdir = logdir

    def _call(self, fn, *args):
        if not self._h:
            raise RuntimeError("This FileWriter is closed")
        st = lib.tfc_status_new()
        try:
            if fn(self._h, *(args + (st,))) != 0:
                _raise(st)
        finally:
            lib.tfc_status_free(st)

    def get_logdir(self):
        return self._logdir

    def add_summary(self, summary, global_step=None):
        """Adds a fetched summary (the bytes Session.run returned for a
        summary op, or a tf.Summary of simple values) at `global_step`."""
        step = -1 if global_step is None else int(global_step)
        if isinstance(summary, Summary):
            for v in summary.value:
                self._call(lib.tfc_summary_writer_add_scalar, _b(v.tag),
                           float(v.simple_value), c_int64(step))
            return
        if isinstance(summary, np.ndarray) and summary.shape == () and summary.dtype == object:
            summary = summary.item()
        if isinstance(summary, np.bytes_):
            summary = bytes(summary)
        if not isinstance(summary, (bytes, bytearray)):
            raise TypeError("add_summary takes the serialized Summary a summary op gives "
                            "(bytes) or a tf.Summary, got %r" % type(summary))
        data = bytes(summary)
        t = lib.tfc_tensor_scalar_string(data, len(data))
        if not t:
            raise MemoryError("tfc could not make a string tensor of %d bytes" % len(data))
        try:
            self._call(lib.tfc_summary_writer_add_summary, t, c_int64(step))
        finally:
            lib.tfc_tensor_free(t)

    def add_graph(self, graph, global_step=None, graph_def=None):
        if isinstance(graph, GraphDef):
            graph = graph._graph
        self._call(lib.tfc_summary_writer_add_graph, graph._h)

    def add_session_log(self, session_log, global_step=None):
        pass

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        pass

    def flush(self):
        self._call(lib.tfc_summary_writer_flush)

    def close(self):
        h = self._h
        if h:
            self._h = None
            st = lib.tfc_status_new()
            try:
                if lib.tfc_summary_writer_close(h, st) != 0:
                    _raise(st)
            finally:
                lib.tfc_status_free(st)

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            lib.tfc_summary_writer_close(h, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


SummaryWriter = FileWriter
