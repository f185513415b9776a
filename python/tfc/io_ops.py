"""Readers and files: tf.TFRecordReader, tf.TextLineReader,
tf.FixedLengthRecordReader, tf.WholeFileReader (include/tfc.h "Readers"),
tf.read_file, tf.write_file, tf.matching_files; tf.python_io's
TFRecordWriter and tf_record_iterator; tf.train.Example and its parts,
serialized by tfc's example writer."""

import ctypes

from . import dtypes
from . import errors
from .framework import convert_to_tensor, get_default_graph, c_graph, _s
from .data_flow_ops import QueueBase, name_next
from ._lib import lib, declare, free, Output, c_int, c_int64, c_char_p, c_void_p, c_size_t

P = c_void_p
_tf_record_reader = declare("tfc_tf_record_reader", Output, P, c_char_p)
_text_line_reader = declare("tfc_text_line_reader", Output, P, c_int64)
_fixed_length_reader = declare("tfc_fixed_length_record_reader", Output, P, c_int64, c_int64,
                               c_int64, c_int64, c_char_p)
_whole_file_reader = declare("tfc_whole_file_reader", Output, P)
_read = declare("tfc_reader_read", None, P, Output, Output, ctypes.POINTER(Output))
_read_up_to = declare("tfc_reader_read_up_to", None, P, Output, Output, c_int64,
                      ctypes.POINTER(Output))
_num_records = declare("tfc_reader_num_records_produced", Output, P, Output)
_num_work_units = declare("tfc_reader_num_work_units_completed", Output, P, Output)
_reset = declare("tfc_reader_reset", P, P, Output)
_read_file = declare("tfc_io_read_file", Output, P, Output)
_write_file = declare("tfc_io_write_file", P, P, Output, Output)
_matching_files = declare("tfc_matching_files", Output, P, Output)

_rw_open = declare("tfc_record_writer_open", P, c_char_p, c_int, P)
_rw_write = declare("tfc_record_writer_write", c_int, P, c_void_p, c_size_t, P)
_rw_flush = declare("tfc_record_writer_flush", c_int, P, P)
_rw_close = declare("tfc_record_writer_close", c_int, P, P)
_rr_open = declare("tfc_record_reader_open", P, c_char_p, P)
_rr_next = declare("tfc_record_reader_next", c_int, P, ctypes.POINTER(c_void_p),
                   ctypes.POINTER(c_size_t), P)
_rr_close = declare("tfc_record_reader_close", None, P)

_ex_new = declare("tfc_example_new", P)
_ex_free = declare("tfc_example_free", None, P)
_ex_floats = declare("tfc_example_add_floats", c_int, P, c_char_p, P, c_size_t)
_ex_int64s = declare("tfc_example_add_int64s", c_int, P, c_char_p, P, c_size_t)
_ex_bytes = declare("tfc_example_add_bytes", c_int, P, c_char_p, P, P, c_size_t)
_ex_serialize = declare("tfc_example_serialize", P, P, ctypes.POINTER(c_size_t))


def _b(s):
    return s.encode() if isinstance(s, str) else s


def _queue_ref(queue):
    if isinstance(queue, QueueBase):
        return queue.queue_ref
    return convert_to_tensor(queue)


