"""tf.saved_model, TensorFlow 1.x's loader and simple_save, over tfc's
SavedModel C API (include/tfc.h, "SavedModel"):

    meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], export_dir)
    sig = meta.signature_def["serving_default"]
    y = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: [[1.0]]})

    tf.saved_model.simple_save(sess, export_dir, inputs={"x": x}, outputs={"y": y})

load() returns a small MetaGraphDef look-alike: meta_info_def.tags and
signature_def (name -> SignatureDef with inputs/outputs: key -> TensorInfo
with name, dtype and tensor_shape, and method_name), as TensorFlow's proto
reads."""

import ctypes
from ctypes import POINTER, c_char_p, c_int, c_void_p

from ._lib import Output, Shape, declare

P = c_void_p


class _TensorInfoC(ctypes.Structure):
    _fields_ = [("key", c_char_p), ("name", c_char_p), ("dtype", c_int), ("shape", Shape),
                ("output", Output)]


class _SignatureDefC(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("method_name", c_char_p),
                ("ninputs", c_int), ("input_keys", POINTER(c_char_p)),
                ("inputs", POINTER(Output)),
                ("noutputs", c_int), ("output_keys", POINTER(c_char_p)),
                ("outputs", POINTER(Output))]


_load_into = declare("tfc_saved_model_load_into", P, P, c_char_p, POINTER(c_char_p), c_int, P)
_free = declare("tfc_saved_model_free", None, P)
_num_sigs = declare("tfc_saved_model_num_signatures", c_int, P)
_sig_name = declare("tfc_saved_model_signature_name", c_char_p, P, c_int)
_sig_method = declare("tfc_saved_model_signature_method", c_char_p, P, c_int)
_sig_error = declare("tfc_saved_model_signature_error", c_char_p, P, c_int)
_num_in = declare("tfc_saved_model_signature_num_inputs", c_int, P, c_int)
_num_out = declare("tfc_saved_model_signature_num_outputs", c_int, P, c_int)
_input = declare("tfc_saved_model_signature_input", _TensorInfoC, P, c_int, c_int)
_output = declare("tfc_saved_model_signature_output", _TensorInfoC, P, c_int, c_int)
_save = declare("tfc_saved_model_save", c_int, c_char_p, P, P, POINTER(c_char_p), c_int,
                POINTER(_SignatureDefC), c_int, P)


class tag_constants(object):  # noqa: N801 (TensorFlow's module name)
    SERVING = "serve"
    TRAINING = "train"
    GPU = "gpu"
    TPU = "tpu"


class signature_constants(object):  # noqa: N801
    DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
    PREDICT_METHOD_NAME = "tensorflow/serving/predict"
    CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
    REGRESS_METHOD_NAME = "tensorflow/serving/regress"
    PREDICT_INPUTS = "inputs"
    PREDICT_OUTPUTS = "outputs"


class _Dim(object):
    def __init__(self, size):
        self.size = size


class _TensorShapeProto(object):
    def __init__(self, shape):
        self.unknown_rank = shape.rank < 0
        self.dim = [_Dim(shape.dims[i]) for i in range(max(shape.rank, 0))]


class TensorInfo(object):
    """A signature's tensor: name ("x:0"), dtype (TensorFlow's DataType
    number) and tensor_shape (dim[i].size, unknown_rank)."""

    def __init__(self, c):
        self.name = c.name.decode() if c.name else ""
        self.dtype = c.dtype
        self.tensor_shape = _TensorShapeProto(c.shape)


class SignatureDef(object):
    def __init__(self, method_name, inputs, outputs):
        self.method_name = method_name
        self.inputs = inputs
        self.outputs = outputs


class _MetaInfoDef(object):
    def __init__(self, tags):
        self.tags = list(tags)


class MetaGraphDef(object):
    """What loader.load returns: meta_info_def.tags and signature_def."""

    def __init__(self, tags, signature_def):
        self.meta_info_def = _MetaInfoDef(tags)
        self.signature_def = signature_def


def _status_call(fn, *args):
    from . import _lib
    from .session import _raise_status
    st = _lib.lib.tfc_status_new()
    try:
        r = fn(*(args + (st,)))
        if _lib.lib.tfc_status_code(st) != 0:
            _raise_status(st)
        return r
    finally:
        _lib.lib.tfc_status_free(st)


def _c_strings(items):
    items = [s.encode() if isinstance(s, str) else bytes(s) for s in items]
    return (c_char_p * max(len(items), 1))(*items), len(items)


class loader(object):  # noqa: N801 (tf.saved_model.loader)
    @staticmethod
    def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
        """Loads the MetaGraphDef of `export_dir` tagged `tags` into
        sess.graph, restores its variables into `sess` and runs its init
        op. Signatures needing ops tfc lacks are left out (a warning names
        what they need); the others serve."""
        if import_scope:
            raise NotImplementedError("tfc: loader.load with import_scope")
        ctags, n = _c_strings(tags)
        m = _status_call(_load_into, sess._local_handle("saved_model loading"), export_dir.encode(), ctags, n)
        try:
            sigs = {}
            for s in range(_num_sigs(m)):
                name = _sig_name(m, s).decode()
                err = _sig_error(m, s)
                if err:
                    import sys
                    sys.stderr.write("tfc: signature %r cannot run: %s\n" % (name, err.decode()))
                    continue
                ins = {}
                for i in range(_num_in(m, s)):
                    c = _input(m, s, i)
                    ins[c.key.decode()] = TensorInfo(c)
                outs = {}
                for i in range(_num_out(m, s)):
                    c = _output(m, s, i)
                    outs[c.key.decode()] = TensorInfo(c)
                sigs[name] = SignatureDef(_sig_method(m, s).decode(), ins, outs)
            return MetaGraphDef(tags, sigs)
        finally:
            _free(m)


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None):
    """Writes `session`'s graph and variables as a SavedModel tagged
    "serve" with one signature, "serving_default" (predict), from the
    dicts of tensors `inputs` and `outputs`."""
    if legacy_init_op is not None:
        raise NotImplementedError("tfc: simple_save with legacy_init_op")
    ik, ni = _c_strings(sorted(inputs))
    ok, no = _c_strings(sorted(outputs))
    iv = (Output * max(ni, 1))(*[inputs[k]._c for k in sorted(inputs)])
    ov = (Output * max(no, 1))(*[outputs[k]._c for k in sorted(outputs)])
    sig = _SignatureDefC(signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY.encode(),
                         signature_constants.PREDICT_METHOD_NAME.encode(),
                         ni, ik, iv, no, ok, ov)
    tags, nt = _c_strings([tag_constants.SERVING])
    _status_call(_save, export_dir.encode(), session.graph._h, session._local_handle("SavedModelBuilder"), tags, nt,
                 ctypes.byref(sig), 1)
