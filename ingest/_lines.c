/*
 * ingest._lines: InfluxDB line protocol for whole batches.
 *
 * One call writes every row of a batch: the device's series key (escaped once per
 * device by ingest.line_protocol and kept in a byte matrix by slot), the fields that
 * are not NaN, the timestamp, a newline. Numbers are written as ingest.line_protocol
 * documents: per column, the fewest fractional digits (0..6) that give every value
 * back exactly, trailing zeros dropped per value; a value no six digits give back is
 * written as Python's repr, which is exact too. A row without any field is skipped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_PLACES 6
#define MAX_FIELDS 16
#define NUMBER_BYTES 32 /* "-" + 16 digits + "." + ... or a repr: at most 24 */

static const double SCALE[MAX_PLACES + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
static const double EXACT_INT = 9007199254740992.0; /* 2**53 */

/* Whether |v| with `places` fractional digits gives v back exactly; its scaled digits in `m`. */
static inline int exact_at(double v, int places, uint64_t *m) {
    double a = fabs(v);
    double scaled = rint(a * SCALE[places]); /* numpy's round: half to even */
    if (!(scaled < EXACT_INT && scaled / SCALE[places] == a))
        return 0;
    *m = (uint64_t)scaled;
    return 1;
}

/* The fewest places that make every value of the column exact (6 if none does). */
static int column_places(const double *col, Py_ssize_t n) {
    for (int places = 0; places < MAX_PLACES; places++) {
        Py_ssize_t i = 0;
        uint64_t m;
        while (i < n && (isnan(col[i]) || exact_at(col[i], places, &m)))
            i++;
        if (i == n)
            return places;
    }
    return MAX_PLACES;
}

/* The decimal digits of v into `tmp`, least significant first; returns how many. */
static inline int digits_reversed(char *tmp, uint64_t v) {
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return k;
}

static inline char *write_uint(char *out, uint64_t v) {
    char tmp[24];
    int k = digits_reversed(tmp, v);
    while (k)
        *out++ = tmp[--k];
    return out;
}

/* m / 10**places in decimal, trailing fractional zeros dropped. */
static inline char *write_scaled(char *out, uint64_t m, int places) {
    char tmp[24];
    int k = digits_reversed(tmp, m);
    while (k < places + 1)
        tmp[k++] = '0';
    int zeros = 0;
    while (zeros < places && tmp[zeros] == '0')
        zeros++;
    for (int j = k - 1; j >= places; j--)
        *out++ = tmp[j];
    if (zeros < places) {
        *out++ = '.';
        for (int j = places - 1; j >= zeros; j--)
            *out++ = tmp[j];
    }
    return out;
}

/* A value no six places give back: Python's repr (shortest round trip). */
static char *write_repr(char *out, double v) {
    char *text = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    if (len > NUMBER_BYTES)
        len = NUMBER_BYTES; /* cannot happen for a double */
    memcpy(out, text, len);
    PyMem_Free(text);
    return out + len;
}

typedef struct {
    Py_buffer view;
    const char *label;
    Py_ssize_t label_len;
    const double *col;
    int places;
} Field;

PyDoc_STRVAR(encode_doc,
             "encode(keys, key_width, key_len, slots, ts, fields) -> bytes\n--\n\n"
             "Line protocol for n rows. `keys`: uint8 matrix (rows of `key_width` bytes) of series\n"
             "keys by device slot, `key_len`: int64 length of each (0: not built, an error);\n"
             "`slots`, `ts`: int64[n]; `fields`: [(b\"name=\", float64[n]), ...] in line order,\n"
             "NaN = not reported.");

static PyObject *encode(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer keys, key_len, slots, ts;
    Py_ssize_t key_width;
    PyObject *fields_arg;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*O", &keys, &key_width, &key_len, &slots, &ts, &fields_arg))
        return NULL;
    PyObject *result = NULL, *seq = NULL;
    Field fields[MAX_FIELDS];
    Py_ssize_t nf = 0, n = slots.len / 8;
    const int64_t *slot = slots.buf, *stamp = ts.buf, *klen = key_len.buf;
    Py_ssize_t devices = key_len.len / 8;
    if (slots.len != n * 8 || ts.len != slots.len || key_width <= 0 || keys.len != devices * key_width) {
        PyErr_SetString(PyExc_ValueError, "slots and ts must be int64[n]; keys a key_len-rows by key_width matrix");
        goto done;
    }
    seq = PySequence_Fast(fields_arg, "fields must be a sequence of (label, column)");
    if (!seq)
        goto done;
    if (PySequence_Fast_GET_SIZE(seq) > MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "at most %d fields", MAX_FIELDS);
        goto done;
    }
    size_t per_row = (size_t)key_width + 24; /* key, space, timestamp, newline */
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(seq); j++) {
        Field *f = &fields[nf];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, j), "y#y*", &f->label, &f->label_len, &f->view))
            goto done;
        nf++;
        if (f->view.len != n * 8) {
            PyErr_SetString(PyExc_ValueError, "every field column must be float64[n]");
            goto done;
        }
        f->col = f->view.buf;
        f->places = column_places(f->col, n);
        per_row += (size_t)f->label_len + 1 + NUMBER_BYTES;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (slot[i] < 0 || slot[i] >= devices || klen[slot[i]] <= 0 || klen[slot[i]] > key_width) {
            PyErr_Format(PyExc_ValueError, "row %zd: device slot %lld has no series key", i, (long long)slot[i]);
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(per_row * (size_t)n));
    if (!result)
        goto done;
    char *start = PyBytes_AS_STRING(result), *out = start;
    const char *key_rows = keys.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        char *row = out;
        memcpy(out, key_rows + slot[i] * key_width, (size_t)klen[slot[i]]);
        out += klen[slot[i]];
        *out++ = ' ';
        int written = 0;
        for (Py_ssize_t j = 0; j < nf; j++) {
            double v = fields[j].col[i];
            if (isnan(v))
                continue;
            if (written++)
                *out++ = ',';
            memcpy(out, fields[j].label, (size_t)fields[j].label_len);
            out += fields[j].label_len;
            uint64_t m;
            if (exact_at(v, fields[j].places, &m)) {
                if (v < 0)
                    *out++ = '-';
                out = write_scaled(out, m, fields[j].places);
            } else if (!(out = write_repr(out, v))) {
                Py_CLEAR(result);
                goto done;
            }
        }
        if (!written) {
            out = row; /* a line needs a field */
            continue;
        }
        *out++ = ' ';
        int64_t t = stamp[i];
        if (t < 0) {
            *out++ = '-';
            out = write_uint(out, (uint64_t)0 - (uint64_t)t);
        } else {
            out = write_uint(out, (uint64_t)t);
        }
        *out++ = '\n';
    }
    _PyBytes_Resize(&result, out - start);
done:
    for (Py_ssize_t j = 0; j < nf; j++)
        PyBuffer_Release(&fields[j].view);
    Py_XDECREF(seq);
    PyBuffer_Release(&keys);
    PyBuffer_Release(&key_len);
    PyBuffer_Release(&slots);
    PyBuffer_Release(&ts);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", encode, METH_VARARGS, encode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ingest._lines", "InfluxDB line protocol for whole batches.", -1, methods,
};

PyMODINIT_FUNC PyInit__lines(void) {
    return PyModule_Create(&module);
}
