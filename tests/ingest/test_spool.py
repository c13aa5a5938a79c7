"""The disk spool: order, durability across reopen, torn tails, the bound, segments."""

from __future__ import annotations

import logging

from ingest.spool import Spool


def drain(sp: Spool) -> list[bytes]:
    out = []
    while (rec := sp.peek()) is not None:
        out.append(rec.body)
        sp.pop(rec)
    return out


def test_order_and_segment_rotation(tmp_path):
    sp = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    bodies = [(b"m v=%d %d\n" % (i, i)) * 50 for i in range(40)]
    for i in range(0, 40, 4):
        assert sp.append([(b, 50) for b in bodies[i:i + 4]])
    assert len(list(tmp_path.glob("*.seg"))) > 3
    assert sp.depth()[1] == 40 * 50
    assert drain(sp) == bodies
    assert sp.depth() == (0, 0)
    assert len(list(tmp_path.glob("*.seg"))) <= 1  # sent segments are deleted


def test_reopen_keeps_unsent_and_cuts_a_torn_tail(tmp_path, caplog):
    sp = Spool(tmp_path, max_bytes=1 << 20)
    sp.append([(b"a 1\n", 1), (b"b 2\n", 1)])
    sp.pop(sp.peek())
    sp.append([(b"c 3\n", 1)])
    sp.close()
    seg = sorted(tmp_path.glob("*.seg"))[-1]
    with seg.open("ab") as fh:
        fh.write(b"GWS1\x40\x00\x00\x00half a rec")  # a crash in the middle of an append
    with caplog.at_level(logging.WARNING):
        again = Spool(tmp_path, max_bytes=1 << 20)
    assert "torn record" in caplog.text
    assert again.depth()[1] == 2  # "a" was sent before the stop: the cursor remembers
    assert drain(again) == [b"b 2\n", b"c 3\n"]
    again.append([(b"d 4\n", 1)])
    assert drain(again) == [b"d 4\n"]


def test_bound_warns_then_refuses(tmp_path, caplog):
    sp = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    body = b"x" * 100_000
    with caplog.at_level(logging.WARNING):
        appended = 0
        while sp.append([(body, 1)]):
            appended += 1
    assert appended == 10
    assert "% full (" in caplog.text and "spool FULL" in caplog.text
    assert sp.disk_bytes <= sp.max_bytes
    assert not sp.wait_space(len(body), 0.01)
    sp.pop(sp.peek())  # sent: its segment is deleted, and there is room again
    sp.pop(sp.peek())
    assert sp.wait_space(len(body), 0.01)
    assert sp.append([(body, 1)])