class ReaderBase(object):
    """A reader: one per session, taking file names from a queue of strings."""

    def __init__(self, ref):
        self._reader_ref = ref

    @property
    def reader_ref(self):
        return self._reader_ref

    @property
    def supports_serialize(self):
        return False

    def _graph(self, *values):
        return c_graph([self._reader_ref] + list(values))

    def read(self, queue, name=None):
        """(key, value): the next record, string scalars."""
        q = _queue_ref(queue)
        g = self._graph(q)
        out = (Output * 2)()
        name_next(g, name, "ReaderReadV2")
        _read(g._h, self._reader_ref._c, q._c, out)
        return g._check_output(out[0]), g._check_output(out[1])

    def read_up_to(self, queue, num_records, name=None):
        """(keys, values): up to num_records records of the current file."""
        q = _queue_ref(queue)
        g = self._graph(q)
        out = (Output * 2)()
        name_next(g, name, "ReaderReadUpToV2")
        _read_up_to(g._h, self._reader_ref._c, q._c, int(num_records), out)
        return g._check_output(out[0]), g._check_output(out[1])

    def num_records_produced(self, name=None):
        g = self._graph()
        name_next(g, name, "ReaderNumRecordsProducedV2")
        return g._check_output(_num_records(g._h, self._reader_ref._c))

    def num_work_units_completed(self, name=None):
        g = self._graph()
        name_next(g, name, "ReaderNumWorkUnitsCompletedV2")
        return g._check_output(_num_work_units(g._h, self._reader_ref._c))

    def reset(self, name=None):
        g = self._graph()
        name_next(g, name, "ReaderResetV2")
        return g._check_node(_reset(g._h, self._reader_ref._c))


def _make(default, name, fn, *args):
    g = get_default_graph()
    name_next(g, name, default)
    return g._check_output(fn(g._h, *args))


class TFRecordReader(ReaderBase):
    """tf.TFRecordReader(name=None, options=None): options a
    tf.python_io.TFRecordOptions (compression NONE, ZLIB or GZIP)."""

    def __init__(self, name=None, options=None):
        comp = TFRecordOptions.get_compression_type_string(options)
        super(TFRecordReader, self).__init__(
            _make("TFRecordReaderV2", name, _tf_record_reader, _b(comp)))


class TextLineReader(ReaderBase):
    """tf.TextLineReader(skip_header_lines=None, name=None)."""

    def __init__(self, skip_header_lines=None, name=None):
        super(TextLineReader, self).__init__(
            _make("TextLineReaderV2", name, _text_line_reader, int(skip_header_lines or 0)))


class FixedLengthRecordReader(ReaderBase):
    """tf.FixedLengthRecordReader(record_bytes, header_bytes=None,
    footer_bytes=None, hop_bytes=None, name=None, encoding=None)."""

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None, encoding=None):
        super(FixedLengthRecordReader, self).__init__(
            _make("FixedLengthRecordReaderV2", name, _fixed_length_reader, int(record_bytes),
                  int(header_bytes or 0), int(footer_bytes or 0), int(hop_bytes or 0),
                  _b(encoding or "")))


class WholeFileReader(ReaderBase):
    """tf.WholeFileReader(name=None): (file name, contents) per file."""

    def __init__(self, name=None):
        super(WholeFileReader, self).__init__(
            _make("WholeFileReaderV2", name, _whole_file_reader))


def read_file(filename, name=None):
    f = convert_to_tensor(filename, dtype=dtypes.string)
    g = c_graph([f])
    name_next(g, name, "ReadFile")
    return g._check_output(_read_file(g._h, f._c))


def write_file(filename, contents, name=None):
    f = convert_to_tensor(filename, dtype=dtypes.string)
    c = convert_to_tensor(contents, dtype=dtypes.string)
    g = c_graph([f, c])
    name_next(g, name, "WriteFile")
    return g._check_node(_write_file(g._h, f._c, c._c))


def matching_files(pattern, name=None):
    p = convert_to_tensor(pattern, dtype=dtypes.string)
    g = c_graph([p])
    name_next(g, name, "MatchingFiles")
    return g._check_output(_matching_files(g._h, p._c))


# ---------------------------------------------------------------------------
# tf.python_io
# ---------------------------------------------------------------------------

class TFRecordCompressionType(object):
    NONE = 0
    ZLIB = 1
    GZIP = 2


class TFRecordOptions(object):
    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type=None):
        self.compression_type = compression_type

    @classmethod
    def get_compression_type_string(cls, options):
        if options is None:
            return ""
        c = options.compression_type if isinstance(options, TFRecordOptions) else options
        if c is None:
            return ""
        if isinstance(c, str):
            return "" if c == "NONE" else c
        return cls.compression_type_map[c]


