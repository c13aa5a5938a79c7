/*
 * ingest._scan: the telemetry fast path.
 *
 * Parses well-formed telemetry payloads (INTERFACES §1) straight into columns:
 * device slot, kind, timestamp, message index and a row of float64 values per
 * reading, with no Python object per reading. It is deliberately narrow: any message
 * it is not certain about -- an escape in a string, a bool, null or string value, a
 * float or null timestamp, an unknown device or field, a duplicate key, a value out of
 * range, a timestamp too far ahead or too old, invalid JSON -- is left whole to the
 * Python decoder (orjson), which explains rejections. So the two paths cannot disagree
 * about what is valid: this one only ever says "valid, here are the columns" or
 * "not mine".
 *
 * A message's output is all-or-nothing: on any doubt the cursors rewind to where the
 * message began and its flag is set in the returned `fallback` bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_KINDS 8
#define MAX_FIELDS 8
#define MAX_NAME 32

enum { MODE_SKIP = 0, MODE_DEVICE = 1, MODE_GATEWAY = 2 };

typedef struct {
    int count;
    char name[MAX_FIELDS][MAX_NAME];
    Py_ssize_t len[MAX_FIELDS];
    double lo[MAX_FIELDS], hi[MAX_FIELDS];
} KindFields;

typedef struct {
    PyObject_HEAD
    int32_t *table;           /* open addressing: device slot or -1; capacity `mask + 1` */
    uint64_t mask;
    char *ids;                /* every device id's UTF-8 bytes, back to back */
    uint32_t *id_at;          /* per slot: offset into `ids` */
    uint8_t *id_len;          /* per slot: length */
    int8_t *kind_of;          /* kind code per device slot */
    int64_t *seen;            /* per device slot: last gateway message that named it */
    Py_ssize_t devices;
    int kinds, width;
    int64_t stamp;
    KindFields fields[MAX_KINDS];
} Scanner;

/* ------------------------------------------------------------------ output buffers */

typedef struct {
    char *data;
    size_t len, cap;  /* in bytes */
} Buf;