def _raise(st):
    raise errors._from_code(lib.tfc_status_code(st), _s(lib.tfc_status_message(st)))


class TFRecordWriter(object):
    """tf.python_io.TFRecordWriter(path): write(bytes), flush, close (also
    a context manager). Uncompressed records only."""

    def __init__(self, path, options=None):
        if TFRecordOptions.get_compression_type_string(options):
            raise errors.UnimplementedError(None, None,
                                            "tfc: TFRecordWriter writes uncompressed files only")
        self._st = lib.tfc_status_new()
        self._w = _rw_open(_b(path), 0, self._st)
        if not self._w:
            try:
                _raise(self._st)
            finally:
                lib.tfc_status_free(self._st)
                self._st = None

    def write(self, record):
        record = _b(record)
        if _rw_write(self._w, record, len(record), self._st) != 0:
            _raise(self._st)

    def flush(self):
        if _rw_flush(self._w, self._st) != 0:
            _raise(self._st)

    def close(self):
        if getattr(self, "_w", None):
            w, self._w = self._w, None
            rc = _rw_close(w, self._st)
            if rc != 0:
                _raise(self._st)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        finally:
            if getattr(self, "_st", None):
                lib.tfc_status_free(self._st)
                self._st = None


def tf_record_iterator(path, options=None):
    """The records of a TFRecord file, as bytes."""
    st = lib.tfc_status_new()
    try:
        r = _rr_open(_b(path), st)
        if not r:
            _raise(st)
        try:
            data, n = c_void_p(), c_size_t()
            while True:
                rc = _rr_next(r, ctypes.byref(data), ctypes.byref(n), st)
                if rc < 0:
                    _raise(st)
                if rc == 0:
                    return
                yield ctypes.string_at(data, n.value) if n.value else b""
        finally:
            _rr_close(r)
    finally:
        lib.tfc_status_free(st)


# ---------------------------------------------------------------------------
# tf.train.Example (writing only: SerializeToString)
# ---------------------------------------------------------------------------

class _List(object):
    def __init__(self, value=None):
        self.value = list(value or [])


class FloatList(_List):
    pass


class Int64List(_List):
    pass


class BytesList(_List):
    pass


class Feature(object):
    def __init__(self, bytes_list=None, float_list=None, int64_list=None):
        self.bytes_list = bytes_list
        self.float_list = float_list
        self.int64_list = int64_list


class Features(object):
    def __init__(self, feature=None):
        self.feature = dict(feature or {})


class Example(object):
    """tf.train.Example(features=tf.train.Features(feature={...}))."""

    def __init__(self, features=None):
        self.features = features or Features()

    def SerializeToString(self):
        ex = _ex_new()
        if not ex:
            raise MemoryError("tfc_example_new")
        try:
            for key, f in self.features.feature.items():
                k = _b(key)
                if f.float_list is not None:
                    v = f.float_list.value
                    rc = _ex_floats(ex, k, (ctypes.c_float * max(len(v), 1))(*v), len(v))
                elif f.int64_list is not None:
                    v = [int(x) for x in f.int64_list.value]
                    rc = _ex_int64s(ex, k, (c_int64 * max(len(v), 1))(*v), len(v))
                else:
                    v = [_b(x) for x in (f.bytes_list.value if f.bytes_list else [])]
                    ptrs = (c_char_p * max(len(v), 1))(*v)
                    lens = (c_size_t * max(len(v), 1))(*[len(x) for x in v])
                    rc = _ex_bytes(ex, k, ptrs, lens, len(v))
                if rc != 0:
                    raise MemoryError("tfc_example_add")
            n = c_size_t()
            buf = _ex_serialize(ex, ctypes.byref(n))
            if not buf:
                raise MemoryError("tfc_example_serialize")
            try:
                return ctypes.string_at(buf, n.value)
            finally:
                free(buf)
        finally:
            _ex_free(ex)