static int buf_grow(Buf *b, size_t need) {
    if (b->len + need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

typedef struct {
    Buf slot, ts, msg, kind, vals;
    size_t rows;
} Out;

static void out_free(Out *o) {
    PyMem_Free(o->slot.data);
    PyMem_Free(o->ts.data);
    PyMem_Free(o->msg.data);
    PyMem_Free(o->kind.data);
    PyMem_Free(o->vals.data);
}

static void out_rewind(Out *o, size_t rows, int width) {
    o->rows = rows;
    o->slot.len = o->ts.len = o->msg.len = rows * 8;
    o->kind.len = rows;
    o->vals.len = rows * 8 * (size_t)width;
}

/* ------------------------------------------------------------------ parsing */

typedef struct {
    const char *p, *end;
    Scanner *s;
    Out *out;
    int64_t msg, arrival, ts_lo, ts_hi;
    int oom;  /* a real error (memory, dict lookup): stop the whole call */
} Cur;

static inline void skip_ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

/* Consume `ch` after optional whitespace. */
static inline int expect(Cur *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static inline int peek(Cur *c) {
    skip_ws(c);
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

/* Bytes that may appear as themselves in a plain string: printable ASCII but `"` and `\\`. */
static unsigned char PLAIN[256];

static void init_plain(void) {
    for (int ch = 0x20; ch < 0x80; ch++)
        PLAIN[ch] = ch != '"' && ch != '\\';
}

/* A string of printable ASCII without escapes; anything else is not ours. */
static int plain_string(Cur *c, const char **start, Py_ssize_t *len) {
    if (!expect(c, '"'))
        return 0;
    const char *s = c->p, *p = s, *end = c->end;
    while (p < end && PLAIN[(unsigned char)*p])
        p++;
    if (p >= end || *p != '"')
        return 0;
    *start = s;
    *len = p - s;
    c->p = p + 1;
    return 1;
}

static inline uint64_t hash_id(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* The slot of a device id, or -1. */
static int64_t find_device(const Scanner *s, const char *key, Py_ssize_t n) {
    uint64_t i = hash_id(key, n) & s->mask;
    for (;;) {
        int32_t slot = s->table[i];
        if (slot < 0)
            return -1;
        if (s->id_len[slot] == n && memcmp(s->ids + s->id_at[slot], key, (size_t)n) == 0)
            return slot;
        i = (i + 1) & s->mask;
    }
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A JSON number. Integers of up to 18 digits are exact (as int64, then double, which
 * rounds as Python's float(int) does). Other numbers take Clinger's exact path when
 * the mantissa fits 53 bits and the power of ten is at most 22 (one correctly rounded
 * multiplication or division), else CPython's own correctly rounded conversion.
 */
static int number(Cur *c, double *value, int64_t *integer, int *is_integer) {
    skip_ws(c);
    const char *start = c->p, *end = c->end;
    const char *p = start;
    int negative = 0;
    if (p < end && *p == '-') {
        negative = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return 0;
    uint64_t mantissa = 0;
    int digits = 0, exp10 = 0;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19)
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            else
                exp10++;
            digits++;
            p++;
        }
    }
    int int_digits = digits;
    int fraction = 0, exponent = 0;
    if (p < end && *p == '.') {
        fraction = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits == 0 && *p == '0') {
                exp10--; /* leading zeros of 0.00x carry no digits */
            } else if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                exp10--;
                digits++;
            } else {
                digits++;
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        exponent = 1;
        p++;
        int eneg = 0, e = 0, edigits = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9')
            return 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            edigits++;
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    c->p = p;
    if (!fraction && !exponent) {
        if (int_digits > 18)
            return 0; /* beyond int64 maybe: Python's path decides */
        int64_t v = negative ? -(int64_t)mantissa : (int64_t)mantissa;
        *integer = v;
        *value = (double)v;
        *is_integer = 1;
        return 1;
    }
    *is_integer = 0;
    if (digits <= 19 && mantissa < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mantissa;
        v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
        *value = negative ? -v : v;
        return 1;
    }
    char text[64];
    Py_ssize_t n = p - start;
    if (n >= (Py_ssize_t)sizeof(text))
        return 0;
    memcpy(text, start, (size_t)n);
    text[n] = '\0';
    char *stop = NULL;
    double v = PyOS_string_to_double(text, &stop, NULL);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (stop != text + n || !isfinite(v))
        return 0;
    *value = v;
    return 1;
}

#define is_key(s, n, word) ((n) == (Py_ssize_t)sizeof(word) - 1 && memcmp((s), (word), sizeof(word) - 1) == 0)

/* Start a reading row: NaN values, arrival time; returns the row's value pointer. */
static double *new_row(Cur *c, int64_t slot, int kind) {
    Out *o = c->out;
    int w = c->s->width;
    if (buf_grow(&o->slot, 8) || buf_grow(&o->ts, 8) || buf_grow(&o->msg, 8) || buf_grow(&o->kind, 1) ||
        buf_grow(&o->vals, 8 * (size_t)w)) {
        c->oom = 1;
        return NULL;
    }
    memcpy(o->slot.data + o->slot.len, &slot, 8);
    memcpy(o->ts.data + o->ts.len, &c->arrival, 8);
    memcpy(o->msg.data + o->msg.len, &c->msg, 8);
    o->kind.data[o->kind.len] = (char)kind;
    double *row = (double *)(o->vals.data + o->vals.len);
    for (int j = 0; j < w; j++)
        row[j] = NAN;
    o->slot.len += 8;
    o->ts.len += 8;
    o->msg.len += 8;
    o->kind.len += 1;
    o->vals.len += 8 * (size_t)w;
    o->rows++;
    return row;
}

/* A reading without `ts` is timed by its arrival, which must pass the same window. */
static inline int arrival_ok(const Cur *c) {
    return c->arrival >= c->ts_lo && c->arrival <= c->ts_hi;
}

static inline void set_ts(Cur *c, int64_t ts) {
    memcpy(c->out->ts.data + c->out->ts.len - 8, &ts, 8);
}

/* `{"field": number, ...}` of the device's kind, each field once, each in range. */
static int values_object(Cur *c, int kind, double *row) {
    const KindFields *f = &c->s->fields[kind];
    if (!expect(c, '{') || peek(c) == '}')
        return 0;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        Py_ssize_t n;
        if (!plain_string(c, &key, &n) || !expect(c, ':'))
            return 0;
        int j = 0;
        while (j < f->count && !(f->len[j] == n && f->name[j][0] == key[0] && memcmp(f->name[j], key, (size_t)n) == 0))
            j++;
        if (j == f->count || (seen & (1u << j)))
            return 0;
        seen |= 1u << j;
        double v;
        int64_t iv;
        int is_int;
        if (!number(c, &v, &iv, &is_int) || !(v >= f->lo[j] && v <= f->hi[j]))
            return 0;
        row[j] = v;
        if (expect(c, ','))
            continue;
        return expect(c, '}');
    }
}

/* `{"ts": int, "values": {...}}` (either order; ts optional). */
static int reading_object(Cur *c, int64_t slot, int kind) {
    if (!expect(c, '{'))
        return 0;
    double *row = new_row(c, slot, kind);
    if (!row)
        return 0;
    int has_ts = 0, has_values = 0;
    if (peek(c) == '}')
        return 0;
    for (;;) {
        const char *key;
        Py_ssize_t n;
        if (!plain_string(c, &key, &n) || !expect(c, ':'))
            return 0;
        if (is_key(key, n, "ts") && !has_ts) {
            double v;
            int64_t ts;
            int is_int;
            if (!number(c, &v, &ts, &is_int) || !is_int || ts < c->ts_lo || ts > c->ts_hi)
                return 0;
            set_ts(c, ts);
            has_ts = 1;
        } else if (is_key(key, n, "values") && !has_values) {
            if (!values_object(c, kind, row))
                return 0;
            has_values = 1;
        } else {
            return 0;
        }
        if (expect(c, ','))
            continue;
        return expect(c, '}') && has_values && (has_ts || arrival_ok(c));
    }
}

/* `[reading, ...]`; `empty_ok`: a gateway may list a device with no readings. */
static int reading_list(Cur *c, int64_t slot, int kind, int empty_ok) {
    if (!expect(c, '['))
        return 0;
    if (peek(c) == ']') {
        c->p++;
        return empty_ok;
    }
    for (;;) {
        if (!reading_object(c, slot, kind))
            return 0;
        if (expect(c, ','))
            continue;
        return expect(c, ']');
    }
}

/* devices/{id}/telemetry: a reading, a list of readings, or bare values. */
static int device_payload(Cur *c, int64_t slot) {
    int kind = c->s->kind_of[slot];
    int first = peek(c);
    if (first == '[')
        return reading_list(c, slot, kind, 0);
    if (first != '{')
        return 0;
    Cur probe = *c;
    probe.p++;
    const char *key;
    Py_ssize_t n;
    if (!plain_string(&probe, &key, &n))
        return 0;
    if (is_key(key, n, "ts") || is_key(key, n, "values"))
        return reading_object(c, slot, kind);
    double *row = new_row(c, slot, kind);
    return row && values_object(c, kind, row) && arrival_ok(c);
}

/* gateways/{id}/telemetry: `{"device": [reading, ...], ...}`, each device once. */
static int gateway_payload(Cur *c) {
    Scanner *s = c->s;
    if (!expect(c, '{') || peek(c) == '}')
        return 0;
    int64_t stamp = ++s->stamp;
    for (;;) {
        const char *key;
        Py_ssize_t n;
        if (!plain_string(c, &key, &n) || !expect(c, ':'))
            return 0;
        int64_t slot = find_device(s, key, n);
        if (slot < 0 || slot >= s->devices || s->seen[slot] == stamp)
            return 0;
        s->seen[slot] = stamp;
        if (!reading_list(c, slot, s->kind_of[slot], 1))
            return 0;
        if (expect(c, ','))
            continue;
        return expect(c, '}');
    }
}

/* ------------------------------------------------------------------ the type */

static void Scanner_dealloc(Scanner *self) {
    PyMem_Free(self->table);
    PyMem_Free(self->ids);
    PyMem_Free(self->id_at);
    PyMem_Free(self->id_len);
    PyMem_Free(self->kind_of);
    PyMem_Free(self->seen);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Copy the city's id -> slot dict into a table the parser can probe without objects. */
static int build_table(Scanner *self, PyObject *index) {
    Py_ssize_t n = self->devices;
    if (PyDict_GET_SIZE(index) != n) {
        PyErr_SetString(PyExc_ValueError, "index and kinds must describe the same devices");
        return -1;
    }
    uint64_t cap = 8;
    while (cap < 2 * (uint64_t)n)
        cap *= 2;
    size_t bytes = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(index, &pos, &key, &value)) {
        Py_ssize_t len;
        if (!PyUnicode_Check(key) || !PyUnicode_AsUTF8AndSize(key, &len)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "device ids must be str");
            return -1;
        }
        bytes += (size_t)len;
    }
    if (bytes > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "device ids too long in total");
        return -1;
    }
    self->mask = cap - 1;
    self->table = PyMem_Malloc(cap * sizeof(int32_t));
    self->ids = PyMem_Malloc(bytes ? bytes : 1);
    self->id_at = PyMem_Calloc(n ? (size_t)n : 1, sizeof(uint32_t));
    self->id_len = PyMem_Calloc(n ? (size_t)n : 1, 1);
    if (!self->table || !self->ids || !self->id_at || !self->id_len) {
        PyErr_NoMemory();
        return -1;
    }
    memset(self->table, 0xff, cap * sizeof(int32_t));
    size_t at = 0;
    pos = 0;
    while (PyDict_Next(index, &pos, &key, &value)) {
        Py_ssize_t len;
        const char *id = PyUnicode_AsUTF8AndSize(key, &len);
        long long slot = PyLong_AsLongLong(value);
        if (slot == -1 && PyErr_Occurred())
            return -1;
        if (slot < 0 || slot >= n || len > 255 || self->id_len[slot]) {
            PyErr_Format(PyExc_ValueError, "device id %R: slot %lld invalid or taken, or id over 255 bytes", key, slot);
            return -1;
        }
        memcpy(self->ids + at, id, (size_t)len);
        self->id_at[slot] = (uint32_t)at;
        self->id_len[slot] = (uint8_t)len;
        at += (size_t)len;
        uint64_t i = hash_id(id, len) & self->mask;
        while (self->table[i] >= 0)
            i = (i + 1) & self->mask;
        self->table[i] = (int32_t)slot;
    }
    return 0;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"index", "kinds", "fields", NULL};
    PyObject *index, *fields;
    Py_buffer kinds;
    if (self->table) {
        PyErr_SetString(PyExc_RuntimeError, "a Scanner is initialised once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!y*O", names, &PyDict_Type, &index, &kinds, &fields))
        return -1;
    int rc = -1;
    PyObject *seq = PySequence_Fast(fields, "fields must be a sequence of [(name, lo, hi), ...] per kind");
    if (!seq)
        goto done;
    Py_ssize_t nk = PySequence_Fast_GET_SIZE(seq);
    if (nk < 1 || nk > MAX_KINDS) {
        PyErr_Format(PyExc_ValueError, "between 1 and %d kinds", MAX_KINDS);
        goto done;
    }
    self->kinds = (int)nk;
    self->width = 0;
    for (Py_ssize_t k = 0; k < nk; k++) {
        PyObject *specs = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, k), "a kind's fields must be a sequence");
        if (!specs)
            goto done;
        Py_ssize_t nf = PySequence_Fast_GET_SIZE(specs);
        if (nf > MAX_FIELDS) {
            Py_DECREF(specs);
            PyErr_Format(PyExc_ValueError, "at most %d fields per kind", MAX_FIELDS);
            goto done;
        }
        KindFields *kf = &self->fields[k];
        kf->count = (int)nf;
        for (Py_ssize_t j = 0; j < nf; j++) {
            const char *name;
            Py_ssize_t len;
            double lo, hi;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(specs, j), "s#dd", &name, &len, &lo, &hi)) {
                Py_DECREF(specs);
                goto done;
            }
            if (len >= MAX_NAME) {
                Py_DECREF(specs);
                PyErr_SetString(PyExc_ValueError, "field name too long");
                goto done;
            }
            memcpy(kf->name[j], name, (size_t)len);
            kf->len[j] = len;
            kf->lo[j] = lo;
            kf->hi[j] = hi;
        }
        if (nf > self->width)
            self->width = (int)nf;
        Py_DECREF(specs);
    }
    self->devices = kinds.len;
    self->kind_of = PyMem_Malloc(kinds.len ? (size_t)kinds.len : 1);
    self->seen = PyMem_Calloc(kinds.len ? (size_t)kinds.len : 1, sizeof(int64_t));
    if (!self->kind_of || !self->seen) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->kind_of, kinds.buf, (size_t)kinds.len);
    for (Py_ssize_t i = 0; i < kinds.len; i++) {
        if (self->kind_of[i] < 0 || self->kind_of[i] >= self->kinds) {
            PyErr_Format(PyExc_ValueError, "device %zd has kind code %d", i, self->kind_of[i]);
            goto done;
        }
    }
    if (build_table(self, index) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(seq);
    PyBuffer_Release(&kinds);
    return rc;
}

static PyObject *take_bytes(Buf *b) {
    return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
}

PyDoc_STRVAR(scan_doc,
             "scan(payloads, modes, slots, arrivals, ts_lo, ts_hi)\n--\n\n"
             "Parse the messages whose mode is 1 (device topic, device slot in `slots`) or 2\n"
             "(gateway topic). Returns (fallback, rows, slot, ts, msg, kind, values): `fallback`\n"
             "has one byte per message, 1 where the message was not parsed here (mode 0 or any\n"
             "doubt); the rest are the raw bytes of int64/int64/int64/int8/float64[width] columns\n"
             "of the `rows` readings parsed, in message order. A reading without `ts` takes its\n"
             "message's arrival; a `ts` outside [ts_lo, ts_hi] sends the message back.");

static PyObject *Scanner_scan(Scanner *self, PyObject *args) {
    PyObject *payloads;
    Py_buffer modes, slots, arrivals;
    long long ts_lo, ts_hi;
    if (!PyArg_ParseTuple(args, "O!y*y*y*LL", &PyList_Type, &payloads, &modes, &slots, &arrivals, &ts_lo, &ts_hi))
        return NULL;
    PyObject *result = NULL, *fallback = NULL;
    Out out = {0};
    Py_ssize_t n = PyList_GET_SIZE(payloads);
    if (modes.len != n || slots.len != n * 8 || arrivals.len != n * 8) {
        PyErr_SetString(PyExc_ValueError, "modes, slots and arrivals must have one entry per payload");
        goto done;
    }
    fallback = PyBytes_FromStringAndSize(NULL, n);
    if (!fallback)
        goto done;
    char *fb = PyBytes_AS_STRING(fallback);
    const unsigned char *mode = modes.buf;
    const int64_t *slot = slots.buf, *arrival = arrivals.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        fb[i] = 1;
        if (mode[i] != MODE_DEVICE && mode[i] != MODE_GATEWAY)
            continue;
        PyObject *payload = PyList_GET_ITEM(payloads, i);
        if (!PyBytes_Check(payload))
            continue;
        Cur c = {PyBytes_AS_STRING(payload), PyBytes_AS_STRING(payload) + PyBytes_GET_SIZE(payload), self, &out, i,
                 arrival[i], ts_lo, ts_hi, 0};
        size_t mark = out.rows;
        int ok;
        if (mode[i] == MODE_DEVICE)
            ok = slot[i] >= 0 && slot[i] < self->devices && device_payload(&c, slot[i]);
        else
            ok = gateway_payload(&c);
        if (c.oom)
            goto done;
        if (ok) {
            skip_ws(&c);
            ok = c.p == c.end;
        }
        if (ok)
            fb[i] = 0;
        else
            out_rewind(&out, mark, self->width);
    }
    PyObject *slot_b = take_bytes(&out.slot), *ts_b = take_bytes(&out.ts), *msg_b = take_bytes(&out.msg),
             *kind_b = take_bytes(&out.kind), *vals_b = take_bytes(&out.vals);
    if (slot_b && ts_b && msg_b && kind_b && vals_b)
        result = Py_BuildValue("(OnOOOOO)", fallback, (Py_ssize_t)out.rows, slot_b, ts_b, msg_b, kind_b, vals_b);
    Py_XDECREF(slot_b);
    Py_XDECREF(ts_b);
    Py_XDECREF(msg_b);
    Py_XDECREF(kind_b);
    Py_XDECREF(vals_b);
done:
    Py_XDECREF(fallback);
    out_free(&out);
    PyBuffer_Release(&modes);
    PyBuffer_Release(&slots);
    PyBuffer_Release(&arrivals);
    return result;
}

static PyObject *Scanner_width(Scanner *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->width);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"width", (getter)Scanner_width, NULL, "values per row: the most fields any kind has", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ingest._scan.Scanner",
    .tp_doc = PyDoc_STR("Scanner(index, kinds, fields): a city's devices and each kind's (name, lo, hi) fields."),
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ingest._scan", "Telemetry fast path: well-formed payloads to columns.", -1, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    init_plain();
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
